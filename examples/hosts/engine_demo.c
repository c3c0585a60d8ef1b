/*
 * engine_demo.c - a tour of the engine API with the hello plugin
 * (examples/plugins/hello): load and instantiate it with two host
 * functions, call fib with typed values, reverse a string in its linear
 * memory, let it call back into the host, and show what a trap looks like.
 *
 * Usage: engine_demo [hello.wasm]
 */
#include <wasmplug/engine.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WASMPLUG_DEMO_PLUGIN
#define WASMPLUG_DEMO_PLUGIN "hello.wasm"
#endif

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    *size = len;
    return data;
}

/* host.log(ptr, len): print a string from the calling plugin's memory. */
static int host_log(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    wasmplug_memory *mem = wasmplug_instance_memory(wasmplug_caller_instance(caller));
    size_t size = 0;
    uint8_t *base = mem ? wasmplug_memory_data(mem, &size) : NULL;
    uint32_t ptr = slots[0].u32, len = slots[1].u32;
    if (!base || ptr > size || len > size - ptr) {
        wasmplug_caller_set_error(caller, "host.log: %" PRIu32 " bytes at %" PRIu32
                                  " are outside memory", len, ptr);
        return 1;
    }
    printf("  [plugin says] %.*s\n", (int)len, (const char *)base + ptr);
    return 0;
}

/* host.add(a, b) -> a + b, counting the calls in *user. */
static int host_add(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    ++*(int *)user;
    slots[0].i32 = (int32_t)((uint32_t)slots[0].i32 + (uint32_t)slots[1].i32);
    return 0;
}

