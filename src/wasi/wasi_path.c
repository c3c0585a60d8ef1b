/*
 * wasi_path.c - the path_* functions of WASI preview 1 and the resolver
 * that keeps every path inside the directory it is used with.
 *
 * The resolver never hands a multi-component path to the kernel. It walks
 * one component at a time with openat(O_PATH | O_DIRECTORY | O_NOFOLLOW)
 * relative to the directory descriptor, keeps a stack of the descriptors it
 * opened (so ".." pops the stack instead of asking the kernel, and can never
 * go above the base), and expands symbolic links itself with readlinkat,
 * refusing absolute targets. The final operation then runs with an *at
 * call on (parent descriptor, last component) with O_NOFOLLOW or
 * AT_SYMLINK_NOFOLLOW, so a symbolic link swapped in after the check is
 * never followed: a race can at worst make the call fail.
 */
#include "wasi/wasi_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_PATH 4096
#define MAX_DEPTH 256
#define MAX_LINKS 40

/* ------------------------------------------------------------------------ */
/* Resolver                                                                 */
/* ------------------------------------------------------------------------ */

static void close_stack(int *stack, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++)
        close(stack[i]);
}

void ww_release(ww_resolved *r)
{
    if (r->owned && r->dirfd >= 0)
        close(r->dirfd);
    r->dirfd = -1;
    r->owned = false;
}

