/*
 * permissions.c - what a plugin may import. The host policy is a list of
 * (plugin pattern, permission pattern) rules; a plugin's manifest requests
 * permissions; an import of a registered host function module.name links
 * only when both the request and the policy cover "module.name". Denied
 * imports fail the load (naming the import and the missing grant) or, by
 * policy, link to a stub that fails the call with ERR_PERMISSION_DENIED.
 * Also links the "wasmplug" ABI module and WASI (src/wasi, one context per
 * instance, configured per plugin (default: no capabilities) and filtered
 * by permissions: see the WASI section at the end).
 */
#include "internal.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* '*' matches any run of characters (dots included); everything else is literal. */
bool wph_glob(const char *pat, const char *s, size_t slen)
{
    const char *star = NULL;
    size_t i = 0, mark = 0;
    while (i < slen) {
        if (*pat == '*') {
            star = pat++;
            mark = i;
        } else if (*pat && *pat == s[i]) {
            pat++;
            i++;
        } else if (star) {
            pat = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool wasmplug_glob(const char *pattern, const char *text)
{
    return pattern && text && wph_glob(pattern, text, strlen(text));
}

wasmplug_status wasmplug_host_grant(wasmplug_host *host, const char *plugin_pattern,
                                    const char *permission_pattern)
{
    if (!host || !plugin_pattern || !*plugin_pattern || !permission_pattern ||
        !*permission_pattern)
        return WASMPLUG_ERR_ARGUMENT;
    char *pp = wph_strdup(plugin_pattern), *perm = wph_strdup(permission_pattern);
    if (!pp || !perm) {
        free(pp);
        free(perm);
        return WASMPLUG_ERR_NOMEM;
    }
    pthread_mutex_lock(&host->lock);
    if (host->nrules == host->caprules) {
        size_t cap = host->caprules ? host->caprules * 2 : 8;
        wph_rule *r = realloc(host->rules, cap * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&host->lock);
            free(pp);
            free(perm);
            return WASMPLUG_ERR_NOMEM;
        }
        host->rules = r;
        host->caprules = cap;
    }
    host->rules[host->nrules].plugin_pat = pp;
    host->rules[host->nrules].perm_pat = perm;
    host->nrules++;
    pthread_mutex_unlock(&host->lock);
    return WASMPLUG_OK;
}

/* Whether the host policy lets p have perm. Call with host->lock held. */
static bool policy_allows(wasmplug_host *h, const wasmplug_plugin *p, const char *perm)
{
    for (size_t i = 0; i < h->nrules; i++) {
        const wph_rule *r = &h->rules[i];
        bool who = wph_glob(r->plugin_pat, p->name, strlen(p->name)) ||
                   (p->id[0] && wph_glob(r->plugin_pat, p->id, strlen(p->id)));
        if (who && wph_glob(r->perm_pat, perm, strlen(perm)))
            return true;
    }
    return false;
}

static bool requested(const wasmplug_plugin *p, const char *perm)
{
    for (size_t i = 0; i < p->nrequested; i++)
        if (wph_glob(p->requested[i], perm, strlen(perm)))
            return true;
    return false;
}

bool wasmplug_plugin_granted(wasmplug_plugin *p, const char *perm)
{
    if (!p || !perm || !requested(p, perm))
        return false;
    pthread_mutex_lock(&p->host->lock);
    bool ok = policy_allows(p->host, p, perm);
    pthread_mutex_unlock(&p->host->lock);
    return ok;
}

/* A service import's grant: the permission itself, or, for a pattern such
 * as "events.publish:*", any requested permission the pattern covers that
 * the policy allows. *why_req tells a missing request from a policy
 * refusal. Call with h->lock held. */
static bool grant_held(wasmplug_host *h, const wasmplug_plugin *p, const char *grant,
                       bool *why_req)
{
    *why_req = requested(p, grant);
    if (*why_req && policy_allows(h, p, grant))
        return true;
    for (size_t i = 0; i < p->nrequested; i++) {
        const char *r = p->requested[i];
        if (wph_glob(grant, r, strlen(r))) {
            *why_req = true;
            if (policy_allows(h, p, r))
                return true;
        }
    }
    return false;
}

wasmplug_status wasmplug_plugin_permissions(wasmplug_plugin *p, char ***perms, size_t *count)
{
    if (!p || !perms || !count)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_plugin *v = wph_version_pin(p); /* the current version's request */
    const char **granted = malloc((v->nrequested ? v->nrequested : 1) * sizeof(char *));
    if (!granted) {
        wph_version_unpin(p, v, false, false);
        return WASMPLUG_ERR_NOMEM;
    }
    size_t n = 0;
    pthread_mutex_lock(&p->host->lock);
    for (size_t i = 0; i < v->nrequested; i++)
        if (policy_allows(p->host, v, v->requested[i]))
            granted[n++] = v->requested[i];
    pthread_mutex_unlock(&p->host->lock);
    /* requested[] is immutable after load and v is pinned: the pointers
     * stay valid while the block is made. */
    *perms = wph_strings_block(granted, n);
    wph_version_unpin(p, v, false, false);
    free(granted);
    if (!*perms)
        return WASMPLUG_ERR_NOMEM;
    *count = n;
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Stubs                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct stub_info {
    char full[WASMPLUG_NAME_MAX];
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
} stub_info;

static int denied_stub(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)slots;
    stub_info *info = user;
    wph_slot *s = wph_caller_slot(caller);
    if (s) {
        s->host_calls++;
        s->denials++;
    }
    return wph_trap(caller, s, WASMPLUG_ERR_PERMISSION_DENIED, WASMPLUG_TRAP_HOST_ERROR,
                    info->full, "call of %s denied: %s", info->full, info->why);
}

static wasmplug_status add_stub(wasmplug_plugin *p, const wasmplug_functype *type,
                                wasmplug_host_fn fn, stub_info *info, wasmplug_func **out)
{
    return wph_own_func(p, type, fn, info, out);
}

wasmplug_status wph_own_func(wasmplug_plugin *p, const wasmplug_functype *type,
                             wasmplug_host_fn fn, void *info, wasmplug_func **out)
{
    wasmplug_func **owned = realloc(p->owned, (p->nowned + 1) * sizeof *owned);
    if (!owned) {
        free(info);
        return WASMPLUG_ERR_NOMEM;
    }
    p->owned = owned;
    wasmplug_status st = wasmplug_func_new_host(p->host->engine, type, fn, info, free, out);
    if (st != WASMPLUG_OK) {
        free(info);
        return st;
    }
    p->owned[p->nowned++] = *out;
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Linking                                                                  */
/* ------------------------------------------------------------------------ */

static bool type_equal(const wasmplug_functype *a, const wasmplug_functype *b)
{
    if (a->param_count != b->param_count || a->result_count != b->result_count)
        return false;
    for (uint32_t i = 0; i < a->param_count; i++)
        if (a->params[i] != b->params[i])
            return false;
    for (uint32_t i = 0; i < a->result_count; i++)
        if (a->results[i] != b->results[i])
            return false;
    return true;
}

static const char *valtype_name(wasmplug_valtype t)
{
    switch (t) {
    case WASMPLUG_I32: return "i32";
    case WASMPLUG_I64: return "i64";
    case WASMPLUG_F32: return "f32";
    case WASMPLUG_F64: return "f64";
    case WASMPLUG_FUNCREF: return "funcref";
    case WASMPLUG_EXTERNREF: return "externref";
    default: return "v128";
    }
}

static void type_string(const wasmplug_functype *t, char *buf, size_t size)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, size - at, "(");
    for (uint32_t i = 0; i < t->param_count && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? " " : "",
                               valtype_name(t->params[i]));
    if (at < size)
        at += (size_t)snprintf(buf + at, size - at, ") -> (");
    for (uint32_t i = 0; i < t->result_count && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? " " : "",
                               valtype_name(t->results[i]));
    if (at < size)
        snprintf(buf + at, size - at, ")");
}

static wasmplug_status type_mismatch(wasmplug_plugin *p, const char *full,
                                     const wasmplug_functype *want,
                                     const wasmplug_functype *have, wasmplug_plugin_error *err)
{
    char a[96], b[96];
    type_string(want, a, sizeof a);
    type_string(have, b, sizeof b);
    return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                    "import %s has type %s but the host provides %s", full, a, b);
}

