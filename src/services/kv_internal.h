/*
 * kv_internal.h - the key-value service (kv.c: imports, quotas, host API)
 * and its two backends: SQLite files in each plugin's data directory
 * (kv_sqlite.c, the default) and Redis (kv_redis.c, when the host sets
 * wasmplug_services_config.kv_redis_url).
 *
 * Whatever the backend, a plugin's data is read and written through a
 * kv_data: one transaction at a time per plugin (a call's, from its first
 * key-value import to its end, or one host API function's), holding the
 * usage (bytes, keys) as the transaction sees it. kv.c does the quota
 * arithmetic; a backend stores, reads and commits:
 *
 *   SQLite: the database's lock and a transaction (storage.h); usage is a
 *           row written in the same transaction.
 *   Redis:  a per-plugin lock key (SET NX PX with a random token), reads
 *           from Redis, writes kept in the call's write set and applied by
 *           one Lua script at the end that first checks the lock is still
 *           ours (kv_redis.c says what is guaranteed).
 */
#ifndef WPS_KV_INTERNAL_H
#define WPS_KV_INTERNAL_H

#include "services_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_KEY_MAX 1024u

typedef struct kv_data kv_data;
typedef struct kv_service kv_service;

/* Receives a value read (valid during the call). */
typedef void (*kv_copy_fn)(void *user, const void *value, size_t len);
/* Receives one listed key and its value's length; false stops the listing. */
typedef bool (*kv_list_fn)(void *user, const void *key, size_t klen, size_t vlen);

typedef struct kv_ops {
    const char *name; /* "sqlite", "redis" */
    /* key's value length, -1 if absent, -2 on an error (message: error) */
    int64_t (*get)(kv_data *k, const uint8_t *key, size_t klen, kv_copy_fn copy, void *user);
    bool (*put)(kv_data *k, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
    bool (*del)(kv_data *k, const uint8_t *key, size_t klen);
    /* Keys starting with prefix (below end, if elen), after `after` (if
     * has_after), in byte order, at most limit. */
    bool (*list)(kv_data *k, const uint8_t *prefix, size_t plen, const uint8_t *end,
                 size_t elen, const uint8_t *after, size_t alen, bool has_after,
                 uint32_t limit, kv_list_fn fn, void *user);
    bool (*clear)(kv_data *k);    /* remove every key (import with replace) */
    const char *(*error)(kv_data *k); /* the last failure's message */

    /* The call's transaction, begun by the first import of a call (usage
     * loaded), or NULL with msg. */
    kv_data *(*call_begin)(kv_service *ks, wasmplug_hostcall *call, char *msg, size_t msg_size);
    /* End a transaction: commit (status OK: the writes and the usage) or
     * roll back. A failed commit leaves nothing and returns its status. */
    wasmplug_status (*end)(kv_data *k, wasmplug_status status, char *msg, size_t msg_size);
    /* A host API transaction on plugin id's data (create: make it if
     * missing, else ERR_NOT_FOUND), usage loaded, quotas off. */
    wasmplug_status (*host_begin)(kv_service *ks, const char *id, bool create, kv_data **out,
                                  char *msg, size_t msg_size);
    void (*plugin_free)(void *plugin_state); /* per-plugin state (wasmplug_plugin_service_state) */
    void (*service_free)(kv_service *ks);    /* the backend's part of the service */
} kv_ops;

/* The part of a transaction kv.c uses; the backends embed it first. */
struct kv_data {
    const kv_ops *ops;
    char plugin[WASMPLUG_NAME_MAX]; /* for messages */
    uint64_t max_bytes, max_keys;   /* quotas (UINT64_MAX for the host API) */
    int64_t bytes, keys;            /* usage as this transaction sees it */
    bool dirty;                     /* usage changed */
};

struct kv_service {
    wps_base base;
    uint64_t max_bytes, max_keys; /* policy */
    uint32_t max_value;
    const kv_ops *ops;
    void *backend; /* the backend's own (Redis: connections, key prefix) */
};

extern const kv_ops wps_kv_sqlite_ops;
extern const kv_ops wps_kv_redis_ops;

/* kv_redis.c: set ks->ops and ks->backend for cfg's Redis URL. */
wasmplug_status wps_kv_redis_init(kv_service *ks, const wasmplug_services_config *cfg,
                                  char *msg, size_t msg_size);

/* kv.c: the quotas of a plugin (manifest settings ∩ policy) into k. */
void wps_kv_plugin_quotas(kv_service *ks, wasmplug_plugin *plugin, kv_data *k);
/* The smallest byte string greater than every string starting with prefix
 * (written to out, up to KV_KEY_MAX bytes), or 0 if there is none. */
size_t wps_kv_prefix_end(const uint8_t *prefix, size_t len, uint8_t *out);
/* memcmp order, a shorter string first when it is a prefix of the other
 * (SQLite's BLOB order and Redis's lexicographic order alike). */
int wps_kv_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
