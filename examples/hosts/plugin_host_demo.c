/*
 * plugin_host_demo.c - a small host built on the plugin host API
 * (<wasmplug.h>): it registers two host functions, grants them by policy,
 * loads the hello plugin (examples/plugins/hello) with a manifest and
 * limits, calls it with typed values, lets it call back into the host,
 * shows a limit being hit (fuel) with its specific error while the plugin
 * keeps working, and prints the plugin's info and metrics.
 *
 * Usage: plugin_host_demo [hello.wasm]
 * Exit status: 0 when every step behaved as expected.
 */
#include <wasmplug.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifndef WASMPLUG_DEMO_PLUGIN
#define WASMPLUG_DEMO_PLUGIN "hello.wasm"
#endif

/* host.log(ptr, len): "(p)" means one pointer/length pair, checked by the
 * host against the plugin's memory before this function runs. */
static int host_log(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                    wasmplug_slot *results)
{
    (void)user;
    (void)results;
    printf("  [%s] %.*s\n", wasmplug_hostcall_plugin_name(call), (int)args[0].len,
           (const char *)args[0].ptr);
    return 0;
}

/* host.add(a, b) -> a + b, refusing negative numbers to show host errors. */
static int host_add(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                    wasmplug_slot *results)
{
    int *calls = user;
    (*calls)++;
    if (args[0].value.i32 < 0 || args[1].value.i32 < 0) {
        wasmplug_hostcall_error(call, "host.add takes non-negative numbers");
        return 1;
    }
    results[0].i32 = args[0].value.i32 + args[1].value.i32;
    return 0;
}

static void on_state(void *user, wasmplug_plugin *p, const char *name,
                     wasmplug_plugin_state from, wasmplug_plugin_state to)
{
    (void)user;
    (void)p;
    printf("  state of '%s': %s -> %s\n", name, wasmplug_state_string(from),
           wasmplug_state_string(to));
}

static void print_error(const char *what, const wasmplug_plugin_error *err)
{
    char text[1024];
    wasmplug_plugin_error_format(err, text, sizeof text);
    printf("%s: %s\n", what, text);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : WASMPLUG_DEMO_PLUGIN;
    int failures = 0, add_calls = 0;

    /* 1. A host with default limits and a state callback. */
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_state = on_state;
    wasmplug_host *host;
    if (wasmplug_host_new(&cfg, &host) != WASMPLUG_OK) {
        fprintf(stderr, "cannot create a host\n");
        return 1;
    }

    /* 2. Host functions, and the policy: any plugin may have host.*. */
    wasmplug_host_register(host, "host", "log", "(p)", host_log, NULL, NULL);
    wasmplug_host_register(host, "host", "add", "(ii)i", host_add, &add_calls, NULL);
    wasmplug_host_grant(host, "*", "host.*");

    /* 3. Load with a manifest (asking for both functions) and limits. */
    static const char *const perms[] = {"host.log", "host.add"};
    static const char *const exports[] = {"fib", "greet"};
    static const wasmplug_kv meta[] = {{"author", "the wasmplug authors"}};
    wasmplug_manifest manifest;
    memset(&manifest, 0, sizeof manifest);
    manifest.id = "hello";
    manifest.version = "1.0.0";
    manifest.permissions = perms;
    manifest.permission_count = 2;
    manifest.exports = exports;
    manifest.export_count = 2;
    manifest.metadata = meta;
    manifest.metadata_count = 1;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.manifest = &manifest;
    opt.init = true;
    opt.limits.fuel = 10 * 1000 * 1000; /* instructions per call */
    opt.limits.timeout_ms = 2000;
    opt.limits.max_memory_pages = 64;

    printf("loading %s\n", path);
    wasmplug_plugin *plugin;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(host, "hello", path, &opt, &plugin, &err) != WASMPLUG_OK) {
        print_error("load failed", &err);
        wasmplug_host_free(host);
        return 1;
    }

    /* 4. Typed calls. */
    wasmplug_val arg, res;
    arg.type = WASMPLUG_I32;
    arg.of.u64 = 0;
    arg.of.i32 = 50;
    if (wasmplug_plugin_call_typed(plugin, "fib", &arg, 1, &res, 1, &err) == WASMPLUG_OK) {
        printf("fib(50) = %" PRIu64 "\n", res.of.u64);
        failures += res.of.u64 != 12586269025u;
    } else {
        print_error("fib failed", &err);
        failures++;
    }

    /* 5. The plugin calls back into the host (host.add, then host.log). */
    arg.of.i32 = 0;
    if (wasmplug_plugin_call_typed(plugin, "greet", &arg, 1, &res, 1, &err) == WASMPLUG_OK) {
        printf("greet returned %d (host.add was called %d time)\n", (int)res.of.i32, add_calls);
        failures += res.of.i32 != 5 || add_calls != 1;
    } else {
        print_error("greet failed", &err);
        failures++;
    }

    /* 6. A limit: fib(2^31) needs far more than 10M instructions. */
    arg.of.i32 = INT32_MAX;
    wasmplug_status st = wasmplug_plugin_call_typed(plugin, "fib", &arg, 1, &res, 1, &err);
    print_error("fib(2^31) with a fuel limit", &err);
    failures += st != WASMPLUG_ERR_FUEL;

    /* 7. Unknown function: a clear error, and the plugin still works. */
    st = wasmplug_plugin_call_typed(plugin, "nope", NULL, 0, NULL, 0, &err);
    print_error("calling a missing function", &err);
    failures += st != WASMPLUG_ERR_NOT_FOUND;
    arg.of.i32 = 10;
    st = wasmplug_plugin_call_typed(plugin, "fib", &arg, 1, &res, 1, &err);
    printf("fib(10) = %" PRIu64 " (the plugin is still fine)\n", res.of.u64);
    failures += st != WASMPLUG_OK || res.of.u64 != 55;

    /* 8. Info and metrics. */
    wasmplug_plugin_info info;
    wasmplug_plugin_get_info(plugin, &info);
    printf("plugin '%s' (id %s, version %s): %s, %u exports, %u instance(s)\n", info.name,
           info.id, info.version, wasmplug_state_string(info.state), info.export_count,
           info.instances);
    printf("  calls %" PRIu64 ", errors %" PRIu64 ", host calls %" PRIu64 ", fuel used %" PRIu64
           ", memory %u pages, max latency %" PRIu64 " us\n",
           info.metrics.calls, info.metrics.errors, info.metrics.host_calls,
           info.metrics.fuel_used, info.metrics.memory_pages, info.metrics.max_ns / 1000);
    failures += info.metrics.calls != 5 || info.metrics.errors != 2;

    /* 9. Dispose, then free everything. */
    if (wasmplug_plugin_dispose(plugin, &err) != WASMPLUG_OK) {
        print_error("dispose failed", &err);
        failures++;
    }
    wasmplug_plugin_release(plugin);
    wasmplug_host_free(host);
    printf(failures ? "demo: %d step(s) misbehaved\n" : "demo: ok\n", failures);
    return failures ? 1 : 0;
}