static bool mod_is(const char *mod, size_t len, const char *what)
{
    return strlen(what) == len && memcmp(mod, what, len) == 0;
}

static wasmplug_status wasi_link(wasmplug_plugin *p, const char *name, size_t len,
                                 wasmplug_func **out);
static wasmplug_status link_denied(wasmplug_plugin *p, const char *full,
                                   const wasmplug_functype *type, const char *why,
                                   wasmplug_extern *slot, wasmplug_plugin_error *err);
static wasmplug_status link_service(wasmplug_plugin *p, uint32_t i, const char *name,
                                    size_t namelen, const char *full,
                                    const wasmplug_functype *want, wasmplug_plugin_error *err);

/* An imported memory: each instance gets its own (wph_instance_memory). */
static wasmplug_status link_memory(wasmplug_plugin *p, uint32_t i, const char *full,
                                   wasmplug_limits want, wasmplug_plugin_error *err)
{
    if (p->has_memory_import)
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s: a plugin may import one memory only", full);
    uint32_t limit = p->limits.max_memory_pages;
    if (want.min > limit)
        return wph_fail(err, WASMPLUG_ERR_MEMORY_LIMIT, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s needs at least %u pages; the plugin's max_memory_pages is %u",
                        full, want.min, limit);
    p->has_memory_import = true;
    p->memory_import = i;
    p->memory_type = want;
    p->imports[i].kind = WASMPLUG_EXTERN_MEMORY;
    p->imports[i].of.memory = NULL; /* per instance */
    return WASMPLUG_OK;
}

