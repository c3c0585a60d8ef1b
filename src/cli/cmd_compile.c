/*
 * cmd_compile.c - `wasmplug compile FILE.wasm`: make the module's native
 * code (the engine's native tier, wasmplug/native.h) with the system C
 * compiler and keep it in the verified native-code cache
 * (services/native_cache.h), where `run` and `exec` find it.
 */
#include "cli.h"
#include "services/cache.h"
#include "services/native_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug/native.h>

enum { C_CACHE_DIR = 1 };

static const cli_opt COMPILE_OPTS[] = {{"cache-dir", 0, true, C_CACHE_DIR}, {NULL, 0, false, 0}};

int cmd_compile(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    const char *file = NULL, *cache_dir = NULL, *arg;
    int id;
    while ((id = cli_next(&a, COMPILE_OPTS, "compile", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == C_CACHE_DIR) {
            cache_dir = arg;
        } else if (file) {
            cli_error("compile takes one file (got '%s' too)", arg);
            return EXIT_USAGE;
        } else {
            file = arg;
        }
    }
    if (!file) {
        cli_error("usage: wasmplug compile FILE.wasm [--cache-dir DIR]");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    char msg[1400];
    size_t size = 0;
    uint8_t *bytes = (uint8_t *)wps_read_file(file, &size);
    if (!bytes) {
        snprintf(msg, sizeof msg, "cannot read %s: %s", file, strerror(errno));
        return cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
    }
    wasmplug_engine *eng = NULL;
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    if (cli_engine(&eng) != WASMPLUG_OK) {
        free(bytes);
        return cli_fail_json(EXIT_INTERNAL, NULL, "cannot create an engine");
    }
    wasmplug_status st = wasmplug_module_new(eng, bytes, size, &m, &err);
    if (st != WASMPLUG_OK) {
        cli_module_error(msg, sizeof msg, file, st, &err);
        free(bytes);
        wasmplug_engine_free(eng);
        return cli_fail_json(cli_exit_for(st), "invalid_module", msg);
    }
    char *dir = wps_cache_dir(cache_dir);
    wps_native_info info;
    wps_native_attach(m, bytes, size, wasmplug_engine_bounds(eng), dir, true, &info);
    bool ok = info.result == WPS_NATIVE_HIT || info.result == WPS_NATIVE_COMPILED ||
              info.result == WPS_NATIVE_REBUILT;
    if (!ok) {
        snprintf(msg, sizeof msg, "%s: no native code (%s): %s", file,
                 wps_native_result_name(info.result),
                 info.note[0] ? info.note : dir ? "the cache cannot be used" : "no cache directory (set $HOME or --cache-dir)");
        rc = cli_fail_json(info.result == WPS_NATIVE_UNSUPPORTED ? EXIT_INVALID : EXIT_IO,
                           info.result == WPS_NATIVE_UNSUPPORTED ? "unsupported" : NULL, msg);
    } else if (G.json) {
        json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:f}", "ok", 1, "file", file,
                              "result", wps_native_result_name(info.result), "path", info.path,
                              "module_size", (json_int_t)size, "object_size",
                              (json_int_t)info.object_size, "compile_ms", info.compile_ms);
        cli_json_print(o);
    } else {
        if (info.result == WPS_NATIVE_HIT)
            printf("%s: native code up to date\n", term_field(file));
        else
            printf("%s: compiled to native code in %.0f ms (%.1f s per MB of module)%s\n",
                   term_field(file), info.compile_ms,
                   size ? info.compile_ms / 1e3 / ((double)size / 1e6) : 0.0,
                   info.result == WPS_NATIVE_REBUILT ? ", replacing an entry that failed its check" : "");
        printf("  %s (%zu bytes)\n", term_field(info.path), info.object_size);
        if (info.note[0])
            cli_note("note: %s", info.note);
    }
    free(dir);
    free(bytes);
    wasmplug_module_free(m);
    wasmplug_engine_free(eng);
    return rc;
}
