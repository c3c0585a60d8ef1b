/*
 * command.c - the command ABI (docs/ABI.md "Command plugins"): modules
 * exporting initialize(ptr, len) -> u32, handle_command(ptr, len) -> u32
 * and shutdown() -> u32 with an allocator (alloc, dealloc). The host copies
 * the bytes (the config JSON at init, a command's JSON per call) into a
 * block from alloc, calls, and frees the block with dealloc. Status 0 is
 * success and the response is what the plugin wrote with
 * wasmplug.output_write; any other status fails with ERR_PLUGIN,
 * plugin_code = the status, and the message the plugin set with
 * wasmplug.error_set.
 */
#include "internal.h"

#include <string.h>

/* The meaning of the statuses the PDKs return (docs/ABI.md). */
static const char *status_meaning(uint32_t code)
{
    switch (code) {
    case WASMPLUG_COMMAND_FAILED: return " (failed)";
    case WASMPLUG_COMMAND_UNKNOWN: return " (unknown command)";
    case WASMPLUG_COMMAND_INVALID: return " (invalid command)";
    default: return "";
    }
}

wasmplug_status wph_command_call(wph_slot *s, wasmplug_func *f, const char *fname,
                                 const uint8_t *in, size_t len, wasmplug_phase phase,
                                 wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    wasmplug_func *alloc = wasmplug_instance_func(s->inst, "alloc");
    wasmplug_func *dealloc = wasmplug_instance_func(s->inst, "dealloc");
    if (!wph_type_is(alloc, "i", "i") || !wph_type_is(dealloc, "ii", ""))
        return wph_fail(err, WASMPLUG_ERR_ABI, phase, p->name, fname,
                        "the command ABI needs exports alloc (i32) -> i32 and dealloc (i32, i32)");
    if (len > UINT32_MAX)
        return wph_fail(err, WASMPLUG_ERR_INPUT_TOO_LARGE, phase, p->name, fname,
                        "input of %zu bytes does not fit the plugin's memory", len);
    wasmplug_val a = wph_val_i32((uint32_t)len), r;
    wasmplug_status st = wph_run_func(s, alloc, "alloc", &a, 1, &r, 1, err);
    uint32_t ptr = r.of.u32;
    uint8_t *dst = st == WASMPLUG_OK ? wph_mem_range(s->inst, ptr, (uint32_t)len) : NULL;
    if (st == WASMPLUG_OK && !dst)
        st = wph_fail(err, WASMPLUG_ERR_SERIALIZATION, phase, p->name, fname,
                      "alloc(%zu) returned address %u, outside the plugin's memory", len, ptr);
    if (st == WASMPLUG_OK) {
        if (len)
            memcpy(dst, in, len);
        wasmplug_val args[2] = {wph_val_i32(ptr), wph_val_i32((uint32_t)len)};
        st = wph_run_func(s, f, fname, args, 2, &r, 1, err);
        uint32_t code = r.of.u32;
        if (st == WASMPLUG_OK)
            st = wph_run_func(s, dealloc, "dealloc", args, 2, NULL, 0, err);
        if (st == WASMPLUG_OK && code != 0) {
            st = wph_fail(err, WASMPLUG_ERR_PLUGIN, phase, p->name, fname, "%s returned %u%s%s%s",
                          fname, code, status_meaning(code), s->err_set ? ": " : "",
                          s->err_set ? s->errmsg : "");
            err->plugin_code = (int32_t)code;
        }
    }
    if (st != WASMPLUG_OK && err)
        err->phase = phase;
    return st;
}
