/*
 * wasi_fd.c - the fd_* functions of WASI preview 1: reading and writing
 * (stdin bytes, captured stdout/stderr, host files), seeking, status and
 * attributes, directory listing (a snapshot taken when a listing starts at
 * cookie 0, so cookies stay stable), preopen descriptions and renumbering.
 * Every guest range is checked (EFAULT), every descriptor looked up (EBADF)
 * and its rights checked.
 */
#include "wasi/wasi_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOVS 1024

/* Look up fd and require a right: EBADF for read/write (as POSIX does for a
 * descriptor not open for it), ENOTCAPABLE for the others. */
static ww_fd *get_with(ww_env *e, uint32_t fd, uint64_t right, int32_t *err)
{
    ww_fd *f = ww_get(e, fd, err);
    if (f && right && !(f->rights & right)) {
        *err = (right & (WR_FD_READ | WR_FD_WRITE)) ? WE_BADF : WE_NOTCAPABLE;
        return NULL;
    }
    return f;
}

/* The guest iovec array as host iovecs pointing into guest memory. */
static int32_t load_iovs(ww_env *e, uint32_t iovs, uint32_t n, struct iovec **out)
{
    if (n > MAX_IOVS)
        return WE_INVAL;
    uint8_t *p = ww_mem(e, iovs, (uint64_t)n * 8);
    if (!p)
        return WE_FAULT;
    struct iovec *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return WE_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t addr = ww_le32(p + 8 * i), len = ww_le32(p + 8 * i + 4);
        uint8_t *b = ww_mem(e, addr, len);
        if (!b) {
            free(v);
            return WE_FAULT;
        }
        v[i].iov_base = b;
        v[i].iov_len = len;
    }
    *out = v;
    return WE_SUCCESS;
}

static int32_t stdin_read(wasmplug_wasi_ctx *c, struct iovec *v, uint32_t n, size_t *done)
{
    *done = 0;
    if (c->stdin_inherit) {
        ssize_t r;
        do
            r = readv(0, v, (int)n);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return ww_errno(errno);
        *done = (size_t)r;
        return WE_SUCCESS;
    }
    for (uint32_t i = 0; i < n && c->stdin_pos < c->stdin_len; i++) {
        size_t take = c->stdin_len - c->stdin_pos;
        if (take > v[i].iov_len)
            take = v[i].iov_len;
        memcpy(v[i].iov_base, c->stdin_data + c->stdin_pos, take);
        c->stdin_pos += take;
        *done += take;
    }
    return WE_SUCCESS;
}

