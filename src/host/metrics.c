/*
 * metrics.c - what a host can read about a plugin: metrics (calls, errors,
 * latency with a histogram for its quantiles, fuel, memory, host calls,
 * bytes), an info snapshot, exports,
 * metadata (readable and updatable), the error history and the embedded
 * manifest of compatibility-ABI plugins. Everything is copied out under
 * p->lock so readers never see a half-updated value.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Bucket of ns: its power of two and the next two bits below the top one. */
unsigned wasmplug_latency_bucket(uint64_t ns)
{
    if (ns < 4)
        return (unsigned)ns;
    unsigned top = 63u - (unsigned)__builtin_clzll(ns);
    unsigned b = top * 4 + (unsigned)((ns >> (top - 2)) & 3u);
    return b < WASMPLUG_LATENCY_BUCKETS ? b : WASMPLUG_LATENCY_BUCKETS - 1;
}

/* The largest latency bucket b holds. */
static uint64_t latency_bucket_top(unsigned b)
{
    if (b < 4)
        return b;
    unsigned top = b / 4, sub = b % 4;
    return ((uint64_t)(4 + sub + 1) << (top - 2)) - 1;
}

uint64_t wasmplug_latency_quantile(const uint64_t *hist, unsigned per_mille, uint64_t max)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < WASMPLUG_LATENCY_BUCKETS; i++)
        total += hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (total * per_mille + 999) / 1000, seen = 0;
    for (unsigned i = 0; i < WASMPLUG_LATENCY_BUCKETS; i++) {
        seen += hist[i];
        if (seen >= want) {
            uint64_t top = latency_bucket_top(i);
            return top < max ? top : max;
        }
    }
    return max;
}

/* The metrics with their quantiles. Caller holds p->lock. */
static wasmplug_metrics metrics_now(const wasmplug_plugin *p)
{
    wasmplug_metrics m = p->metrics;
    m.p50_ns = wasmplug_latency_quantile(p->latency_hist, 500, m.max_ns);
    m.p90_ns = wasmplug_latency_quantile(p->latency_hist, 900, m.max_ns);
    m.p99_ns = wasmplug_latency_quantile(p->latency_hist, 990, m.max_ns);
    return m;
}

void wph_metrics_add(wasmplug_plugin *p, const wph_call_stats *cs)
{
    wasmplug_metrics *m = &p->metrics;
    m->calls++;
    p->latency_hist[wasmplug_latency_bucket(cs->ns)]++;
    if (cs->failed)
        m->errors++;
    if (cs->trapped)
        m->traps++;
    m->total_ns += cs->ns;
    if (cs->ns > m->max_ns)
        m->max_ns = cs->ns;
    m->fuel_used += cs->fuel;
    m->host_calls += cs->host_calls;
    m->denials += cs->denials;
    m->bytes_in += cs->bytes_in;
    m->bytes_out += cs->bytes_out;
    if (cs->has_pages) {
        m->memory_pages = cs->pages;
        if (cs->pages > m->memory_pages_max)
            m->memory_pages_max = cs->pages;
    }
}

wasmplug_status wasmplug_plugin_get_metrics(wasmplug_plugin *p, wasmplug_metrics *out)
{
    if (!p || !out)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&p->lock);
    *out = metrics_now(p);
    pthread_mutex_unlock(&p->lock);
    return WASMPLUG_OK;
}

void wasmplug_plugin_reset_metrics(wasmplug_plugin *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    memset(&p->metrics, 0, sizeof p->metrics);
    memset(p->latency_hist, 0, sizeof p->latency_hist);
    pthread_mutex_unlock(&p->lock);
}

