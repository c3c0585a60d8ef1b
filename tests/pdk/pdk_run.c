/*
 * pdk_run.c - run one plugin function from the command line through the
 * host library (include/wasmplug.h): the "test a plugin locally" tool of
 * docs/PLUGIN_GUIDE.md and the quick-start tests (tests/pdk/quickstart.sh).
 *
 *   pdk-run [-v] [-c KEY=VALUE]... [--max-input N] [--bench N] PLUGIN.wasm FUNC [INPUT]
 *
 * INPUT defaults to standard input ("-" reads it too). Prints the output
 * (plus a newline) and exits 0, or prints the plugin error and exits 1.
 * --bench N calls N more times and prints the mean latency on stderr.
 * Plugin log lines of level info and above go to stderr (all with -v).
 */
#include "wasmplug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void on_log(void *user, wasmplug_plugin *plugin, const char *name,
                   wasmplug_log_level level, const char *msg, size_t len)
{
    (void)plugin;
    if ((int)level < *(int *)user)
        return;
    static const char *const names[] = {"trace", "debug", "info", "warn", "error"};
    fprintf(stderr, "[%s] %s: %.*s\n", names[level <= 4 ? level : 4], name, (int)len, msg);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
        }
    }
    *len = n;
    return buf;
}

static int usage(void)
{
    fprintf(stderr, "usage: pdk-run [-v] [-c KEY=VALUE]... [--max-input N] [--bench N] "
                    "PLUGIN.wasm FUNC [INPUT|-]\n");
    return 2;
}

int main(int argc, char **argv)
{
    wasmplug_kv config[64];
    size_t nconfig = 0;
    long bench = 0;
    int min_level = WASMPLUG_LOG_INFO;
    unsigned long max_input = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && nconfig < 64) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq)
                return usage();
            *eq = '\0';
            config[nconfig].key = kv;
            config[nconfig++].value = eq + 1;
        } else if (strcmp(argv[i], "-v") == 0) {
            min_level = WASMPLUG_LOG_TRACE;
        } else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc) {
            bench = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--max-input") == 0 && i + 1 < argc) {
            max_input = strtoul(argv[++i], NULL, 10);
        } else {
            return usage();
        }
    }
    if (argc - i < 2 || argc - i > 3)
        return usage();
    const char *path = argv[i], *func = argv[i + 1];
    char *input;
    size_t in_len;
    if (argc - i == 3 && strcmp(argv[i + 2], "-") != 0) {
        input = strdup(argv[i + 2]);
        in_len = strlen(input);
    } else {
        input = read_all(stdin, &in_len);
    }
    if (!input) {
        fprintf(stderr, "pdk-run: out of memory\n");
        return 1;
    }

    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.on_log = on_log;
    hc.callback_user = &min_level;
    wasmplug_host *host;
    if (wasmplug_host_new(&hc, &host) != WASMPLUG_OK) {
        fprintf(stderr, "pdk-run: cannot create a host\n");
        return 1;
    }
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    opt.config = config;
    opt.config_count = nconfig;
    opt.limits.max_input_bytes = (uint32_t)max_input;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    char msg[2048];
    int rc = 0;
    if (wasmplug_host_load_file(host, "plugin", path, &opt, &p, &err) != WASMPLUG_OK) {
        wasmplug_plugin_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "pdk-run: %s\n", msg);
        rc = 1;
        goto done;
    }
    wasmplug_buf out;
    if (wasmplug_plugin_call(p, func, (const uint8_t *)input, in_len, &out, &err) !=
        WASMPLUG_OK) {
        wasmplug_plugin_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "pdk-run: %s\n", msg);
        rc = 1;
        goto done;
    }
    fwrite(out.data, 1, out.len, stdout);
    fputc('\n', stdout);
    wasmplug_buf_free(&out);
    if (bench > 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long k = 0; k < bench; k++) {
            wasmplug_plugin_call(p, func, (const uint8_t *)input, in_len, &out, NULL);
            wasmplug_buf_free(&out);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "pdk-run: %s: %ld calls, mean %.1f us\n", func, bench, ns / bench / 1e3);
    }
done:
    if (p)
        wasmplug_plugin_release(p);
    wasmplug_host_free(host);
    free(input);
    return rc;
}
