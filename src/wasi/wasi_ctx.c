/*
 * wasi_ctx.c - the WASI context (configuration copy, descriptor table,
 * captured output), the table of wasi_snapshot_preview1 functions and how
 * they become engine host functions (bound to a context or resolved per
 * call), linking a module's WASI imports and running a command's _start.
 */
#include "wasi/wasi_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define WW_DEFAULT_CAPTURE (16u << 20)
#define WW_MAX_FDS 4096u

/* ------------------------------------------------------------------------ */
/* The function table                                                       */
/* ------------------------------------------------------------------------ */

typedef struct ww_desc {
    const char *name;
    const char *params, *results;
    ww_impl impl;
} ww_desc;

#define WW_ROW(n, p, r) {#n, p, r, ww_##n},
static const ww_desc ww_table[] = {WW_FUNCS(WW_ROW)};
#undef WW_ROW
#define WW_COUNT (sizeof ww_table / sizeof ww_table[0])
_Static_assert(sizeof ww_table / sizeof ww_table[0] <= 64, "wasmplug_wasi_ctx.funcs is too small");

#define I32_ WASMPLUG_I32
#define I64_ WASMPLUG_I64
/* Parameter lists by signature letters (only i32 and i64 occur). */
static const struct {
    const char *letters;
    wasmplug_valtype types[9];
} ww_sigs[] = {
    {"i", {I32_}}, {"ii", {I32_, I32_}}, {"iii", {I32_, I32_, I32_}},
    {"iiii", {I32_, I32_, I32_, I32_}}, {"iiiii", {I32_, I32_, I32_, I32_, I32_}},
    {"iiiiii", {I32_, I32_, I32_, I32_, I32_, I32_}},
    {"iiiiiii", {I32_, I32_, I32_, I32_, I32_, I32_, I32_}},
    {"iIi", {I32_, I64_, I32_}}, {"iIIi", {I32_, I64_, I64_, I32_}},
    {"iII", {I32_, I64_, I64_}}, {"iI", {I32_, I64_}},
    {"iiiIi", {I32_, I32_, I32_, I64_, I32_}},
    {"iiiiIIi", {I32_, I32_, I32_, I32_, I64_, I64_, I32_}},
    {"iiiiiIIii", {I32_, I32_, I32_, I32_, I32_, I64_, I64_, I32_, I32_}},
    {"iIii", {I32_, I64_, I32_, I32_}},
};
static const wasmplug_valtype ww_i32_result[1] = {I32_};
#undef I32_
#undef I64_

static wasmplug_functype ww_type(size_t i)
{
    const ww_desc *d = &ww_table[i];
    wasmplug_functype t = {0, 0, NULL, NULL};
    for (size_t k = 0; k < sizeof ww_sigs / sizeof ww_sigs[0]; k++)
        if (strcmp(ww_sigs[k].letters, d->params) == 0)
            t.params = ww_sigs[k].types;
    t.param_count = (uint32_t)strlen(d->params);
    t.result_count = (uint32_t)strlen(d->results);
    t.results = ww_i32_result;
    return t;
}

