/*
 * consumer.c - a program outside the project that uses an installed
 * libwasmplug: loads a tiny module (add two i32s) from bytes and calls it.
 * Built by test-install.sh with pkg-config and with find_package.
 */
#include <wasmplug/engine.h>

#include <stdio.h>

/* (module (func (export "add") (param i32 i32) (result i32)
 *           local.get 0 local.get 1 i32.add)) */
static const uint8_t add_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01,
    0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x6a, 0x0b,
};

int main(void)
{
    wasmplug_engine *engine = NULL;
    wasmplug_module *module = NULL;
    wasmplug_instance *instance = NULL;
    wasmplug_error err;
    int rc = 1;

    wasmplug_error_clear(&err);
    if (wasmplug_engine_new(NULL, &engine) != WASMPLUG_OK)
        goto out;
    if (wasmplug_module_new(engine, add_wasm, sizeof add_wasm, &module, &err) != WASMPLUG_OK)
        goto out;
    if (wasmplug_instance_new(module, NULL, 0, NULL, &instance, &err) != WASMPLUG_OK)
        goto out;
    wasmplug_func *add = wasmplug_instance_func(instance, "add");
    if (!add)
        goto out;
    wasmplug_val args[2] = {{.type = WASMPLUG_I32, .of = {.i32 = 40}}, {.type = WASMPLUG_I32, .of = {.i32 = 2}}};
    wasmplug_val result;
    if (wasmplug_func_call(add, args, 2, &result, 1, &err) != WASMPLUG_OK)
        goto out;
    printf("wasmplug %s: add(40, 2) = %d\n", wasmplug_version(), (int)result.of.i32);
    rc = result.of.i32 == 42 ? 0 : 1;
out:
    if (rc && err.status != WASMPLUG_OK)
        fprintf(stderr, "consumer: %s: %s\n", wasmplug_strerror(err.status), err.message);
    if (instance)
        wasmplug_instance_free(instance);
    if (module)
        wasmplug_module_free(module);
    if (engine)
        wasmplug_engine_free(engine);
    return rc;
}
