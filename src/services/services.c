/*
 * services.c - attaching the host services to a host (<wasmplug/services.h>):
 * the list of services, their imports and grants, the data directory of a
 * plugin, and small helpers the services share (settings, quotas, UTF-8).
 */
#include "services_internal.h"
#include "wasmplug/http.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every service of the library, in attach order. */
static const wps_module *const MODULES[] = {
    &wps_notify_module,
    &wps_kv_module,
    &wps_sql_module,
    &wps_events_module,
};
#define NMODULES (sizeof MODULES / sizeof MODULES[0])

/* The bookkeeping service that owns the wasmplug_services object: added
 * first, so finalized last (after every service that points to it). */
#define WPS_OWNER_NAME "services"

void wasmplug_services_config_init(wasmplug_services_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->enable = WASMPLUG_SERVICE_ALL;
}

static void services_free(void *user)
{
    wasmplug_services *svc = user;
    free(svc->data_dir);
    free(svc);
}

static wasmplug_status say(char *msg, size_t size, wasmplug_status st, const char *fmt,
                           const char *arg)
{
    if (msg && size)
        snprintf(msg, size, fmt, arg);
    return st;
}

wasmplug_status wasmplug_services_attach(wasmplug_host *host, const wasmplug_services_config *cfg,
                                         wasmplug_services **out, char *msg, size_t msg_size)
{
    if (out)
        *out = NULL;
    if (msg && msg_size)
        msg[0] = '\0';
    if (!host || !cfg)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "%s", "no host or no config");
    wasmplug_services *svc = calloc(1, sizeof *svc);
    if (!svc)
        return say(msg, msg_size, WASMPLUG_ERR_NOMEM, "%s", "out of memory");
    svc->host = host;
    svc->cfg = *cfg;
    if (cfg->data_dir && !(svc->data_dir = strdup(cfg->data_dir))) {
        free(svc);
        return say(msg, msg_size, WASMPLUG_ERR_NOMEM, "%s", "out of memory");
    }
    svc->cfg.data_dir = svc->data_dir;

    wasmplug_service_def owner = {WPS_OWNER_NAME, svc, NULL, NULL, NULL, services_free};
    unsigned id;
    wasmplug_status st = wasmplug_host_add_service(host, &owner, &id);
    if (st != WASMPLUG_OK) {
        services_free(svc);
        return say(msg, msg_size, st, "%s",
                   st == WASMPLUG_ERR_DUPLICATE      ? "services are attached to this host already"
                   : st == WASMPLUG_ERR_PLUGIN_STATE ? "attach services before loading plugins"
                                                     : "cannot add the services to the host");
    }
    /* From here on the host owns svc (freed by the owner's finalizer). */
    for (size_t m = 0; m < NMODULES; m++) {
        const wps_module *mod = MODULES[m];
        /* Key-value data on Redis needs no data directory. */
        bool has_storage = svc->data_dir || (mod == &wps_kv_module && cfg->kv_redis_url);
        if (!(cfg->enable & mod->flag) || (mod->needs_data_dir && !has_storage))
            continue;
        wasmplug_service_def def;
        memset(&def, 0, sizeof def);
        def.name = mod->name;
        char why[WASMPLUG_ERROR_MESSAGE_MAX] = "";
        st = mod->attach(svc, &def, why, sizeof why);
        if (st == WASMPLUG_OK) {
            wps_base *base = def.user;
            base->svc = svc;
            st = wasmplug_host_add_service(host, &def, &base->id);
            if (st != WASMPLUG_OK) {
                if (def.finalizer)
                    def.finalizer(def.user);
                snprintf(why, sizeof why, "cannot add it to the host (%s)",
                         wasmplug_strerror(st));
            }
            for (const wps_import *im = mod->imports; st == WASMPLUG_OK && im->name; im++) {
                st = wasmplug_host_register_service_fn(host, base->id, im->name, im->signature,
                                                       im->grant, im->fn, def.user);
                if (st != WASMPLUG_OK)
                    snprintf(why, sizeof why, "cannot register wasmplug.%s (%s)", im->name,
                             wasmplug_strerror(st));
            }
        }
        if (st != WASMPLUG_OK) {
            if (msg && msg_size)
                snprintf(msg, msg_size, "service %s: %s", mod->name, why);
            return st;
        }
    }
    if (out)
        *out = svc;
    return WASMPLUG_OK;
}

