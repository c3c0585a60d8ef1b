/*
 * exec_test.c - a minimal `wasmplug exec`: runs a WASI command module the
 * way the CLI does, through the public WASI API only, so the tests can run
 * real programs and compare them with native builds.
 *
 *   exec_test [--dir HOST:GUEST[:ro]]... [--env K=V]... [--inherit-env NAME]...
 *             [--fuel N] [--max-pages N] [--deterministic] FILE.wasm [ARGS...]
 *
 * stdout/stderr of the module are passed through (written as they come),
 * stdin is the process's stdin, and the exit status is the module's exit
 * code (125 when the module cannot be loaded or traps, as the CLI does).
 */
#include "wasmplug/wasi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ITEMS 64

static void passthrough(void *user, int fd, const uint8_t *data, size_t len)
{
    (void)user;
    /* Unbuffered write(2), so stdout and stderr interleave as the module wrote them. */
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
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
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    *size = len;
    return data;
}

static int usage(void)
{
    fprintf(stderr, "usage: exec_test [--dir HOST:GUEST[:ro]]... [--env K=V]... "
                    "[--inherit-env NAME]... [--fuel N] [--max-pages N] [--deterministic] "
                    "FILE.wasm [ARGS...]\n");
    return 125;
}

int main(int argc, char **argv)
{
    wasmplug_wasi_preopen dirs[MAX_ITEMS];
    char *dirspec[MAX_ITEMS];
    const char *env[MAX_ITEMS], *inherit[MAX_ITEMS];
    size_t ndirs = 0, nenv = 0, ninherit = 0;
    wasmplug_instance_config icfg;
    memset(&icfg, 0, sizeof icfg);
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--deterministic") == 0) {
            cfg.deterministic = true;
            cfg.clock_start_ns = 1700000000ull * 1000000000ull;
            cfg.random_seed = 42;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *val = argv[++i];
        if (strcmp(opt, "--dir") == 0 && ndirs < MAX_ITEMS) {
            /* HOST:GUEST[:ro] (GUEST defaults to HOST) */
            char *s = dirspec[ndirs] = strdup(val);
            char *guest = strchr(s, ':');
            bool ro = false;
            if (guest) {
                *guest++ = 0;
                char *mode = strrchr(guest, ':');
                if (mode && strcmp(mode, ":ro") == 0) {
                    *mode = 0;
                    ro = true;
                } else if (strcmp(guest, "ro") == 0) {
                    guest = s;
                    ro = true;
                }
            }
            dirs[ndirs].host_path = s;
            dirs[ndirs].guest_path = guest && *guest ? guest : s;
            dirs[ndirs].read_only = ro;
            ndirs++;
        } else if (strcmp(opt, "--env") == 0 && nenv < MAX_ITEMS) {
            env[nenv++] = val;
        } else if (strcmp(opt, "--inherit-env") == 0 && ninherit < MAX_ITEMS) {
            inherit[ninherit++] = val;
        } else if (strcmp(opt, "--fuel") == 0) {
            icfg.fuel = strtoull(val, NULL, 10);
        } else if (strcmp(opt, "--max-pages") == 0) {
            icfg.max_memory_pages = (uint32_t)strtoul(val, NULL, 10);
        } else {
            return usage();
        }
    }
    if (i >= argc)
        return usage();
    const char *file = argv[i];

    size_t size;
    uint8_t *bytes = read_file(file, &size);
    if (!bytes) {
        fprintf(stderr, "exec_test: cannot read %s\n", file);
        return 125;
    }
    wasmplug_engine *engine;
    if (wasmplug_engine_new(NULL, &engine) != WASMPLUG_OK)
        return 125;
    wasmplug_error err;
    wasmplug_module *module;
    if (wasmplug_module_new(engine, bytes, size, &module, &err) != WASMPLUG_OK) {
        fprintf(stderr, "exec_test: %s: %s\n", file, err.message);
        return 125;
    }
    free(bytes);

    /* The module sees its own argv: FILE then ARGS. */
    cfg.args = (const char *const *)&argv[i];
    cfg.arg_count = (size_t)(argc - i);
    cfg.env = env;
    cfg.env_count = nenv;
    cfg.env_inherit = inherit;
    cfg.env_inherit_count = ninherit;
    cfg.preopens = dirs;
    cfg.preopen_count = ndirs;
    cfg.stdin_inherit = true;
    cfg.on_output = passthrough;

    int code = 125;
    wasmplug_wasi_ctx *ctx;
    if (wasmplug_wasi_new(engine, &cfg, &ctx, &err) != WASMPLUG_OK) {
        fprintf(stderr, "exec_test: %s\n", err.message);
    } else {
        int32_t exit_code = 0;
        wasmplug_status st = wasmplug_wasi_run_command(ctx, module, &icfg, &exit_code, &err);
        if (st == WASMPLUG_OK)
            code = exit_code & 0xff;
        else
            fprintf(stderr, "exec_test: %s: %s: %s\n", file, wasmplug_strerror(st),
                    err.message);
        wasmplug_wasi_free(ctx);
    }
    wasmplug_module_free(module);
    wasmplug_engine_free(engine);
    for (size_t k = 0; k < ndirs; k++)
        free(dirspec[k]);
    return code;
}
