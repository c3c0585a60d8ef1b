/*
 * errors.c - the host's one error type: status strings for engine and host
 * codes, building wasmplug_plugin_error values, turning an engine trap of a
 * plugin call into the specific host error (timeout, fuel, memory, depth,
 * host function, permission...), bounded error rings and formatting.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wasmplug_state_string(wasmplug_plugin_state state)
{
    static const char *const s[] = {
#define WASMPLUG_X_STR(name, msg) msg,
        WASMPLUG_STATE_LIST(WASMPLUG_X_STR)
#undef WASMPLUG_X_STR
    };
    if ((unsigned)state >= WASMPLUG_STATE_COUNT)
        return "unknown";
    return s[state];
}

const char *wasmplug_phase_string(wasmplug_phase phase)
{
    switch (phase) {
    case WASMPLUG_PHASE_LOAD: return "load";
    case WASMPLUG_PHASE_INIT: return "init";
    case WASMPLUG_PHASE_CALL: return "call";
    case WASMPLUG_PHASE_DISPOSE: return "dispose";
    default: return "none";
    }
}

void wasmplug_plugin_error_clear(wasmplug_plugin_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->code = WASMPLUG_OK;
    err->trap = WASMPLUG_TRAP_NONE;
    err->offset = UINT64_MAX;
}

static void vfail(wasmplug_plugin_error *err, wasmplug_status code, wasmplug_phase phase,
                  const char *plugin, const char *function, const char *fmt, va_list ap)
{
    wasmplug_plugin_error_clear(err);
    err->code = code;
    err->phase = phase;
    wph_copy_name(err->plugin, plugin);
    wph_copy_name(err->function, function);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    err->timestamp_ms = wph_wall_ms();
}

wasmplug_status wph_fail(wasmplug_plugin_error *err, wasmplug_status code, wasmplug_phase phase,
                         const char *plugin, const char *function, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vfail(err, code, phase, plugin, function, fmt, ap);
        va_end(ap);
    }
    return code;
}

size_t wasmplug_plugin_error_format(const wasmplug_plugin_error *err, char *buf, size_t size)
{
    if (!err) {
        if (buf && size)
            buf[0] = '\0';
        return 0;
    }
    size_t at = 0;
#define APPEND(...)                                                                   \
    do {                                                                              \
        int n_ = snprintf(buf && at < size ? buf + at : NULL,                        \
                          buf && at < size ? size - at : 0, __VA_ARGS__);              \
        if (n_ > 0)                                                                   \
            at += (size_t)n_;                                                         \
    } while (0)
    if (err->plugin[0])
        APPEND("plugin '%s': ", err->plugin);
    if (err->phase != WASMPLUG_PHASE_NONE)
        APPEND("%s", wasmplug_phase_string(err->phase));
    if (err->function[0])
        APPEND(" '%s'", err->function);
    if (err->phase != WASMPLUG_PHASE_NONE || err->function[0])
        APPEND(": ");
    /* The status text, unless the message already starts with it (engine
     * messages such as "unsupported feature: SIMD" do). */
    const char *status = wasmplug_strerror(err->code);
    bool repeats = strncmp(err->message, status, strlen(status)) == 0;
    if (!repeats)
        APPEND("%s", status);
    if (err->message[0])
        APPEND("%s%s", repeats ? "" : ": ", err->message);
    for (uint32_t i = 0; i < err->frame_count && i < WASMPLUG_ERROR_FRAMES_MAX; i++) {
        const wasmplug_frame *f = &err->frames[i];
        if (f->func_name[0])
            APPEND("\n  #%u %s (func %u)", i, f->func_name, f->func_index);
        else
            APPEND("\n  #%u func %u", i, f->func_index);
    }
#undef APPEND
    if (buf && size && at >= size)
        buf[size - 1] = '\0';
    return at;
}

/* ------------------------------------------------------------------------ */
/* Rings                                                                    */
/* ------------------------------------------------------------------------ */

void wph_ring_push(wph_ring *r, uint32_t cap, const wasmplug_plugin_error *e)
{
    if (cap == 0)
        return;
    if (!r->items) {
        r->items = malloc(cap * sizeof *r->items);
        if (!r->items)
            return; /* history is best-effort under memory pressure */
        r->cap = cap;
        r->count = r->head = 0;
    }
    if (r->count < r->cap) {
        r->items[(r->head + r->count) % r->cap] = *e;
        r->count++;
    } else {
        r->items[r->head] = *e;
        r->head = (r->head + 1) % r->cap;
    }
}