static wasmplug_status link_one(wasmplug_plugin *p, uint32_t i, wasmplug_plugin_error *err)
{
    wasmplug_host *h = p->host;
    const char *mod, *name;
    size_t modlen, namelen;
    wasmplug_externtype type;
    wasmplug_status st = wasmplug_module_import(p->module, i, &mod, &modlen, &name, &namelen, &type);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_LOAD, p->name, "", "cannot read import %u", i);
    char full[WASMPLUG_NAME_MAX];
    snprintf(full, sizeof full, "%.*s.%.*s", (int)(modlen > 60 ? 60 : modlen), mod,
             (int)(namelen > 60 ? 60 : namelen), name);
    if (type.kind == WASMPLUG_EXTERN_MEMORY)
        return link_memory(p, i, full, type.of.memory, err);
    if (type.kind != WASMPLUG_EXTERN_FUNC)
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s: plugins may import functions and a memory only (this is "
                        "a %s)",
                        full, type.kind == WASMPLUG_EXTERN_TABLE ? "table" : "global");
    wasmplug_extern *slot = &p->imports[i];
    slot->kind = WASMPLUG_EXTERN_FUNC;

    if (wph_bindgen_module(mod, modlen))
        return wph_bindgen_link(p, name, namelen, full, &type.of.func, slot, err);

    if (mod_is(mod, modlen, "wasmplug")) {
        int k = wph_abi_lookup(name, namelen);
        if (k < 0)
            return link_service(p, i, name, namelen, full, &type.of.func, err);
        wasmplug_functype have = wasmplug_func_type(h->abi[k]);
        if (!type_equal(&type.of.func, &have))
            return type_mismatch(p, full, &type.of.func, &have, err);
        slot->of.func = h->abi[k];
        return WASMPLUG_OK;
    }

    if (mod_is(mod, modlen, "wasi_snapshot_preview1")) {
        wasmplug_functype want;
        if (!wasmplug_wasi_function(name, namelen, &want))
            return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                            "import %s is not a WASI preview 1 function", full);
        if (!type_equal(&type.of.func, &want))
            return type_mismatch(p, full, &type.of.func, &want, err);
        st = wasi_link(p, name, namelen, &slot->of.func);
        if (st != WASMPLUG_OK)
            return wph_fail(err, st, WASMPLUG_PHASE_LOAD, p->name, full, "cannot link %s", full);
        return WASMPLUG_OK;
    }

    pthread_mutex_lock(&h->lock);
    wph_hostfn *f = wph_hostfn_find(h, mod, modlen, name, namelen);
    bool policy = f && policy_allows(h, p, full);
    pthread_mutex_unlock(&h->lock);
    if (!f)
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s: no host function %s is registered", full, full);
    wasmplug_functype have = wasmplug_func_type(f->func);
    if (!type_equal(&type.of.func, &have))
        return type_mismatch(p, full, &type.of.func, &have, err);
    bool req = requested(p, full);
    if (req && policy) {
        slot->of.func = f->func;
        return WASMPLUG_OK;
    }

    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!req && p->nrequested == 0)
        snprintf(why, sizeof why,
                 "plugin '%.60s' does not request permission '%.80s' (it requests none: load "
                 "it with a manifest that requests it)",
                 p->name, full);
    else if (!req)
        snprintf(why, sizeof why, "plugin '%.60s' does not request permission '%s'", p->name,
                 full);
    else
        snprintf(why, sizeof why, "the host policy does not grant '%s' to plugin '%.60s'", full,
                 p->name);
    return link_denied(p, full, &type.of.func, why, slot, err);
}