static int fail(const char *what, const wasmplug_error *err)
{
    fprintf(stderr, "engine_demo: %s: %s: %s\n", what, wasmplug_strerror(err->status),
            err->message);
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : WASMPLUG_DEMO_PLUGIN;
    size_t size = 0;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        fprintf(stderr, "engine_demo: cannot read %s\n", path);
        return 1;
    }

    wasmplug_engine *engine = NULL;
    wasmplug_module *module = NULL;
    wasmplug_instance *instance = NULL;
    wasmplug_func *log_fn = NULL, *add_fn = NULL;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    int rc = 1, add_calls = 0;

    printf("wasmplug %s engine demo\n", wasmplug_version());
    if (wasmplug_engine_new(NULL, &engine) != WASMPLUG_OK) {
        fprintf(stderr, "engine_demo: cannot create the engine\n");
        goto out;
    }
    if (wasmplug_module_new(engine, bytes, size, &module, &err) != WASMPLUG_OK) {
        rc = fail("load", &err);
        goto out;
    }
    printf("loaded %s: %zu bytes, %" PRIu32 " imports, %" PRIu32 " exports\n", path, size,
           wasmplug_module_import_count(module), wasmplug_module_export_count(module));

    /* Host functions, matched to the module's imports by name. */
    static const wasmplug_valtype ii[] = {WASMPLUG_I32, WASMPLUG_I32};
    static const wasmplug_valtype i[] = {WASMPLUG_I32};
    wasmplug_functype log_type = {2, 0, ii, NULL};
    wasmplug_functype add_type = {2, 1, ii, i};
    if (wasmplug_func_new_host(engine, &log_type, host_log, NULL, NULL, &log_fn) ||
        wasmplug_func_new_host(engine, &add_type, host_add, &add_calls, NULL, &add_fn)) {
        fprintf(stderr, "engine_demo: cannot create host functions\n");
        goto out;
    }
    uint32_t nimports = wasmplug_module_import_count(module);
    wasmplug_extern imports[8];
    if (nimports > 8)
        goto out;
    for (uint32_t k = 0; k < nimports; k++) {
        const char *mod, *name;
        size_t mod_len, name_len;
        wasmplug_externtype type;
        wasmplug_module_import(module, k, &mod, &mod_len, &name, &name_len, &type);
        imports[k].kind = WASMPLUG_EXTERN_FUNC;
        if (strcmp(mod, "host") == 0 && strcmp(name, "log") == 0) {
            imports[k].of.func = log_fn;
        } else if (strcmp(mod, "host") == 0 && strcmp(name, "add") == 0) {
            imports[k].of.func = add_fn;
        } else {
            fprintf(stderr, "engine_demo: unknown import %s.%s\n", mod, name);
            goto out;
        }
    }
    if (wasmplug_instance_new(module, imports, nimports, NULL, &instance, &err) !=
        WASMPLUG_OK) {
        rc = fail("instantiate", &err);
        goto out;
    }

    /* 1. Typed calls. */
    wasmplug_func *fib = wasmplug_instance_func(instance, "fib");
    printf("\nfib (typed calls):\n");
    for (int32_t n = 10; n <= 90; n += 20) {
        wasmplug_val arg = {.type = WASMPLUG_I32, .of = {.i32 = n}}, res;
        if (wasmplug_func_call(fib, &arg, 1, &res, 1, &err) != WASMPLUG_OK) {
            rc = fail("fib", &err);
            goto out;
        }
        printf("  fib(%2d) = %" PRIu64 "\n", (int)n, res.of.u64);
    }

    /* 2. Bytes in linear memory: write a string, reverse it, read it back. */
    const char *text = "stressed desserts, drawer reward";
    wasmplug_val res;
    if (wasmplug_func_call(wasmplug_instance_func(instance, "buffer"), NULL, 0, &res, 1,
                           &err) != WASMPLUG_OK) {
        rc = fail("buffer", &err);
        goto out;
    }
    uint32_t buf = res.of.u32;
    size_t mem_size;
    uint8_t *mem = wasmplug_memory_data(wasmplug_instance_memory(instance), &mem_size);
    memcpy(mem + buf, text, strlen(text));
    wasmplug_val args[2] = {{.type = WASMPLUG_I32, .of = {.u32 = buf}},
                            {.type = WASMPLUG_I32, .of = {.u32 = (uint32_t)strlen(text)}}};
    if (wasmplug_func_call(wasmplug_instance_func(instance, "reverse"), args, 2, &res, 1,
                           &err) != WASMPLUG_OK) {
        rc = fail("reverse", &err);
        goto out;
    }
    mem = wasmplug_memory_data(wasmplug_instance_memory(instance), &mem_size);
    printf("\nreverse (bytes in linear memory):\n  \"%s\" -> \"%.*s\"\n", text,
           (int)res.of.i32, (const char *)mem + buf);

    /* 3. The plugin calls the host. */
    const char *who = "wasmplug";
    memcpy(mem + buf, who, strlen(who));
    wasmplug_val len = {.type = WASMPLUG_I32, .of = {.u32 = (uint32_t)strlen(who)}};
    printf("\ngreet (plugin -> host calls):\n");
    if (wasmplug_func_call(wasmplug_instance_func(instance, "greet"), &len, 1, &res, 1,
                           &err) != WASMPLUG_OK) {
        rc = fail("greet", &err);
        goto out;
    }
    printf("  greet returned %d; host.add was called %d time(s)\n", (int)res.of.i32,
           add_calls);

    /* 4. Errors are values: a wrong argument type, then a trap. */
    printf("\nerrors:\n");
    wasmplug_val bad = {.type = WASMPLUG_F64, .of = {.f64 = 1.5}};
    wasmplug_status st = wasmplug_func_call(fib, &bad, 1, &res, 1, &err);
    printf("  fib(1.5)             -> %s: %s\n", wasmplug_strerror(st), err.message);
    wasmplug_instance_set_fuel(instance, 1000);
    wasmplug_val big = {.type = WASMPLUG_I32, .of = {.i32 = 2000000000}};
    st = wasmplug_func_call(fib, &big, 1, &res, 1, &err);
    printf("  fib(2e9), 1000 fuel  -> %s (%s): %s\n", wasmplug_strerror(st),
           wasmplug_trap_string(err.trap), err.message);
    wasmplug_instance_set_fuel(instance, WASMPLUG_FUEL_UNLIMITED);
    rc = st == WASMPLUG_ERR_TRAP && err.trap == WASMPLUG_TRAP_OUT_OF_FUEL ? 0 : 1;
    printf("\n%s\n", rc == 0 ? "demo finished" : "demo: unexpected result");

out:
    if (instance)
        wasmplug_instance_free(instance);
    if (log_fn)
        wasmplug_func_free(log_fn);
    if (add_fn)
        wasmplug_func_free(add_fn);
    if (module)
        wasmplug_module_free(module);
    if (engine)
        wasmplug_engine_free(engine);
    free(bytes);
    return rc;
}