size_t wph_ring_copy(const wph_ring *r, wasmplug_plugin_error *out, size_t max)
{
    if (!r->items || !out)
        return 0;
    size_t n = r->count < max ? r->count : max;
    size_t skip = r->count - n; /* keep the most recent n */
    for (size_t i = 0; i < n; i++)
        out[i] = r->items[(r->head + skip + i) % r->cap];
    return n;
}

void wph_ring_free(wph_ring *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------ */
/* Classifying a failed call                                                */
/* ------------------------------------------------------------------------ */

static void copy_frames(wasmplug_plugin_error *err, const wasmplug_error *e)
{
    uint32_t n = e->frame_count < WASMPLUG_ERROR_FRAMES_MAX ? e->frame_count
                                                             : WASMPLUG_ERROR_FRAMES_MAX;
    err->frame_count = n;
    memcpy(err->frames, e->frames, n * sizeof e->frames[0]);
}

/*
 * The order matters: an interrupt we sent explains an INTERRUPTED trap; a
 * pending code set by a host function (output too large, bad pointer,
 * permission) explains the trap it caused; fuel and depth traps map to their
 * limits; a trap after a memory.grow was refused in this call is reported
 * as the memory limit (the usual end of a memory.grow bomb: grow fails, then
 * the plugin traps), keeping the original trap kind in err->trap. Any other
 * trap is reported as it is, even with the memory at its limit.
 */
wasmplug_status wph_classify(wph_slot *s, wasmplug_status st, const wasmplug_error *e,
                             wasmplug_phase phase, const char *function,
                             wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    if (st == WASMPLUG_OK)
        return WASMPLUG_OK;
    if (st != WASMPLUG_ERR_TRAP) {
        if (st == WASMPLUG_ERR_LIMIT)
            return wph_fail(err, WASMPLUG_ERR_MEMORY_LIMIT, phase, p->name, function,
                            "%s (max_memory_pages %u)", e->message, p->limits.max_memory_pages);
        return wph_fail(err, st, phase, p->name, function, "%s", e->message);
    }
    int why = atomic_load(&s->interrupted);
    wasmplug_status code = WASMPLUG_ERR_TRAP;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", e->message);
    wasmplug_instance *inst = s->inst;
    wasmplug_memory *mem = inst ? wasmplug_instance_memory(inst) : NULL;
    uint32_t pages = mem ? wasmplug_memory_pages(mem) : 0;

    if (e->trap == WASMPLUG_TRAP_INTERRUPTED) {
        if (why & WPH_INT_CANCEL) {
            code = WASMPLUG_ERR_CANCELLED;
            snprintf(msg, sizeof msg, "%s", p->killed ? "the plugin was killed" : "the call was cancelled");
        } else {
            code = WASMPLUG_ERR_TIMEOUT;
            snprintf(msg, sizeof msg, "the call ran longer than its timeout of %u ms",
                     s->timeout_ms);
        }
    } else if (s->pending != WASMPLUG_OK) {
        code = s->pending;
        snprintf(msg, sizeof msg, "%s", s->pending_msg);
    } else if (e->trap == WASMPLUG_TRAP_OUT_OF_FUEL) {
        code = WASMPLUG_ERR_FUEL;
        snprintf(msg, sizeof msg, "the call used all of its fuel (%llu instructions)",
                 (unsigned long long)s->fuel);
    } else if (e->trap == WASMPLUG_TRAP_CALL_STACK_EXHAUSTED ||
               e->trap == WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED) {
        code = WASMPLUG_ERR_CALL_DEPTH;
        snprintf(msg, sizeof msg, "%.200s (max_call_depth %u)", e->message,
                 p->limits.max_call_depth);
    } else if (e->trap == WASMPLUG_TRAP_EXIT) {
        code = WASMPLUG_ERR_TRAP;
        snprintf(msg, sizeof msg, "the plugin exited with code %d", (int)e->exit_code);
    } else if (inst && wasmplug_instance_grows_refused(inst) > s->grows_refused_before) {
        code = WASMPLUG_ERR_MEMORY_LIMIT;
        snprintf(msg, sizeof msg, "memory.grow was refused (%u pages in use, limit of %u pages), then: %.130s",
                 pages, p->limits.max_memory_pages, e->message);
    }
    wph_fail(err, code, phase, p->name, function, "%s", msg);
    if (err) {
        err->trap = e->trap;
        err->plugin_code = e->trap == WASMPLUG_TRAP_EXIT ? e->exit_code : 0;
        copy_frames(err, e);
    }
    return code;
}