/* An import that is not granted: fail the load, or (WASMPLUG_DENY_STUB)
 * link a stub that fails the call. */
static wasmplug_status link_denied(wasmplug_plugin *p, const char *full,
                                   const wasmplug_functype *type, const char *why,
                                   wasmplug_extern *slot, wasmplug_plugin_error *err)
{
    wasmplug_host *h = p->host;
    if (h->deny_mode == WASMPLUG_DENY_FAIL_LOAD)
        return wph_fail(err, WASMPLUG_ERR_PERMISSION_DENIED, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s denied: %s", full, why);

    wasmplug_plugin_error denial;
    wph_fail(&denial, WASMPLUG_ERR_PERMISSION_DENIED, WASMPLUG_PHASE_LOAD, p->name, full,
             "import %s denied (linked to a stub that fails): %s", full, why);
    wph_record(h, p, &denial);
    stub_info *info = calloc(1, sizeof *info);
    if (!info)
        return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, full,
                        "out of memory");
    snprintf(info->full, sizeof info->full, "%s", full);
    snprintf(info->why, sizeof info->why, "%s", why);
    wasmplug_status st = add_stub(p, type, denied_stub, info, &slot->of.func);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_LOAD, p->name, full, "cannot link %s", full);
    return WASMPLUG_OK;
}

/* wasmplug.<name> that is not part of the ABI: a service import, linked
 * when the plugin holds the grant the service registered for it. */
static wasmplug_status link_service(wasmplug_plugin *p, uint32_t i, const char *name,
                                    size_t namelen, const char *full,
                                    const wasmplug_functype *want, wasmplug_plugin_error *err)
{
    wasmplug_host *h = p->host;
    pthread_mutex_lock(&h->lock);
    wph_hostfn *f = wph_hostfn_find(h, "wasmplug", 8, name, namelen);
    bool req = false, held = f && f->service && grant_held(h, p, f->grant, &req);
    pthread_mutex_unlock(&h->lock);
    if (!f || !f->service)
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s is not part of plugin ABI v%d, and no service attached to "
                        "the host provides it",
                        full, WASMPLUG_ABI_VERSION);
    wasmplug_functype have = wasmplug_func_type(f->func);
    if (!type_equal(want, &have))
        return type_mismatch(p, full, want, &have, err);
    if (held) {
        p->imports[i].of.func = f->func;
        return WASMPLUG_OK;
    }
    bool pattern = strchr(f->grant, '*') != NULL;
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!req)
        snprintf(why, sizeof why, "plugin '%.60s' does not request %s '%s'", p->name,
                 pattern ? "a permission matching" : "permission", f->grant);
    else
        snprintf(why, sizeof why, "the host policy does not grant '%s' to plugin '%.60s'",
                 f->grant, p->name);
    return link_denied(p, full, want, why, &p->imports[i], err);
}