int32_t ww_resolve(int base, const char *path, size_t len, bool follow, ww_resolved *r)
{
    r->dirfd = -1;
    r->owned = false;
    r->depth = 0;
    r->trailing_slash = false;
    if (len == 0)
        return WE_NOENT;
    if (len > MAX_PATH)
        return WE_NAMETOOLONG;
    if (memchr(path, 0, len))
        return WE_INVAL;
    if (path[0] == '/')
        return WE_NOTCAPABLE;
    /* pending: the part of the path still to walk (grows when links expand). */
    char *pending = malloc(2 * MAX_PATH + 2);
    int *stack = malloc(MAX_DEPTH * sizeof *stack);
    if (!pending || !stack) {
        free(pending);
        free(stack);
        return WE_NOMEM;
    }
    memcpy(pending, path, len);
    pending[len] = 0;
    stack[0] = base;
    uint32_t depth = 1, links = 0;
    int32_t err = WE_SUCCESS;
    size_t at = 0;
    for (;;) {
        while (pending[at] == '/')
            at++;
        size_t clen = strcspn(pending + at, "/");
        char comp[256];
        if (clen == 0) { /* the path ended in '/': the directory itself */
            memcpy(r->name, ".", 2);
            break;
        }
        if (clen > 255) {
            err = WE_NAMETOOLONG;
            break;
        }
        memcpy(comp, pending + at, clen);
        comp[clen] = 0;
        size_t rest = at + clen;
        bool slash = pending[rest] == '/';
        while (pending[rest] == '/')
            rest++;
        bool last = pending[rest] == 0;
        int top = stack[depth - 1];

        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
            if (comp[1] == '.') {
                if (depth == 1) { /* above the base: an escape */
                    err = WE_NOTCAPABLE;
                    break;
                }
                close(stack[--depth]);
            }
            if (last) {
                memcpy(r->name, ".", 2);
                break;
            }
            at = rest;
            continue;
        }

        bool is_link = false;
        if (!last) {
            int fd = openat(top, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) {
                if (depth == MAX_DEPTH) {
                    close(fd);
                    err = WE_NAMETOOLONG;
                    break;
                }
                stack[depth++] = fd;
                at = rest;
                continue;
            }
            if (errno != ENOTDIR && errno != ELOOP) {
                err = ww_errno(errno);
                break;
            }
            struct stat st;
            if (fstatat(top, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                err = ww_errno(errno);
                break;
            }
            if (!S_ISLNK(st.st_mode)) {
                err = WE_NOTDIR;
                break;
            }
            is_link = true;
        } else if (follow || slash) {
            struct stat st;
            if (fstatat(top, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                is_link = true;
        }
        if (!is_link) { /* the last component */
            memcpy(r->name, comp, clen + 1);
            r->trailing_slash = slash;
            break;
        }

        /* Expand the link: pending = target + "/" + rest. */
        if (++links > MAX_LINKS) {
            err = WE_LOOP;
            break;
        }
        char target[MAX_PATH + 1];
        ssize_t n = readlinkat(top, comp, target, MAX_PATH);
        if (n < 0) {
            if (errno == EINVAL) /* no longer a link (replaced meanwhile): walk it again */
                continue;
            err = ww_errno(errno);
            break;
        }
        if (n == 0) {
            err = WE_NOENT;
            break;
        }
        if (target[0] == '/') { /* absolute targets leave the sandbox */
            err = WE_NOTCAPABLE;
            break;
        }
        size_t restlen = strlen(pending + rest);
        char *next = malloc(2 * MAX_PATH + 2);
        if (!next) {
            err = WE_NOMEM;
            break;
        }
        if ((size_t)n + 1 + restlen > 2 * MAX_PATH) {
            free(next);
            err = WE_NAMETOOLONG;
            break;
        }
        memcpy(next, target, (size_t)n);
        size_t k = (size_t)n;
        if (restlen || slash)
            next[k++] = '/';
        memcpy(next + k, pending + rest, restlen + 1);
        free(pending);
        pending = next;
        at = 0;
    }
    free(pending);
    if (err != WE_SUCCESS) {
        close_stack(stack, 1, depth);
        free(stack);
        return err;
    }
    close_stack(stack, 1, depth > 1 ? depth - 1 : 1);
    r->dirfd = stack[depth - 1];
    r->owned = depth > 1;
    r->depth = depth - 1;
    free(stack);
    return WE_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* The directory entry fd, checked for a right (EROFS first for a write in a
 * read-only tree, so programs get the familiar error). */
static ww_fd *dir_for(ww_env *e, uint32_t fd, uint64_t right, bool mutating, int32_t *err)
{
    ww_fd *f = ww_get(e, fd, err);
    if (!f)
        return NULL;
    if (f->kind != WW_DIR) {
        *err = WE_NOTDIR;
        return NULL;
    }
    if (mutating && f->read_only) {
        *err = WE_ROFS;
        return NULL;
    }
    if (!(f->rights & right)) {
        *err = WE_NOTCAPABLE;
        return NULL;
    }
    return f;
}

static int32_t path_arg(ww_env *e, uint32_t ptr, uint32_t len, const char **out)
{
    const uint8_t *p = ww_mem(e, ptr, len);
    if (!p)
        return WE_FAULT;
    *out = (const char *)p;
    return WE_SUCCESS;
}

/* Resolve a guest path argument relative to directory entry f. */
static int32_t resolve_arg(ww_env *e, ww_fd *f, uint32_t ptr, uint32_t len, bool follow,
                           ww_resolved *r)
{
    const char *p;
    int32_t err = path_arg(e, ptr, len, &p);
    if (err != WE_SUCCESS)
        return err;
    return ww_resolve(f->host, p, len, follow, r);
}

/* ------------------------------------------------------------------------ */
/* path_open                                                                */
/* ------------------------------------------------------------------------ */

int32_t ww_path_open(ww_env *e, const wasmplug_slot *a)
{
    uint32_t dirflags = a[1].u32, oflags = a[4].u32, fdflags = a[7].u32;
    uint64_t base = a[5].u64, inheriting = a[6].u64;
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_OPEN, false, &err);
    if (!d)
        return err;
    if (!ww_mem(e, a[8].u32, 4))
        return WE_FAULT;
    if (oflags & ~15u || fdflags & ~31u)
        return WE_INVAL;
    /* Rights say what the descriptor is for. Asking to write a directory
     * (O_DIRECTORY with FD_WRITE) reaches the kernel as O_DIRECTORY|O_RDWR,
     * which refuses it (EISDIR, or ENOTDIR for a file), as POSIX does. */
    bool want_write = (base & (WR_FD_WRITE | WR_FD_ALLOCATE | WR_FD_FILESTAT_SET_SIZE)) != 0 ||
                      (fdflags & WFD_APPEND);
    if ((oflags & WO_DIRECTORY) && !(base & WR_FD_WRITE))
        want_write = false; /* the other write rights mean nothing for a directory */
    bool want_read = (base & (WR_FD_READ | WR_FD_READDIR)) != 0;
    if (d->read_only && (want_write || (oflags & (WO_CREAT | WO_TRUNC))))
        return WE_ROFS;
    if ((oflags & WO_CREAT) && !(d->rights & WR_PATH_CREATE_FILE))
        return WE_NOTCAPABLE;
    /* Truncating through a path is setting its size. */
    if ((oflags & WO_TRUNC) && !(d->rights & WR_PATH_FILESTAT_SET_SIZE))
        return WE_NOTCAPABLE;
    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    if (want_write && (base & WR_FD_WRITE))
        flags |= want_read ? O_RDWR : O_WRONLY;
    else
        flags |= O_RDONLY;
    if (oflags & WO_CREAT) flags |= O_CREAT;
    if (oflags & WO_EXCL) flags |= O_EXCL;
    if (oflags & WO_TRUNC) flags |= O_TRUNC;
    if (oflags & WO_DIRECTORY) flags |= O_DIRECTORY;
    if (fdflags & WFD_APPEND) flags |= O_APPEND;
    if (fdflags & WFD_DSYNC) flags |= O_DSYNC;
    if (fdflags & WFD_RSYNC) flags |= O_RSYNC;
    if (fdflags & WFD_SYNC) flags |= O_SYNC;
    if (fdflags & WFD_NONBLOCK) flags |= O_NONBLOCK;
    if ((oflags & WO_TRUNC) && !(flags & (O_WRONLY | O_RDWR)))
        flags = (flags & ~O_ACCMODE) | O_WRONLY; /* POSIX leaves O_RDONLY|O_TRUNC open */

    int host = -1;
    for (int attempt = 0; attempt < 4; attempt++) {
        ww_resolved r;
        err = resolve_arg(e, d, a[2].u32, a[3].u32, dirflags & WL_SYMLINK_FOLLOW, &r);
        if (err != WE_SUCCESS)
            return err;
        /* O_NONBLOCK while opening, so a FIFO in the tree cannot block the
         * host thread in open(2); cleared below unless asked for. */
        int fl = flags | O_NONBLOCK | (r.trailing_slash ? O_DIRECTORY : 0);
        do
            host = openat(r.dirfd, r.name, fl, 0666);
        while (host < 0 && errno == EINTR);
        int en = errno;
        ww_release(&r);
        if (host >= 0)
            break;
        /* A link that appeared after the walk: walk again (following it
         * ourselves), or report it when links are not to be followed. */
        if (en != ELOOP || !(dirflags & WL_SYMLINK_FOLLOW))
            return ww_errno(en);
        err = WE_LOOP;
    }
    if (host < 0)
        return err;
    struct stat st;
    if (fstat(host, &st) != 0 ||
        (!(fdflags & WFD_NONBLOCK) && fcntl(host, F_SETFL, fcntl(host, F_GETFL) & ~O_NONBLOCK) != 0)) {
        int en = errno;
        close(host);
        return ww_errno(en);
    }
    uint32_t fd;
    if ((err = ww_alloc_fd(e->ctx, &fd)) != WE_SUCCESS) {
        close(host);
        return err;
    }
    d = &e->ctx->fds[a[0].u32]; /* the table may have moved */
    ww_fd *f = &e->ctx->fds[fd];
    f->host = host;
    f->filetype = ww_filetype(st.st_mode);
    f->kind = S_ISDIR(st.st_mode) ? WW_DIR : WW_FILE;
    f->read_only = d->read_only;
    f->rights = base & d->inheriting & (f->kind == WW_DIR ? WR_DIR_BASE : WR_FILE_BASE);
    if (!(flags & (O_WRONLY | O_RDWR)))
        f->rights &= ~(WR_FD_WRITE | WR_FD_ALLOCATE | WR_FD_FILESTAT_SET_SIZE);
    if ((flags & O_ACCMODE) == O_WRONLY)
        f->rights &= ~(WR_FD_READ | WR_FD_READDIR);
    f->inheriting = inheriting & d->inheriting;
    if (f->read_only)
        f->rights &= ~WR_MUTATING;
    f->fdflags = (uint16_t)fdflags;
    ww_put32(e, a[8].u32, fd);
    return WE_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Directories, files, links                                                */
/* ------------------------------------------------------------------------ */

int32_t ww_path_create_directory(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_CREATE_DIRECTORY, true, &err);
    if (!d)
        return err;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[1].u32, a[2].u32, false, &r)) != WE_SUCCESS)
        return err;
    int rc = mkdirat(r.dirfd, r.name, 0777);
    int en = errno;
    ww_release(&r);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