/* read/pread/write/pwrite share everything but the host call. */
static int32_t rw(ww_env *e, const wasmplug_slot *a, bool write, bool positional)
{
    uint32_t fd = a[0].u32, iovs = a[1].u32, n = a[2].u32;
    uint32_t result_ptr = positional ? a[4].u32 : a[3].u32;
    int64_t offset = positional ? a[3].i64 : 0;
    int32_t err;
    ww_fd *f = ww_get(e, fd, &err);
    if (!f)
        return err;
    if (!ww_mem(e, result_ptr, 4))
        return WE_FAULT;
    if (f->kind == WW_DIR)
        return write ? WE_BADF : WE_ISDIR;
    if (!(f->rights & (write ? WR_FD_WRITE : WR_FD_READ)))
        return WE_BADF;
    if (positional && f->kind != WW_FILE)
        return WE_SPIPE;
    if (positional && offset < 0)
        return WE_INVAL;
    struct iovec *v;
    if ((err = load_iovs(e, iovs, n, &v)) != WE_SUCCESS)
        return err;
    size_t done = 0;
    if (f->kind == WW_STDIN) {
        err = stdin_read(e->ctx, v, n, &done);
    } else if (f->kind == WW_OUTPUT) {
        for (uint32_t i = 0; i < n && err == WE_SUCCESS; i++) {
            err = ww_output(e->ctx, f->out_fd, v[i].iov_base, v[i].iov_len);
            done += v[i].iov_len;
        }
    } else {
        ssize_t r;
        do {
            if (write)
                r = positional ? pwritev(f->host, v, (int)n, (off_t)offset)
                               : writev(f->host, v, (int)n);
            else
                r = positional ? preadv(f->host, v, (int)n, (off_t)offset)
                               : readv(f->host, v, (int)n);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
            err = ww_errno(errno);
        else
            done = (size_t)r;
    }
    free(v);
    if (err == WE_SUCCESS)
        ww_put32(e, result_ptr, (uint32_t)done);
    return err;
}

int32_t ww_fd_read(ww_env *e, const wasmplug_slot *a) { return rw(e, a, false, false); }
int32_t ww_fd_write(ww_env *e, const wasmplug_slot *a) { return rw(e, a, true, false); }
int32_t ww_fd_pread(ww_env *e, const wasmplug_slot *a) { return rw(e, a, false, true); }
int32_t ww_fd_pwrite(ww_env *e, const wasmplug_slot *a) { return rw(e, a, true, true); }

int32_t ww_fd_close(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    ww_close_entry(f);
    return WE_SUCCESS;
}

static int32_t sync_common(ww_env *e, uint32_t fd, bool data)
{
    int32_t err;
    ww_fd *f = ww_get(e, fd, &err);
    if (!f)
        return err;
    if (f->kind != WW_FILE && f->kind != WW_DIR)
        return WE_INVAL;
    if (!(f->rights & (data ? (WR_FD_DATASYNC | WR_FD_SYNC) : WR_FD_SYNC)))
        return WE_NOTCAPABLE;
    int r = data ? fdatasync(f->host) : fsync(f->host);
    return r == 0 ? WE_SUCCESS : ww_errno(errno);
}

int32_t ww_fd_datasync(ww_env *e, const wasmplug_slot *a) { return sync_common(e, a[0].u32, true); }
int32_t ww_fd_sync(ww_env *e, const wasmplug_slot *a) { return sync_common(e, a[0].u32, false); }

int32_t ww_fd_advise(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = get_with(e, a[0].u32, WR_FD_ADVISE, &err);
    if (!f)
        return err;
    if (a[3].u32 > 5 || a[1].i64 < 0 || a[2].i64 < 0)
        return WE_INVAL;
    if (f->kind == WW_DIR)
        return WE_BADF;
    if (f->kind != WW_FILE)
        return WE_SPIPE;
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    int r = posix_fadvise(f->host, (off_t)a[1].i64, (off_t)a[2].i64, advice[a[3].u32]);
    return r == 0 ? WE_SUCCESS : ww_errno(r);
}

int32_t ww_fd_allocate(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (f->kind != WW_FILE)
        return f->kind == WW_DIR ? WE_BADF : WE_SPIPE;
    if (!(f->rights & WR_FD_ALLOCATE))
        return f->read_only ? WE_BADF : WE_NOTCAPABLE;
    if (a[1].i64 < 0 || a[2].i64 <= 0 || a[1].u64 + a[2].u64 > (uint64_t)INT64_MAX)
        return WE_INVAL;
    int r = posix_fallocate(f->host, (off_t)a[1].i64, (off_t)a[2].i64);
    return r == 0 ? WE_SUCCESS : ww_errno(r);
}

int32_t ww_fd_fdstat_get(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    uint8_t *p = ww_mem(e, a[1].u32, 24);
    if (!p)
        return WE_FAULT;
    memset(p, 0, 24);
    p[0] = f->filetype;
    ww_st16(p + 2, f->fdflags);
    ww_st64(p + 8, f->rights);
    ww_st64(p + 16, f->inheriting);
    return WE_SUCCESS;
}

int32_t ww_fd_fdstat_set_flags(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = get_with(e, a[0].u32, WR_FD_FDSTAT_SET_FLAGS, &err);
    if (!f)
        return err;
    uint32_t flags = a[1].u32;
    if (flags & ~(WFD_APPEND | WFD_DSYNC | WFD_NONBLOCK | WFD_RSYNC | WFD_SYNC))
        return WE_INVAL;
    if (flags & (WFD_DSYNC | WFD_RSYNC | WFD_SYNC))
        return WE_NOTSUP; /* cannot be changed on an open descriptor */
    if (f->kind == WW_FILE) {
        int fl = fcntl(f->host, F_GETFL);
        if (fl < 0)
            return ww_errno(errno);
        fl &= ~(O_APPEND | O_NONBLOCK);
        if (flags & WFD_APPEND)
            fl |= O_APPEND;
        if (flags & WFD_NONBLOCK)
            fl |= O_NONBLOCK;
        if (fcntl(f->host, F_SETFL, fl) < 0)
            return ww_errno(errno);
    }
    f->fdflags = (uint16_t)((f->fdflags & ~(WFD_APPEND | WFD_NONBLOCK)) | flags);
    return WE_SUCCESS;
}

int32_t ww_fd_fdstat_set_rights(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    /* Rights can only shrink. */
    if ((a[1].u64 & ~f->rights) || (a[2].u64 & ~f->inheriting))
        return WE_NOTCAPABLE;
    f->rights = a[1].u64;
    f->inheriting = a[2].u64;
    return WE_SUCCESS;
}

/* Fill a 64-byte filestat from a host stat. */
static void put_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, 64);
    ww_st64(p, (uint64_t)st->st_dev);
    ww_st64(p + 8, (uint64_t)st->st_ino);
    p[16] = ww_filetype(st->st_mode);
    ww_st64(p + 24, (uint64_t)st->st_nlink);
    ww_st64(p + 32, (uint64_t)st->st_size);
    ww_st64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec);
    ww_st64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec);
    ww_st64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec);
}

