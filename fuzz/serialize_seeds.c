/*
 * serialize_seeds.c - seeds for fuzz_deserialize: each module given is
 * compiled with each bounds mode and serialized; the payload (without the
 * header, which the target rebuilds) is written to OUT_DIR/NAME.guard and
 * NAME.explicit after the target's bounds-mode byte. Modules that do not
 * compile are skipped.
 *
 *   serialize_seeds OUT_DIR FILE.wasm...
 */
#include "test.h" /* test_read_file */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 36u

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: serialize_seeds OUT_DIR FILE.wasm...\n");
        return 2;
    }
    static const char *const mode_names[2] = {"guard", "explicit"};
    int written = 0;
    for (int k = 0; k < 2; k++) {
        wasmplug_engine_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.bounds = k ? WASMPLUG_BOUNDS_EXPLICIT : WASMPLUG_BOUNDS_GUARD_PAGES;
        wasmplug_engine *e;
        if (wasmplug_engine_new(&cfg, &e) != WASMPLUG_OK)
            return 1;
        for (int i = 2; i < argc; i++) {
            size_t len, n;
            uint8_t *wasm = test_read_file(argv[i], &len), *bytes;
            wasmplug_module *m;
            wasmplug_error err;
            if (wasm && wasmplug_module_new(e, wasm, len, &m, &err) == WASMPLUG_OK) {
                if (wasmplug_module_serialize(m, &bytes, &n, &err) == WASMPLUG_OK) {
                    const char *base = strrchr(argv[i], '/');
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s.%s", argv[1], base ? base + 1 : argv[i],
                             mode_names[k]);
                    FILE *f = fopen(path, "wb");
                    uint8_t mode = (uint8_t)k;
                    if (f && fwrite(&mode, 1, 1, f) == 1 &&
                        fwrite(bytes + HEADER, 1, n - HEADER, f) == n - HEADER)
                        written++;
                    if (f)
                        fclose(f);
                    wasmplug_serialized_free(bytes);
                }
                wasmplug_module_free(m);
            }
            free(wasm);
        }
        wasmplug_engine_free(e);
    }
    printf("serialize_seeds: %d seeds in %s\n", written, argv[1]);
    return 0;
}