wasmplug_status wasmplug_plugin_get_info(wasmplug_plugin *p, wasmplug_plugin_info *info)
{
    if (!p || !info)
        return WASMPLUG_ERR_ARGUMENT;
    memset(info, 0, sizeof *info);
    wph_copy_name(info->name, p->name);
    /* What the plugin runs now: the current version (see Hot reload). */
    wasmplug_plugin *v = wph_version_pin(p);
    memcpy(info->id, v->id, sizeof info->id);
    memcpy(info->version, v->version, sizeof info->version);
    info->pool_size = v->pool_size;
    info->limits = v->limits;
    pthread_mutex_lock(&v->lock);
    if (v->lazy == WPH_LAZY_NONE) { /* a lazy plugin's module is not known before its build */
        info->abi = v->abi;
        info->export_count = v->nfunc_exports;
    }
    info->state = v->state;
    for (uint32_t i = 0; i < v->pool_size; i++)
        if (v->slots[i].inst)
            info->instances++;
    info->running = v->running;
    pthread_mutex_unlock(&v->lock);
    wph_version_unpin(p, v, false, false);
    wasmplug_plugin *h = wph_handle(p); /* what follows the plugin across versions */
    pthread_mutex_lock(&h->lock);
    info->metadata_count = h->metadata.count;
    info->error_count = h->errors.count;
    info->metrics = metrics_now(h);
    pthread_mutex_unlock(&h->lock);
    return WASMPLUG_OK;
}

wasmplug_plugin_state wasmplug_plugin_state_get(wasmplug_plugin *p)
{
    if (!p)
        return WASMPLUG_STATE_UNLOADED;
    /* A reloaded plugin is in the state of the version serving its calls. */
    wasmplug_plugin *v = wph_version_pin(p);
    pthread_mutex_lock(&v->lock);
    wasmplug_plugin_state st = v->state;
    pthread_mutex_unlock(&v->lock);
    wph_version_unpin(p, v, false, false);
    return st;
}

const char *wasmplug_plugin_name(wasmplug_plugin *p)
{
    return p ? p->name : "";
}

void *wasmplug_plugin_user_data(wasmplug_plugin *p)
{
    return p ? p->user_data : NULL;
}

/* ------------------------------------------------------------------------ */
/* Exports (immutable after load: no lock; a handle's are its current    */
/* version's)                                                               */
/* ------------------------------------------------------------------------ */

static bool has_function(wasmplug_plugin *v, const char *name)
{
    if (!v->module)
        return false;
    size_t n = strlen(name);
    for (uint32_t i = 0; i < v->nfunc_exports; i++) {
        const char *en;
        size_t len;
        wasmplug_externtype t;
        if (wasmplug_module_export(v->module, v->func_exports[i], &en, &len, &t) ==
                WASMPLUG_OK &&
            len == n && memcmp(en, name, n) == 0)
            return true;
    }
    return false;
}

bool wasmplug_plugin_has_function(wasmplug_plugin *p, const char *name)
{
    if (!p || !name)
        return false;
    wasmplug_plugin_error e;
    if (wph_lazy_build(p, &e) != WASMPLUG_OK) /* a lazy plugin is built by its first use */
        return 0;
    wasmplug_plugin *v = wph_version_pin(p);
    bool found = has_function(v, name);
    wph_version_unpin(p, v, false, false);
    return found;
}

uint32_t wasmplug_plugin_export_count(wasmplug_plugin *p)
{
    if (!p)
        return 0;
    wasmplug_plugin_error e;
    if (wph_lazy_build(p, &e) != WASMPLUG_OK) /* a lazy plugin is built by its first use */
        return 0;
    wasmplug_plugin *v = wph_version_pin(p);
    uint32_t n = v->nfunc_exports;
    wph_version_unpin(p, v, false, false);
    return n;
}

