/*
 * notify.c - the notify service: wasmplug.notify(level, title, body) -> i32
 * (grant "notify") hands a plugin's notification to the host's on_notify
 * callback. Levels 0-3 (info, success, warning, error); title and body
 * must be valid UTF-8, the title at most WPS_NOTIFY_TITLE_MAX bytes and the
 * body at most WPS_NOTIFY_BODY_MAX; anything else fails the call with
 * ERR_ARGUMENT naming what was wrong.
 */
#include "services_internal.h"

#include <stdatomic.h>
#include <stdlib.h>

#define WPS_NOTIFY_TITLE_MAX 256u
#define WPS_NOTIFY_BODY_MAX 65536u

typedef struct notify_state {
    wps_base base;
    wasmplug_notify_fn fn;
    void *user;
    atomic_ullong delivered;
} notify_state;

const char *wasmplug_notify_level_string(wasmplug_notify_level level)
{
    switch (level) {
    case WASMPLUG_NOTIFY_INFO: return "info";
    case WASMPLUG_NOTIFY_SUCCESS: return "success";
    case WASMPLUG_NOTIFY_WARNING: return "warning";
    case WASMPLUG_NOTIFY_ERROR: return "error";
    default: return "unknown";
    }
}

/* notify(level i32, title ptr/len, body ptr/len) -> i32 (0) */
static int imp_notify(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                      wasmplug_slot *results)
{
    notify_state *ns = user;
    int32_t level = args[0].value.i32;
    const wasmplug_hostarg *title = &args[1], *body = &args[2];
    if (level < WASMPLUG_NOTIFY_INFO || level > WASMPLUG_NOTIFY_ERROR) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "level %d is not 0 (info), 1 (success), 2 (warning) or 3 (error)",
                               (int)level);
        return 1;
    }
    if (title->len > WPS_NOTIFY_TITLE_MAX || body->len > WPS_NOTIFY_BODY_MAX) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "the %s is %u bytes; the most is %u",
                               title->len > WPS_NOTIFY_TITLE_MAX ? "title" : "body",
                               title->len > WPS_NOTIFY_TITLE_MAX ? title->len : body->len,
                               title->len > WPS_NOTIFY_TITLE_MAX ? WPS_NOTIFY_TITLE_MAX
                                                                 : WPS_NOTIFY_BODY_MAX);
        return 1;
    }
    if (!wps_utf8_valid(title->ptr, title->len) || !wps_utf8_valid(body->ptr, body->len)) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT, "the %s is not valid UTF-8",
                               wps_utf8_valid(title->ptr, title->len) ? "body" : "title");
        return 1;
    }
    atomic_fetch_add(&ns->delivered, 1);
    if (ns->fn)
        ns->fn(ns->user, wasmplug_hostcall_plugin(call), (wasmplug_notify_level)level,
               (const char *)title->ptr, title->len, (const char *)body->ptr, body->len);
    results[0].i32 = 0;
    return 0;
}

static void notify_free(void *user)
{
    free(user);
}

static wasmplug_status notify_attach(wasmplug_services *svc, wasmplug_service_def *def,
                                     char *msg, size_t msg_size)
{
    (void)msg;
    (void)msg_size;
    notify_state *ns = calloc(1, sizeof *ns);
    if (!ns)
        return WASMPLUG_ERR_NOMEM;
    ns->fn = svc->cfg.on_notify;
    ns->user = svc->cfg.notify_user;
    atomic_init(&ns->delivered, 0);
    def->user = ns;
    def->finalizer = notify_free;
    return WASMPLUG_OK;
}

static const wps_import notify_imports[] = {
    {"notify", "(ipp)i", "notify", imp_notify},
    {NULL, NULL, NULL, NULL},
};

const wps_module wps_notify_module = {"notify", WASMPLUG_SERVICE_NOTIFY, false, notify_imports,
                                      notify_attach};
