/*
 * permissions.c - what a plugin may import. The host policy is a list of
 * (plugin pattern, permission pattern) rules; a plugin's manifest requests
 * permissions; an import of a registered host function module.name links
 * only when both the request and the policy cover "module.name". Denied
 * imports fail the load (naming the import and the missing grant) or, by
 * policy, link to a stub that fails the call with ERR_PERMISSION_DENIED.
 * Also links the "wasmplug" ABI module and the WASI stubs (ENOSYS until
 * WASI is implemented; proc_exit ends the call).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

wasmplug_status wasmplug_plugin_permissions(wasmplug_plugin *p, char ***perms, size_t *count)
{
    if (!p || !perms || !count)
        return WASMPLUG_ERR_ARGUMENT;
    const char **granted = malloc((p->nrequested ? p->nrequested : 1) * sizeof(char *));
    if (!granted)
        return WASMPLUG_ERR_NOMEM;
    size_t n = 0;
    pthread_mutex_lock(&p->host->lock);
    for (size_t i = 0; i < p->nrequested; i++)
        if (policy_allows(p->host, p, p->requested[i]))
            granted[n++] = p->requested[i];
    pthread_mutex_unlock(&p->host->lock);
    /* requested[] is immutable after load, so the pointers stay valid. */
    *perms = wph_strings_block(granted, n);
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
    bool exit;    /* proc_exit */
    bool errno_;  /* returns one i32: ENOSYS */
} stub_info;

#define WASI_ENOSYS 52

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

static int wasi_stub(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    stub_info *info = user;
    wph_slot *s = wph_caller_slot(caller);
    if (s)
        s->host_calls++;
    if (info->exit) {
        wasmplug_caller_trap(caller, WASMPLUG_TRAP_EXIT, slots[0].i32);
        wasmplug_caller_set_error(caller, "proc_exit(%d)", (int)slots[0].i32);
        return 1;
    }
    if (info->errno_) {
        slots[0].i32 = WASI_ENOSYS;
        return 0;
    }
    return wph_trap(caller, s, WASMPLUG_ERR_UNSUPPORTED, WASMPLUG_TRAP_HOST_ERROR, info->full,
                    "%s is not available yet (WASI is not implemented)", info->full);
}

static wasmplug_status add_stub(wasmplug_plugin *p, const wasmplug_functype *type,
                                wasmplug_host_fn fn, stub_info *info, wasmplug_func **out)
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
    if (type.kind != WASMPLUG_EXTERN_FUNC)
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s: plugins may import functions only (this is a %s)", full,
                        type.kind == WASMPLUG_EXTERN_MEMORY  ? "memory"
                        : type.kind == WASMPLUG_EXTERN_TABLE ? "table"
                                                             : "global");
    wasmplug_extern *slot = &p->imports[i];
    slot->kind = WASMPLUG_EXTERN_FUNC;

    if (mod_is(mod, modlen, "wasmplug")) {
        int k = wph_abi_lookup(name, namelen);
        if (k < 0)
            return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                            "import %s is not part of plugin ABI v%d", full,
                            WASMPLUG_ABI_VERSION);
        wasmplug_functype have = wasmplug_func_type(h->abi[k]);
        if (!type_equal(&type.of.func, &have))
            return type_mismatch(p, full, &type.of.func, &have, err);
        slot->of.func = h->abi[k];
        if (p->abi == WASMPLUG_ABI_NONE)
            p->abi = WASMPLUG_ABI_V1;
        return WASMPLUG_OK;
    }

    if (mod_is(mod, modlen, "wasi_snapshot_preview1")) {
        stub_info *info = calloc(1, sizeof *info);
        if (!info)
            return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, full,
                            "out of memory");
        snprintf(info->full, sizeof info->full, "%s", full);
        const wasmplug_functype *t = &type.of.func;
        info->exit = mod_is(name, namelen, "proc_exit") && t->param_count == 1 &&
                     t->params[0] == WASMPLUG_I32 && t->result_count == 0;
        info->errno_ = t->result_count == 1 && t->results[0] == WASMPLUG_I32;
        st = add_stub(p, t, wasi_stub, info, &slot->of.func);
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

    /* Denied. */
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!req)
        snprintf(why, sizeof why, "plugin '%.60s' does not request permission '%s'", p->name,
                 full);
    else
        snprintf(why, sizeof why, "the host policy does not grant '%s' to plugin '%.60s'", full,
                 p->name);
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
    st = add_stub(p, &type.of.func, denied_stub, info, &slot->of.func);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_LOAD, p->name, full, "cannot link %s", full);
    return WASMPLUG_OK;
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
