/*
 * fuzz_module.c - libFuzzer target: any byte string given to
 * wasmplug_module_new must be rejected with an error or accepted, never
 * crash, hang or leak; accepted modules are instantiated (with every import
 * satisfied by a trapping host function or a fresh extern) and each exported
 * function with no parameters is called under a small fuel budget.
 *
 * Build: cmake -DWASMPLUG_FUZZ=ON with clang; run: build/fuzz/fuzz_module CORPUS_DIR
 * (fuzz/README.md).
 */
#include "fuzz_run.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wasmplug_engine *engine;
    if (wasmplug_engine_new(NULL, &engine) != WASMPLUG_OK)
        return 0;
    wasmplug_module *module = NULL;
    wasmplug_error err;
    if (wasmplug_module_new(engine, data, size, &module, &err) == WASMPLUG_OK) {
        fuzz_run_module(engine, module);
        wasmplug_module_free(module);
    }
    wasmplug_engine_free(engine);
    return 0;
}