wasmplug_status wph_link_imports(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    p->nimports = wasmplug_module_import_count(p->module);
    if (p->nimports == 0)
        return WASMPLUG_OK;
    p->imports = calloc(p->nimports, sizeof *p->imports);
    if (!p->imports)
        return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, "",
                        "out of memory");
    for (uint32_t i = 0; i < p->nimports; i++) {
        wasmplug_status st = link_one(p, i, err);
        if (st != WASMPLUG_OK)
            return st;
    }
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* WASI (src/wasi) for plugins                                              */
/* ------------------------------------------------------------------------ */

/* A plugin's WASI configuration, owned (copied at load, already filtered by
 * its permissions), and the output captured by its last finished call. */
typedef struct wph_wasi {
    wasmplug_wasi_config cfg; /* points into the arrays below */
    char **args;
    size_t nargs;
    char **env;
    size_t nenv;
    wasmplug_wasi_preopen *pre;
    size_t npre;
    uint8_t *stdin_data;
    wasmplug_buf last[2];     /* stdout, stderr (under p->lock) */
} wph_wasi;

static bool granted(wasmplug_plugin *p, const char *perm)
{
    if (!requested(p, perm))
        return false;
    pthread_mutex_lock(&p->host->lock);
    bool ok = policy_allows(p->host, p, perm);
    pthread_mutex_unlock(&p->host->lock);
    return ok;
}

static void wasi_denied(wasmplug_plugin *p, const char *what, const char *perm)
{
    wasmplug_plugin_error e;
    wph_fail(&e, WASMPLUG_ERR_PERMISSION_DENIED, WASMPLUG_PHASE_LOAD, p->name, "",
             "WASI %s left out: permission '%s' is not granted", what, perm);
    wph_record(p->host, p, &e);
}

static bool push_owned(char ***list, size_t *n, const char *s, size_t len)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return false;
    *list = l;
    if (!(l[*n] = wph_strndup(s, len)))
        return false;
    (*n)++;
    return true;
}

static bool env_present(const wph_wasi *w, const char *entry, size_t namelen)
{
    for (size_t i = 0; i < w->nenv; i++)
        if (strncmp(w->env[i], entry, namelen) == 0 && w->env[i][namelen] == '=')
            return true;
    return false;
}

/* Add NAME=VALUE if "wasi.env:NAME" is granted (explicit entries first). */
static bool env_add(wasmplug_plugin *p, wph_wasi *w, const char *entry, bool report)
{
    const char *eq = strchr(entry, '=');
    size_t k = (size_t)(eq - entry);
    if (k == 0 || k > 200 || env_present(w, entry, k))
        return true;
    char perm[256];
    snprintf(perm, sizeof perm, "wasi.env:%.*s", (int)k, entry);
    if (!granted(p, perm)) {
        if (report)
            wasi_denied(p, "environment variable", perm);
        return true;
    }
    return push_owned(&w->env, &w->nenv, entry, strlen(entry));
}