wasmplug_status wasmplug_plugin_export_at(wasmplug_plugin *p, uint32_t i, const char **name,
                                          wasmplug_functype *type)
{
    if (!p)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_plugin_error e;
    if (wph_lazy_build(p, &e) != WASMPLUG_OK) /* a lazy plugin is built by its first use */
        return e.code;
    wasmplug_plugin *v = wph_version_pin(p);
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    const char *en = NULL;
    size_t len;
    wasmplug_externtype t;
    if (i < v->nfunc_exports)
        st = wasmplug_module_export(v->module, v->func_exports[i], &en, &len, &t);
    if (st == WASMPLUG_OK && name && v != p) {
        /* The name lives in v's module: keep v while the handle lives. */
        wasmplug_plugin *h = wph_handle(p);
        pthread_mutex_lock(&h->lock);
        wph_keep_version(h, v);
        pthread_mutex_unlock(&h->lock);
    }
    wph_version_unpin(p, v, false, false);
    if (st != WASMPLUG_OK)
        return st;
    if (name)
        *name = en;
    if (type)
        *type = t.of.func;
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                 */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_plugin_update_metadata(wasmplug_plugin *p, const wasmplug_kv *items,
                                                size_t count, bool replace)
{
    if (!p || (count && !items))
        return WASMPLUG_ERR_ARGUMENT;
    for (size_t i = 0; i < count; i++)
        if (!items[i].key || !*items[i].key)
            return WASMPLUG_ERR_ARGUMENT;
    /* Build the new list aside so a failure leaves the old one intact. */
    wph_kvs next;
    memset(&next, 0, sizeof next);
    wasmplug_status st = WASMPLUG_OK;
    pthread_mutex_lock(&p->lock);
    if (!replace)
        for (size_t i = 0; st == WASMPLUG_OK && i < p->metadata.count; i++)
            st = wph_kvs_set(&next, p->metadata.keys[i], p->metadata.values[i]);
    for (size_t i = 0; st == WASMPLUG_OK && i < count; i++)
        st = wph_kvs_set(&next, items[i].key, items[i].value);
    if (st == WASMPLUG_OK) {
        wph_kvs old = p->metadata;
        p->metadata = next;
        next = old;
    }
    pthread_mutex_unlock(&p->lock);
    wph_kvs_clear(&next);
    return st;
}

wasmplug_status wasmplug_plugin_metadata_get(wasmplug_plugin *p, const char *key, char **value)
{
    if (!p || !key || !value)
        return WASMPLUG_ERR_ARGUMENT;
    *value = NULL;
    pthread_mutex_lock(&p->lock);
    const char *v = wph_kvs_get(&p->metadata, key, strlen(key));
    char *copy = v ? wph_strdup(v) : NULL;
    pthread_mutex_unlock(&p->lock);
    if (!v)
        return WASMPLUG_ERR_NOT_FOUND;
    if (!copy)
        return WASMPLUG_ERR_NOMEM;
    *value = copy;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_plugin_metadata(wasmplug_plugin *p, wasmplug_kv **items, size_t *count)
{
    if (!p || !items || !count)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&p->lock);
    wasmplug_status st = wph_kvs_export(&p->metadata, items, count);
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Error history, embedded manifest                                         */
/* ------------------------------------------------------------------------ */

size_t wasmplug_plugin_errors(wasmplug_plugin *p, wasmplug_plugin_error *out, size_t max)
{
    if (!p || !out)
        return 0;
    pthread_mutex_lock(&p->lock);
    size_t n = wph_ring_copy(&p->errors, out, max);
    pthread_mutex_unlock(&p->lock);
    return n;
}

wasmplug_status wasmplug_plugin_last_error(wasmplug_plugin *p, wasmplug_plugin_error *out)
{
    if (!p || !out)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&p->lock);
    size_t n = wph_ring_copy(&p->errors, out, 1);
    pthread_mutex_unlock(&p->lock);
    return n ? WASMPLUG_OK : WASMPLUG_ERR_NOT_FOUND;
}

void wasmplug_plugin_clear_errors(wasmplug_plugin *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->errors.count = 0;
    p->errors.head = 0;
    pthread_mutex_unlock(&p->lock);
}

wasmplug_status wasmplug_plugin_embedded_manifest(wasmplug_plugin *p, wasmplug_buf *out)
{
    if (!p || !out)
        return WASMPLUG_ERR_ARGUMENT;
    out->data = NULL;
    out->len = 0;
    wasmplug_plugin_error e;
    if (wph_lazy_build(p, &e) != WASMPLUG_OK)
        return e.code;
    wasmplug_plugin *v = wph_version_pin(p);
    pthread_mutex_lock(&v->lock);
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    if (v->has_embedded) {
        out->data = malloc(v->embedded_len + 1);
        if (out->data) {
            memcpy(out->data, v->embedded, v->embedded_len + 1);
            out->len = v->embedded_len;
            st = WASMPLUG_OK;
        } else {
            st = WASMPLUG_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&v->lock);
    wph_version_unpin(p, v, false, false);
    return st;
}
