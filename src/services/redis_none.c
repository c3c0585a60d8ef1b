/*
 * redis_none.c - the entry points of the services' Redis parts (kv_redis.c,
 * events_bridge.c) for a program linked without hiredis: the static
 * wasmplug, since hiredis resolves names with getaddrinfo, which glibc only
 * offers a static program with a link-time warning and a run-time
 * dependency on the shared libraries. That command continues in
 * wasmplug-dist whenever Redis is asked for (--kv-redis, --events-redis), so
 * here a Redis URL for key-value data is refused, and no bus ever has a
 * bridge (wasmplug_bus_bridge_new is not in this archive), so the bridge
 * hooks are never reached.
 *
 * Not part of the services library: only of the archive
 * wasmplug_services_noredis (src/services/CMakeLists.txt), which leaves out
 * kv_redis.c, redis_conn.c, events_bridge.c, queue.c and queue_worker.c.
 */
#include "events_internal.h"
#include "kv_internal.h"

#include <stdio.h>

wasmplug_status wps_kv_redis_init(kv_service *ks, const wasmplug_services_config *cfg,
                                  char *msg, size_t msg_size)
{
    (void)ks, (void)cfg;
    snprintf(msg, msg_size, "kv_redis_url: this program is linked without Redis support "
                            "(wasmplug-dist has it)");
    return WASMPLUG_ERR_UNSUPPORTED;
}

bool ev_bridge_routes(ev_bridge *b, const char *topic)
{
    (void)b, (void)topic;
    return false;
}

wasmplug_status ev_bridge_publish(ev_bridge *b, const ev_event *ev, wasmplug_plugin_error *err)
{
    (void)b, (void)ev, (void)err;
    return WASMPLUG_ERR_UNSUPPORTED;
}

void ev_bridge_sub_added(ev_bridge *b, ev_sub *s)
{
    (void)b, (void)s;
}

void ev_bridge_sub_removed(ev_bridge *b, ev_sub *s)
{
    (void)b, (void)s;
}