static int ww_find(const char *name, size_t len)
{
    for (size_t i = 0; i < WW_COUNT; i++)
        if (strlen(ww_table[i].name) == len && memcmp(ww_table[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

bool wasmplug_wasi_function(const char *name, size_t len, wasmplug_functype *type)
{
    int i = name ? ww_find(name, len) : -1;
    if (i < 0)
        return false;
    if (type)
        *type = ww_type((size_t)i);
    return true;
}

typedef struct ww_binding {
    const ww_desc *desc;
    wasmplug_wasi_ctx *ctx;
    wasmplug_wasi_resolve_fn resolve;
    void *user;
    void (*finalizer)(void *user);
} ww_binding;

static void binding_free(void *p)
{
    ww_binding *b = p;
    if (b->finalizer)
        b->finalizer(b->user);
    free(b);
}

/* The one trampoline between the engine and every WASI function. */
static int ww_call(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ww_binding *b = user;
    ww_env e;
    e.caller = caller;
    e.ctx = b->resolve ? b->resolve(caller, b->user) : b->ctx;
    e.mem = NULL;
    e.size = 0;
    wasmplug_instance *inst = wasmplug_caller_instance(caller);
    wasmplug_memory *m = inst ? wasmplug_instance_memory(inst) : NULL;
    if (m)
        e.mem = wasmplug_memory_data(m, &e.size);
    int32_t r;
    if (!e.ctx && b->desc->impl != ww_proc_exit)
        r = WE_NOSYS;
    else
        r = b->desc->impl(&e, slots);
    if (r == WW_EXIT)
        return 1;
    slots[0].u64 = 0;
    slots[0].i32 = r;
    return 0;
}

static wasmplug_status make_func(wasmplug_engine *engine, int i, ww_binding *b,
                                 wasmplug_func **out)
{
    b->desc = &ww_table[i];
    wasmplug_functype t = ww_type((size_t)i);
    wasmplug_status st = wasmplug_func_new_host(engine, &t, ww_call, b, binding_free, out);
    if (st != WASMPLUG_OK)
        free(b);
    return st;
}

wasmplug_status wasmplug_wasi_import(wasmplug_wasi_ctx *ctx, const char *name, size_t len,
                                     wasmplug_func **out)
{
    if (!ctx || !name || !out)
        return WASMPLUG_ERR_ARGUMENT;
    int i = ww_find(name, len);
    if (i < 0)
        return WASMPLUG_ERR_NOT_FOUND;
    ww_binding *b = calloc(1, sizeof *b);
    if (!b)
        return WASMPLUG_ERR_NOMEM;
    b->ctx = ctx;
    return make_func(ctx->engine, i, b, out);
}

wasmplug_status wasmplug_wasi_import_resolved(wasmplug_engine *engine, const char *name,
                                              size_t len, wasmplug_wasi_resolve_fn resolve,
                                              void *user, void (*finalizer)(void *user),
                                              wasmplug_func **out)
{
    if (!engine || !name || !resolve || !out)
        return WASMPLUG_ERR_ARGUMENT;
    int i = ww_find(name, len);
    if (i < 0)
        return WASMPLUG_ERR_NOT_FOUND;
    ww_binding *b = calloc(1, sizeof *b);
    if (!b)
        return WASMPLUG_ERR_NOMEM;
    b->resolve = resolve;
    b->user = user;
    b->finalizer = finalizer;
    return make_func(engine, i, b, out);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static wasmplug_status fail(wasmplug_error *err, wasmplug_status st, const char *fmt, ...)
{
    if (err) {
        wasmplug_error_clear(err);
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

int32_t ww_errno(int e)
{
    switch (e) {
    case 0: return WE_SUCCESS;
    case E2BIG: return WE_2BIG;
    case EACCES: return WE_ACCES;
    case EAGAIN: return WE_AGAIN;
    case EBADF: return WE_BADF;
    case EBUSY: return WE_BUSY;
    case EEXIST: return WE_EXIST;
    case EFAULT: return WE_FAULT;
    case EFBIG: return WE_FBIG;
    case EILSEQ: return WE_ILSEQ;
    case EINTR: return WE_INTR;
    case EINVAL: return WE_INVAL;
    case EIO: return WE_IO;
    case EISDIR: return WE_ISDIR;
    case ELOOP: return WE_LOOP;
    case EMFILE: return WE_MFILE;
    case EMLINK: return WE_MLINK;
    case ENAMETOOLONG: return WE_NAMETOOLONG;
    case ENFILE: return WE_NFILE;
    case ENODEV: return WE_NODEV;
    case ENOENT: return WE_NOENT;
    case ENOMEM: return WE_NOMEM;
    case ENOSPC: return WE_NOSPC;
    case ENOSYS: return WE_NOSYS;
    case ENOTDIR: return WE_NOTDIR;
    case ENOTEMPTY: return WE_NOTEMPTY;
    case ENOTSOCK: return WE_NOTSOCK;
    case EOPNOTSUPP: return WE_NOTSUP;
    case ENOTTY: return WE_NOTTY;
    case ENXIO: return WE_NXIO;
    case EOVERFLOW: return WE_OVERFLOW;
    case EPERM: return WE_PERM;
    case EPIPE: return WE_PIPE;
    case ERANGE: return WE_RANGE;
    case EROFS: return WE_ROFS;
    case ESPIPE: return WE_SPIPE;
    case ETXTBSY: return WE_TXTBSY;
    case EXDEV: return WE_XDEV;
    default: return WE_IO;
    }
}

const char *wasmplug_wasi_errno_name(uint32_t e)
{
    static const char *const names[] = {
        "ESUCCESS", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT",
        "EAGAIN", "EALREADY", "EBADF", "EBADMSG", "EBUSY", "ECANCELED", "ECHILD",
        "ECONNABORTED", "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDESTADDRREQ", "EDOM",
        "EDQUOT", "EEXIST", "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ",
        "EINPROGRESS", "EINTR", "EINVAL", "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE",
        "EMLINK", "EMSGSIZE", "EMULTIHOP", "ENAMETOOLONG", "ENETDOWN", "ENETRESET",
        "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV", "ENOENT", "ENOEXEC", "ENOLCK",
        "ENOLINK", "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC", "ENOSYS", "ENOTCONN",
        "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP", "ENOTTY",
        "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO",
        "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH", "ESTALE",
        "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE"};
    return e < sizeof names / sizeof names[0] ? names[e] : "E?";
}

/* ------------------------------------------------------------------------ */
/* Descriptor table                                                         */
/* ------------------------------------------------------------------------ */

uint8_t ww_filetype(unsigned mode)
{
    if (S_ISREG(mode)) return WFT_REG;
    if (S_ISDIR(mode)) return WFT_DIR;
    if (S_ISLNK(mode)) return WFT_SYMLINK;
    if (S_ISCHR(mode)) return WFT_CHAR;
    if (S_ISBLK(mode)) return WFT_BLOCK;
    if (S_ISSOCK(mode)) return WFT_SOCK_STREAM;
    return WFT_UNKNOWN;
}

ww_fd *ww_get(ww_env *e, uint32_t fd, int32_t *err)
{
    wasmplug_wasi_ctx *c = e->ctx;
    if (fd >= c->nfds || c->fds[fd].kind == WW_FREE) {
        *err = WE_BADF;
        return NULL;
    }
    *err = WE_SUCCESS;
    return &c->fds[fd];
}

int32_t ww_alloc_fd(wasmplug_wasi_ctx *c, uint32_t *out)
{
    for (uint32_t i = 0; i < c->nfds; i++)
        if (c->fds[i].kind == WW_FREE) {
            *out = i;
            return WE_SUCCESS;
        }
    if (c->nfds >= WW_MAX_FDS)
        return WE_MFILE;
    uint32_t n = c->nfds ? c->nfds * 2 : 8;
    if (n > WW_MAX_FDS)
        n = WW_MAX_FDS;
    ww_fd *f = realloc(c->fds, n * sizeof *f);
    if (!f)
        return WE_NOMEM;
    memset(f + c->nfds, 0, (n - c->nfds) * sizeof *f);
    for (uint32_t i = c->nfds; i < n; i++)
        f[i].host = -1;
    *out = c->nfds;
    c->fds = f;
    c->nfds = n;
    return WE_SUCCESS;
}

static void dir_snapshot_free(ww_fd *f)
{
    for (size_t i = 0; i < f->ndir; i++)
        free(f->dir[i].name);
    free(f->dir);
    f->dir = NULL;
    f->ndir = 0;
}

void ww_close_entry(ww_fd *f)
{
    if (f->host >= 0)
        close(f->host);
    dir_snapshot_free(f);
    free(f->guest_name);
    memset(f, 0, sizeof *f);
    f->host = -1;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

int32_t ww_output(wasmplug_wasi_ctx *c, int fd, const uint8_t *data, size_t len)
{
    if (len == 0)
        return WE_SUCCESS;
    if (c->on_output) {
        c->on_output(c->output_user, fd, data, len);
        return WE_SUCCESS;
    }
    ww_buf *b = &c->cap[fd == 2];
    size_t room = b->len < c->max_capture ? c->max_capture - b->len : 0;
    size_t take = len < room ? len : room;
    b->dropped += len - take;
    if (take == 0)
        return WE_SUCCESS;
    if (b->len + take + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + take + 1)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return WE_NOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, take);
    b->len += take;
    b->data[b->len] = 0;
    return WE_SUCCESS;
}

wasmplug_status wasmplug_wasi_output(wasmplug_wasi_ctx *ctx, int fd, const uint8_t **data,
                                     size_t *len, uint64_t *dropped)
{
    if (!ctx || (fd != 1 && fd != 2) || !data || !len)
        return WASMPLUG_ERR_ARGUMENT;
    ww_buf *b = &ctx->cap[fd == 2];
    *data = b->data ? b->data : (const uint8_t *)"";
    *len = b->len;
    if (dropped)
        *dropped = b->dropped;
    return WASMPLUG_OK;
}

void wasmplug_wasi_output_clear(wasmplug_wasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < 2; i++) {
        ctx->cap[i].len = 0;
        ctx->cap[i].dropped = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Context                                                                  */
/* ------------------------------------------------------------------------ */

void wasmplug_wasi_config_init(wasmplug_wasi_config *cfg)
{
    if (cfg)
        memset(cfg, 0, sizeof *cfg);
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static bool push_str(char ***list, size_t *n, const char *s)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return false;
    *list = l;
    l[*n] = dupstr(s);
    if (!l[*n])
        return false;
    (*n)++;
    return true;
}

static bool env_has(wasmplug_wasi_ctx *c, const char *entry)
{
    size_t k = strcspn(entry, "=");
    for (size_t i = 0; i < c->nenv; i++)
        if (strncmp(c->env[i], entry, k) == 0 && c->env[i][k] == '=')
            return true;
    return false;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static wasmplug_status add_preopen(wasmplug_wasi_ctx *c, const wasmplug_wasi_preopen *p,
                                   wasmplug_error *err)
{
    if (!p->host_path || !*p->host_path || (p->guest_path && !*p->guest_path))
        return fail(err, WASMPLUG_ERR_ARGUMENT, "preopen with an empty host or guest path");
    int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, WASMPLUG_ERR_IO, "cannot open preopened directory '%.180s': %s",
                    p->host_path, strerror(errno));
    uint32_t i;
    if (ww_alloc_fd(c, &i) != WE_SUCCESS) {
        close(fd);
        return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
    }
    ww_fd *f = &c->fds[i];
    f->kind = WW_DIR;
    f->host = fd;
    f->preopen = true;
    f->read_only = p->read_only;
    f->filetype = WFT_DIR;
    f->rights = WR_DIR_BASE;
    f->inheriting = WR_DIR_BASE | WR_FILE_BASE;
    if (p->read_only) {
        f->rights &= ~WR_MUTATING;
        f->inheriting &= ~WR_MUTATING;
    }
    f->guest_name = dupstr(p->guest_path ? p->guest_path : p->host_path);
    if (!f->guest_name)
        return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_wasi_new(wasmplug_engine *engine, const wasmplug_wasi_config *cfg,
                                  wasmplug_wasi_ctx **out, wasmplug_error *err)
{
    static const wasmplug_wasi_config defaults;
    if (out)
        *out = NULL;
    if (!engine || !out)
        return fail(err, WASMPLUG_ERR_ARGUMENT, "wasmplug_wasi_new needs an engine and out");
    if (!cfg)
        cfg = &defaults;
    if ((cfg->arg_count && !cfg->args) || (cfg->env_count && !cfg->env) ||
        (cfg->env_inherit_count && !cfg->env_inherit) ||
        (cfg->preopen_count && !cfg->preopens) || (cfg->stdin_len && !cfg->stdin_data))
        return fail(err, WASMPLUG_ERR_ARGUMENT, "a count without its array in the WASI config");
    for (size_t i = 0; i < cfg->arg_count; i++)
        if (!cfg->args[i])
            return fail(err, WASMPLUG_ERR_ARGUMENT, "WASI argument %zu is NULL", i);
    for (size_t i = 0; i < cfg->env_count; i++)
        if (!cfg->env[i] || !strchr(cfg->env[i], '=') || cfg->env[i][0] == '=')
            return fail(err, WASMPLUG_ERR_ARGUMENT,
                        "WASI environment entry %zu is not NAME=VALUE", i);
    for (size_t i = 0; i < cfg->env_inherit_count; i++)
        if (!cfg->env_inherit[i])
            return fail(err, WASMPLUG_ERR_ARGUMENT, "WASI env allowlist entry %zu is NULL", i);

    wasmplug_wasi_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
    c->engine = engine;
    bool ok = true;
    for (size_t i = 0; ok && i < cfg->arg_count; i++)
        ok = push_str(&c->args, &c->nargs, cfg->args[i]);
    for (size_t i = 0; ok && i < cfg->env_count; i++)
        ok = push_str(&c->env, &c->nenv, cfg->env[i]);
    /* The allowlist filters the host's environment; explicit entries win. */
    for (char **ep = environ; ok && ep && *ep; ep++) {
        const char *eq = strchr(*ep, '=');
        if (!eq || eq == *ep)
            continue;
        char name[256];
        size_t k = (size_t)(eq - *ep);
        if (k >= sizeof name)
            continue;
        memcpy(name, *ep, k);
        name[k] = 0;
        for (size_t i = 0; i < cfg->env_inherit_count; i++)
            if (fnmatch(cfg->env_inherit[i], name, 0) == 0) {
                if (!env_has(c, *ep))
                    ok = push_str(&c->env, &c->nenv, *ep);
                break;
            }
    }
    if (ok && cfg->stdin_len) {
        c->stdin_data = malloc(cfg->stdin_len);
        ok = c->stdin_data != NULL;
        if (ok)
            memcpy(c->stdin_data, cfg->stdin_data, cfg->stdin_len);
        c->stdin_len = cfg->stdin_len;
    }
    if (!ok) {
        wasmplug_wasi_free(c);
        return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
    }
    c->stdin_inherit = cfg->stdin_inherit;
    c->on_output = cfg->on_output;
    c->output_user = cfg->output_user;
    c->max_capture = cfg->max_capture ? cfg->max_capture : WW_DEFAULT_CAPTURE;
    c->deterministic = cfg->deterministic;
    c->realtime0 = cfg->clock_start_ns;
    uint64_t seed = cfg->random_seed;
    for (int i = 0; i < 4; i++)
        c->rng[i] = splitmix(&seed);

    /* fds 0, 1, 2 */
    for (int i = 0; i < 3; i++) {
        uint32_t fd;
        if (ww_alloc_fd(c, &fd) != WE_SUCCESS) {
            wasmplug_wasi_free(c);
            return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
        }
        ww_fd *f = &c->fds[fd];
        f->kind = i == 0 ? WW_STDIN : WW_OUTPUT;
        f->out_fd = i;
        f->filetype = WFT_CHAR;
        f->rights = (i == 0 ? WR_FD_READ : WR_FD_WRITE) | WR_FD_FDSTAT_SET_FLAGS |
                    WR_FD_FILESTAT_GET | WR_POLL_FD_READWRITE;
        f->fdflags = i == 0 ? 0 : WFD_APPEND;
    }
    for (size_t i = 0; i < cfg->preopen_count; i++) {
        wasmplug_status st = add_preopen(c, &cfg->preopens[i], err);
        if (st != WASMPLUG_OK) {
            wasmplug_wasi_free(c);
            return st;
        }
    }
    *out = c;
    return WASMPLUG_OK;
}

void wasmplug_wasi_free(wasmplug_wasi_ctx *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nfds; i++)
        ww_close_entry(&c->fds[i]);
    free(c->fds);
    for (size_t i = 0; i < c->nargs; i++)
        free(c->args[i]);
    free(c->args);
    for (size_t i = 0; i < c->nenv; i++)
        free(c->env[i]);
    free(c->env);
    free(c->stdin_data);
    free(c->cap[0].data);
    free(c->cap[1].data);
    for (size_t i = 0; i < WW_COUNT; i++)
        if (c->funcs[i])
            wasmplug_func_free(c->funcs[i]);
    free(c);
}

/* ------------------------------------------------------------------------ */
/* Linking and running                                                      */
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

static wasmplug_status link_all(wasmplug_wasi_ctx *ctx, wasmplug_module *module,
                                wasmplug_extern *imports, bool only_wasi, wasmplug_error *err)
{
    uint32_t n = wasmplug_module_import_count(module);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        size_t modlen, namelen;
        wasmplug_externtype type;
        wasmplug_status st =
            wasmplug_module_import(module, i, &mod, &modlen, &name, &namelen, &type);
        if (st != WASMPLUG_OK)
            return fail(err, st, "cannot read import %u", i);
        bool wasi = modlen == strlen(WASMPLUG_WASI_MODULE) &&
                    memcmp(mod, WASMPLUG_WASI_MODULE, modlen) == 0;
        if (!wasi) {
            if (only_wasi)
                return fail(err, WASMPLUG_ERR_LINK,
                            "import %.*s.%.*s is not a WASI function (only "
                            "wasi_snapshot_preview1 is provided)",
                            (int)(modlen > 80 ? 80 : modlen), mod,
                            (int)(namelen > 80 ? 80 : namelen), name);
            continue;
        }
        int k = ww_find(name, namelen);
        wasmplug_functype want = ww_type(k < 0 ? 0 : (size_t)k);
        if (k < 0 || type.kind != WASMPLUG_EXTERN_FUNC || !type_equal(&type.of.func, &want))
            return fail(err, WASMPLUG_ERR_LINK, "import %s.%.*s: %s", WASMPLUG_WASI_MODULE,
                        (int)(namelen > 80 ? 80 : namelen), name,
                        k < 0 ? "unknown WASI function" : "type differs from the WASI spec");
        if (!ctx->funcs[k]) { /* one function per name, reused by later links */
            st = wasmplug_wasi_import(ctx, name, namelen, &ctx->funcs[k]);
            if (st != WASMPLUG_OK)
                return fail(err, st, "cannot create WASI function");
        }
        imports[i].kind = WASMPLUG_EXTERN_FUNC;
        imports[i].of.func = ctx->funcs[k];
    }
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_wasi_link(wasmplug_wasi_ctx *ctx, wasmplug_module *module,
                                   wasmplug_extern *imports, wasmplug_error *err)
{
    if (!ctx || !module || (!imports && wasmplug_module_import_count(module)))
        return fail(err, WASMPLUG_ERR_ARGUMENT, "wasmplug_wasi_link: missing argument");
    return link_all(ctx, module, imports, false, err);
}

wasmplug_status wasmplug_wasi_instantiate(wasmplug_wasi_ctx *ctx, wasmplug_module *module,
                                          const wasmplug_instance_config *icfg,
                                          wasmplug_instance **out, wasmplug_error *err)
{
    if (out)
        *out = NULL;
    if (!ctx || !module || !out)
        return fail(err, WASMPLUG_ERR_ARGUMENT, "wasmplug_wasi_instantiate: missing argument");
    uint32_t n = wasmplug_module_import_count(module);
    wasmplug_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports)
        return fail(err, WASMPLUG_ERR_NOMEM, "out of memory");
    wasmplug_status st = link_all(ctx, module, imports, true, err);
    if (st == WASMPLUG_OK) {
        wasmplug_instance_config cfg;
        if (icfg)
            cfg = *icfg;
        else
            memset(&cfg, 0, sizeof cfg);
        cfg.defer_start = true;
        st = wasmplug_instance_new(module, imports, n, &cfg, out, err);
    }
    free(imports);
    return st;
}

/* A trap of kind EXIT is a normal end with its exit code. */
static wasmplug_status exit_or_error(wasmplug_status st, wasmplug_error *e, int32_t *code,
                                     bool *done)
{
    *done = false;
    if (st == WASMPLUG_ERR_TRAP && e->trap == WASMPLUG_TRAP_EXIT) {
        *code = e->exit_code;
        *done = true;
        wasmplug_error_clear(e);
        return WASMPLUG_OK;
    }
    if (st != WASMPLUG_OK)
        *done = true;
    return st;
}

wasmplug_status wasmplug_wasi_start(wasmplug_wasi_ctx *ctx, wasmplug_instance *inst,
                                    int32_t *exit_code, wasmplug_error *err)
{
    wasmplug_error local;
    wasmplug_error *e = err ? err : &local;
    wasmplug_error_clear(e);
    if (!ctx || !inst)
        return fail(err, WASMPLUG_ERR_ARGUMENT, "wasmplug_wasi_start: missing argument");
    int32_t code = 0;
    bool done;
    wasmplug_status st = exit_or_error(wasmplug_instance_start(inst, e), e, &code, &done);
    if (!done) {
        wasmplug_func *f = wasmplug_instance_func(inst, "_start");
        wasmplug_functype t = f ? wasmplug_func_type(f) : (wasmplug_functype){0, 0, NULL, NULL};
        if (!f || t.param_count || t.result_count)
            return fail(err, WASMPLUG_ERR_NOT_FOUND,
                        "the module exports no function _start of type () -> () "
                        "(not a WASI command)");
        st = exit_or_error(wasmplug_func_call(f, NULL, 0, NULL, 0, e), e, &code, &done);
    }
    if (st == WASMPLUG_OK && exit_code)
        *exit_code = code;
    return st;
}

wasmplug_status wasmplug_wasi_run_command(wasmplug_wasi_ctx *ctx, wasmplug_module *module,
                                          const wasmplug_instance_config *icfg,
                                          int32_t *exit_code, wasmplug_error *err)
{
    wasmplug_instance *inst;
    wasmplug_status st = wasmplug_wasi_instantiate(ctx, module, icfg, &inst, err);
    if (st != WASMPLUG_OK)
        return st;
    st = wasmplug_wasi_start(ctx, inst, exit_code, err);
    wasmplug_instance_free(inst);
    return st;
}