int32_t ww_path_remove_directory(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_REMOVE_DIRECTORY, true, &err);
    if (!d)
        return err;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[1].u32, a[2].u32, false, &r)) != WE_SUCCESS)
        return err;
    int rc = strcmp(r.name, ".") == 0 ? (errno = EBUSY, -1) : unlinkat(r.dirfd, r.name, AT_REMOVEDIR);
    int en = errno;
    ww_release(&r);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

int32_t ww_path_unlink_file(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_UNLINK_FILE, true, &err);
    if (!d)
        return err;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[1].u32, a[2].u32, false, &r)) != WE_SUCCESS)
        return err;
    int rc, en;
    if (strcmp(r.name, ".") == 0) {
        rc = -1;
        en = EISDIR;
    } else if (r.trailing_slash) {
        struct stat st;
        rc = -1;
        en = fstatat(r.dirfd, r.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)
                 ? EISDIR
                 : ENOTDIR;
    } else {
        rc = unlinkat(r.dirfd, r.name, 0);
        en = errno;
    }
    ww_release(&r);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

int32_t ww_path_rename(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d1 = dir_for(e, a[0].u32, WR_PATH_RENAME_SOURCE, true, &err);
    if (!d1)
        return err;
    ww_fd *d2 = dir_for(e, a[3].u32, WR_PATH_RENAME_TARGET, true, &err);
    if (!d2)
        return err;
    ww_resolved r1, r2;
    if ((err = resolve_arg(e, d1, a[1].u32, a[2].u32, false, &r1)) != WE_SUCCESS)
        return err;
    if ((err = resolve_arg(e, d2, a[4].u32, a[5].u32, false, &r2)) != WE_SUCCESS) {
        ww_release(&r1);
        return err;
    }
    int rc, en;
    if (strcmp(r1.name, ".") == 0 || strcmp(r2.name, ".") == 0) {
        rc = -1;
        en = EBUSY;
    } else {
        rc = renameat(r1.dirfd, r1.name, r2.dirfd, r2.name);
        en = errno;
    }
    ww_release(&r1);
    ww_release(&r2);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

/* A new name (of a link) that ends with '/' names a directory, which no
 * link can create: the error the kernel gives for "name/" (EEXIST when a
 * directory is there, ENOTDIR for another file, ENOENT when nothing is). The
 * name itself is never handed to the kernel with its slash, which would
 * follow a symbolic link swapped in meanwhile. */
static int slash_name_error(const ww_resolved *r)
{
    struct stat st;
    if (fstatat(r->dirfd, r->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? EEXIST : ENOTDIR;
}

int32_t ww_path_link(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d1 = dir_for(e, a[0].u32, WR_PATH_LINK_SOURCE, true, &err);
    if (!d1)
        return err;
    ww_fd *d2 = dir_for(e, a[4].u32, WR_PATH_LINK_TARGET, true, &err);
    if (!d2)
        return err;
    ww_resolved r1, r2;
    /* Following the source is done by the resolver, never by linkat. */
    if ((err = resolve_arg(e, d1, a[2].u32, a[3].u32, a[1].u32 & WL_SYMLINK_FOLLOW, &r1)) !=
        WE_SUCCESS)
        return err;
    if ((err = resolve_arg(e, d2, a[5].u32, a[6].u32, false, &r2)) != WE_SUCCESS) {
        ww_release(&r1);
        return err;
    }
    int rc = -1, en;
    struct stat st;
    if (r1.trailing_slash && fstatat(r1.dirfd, r1.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode)) {
        en = ENOTDIR; /* "file/" names no file */
    } else if (r2.trailing_slash) {
        en = slash_name_error(&r2);
    } else {
        rc = linkat(r1.dirfd, r1.name, r2.dirfd, r2.name, 0);
        en = errno;
    }
    ww_release(&r1);
    ww_release(&r2);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

/* Whether a link target, placed depth directories below the sandbox base,
 * stays inside it when read lexically. */
static bool target_inside(const char *t, size_t n, uint32_t depth)
{
    if (n == 0 || t[0] == '/')
        return false;
    int64_t level = depth;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && t[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && t[i] == '.' && t[i + 1] == '.') {
            if (--level < 0)
                return false;
        } else if (len > 0 && !(len == 1 && t[i] == '.')) {
            level++;
        }
        i = j + 1;
    }
    return true;
}

int32_t ww_path_symlink(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[2].u32, WR_PATH_SYMLINK, true, &err);
    if (!d)
        return err;
    const char *target;
    uint32_t tlen = a[1].u32;
    if ((err = path_arg(e, a[0].u32, tlen, &target)) != WE_SUCCESS)
        return err;
    if (tlen > MAX_PATH)
        return WE_NAMETOOLONG;
    if (memchr(target, 0, tlen))
        return WE_INVAL;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[3].u32, a[4].u32, false, &r)) != WE_SUCCESS)
        return err;
    /* A link that would point outside the sandbox is refused even though
     * the resolver would never follow it: the host might. */
    if (!target_inside(target, tlen, r.depth)) {
        ww_release(&r);
        return WE_NOTCAPABLE;
    }
    if (r.trailing_slash) {
        int en = slash_name_error(&r);
        ww_release(&r);
        return ww_errno(en);
    }
    char buf[MAX_PATH + 1];
    memcpy(buf, target, tlen);
    buf[tlen] = 0;
    int rc = symlinkat(buf, r.dirfd, r.name);
    int en = errno;
    ww_release(&r);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}