wasmplug_status wph_wasi_prepare(wasmplug_plugin *p, const wasmplug_wasi_config *cfg,
                                 wasmplug_plugin_error *err)
{
    /* Without options a plugin still gets WASI, with no capabilities beyond
     * captured output, clocks and random: wasi-libc plugins just work. */
    wasmplug_wasi_config defaults;
    if (!cfg) {
        wasmplug_wasi_config_init(&defaults);
        cfg = &defaults;
    }
    wph_wasi *w = calloc(1, sizeof *w);
    if (!w)
        return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, "", "out of memory");
    p->wasi = w;
    if ((cfg->arg_count && !cfg->args) || (cfg->env_count && !cfg->env) ||
        (cfg->env_inherit_count && !cfg->env_inherit) || (cfg->preopen_count && !cfg->preopens) ||
        (cfg->stdin_len && !cfg->stdin_data))
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, p->name, "",
                        "WASI options: a count without its array");
    bool ok = true;
    for (size_t i = 0; ok && i < cfg->arg_count; i++)
        ok = cfg->args[i] && push_owned(&w->args, &w->nargs, cfg->args[i], strlen(cfg->args[i]));
    for (size_t i = 0; ok && i < cfg->env_count; i++) {
        if (!cfg->env[i] || !strchr(cfg->env[i], '=') || cfg->env[i][0] == '=')
            return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, p->name, "",
                            "WASI environment entry %zu is not NAME=VALUE", i);
        ok = env_add(p, w, cfg->env[i], true);
    }
    /* Inherited variables are resolved now, each one checked like the rest. */
    for (char **ep = environ; ok && ep && *ep; ep++) {
        const char *eq = strchr(*ep, '=');
        if (!eq || eq == *ep || eq - *ep > 200)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *ep), *ep);
        for (size_t i = 0; i < cfg->env_inherit_count; i++)
            if (cfg->env_inherit[i] && fnmatch(cfg->env_inherit[i], name, 0) == 0) {
                ok = env_add(p, w, *ep, false);
                break;
            }
    }
    if (ok && cfg->preopen_count) {
        w->pre = calloc(cfg->preopen_count, sizeof *w->pre);
        ok = w->pre != NULL;
    }
    for (size_t i = 0; ok && i < cfg->preopen_count; i++) {
        const wasmplug_wasi_preopen *d = &cfg->preopens[i];
        if (!d->host_path)
            return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, p->name, "",
                            "WASI preopen %zu has no host path", i);
        const char *guest = d->guest_path ? d->guest_path : d->host_path;
        char wperm[WASMPLUG_ERROR_MESSAGE_MAX], rperm[WASMPLUG_ERROR_MESSAGE_MAX];
        snprintf(wperm, sizeof wperm, "wasi.fs.write:%s", guest);
        snprintf(rperm, sizeof rperm, "wasi.fs.read:%s", guest);
        bool can_write = !d->read_only && granted(p, wperm);
        bool can_read = granted(p, rperm) || granted(p, wperm);
        if (!can_read) {
            wasi_denied(p, "directory", d->read_only ? rperm : wperm);
            continue;
        }
        wasmplug_wasi_preopen *o = &w->pre[w->npre];
        o->host_path = wph_strdup(d->host_path);
        o->guest_path = wph_strdup(guest);
        o->read_only = !can_write;
        ok = o->host_path && o->guest_path;
        w->npre++;
    }
    if (ok && cfg->stdin_len) {
        ok = (w->stdin_data = malloc(cfg->stdin_len)) != NULL;
        if (ok)
            memcpy(w->stdin_data, cfg->stdin_data, cfg->stdin_len);
    }
    if (!ok)
        return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, "", "out of memory");
    w->cfg = *cfg;
    w->cfg.args = (const char *const *)w->args;
    w->cfg.arg_count = w->nargs;
    w->cfg.env = (const char *const *)w->env;
    w->cfg.env_count = w->nenv;
    w->cfg.env_inherit = NULL;
    w->cfg.env_inherit_count = 0;
    w->cfg.preopens = w->pre;
    w->cfg.preopen_count = w->npre;
    w->cfg.stdin_data = w->stdin_data;
    return WASMPLUG_OK;
}