wasmplug_services *wasmplug_services_of(wasmplug_host *host)
{
    unsigned id;
    if (wasmplug_host_service_id(host, WPS_OWNER_NAME, &id) != WASMPLUG_OK)
        return NULL;
    return wasmplug_host_service_user(host, id);
}

const char *wasmplug_services_import_grant(const char *name)
{
    if (!name)
        return NULL;
    /* Outbound HTTP is attached on its own (wasmplug_http_attach), so that a
     * statically linked program that does not use it links no libcurl. */
    if (strcmp(name, "http_request") == 0)
        return WASMPLUG_HTTP_GRANT_PREFIX "*";
    for (size_t m = 0; m < NMODULES; m++)
        for (const wps_import *im = MODULES[m]->imports; im->name; im++)
            if (strcmp(im->name, name) == 0)
                return im->grant;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Data directories                                                         */
/* ------------------------------------------------------------------------ */

static bool valid_dir_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == 0x7f)
            return false;
    return true;
}

char *wps_data_name(wasmplug_services *svc, const char *id, const char *version)
{
    if (!svc || !id || !valid_dir_name(id))
        return NULL;
    bool per_version = svc->cfg.data_per_version && version && *version;
    if (per_version && !valid_dir_name(version))
        return NULL;
    size_t n = strlen(id) + (per_version ? strlen(version) + 1 : 0) + 1;
    char *name = malloc(n);
    if (name)
        snprintf(name, n, "%s%s%s", id, per_version ? "@" : "", per_version ? version : "");
    return name;
}

char *wps_plugin_data_name(wasmplug_services *svc, wasmplug_plugin *plugin)
{
    const char *id = wasmplug_plugin_id(plugin);
    return wps_data_name(svc, *id ? id : wasmplug_plugin_name(plugin),
                         wasmplug_plugin_version(plugin));
}

char *wasmplug_services_data_path(wasmplug_services *svc, const char *id, const char *version)
{
    char *name = svc && svc->data_dir ? wps_data_name(svc, id, version) : NULL;
    if (!name)
        return NULL;
    size_t n = strlen(svc->data_dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", svc->data_dir, name);
    free(name);
    return path;
}

char *wps_plugin_dir(wasmplug_services *svc, wasmplug_plugin *plugin, char *msg,
                     size_t msg_size)
{
    const char *id = wasmplug_plugin_id(plugin);
    if (!*id)
        id = wasmplug_plugin_name(plugin);
    char *path = wasmplug_services_data_path(svc, id, wasmplug_plugin_version(plugin));
    if (!path) {
        snprintf(msg, msg_size, "no data directory for plugin '%.100s'%s", id,
                 svc->data_dir ? " (its id cannot be a directory name)" : " (no data_dir)");
        return NULL;
    }
    int e = wps_mkdirs(path, 0700); /* plugin data is private */
    if (e != 0) {
        snprintf(msg, msg_size, "cannot create the data directory %.300s: %s", path,
                 strerror(e));
        free(path);
        return NULL;
    }
    return path;
}

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                           */
/* ------------------------------------------------------------------------ */

uint64_t wps_setting_u64(wasmplug_plugin *plugin, const char *key)
{
    const char *v = wasmplug_plugin_setting(plugin, key);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return errno || *end ? 0 : (uint64_t)n;
}

uint64_t wps_effective(uint64_t requested, uint64_t default_value, uint64_t policy)
{
    uint64_t v = requested ? requested : default_value;
    return policy && v > policy ? policy : v;
}

bool wps_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n + 1;
    }
    return true;
}
