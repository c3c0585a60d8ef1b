/*
 * event_counter.c - an example plugin in the compatibility ABI (alloc/dealloc),
 * freestanding C using the C PDK's JSON helpers and logs.
 *
 * Exports alloc/dealloc, plugin_get_manifest, plugin_initialize,
 * plugin_handle_event(ptr, len) -> (result_ptr << 32 | result_len) and
 * plugin_dispose. Each event is JSON {"type": "...", ...}; the plugin counts
 * events per type and answers {"ok":true,"type":T,"count":N,"total":M}, or
 * {"ok":false,"error":"..."} (this ABI has no error channel besides the
 * result). The config value "prefix" (optional) is prepended to types.
 */
#include "wasmplug_pdk.h"

#define EXPORT(n) __attribute__((export_name(n)))

/* alloc/dealloc: a bump heap that empties when every block is freed (the
 * host frees the input and the result after each event). */
static unsigned char heap[1 << 20];
static uint32_t heap_top;
static int32_t heap_live;

EXPORT("alloc") void *plugin_alloc(uint32_t size)
{
    uint32_t at = (heap_top + 7u) & ~7u;
    if (size > sizeof heap - at)
        return 0;
    heap_top = at + size;
    heap_live++;
    return heap + at;
}

EXPORT("dealloc") void plugin_dealloc(void *ptr, uint32_t size)
{
    (void)ptr;
    (void)size;
    if (heap_live > 0 && --heap_live == 0)
        heap_top = 0;
}

static uint64_t pack_result(const char *data, size_t len)
{
    char *p = plugin_alloc((uint32_t)len);
    if (!p)
        return 0;
    memcpy(p, data, len);
    return ((uint64_t)(uintptr_t)p << 32) | (uint32_t)len;
}

EXPORT("plugin_get_manifest") uint64_t get_manifest(void)
{
    static const char m[] = "{\"id\":\"event-counter-compat\",\"name\":\"Event counter\","
                            "\"version\":\"1.0.0\",\"abi\":\"compat\"}";
    return pack_result(m, sizeof m - 1);
}

#define MAX_TYPES 64
static struct {
    char name[64];
    size_t len;
    uint32_t count;
} types[MAX_TYPES];
static uint32_t type_count, total;
static bool initialized;

EXPORT("plugin_initialize") int32_t initialize(void)
{
    initialized = true;
    wp_log_info("event-counter: initialized");
    return 0;
}

static uint64_t answer_error(const char *msg)
{
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "ok");
    wp_jw_bool(&w, false);
    wp_jw_key(&w, "error");
    wp_jw_string(&w, msg);
    wp_jw_end_object(&w);
    return pack_result(w.buf.data, w.buf.len);
}

EXPORT("plugin_handle_event") uint64_t handle_event(const char *ptr, uint32_t len)
{
    wp_arena_reset(); /* JSON trees of the previous event */
    if (!initialized)
        return answer_error("not initialized");
    const char *why;
    size_t at;
    wp_json *ev = wp_json_parse(ptr, len, &why, &at);
    if (!ev)
        return answer_error("invalid JSON event");
    const char *type = wp_json_get_string(ev, "type");
    if (!type)
        return answer_error("event needs a string \"type\"");

    wp_buf name = {0};
    const char *prefix = wp_config("prefix");
    if (prefix)
        wp_buf_str(&name, prefix);
    wp_buf_str(&name, type);
    if (name.oom || name.len >= sizeof types[0].name)
        return answer_error("event type too long");

    uint32_t i = 0;
    while (i < type_count && !(types[i].len == name.len &&
                               memcmp(types[i].name, name.data, name.len) == 0))
        i++;
    if (i == type_count) {
        if (type_count == MAX_TYPES)
            return answer_error("too many event types");
        memcpy(types[i].name, name.data, name.len);
        types[i].len = name.len;
        type_count++;
    }
    types[i].count++;
    total++;

    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "ok");
    wp_jw_bool(&w, true);
    wp_jw_key(&w, "type");
    wp_jw_stringn(&w, types[i].name, types[i].len);
    wp_jw_key(&w, "count");
    wp_jw_int(&w, types[i].count);
    wp_jw_key(&w, "total");
    wp_jw_int(&w, total);
    wp_jw_end_object(&w);
    return pack_result(w.buf.data, w.buf.len);
}

EXPORT("plugin_dispose") int32_t dispose(void)
{
    wp_log_info("event-counter: disposed");
    return 0;
}