int32_t ww_path_readlink(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_READLINK, false, &err);
    if (!d)
        return err;
    uint32_t buflen = a[4].u32;
    uint8_t *buf = ww_mem(e, a[3].u32, buflen);
    if (!buf || !ww_mem(e, a[5].u32, 4))
        return WE_FAULT;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[1].u32, a[2].u32, false, &r)) != WE_SUCCESS)
        return err;
    char tmp[MAX_PATH];
    ssize_t n = readlinkat(r.dirfd, r.name, tmp, sizeof tmp);
    int en = errno;
    ww_release(&r);
    if (n < 0)
        return ww_errno(en);
    uint32_t take = (size_t)n < buflen ? (uint32_t)n : buflen;
    memcpy(buf, tmp, take);
    ww_put32(e, a[5].u32, take);
    return WE_SUCCESS;
}

int32_t ww_path_filestat_get(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_FILESTAT_GET, false, &err);
    if (!d)
        return err;
    uint8_t *p = ww_mem(e, a[4].u32, 64);
    if (!p)
        return WE_FAULT;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[2].u32, a[3].u32, a[1].u32 & WL_SYMLINK_FOLLOW, &r)) !=
        WE_SUCCESS)
        return err;
    struct stat st;
    int rc = fstatat(r.dirfd, r.name, &st, AT_SYMLINK_NOFOLLOW);
    int en = errno;
    ww_release(&r);
    if (rc != 0)
        return ww_errno(en);
    if (r.trailing_slash && !S_ISDIR(st.st_mode))
        return WE_NOTDIR;
    ww_put_filestat(p, &st);
    return WE_SUCCESS;
}

int32_t ww_path_filestat_set_times(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *d = dir_for(e, a[0].u32, WR_PATH_FILESTAT_SET_TIMES, true, &err);
    if (!d)
        return err;
    struct timespec ts[2];
    if ((err = ww_times(a[4].u64, a[5].u64, a[6].u32, ts)) != WE_SUCCESS)
        return err;
    ww_resolved r;
    if ((err = resolve_arg(e, d, a[2].u32, a[3].u32, a[1].u32 & WL_SYMLINK_FOLLOW, &r)) !=
        WE_SUCCESS)
        return err;
    int rc = utimensat(r.dirfd, r.name, ts, AT_SYMLINK_NOFOLLOW);
    int en = errno;
    ww_release(&r);
    return rc == 0 ? WE_SUCCESS : ww_errno(en);
}