void ww_put_filestat(uint8_t *p, const struct stat *st)
{
    put_filestat(p, st);
}

int32_t ww_fd_filestat_get(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    uint8_t *p = ww_mem(e, a[1].u32, 64);
    if (!p)
        return WE_FAULT;
    if (f->kind == WW_STDIN || f->kind == WW_OUTPUT) {
        memset(p, 0, 64);
        p[16] = WFT_CHAR;
        ww_st64(p + 24, 1);
        return WE_SUCCESS;
    }
    struct stat st;
    if (fstat(f->host, &st) != 0)
        return ww_errno(errno);
    put_filestat(p, &st);
    return WE_SUCCESS;
}

int32_t ww_fd_filestat_set_size(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (f->kind != WW_FILE)
        return f->kind == WW_DIR ? WE_ISDIR : WE_INVAL;
    if (!(f->rights & WR_FD_FILESTAT_SET_SIZE))
        return f->read_only || !(f->rights & WR_FD_WRITE) ? WE_BADF : WE_NOTCAPABLE;
    if (a[1].u64 > (uint64_t)INT64_MAX)
        return WE_INVAL;
    return ftruncate(f->host, (off_t)a[1].u64) == 0 ? WE_SUCCESS : ww_errno(errno);
}

int32_t ww_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2])
{
    if ((fl & ~15u) || ((fl & WFST_ATIM) && (fl & WFST_ATIM_NOW)) ||
        ((fl & WFST_MTIM) && (fl & WFST_MTIM_NOW)))
        return WE_INVAL;
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = (fl & WFST_ATIM_NOW) ? UTIME_NOW : UTIME_OMIT;
    ts[1].tv_sec = 0;
    ts[1].tv_nsec = (fl & WFST_MTIM_NOW) ? UTIME_NOW : UTIME_OMIT;
    if (fl & WFST_ATIM) {
        ts[0].tv_sec = (time_t)(atim / 1000000000ull);
        ts[0].tv_nsec = (long)(atim % 1000000000ull);
    }
    if (fl & WFST_MTIM) {
        ts[1].tv_sec = (time_t)(mtim / 1000000000ull);
        ts[1].tv_nsec = (long)(mtim % 1000000000ull);
    }
    return WE_SUCCESS;
}

int32_t ww_fd_filestat_set_times(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (f->kind != WW_FILE && f->kind != WW_DIR)
        return WE_BADF;
    if (!(f->rights & WR_FD_FILESTAT_SET_TIMES))
        return f->read_only ? WE_ROFS : WE_NOTCAPABLE;
    struct timespec ts[2];
    if ((err = ww_times(a[1].u64, a[2].u64, a[3].u32, ts)) != WE_SUCCESS)
        return err;
    return futimens(f->host, ts) == 0 ? WE_SUCCESS : ww_errno(errno);
}

int32_t ww_fd_prestat_get(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (!f->preopen)
        return WE_BADF;
    uint8_t *p = ww_mem(e, a[1].u32, 8);
    if (!p)
        return WE_FAULT;
    memset(p, 0, 8);
    ww_st32(p + 4, (uint32_t)strlen(f->guest_name));
    return WE_SUCCESS;
}

int32_t ww_fd_prestat_dir_name(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (!f->preopen)
        return WE_BADF;
    size_t n = strlen(f->guest_name);
    if (a[2].u32 < n)
        return WE_NAMETOOLONG;
    uint8_t *p = ww_mem(e, a[1].u32, n);
    if (!p)
        return WE_FAULT;
    memcpy(p, f->guest_name, n);
    return WE_SUCCESS;
}

