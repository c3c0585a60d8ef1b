/*
 * fuzz_deserialize.c - libFuzzer target for the compiled-module loader
 * (wasmplug_module_deserialize, src/engine/serialize.c), what the module
 * cache hands its files to.
 *
 * An input is a bounds-mode byte (bit 0: explicit checks, else guard pages)
 * and a payload; the target puts a valid header in front (this engine's
 * fingerprint and bounds mode, the payload's size and checksum) so that
 * mutations reach the structural checks instead of dying at the checksum.
 * The loader must reject the data or produce a module that runs: a loaded
 * module is serialized again (the bytes must come back identical, the
 * format has one encoding), instantiated, and its exports are called under
 * a small fuel budget (fuzz_run.h).
 *
 * Seeds are real modules serialized by fuzz/serialize_seeds (see
 * fuzz/make-corpora.sh). Build: cmake -DWASMPLUG_FUZZ=ON with clang; run:
 * build/fuzz/fuzz_deserialize CORPUS_DIR (fuzz/README.md).
 */
#include "fuzz_run.h"
#include "engine/module.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 36u /* serialize.c: magic, format, fingerprint, bounds, size, checksum */

static wasmplug_engine *engines[2];
static uint8_t headers[2][HEADER]; /* a valid header of each engine */

/* The header of a serialized empty module on engine e. */
static void take_header(wasmplug_engine *e, uint8_t *out)
{
    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    wasmplug_module *m;
    uint8_t *bytes;
    size_t n;
    wasmplug_error err;
    if (wasmplug_module_new(e, empty, sizeof empty, &m, &err) != WASMPLUG_OK ||
        wasmplug_module_serialize(m, &bytes, &n, &err) != WASMPLUG_OK || n < HEADER)
        abort();
    memcpy(out, bytes, HEADER);
    wasmplug_serialized_free(bytes);
    wasmplug_module_free(m);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engines[0]) {
        for (int k = 0; k < 2; k++) {
            wasmplug_engine_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.bounds = k ? WASMPLUG_BOUNDS_EXPLICIT : WASMPLUG_BOUNDS_GUARD_PAGES;
            if (wasmplug_engine_new(&cfg, &engines[k]) != WASMPLUG_OK)
                abort();
            take_header(engines[k], headers[k]);
        }
    }
    if (size < 1)
        return 0;
    int k = data[0] & 1;
    size_t payload = size - 1;
    uint8_t *buf = malloc(HEADER + payload);
    if (!buf)
        return 0;
    memcpy(buf, headers[k], HEADER);
    memcpy(buf + HEADER, data + 1, payload);
    put_le64(buf + 20, payload);
    put_le64(buf + 28, wp_serialized_checksum(buf + HEADER, payload));

    wasmplug_module *m = NULL;
    wasmplug_error err;
    if (wasmplug_module_deserialize(engines[k], buf, HEADER + payload, &m, &err) == WASMPLUG_OK) {
        uint8_t *again;
        size_t n;
        if (wasmplug_module_serialize(m, &again, &n, &err) != WASMPLUG_OK)
            abort(); /* a loaded module can always be written again */
        if (n != HEADER + payload || memcmp(again, buf, n) != 0)
            abort(); /* and comes back the same */
        wasmplug_serialized_free(again);
        fuzz_run_module(engines[k], m);
        wasmplug_module_free(m);
    }
    free(buf);
    return 0;
}