void wph_wasi_free(wasmplug_plugin *p)
{
    wph_wasi *w = p->wasi;
    if (!w)
        return;
    for (size_t i = 0; i < w->nargs; i++)
        free(w->args[i]);
    free(w->args);
    for (size_t i = 0; i < w->nenv; i++)
        free(w->env[i]);
    free(w->env);
    for (size_t i = 0; i < w->npre; i++) {
        free((char *)w->pre[i].host_path);
        free((char *)w->pre[i].guest_path);
    }
    free(w->pre);
    free(w->stdin_data);
    wasmplug_buf_free(&w->last[0]);
    wasmplug_buf_free(&w->last[1]);
    free(w);
    p->wasi = NULL;
}

wasmplug_status wph_wasi_slot_ctx(wph_slot *s, wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    if (!p->wasi)
        return WASMPLUG_OK;
    /* A fresh instance gets a fresh context: descriptors, stdin position. */
    wasmplug_wasi_free(s->wasi);
    s->wasi = NULL;
    wasmplug_error ee;
    wasmplug_status st = wasmplug_wasi_new(p->host->engine, &p->wasi->cfg, &s->wasi, &ee);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_INIT, p->name, "", "WASI: %s", ee.message);
    return WASMPLUG_OK;
}

void wph_wasi_begin(wph_slot *s)
{
    if (s->wasi)
        wasmplug_wasi_output_clear(s->wasi);
}

void wph_wasi_end(wph_slot *s)
{
    wasmplug_plugin *p = s->plugin;
    if (!s->wasi || !p->wasi || p->wasi->cfg.on_output)
        return;
    wasmplug_buf copy[2] = {{NULL, 0}, {NULL, 0}};
    for (int i = 0; i < 2; i++) {
        const uint8_t *data;
        size_t len;
        if (wasmplug_wasi_output(s->wasi, i + 1, &data, &len, NULL) == WASMPLUG_OK && len &&
            (copy[i].data = malloc(len + 1)) != NULL) {
            memcpy(copy[i].data, data, len);
            copy[i].data[len] = 0;
            copy[i].len = len;
        }
    }
    pthread_mutex_lock(&p->lock);
    wasmplug_buf old[2] = {p->wasi->last[0], p->wasi->last[1]};
    p->wasi->last[0] = copy[0];
    p->wasi->last[1] = copy[1];
    pthread_mutex_unlock(&p->lock);
    wasmplug_buf_free(&old[0]);
    wasmplug_buf_free(&old[1]);
}

wasmplug_status wasmplug_plugin_wasi_output(wasmplug_plugin *p, int fd, wasmplug_buf *out)
{
    if (out) {
        out->data = NULL;
        out->len = 0;
    }
    if (!p || !out || (fd != 1 && fd != 2))
        return WASMPLUG_ERR_ARGUMENT;
    if (!p->wasi || p->wasi->cfg.on_output) /* output went to the callback */
        return WASMPLUG_ERR_NOT_FOUND;
    pthread_mutex_lock(&p->lock);
    const wasmplug_buf *b = &p->wasi->last[fd - 1];
    wasmplug_status st = WASMPLUG_OK;
    if (b->len) {
        out->data = malloc(b->len + 1);
        if (out->data) {
            memcpy(out->data, b->data, b->len + 1);
            out->len = b->len;
        } else {
            st = WASMPLUG_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* The context of the calling instance's slot; counts the call. */
static wasmplug_wasi_ctx *slot_ctx(wasmplug_caller *caller, void *user)
{
    (void)user;
    wph_slot *s = wph_caller_slot(caller);
    if (!s)
        return NULL;
    s->host_calls++;
    return s->wasi;
}

static wasmplug_status wasi_link(wasmplug_plugin *p, const char *name, size_t len,
                                 wasmplug_func **out)
{
    wasmplug_func **owned = realloc(p->owned, (p->nowned + 1) * sizeof *owned);
    if (!owned)
        return WASMPLUG_ERR_NOMEM;
    p->owned = owned;
    wasmplug_status st =
        wasmplug_wasi_import_resolved(p->host->engine, name, len, slot_ctx, NULL, NULL, out);
    if (st == WASMPLUG_OK)
        p->owned[p->nowned++] = *out;
    return st;
}