/* Take the listing of a directory: ".", ".." and every entry. */
static int32_t snapshot(ww_fd *f)
{
    for (size_t i = 0; i < f->ndir; i++)
        free(f->dir[i].name);
    free(f->dir);
    f->dir = NULL;
    f->ndir = 0;
    int fd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ww_errno(errno);
    DIR *d = fdopendir(fd);
    if (!d) {
        int en = errno;
        close(fd);
        return ww_errno(en);
    }
    size_t cap = 0;
    int32_t err = WE_SUCCESS;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (f->ndir == cap) {
            cap = cap ? cap * 2 : 32;
            ww_dirent *n = realloc(f->dir, cap * sizeof *n);
            if (!n) {
                err = WE_NOMEM;
                break;
            }
            f->dir = n;
        }
        ww_dirent *x = &f->dir[f->ndir];
        x->namelen = strlen(de->d_name);
        x->name = malloc(x->namelen + 1);
        if (!x->name) {
            err = WE_NOMEM;
            break;
        }
        memcpy(x->name, de->d_name, x->namelen + 1);
        x->ino = (uint64_t)de->d_ino;
        switch (de->d_type) {
        case DT_REG: x->type = WFT_REG; break;
        case DT_DIR: x->type = WFT_DIR; break;
        case DT_LNK: x->type = WFT_SYMLINK; break;
        case DT_CHR: x->type = WFT_CHAR; break;
        case DT_BLK: x->type = WFT_BLOCK; break;
        case DT_SOCK: x->type = WFT_SOCK_STREAM; break;
        default: {
            struct stat st;
            x->type = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                          ? ww_filetype(st.st_mode)
                          : WFT_UNKNOWN;
        }
        }
        f->ndir++;
        errno = 0;
    }
    closedir(d);
    return err;
}

int32_t ww_fd_readdir(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    uint32_t buf = a[1].u32, len = a[2].u32;
    uint64_t cookie = a[3].u64;
    uint8_t *out = ww_mem(e, buf, len);
    if (!out || !ww_mem(e, a[4].u32, 4))
        return WE_FAULT;
    if (f->kind != WW_DIR)
        return WE_NOTDIR;
    if (!(f->rights & WR_FD_READDIR))
        return WE_NOTCAPABLE;
    if (cookie == 0 || !f->dir) {
        if ((err = snapshot(f)) != WE_SUCCESS)
            return err;
    }
    uint32_t used = 0;
    for (uint64_t i = cookie; i < f->ndir && used < len; i++) {
        ww_dirent *x = &f->dir[i];
        uint8_t hdr[24];
        memset(hdr, 0, sizeof hdr);
        ww_st64(hdr, i + 1);
        ww_st64(hdr + 8, x->ino);
        ww_st32(hdr + 16, (uint32_t)x->namelen);
        hdr[20] = x->type;
        uint32_t take = len - used < 24 ? len - used : 24;
        memcpy(out + used, hdr, take);
        used += take;
        take = len - used < x->namelen ? len - used : (uint32_t)x->namelen;
        memcpy(out + used, x->name, take);
        used += take;
    }
    ww_put32(e, a[4].u32, used);
    return WE_SUCCESS;
}

int32_t ww_fd_renumber(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *from = ww_get(e, a[0].u32, &err);
    if (!from)
        return err;
    ww_fd *to = ww_get(e, a[1].u32, &err);
    if (!to)
        return err;
    if (from == to)
        return WE_SUCCESS;
    ww_close_entry(to);
    *to = *from;
    memset(from, 0, sizeof *from);
    from->host = -1;
    return WE_SUCCESS;
}

int32_t ww_fd_seek(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    int64_t off = a[1].i64;
    uint32_t whence = a[2].u32;
    if (!ww_mem(e, a[3].u32, 8))
        return WE_FAULT;
    if (whence > 2)
        return WE_INVAL;
    if (f->kind == WW_DIR)
        return WE_BADF;
    if (f->kind != WW_FILE)
        return WE_SPIPE;
    bool tell_only = off == 0 && whence == 1;
    if (!(f->rights & (tell_only ? (WR_FD_TELL | WR_FD_SEEK) : WR_FD_SEEK)))
        return WE_NOTCAPABLE;
    static const int w[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t r = lseek(f->host, (off_t)off, w[whence]);
    if (r < 0)
        return ww_errno(errno);
    ww_put64(e, a[3].u32, (uint64_t)r);
    return WE_SUCCESS;
}

int32_t ww_fd_tell(ww_env *e, const wasmplug_slot *a)
{
    int32_t err;
    ww_fd *f = ww_get(e, a[0].u32, &err);
    if (!f)
        return err;
    if (!ww_mem(e, a[1].u32, 8))
        return WE_FAULT;
    if (f->kind == WW_DIR)
        return WE_BADF;
    if (f->kind != WW_FILE)
        return WE_SPIPE;
    if (!(f->rights & (WR_FD_TELL | WR_FD_SEEK)))
        return WE_NOTCAPABLE;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0)
        return ww_errno(errno);
    ww_put64(e, a[1].u32, (uint64_t)r);
    return WE_SUCCESS;
}
