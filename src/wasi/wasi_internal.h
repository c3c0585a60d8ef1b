/*
 * wasi_internal.h - shared pieces of the WASI preview 1 implementation
 * (src/wasi): the context and its descriptor table, the call environment
 * every WASI function gets (bounds-checked guest memory), errno and rights
 * constants, and the per-family entry points that wasi_ctx.c's table lists.
 */
#ifndef WP_WASI_INTERNAL_H
#define WP_WASI_INTERNAL_H

#include "wasmplug/wasi.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__GNUC__)
#define WW_INTERNAL __attribute__((visibility("hidden")))
#else
#define WW_INTERNAL
#endif

/* errno values of wasi_snapshot_preview1 */
enum {
    WE_SUCCESS = 0, WE_2BIG = 1, WE_ACCES = 2, WE_AGAIN = 6, WE_BADF = 8, WE_BUSY = 10,
    WE_EXIST = 20, WE_FAULT = 21, WE_FBIG = 22, WE_ILSEQ = 25, WE_INTR = 27, WE_INVAL = 28,
    WE_IO = 29, WE_ISDIR = 31, WE_LOOP = 32, WE_MFILE = 33, WE_MLINK = 34,
    WE_NAMETOOLONG = 37, WE_NFILE = 41, WE_NODEV = 43, WE_NOENT = 44, WE_NOMEM = 48,
    WE_NOSPC = 51, WE_NOSYS = 52, WE_NOTDIR = 54, WE_NOTEMPTY = 55, WE_NOTSOCK = 57,
    WE_NOTSUP = 58, WE_NOTTY = 59, WE_NXIO = 60, WE_OVERFLOW = 61, WE_PERM = 63,
    WE_PIPE = 64, WE_RANGE = 68, WE_ROFS = 69, WE_SPIPE = 70, WE_TXTBSY = 74, WE_XDEV = 75,
    WE_NOTCAPABLE = 76
};

/* filetype */
enum { WFT_UNKNOWN = 0, WFT_BLOCK = 1, WFT_CHAR = 2, WFT_DIR = 3, WFT_REG = 4,
       WFT_SOCK_DGRAM = 5, WFT_SOCK_STREAM = 6, WFT_SYMLINK = 7 };

/* rights */
#define WR_FD_DATASYNC (1ull << 0)
#define WR_FD_READ (1ull << 1)
#define WR_FD_SEEK (1ull << 2)
#define WR_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define WR_FD_SYNC (1ull << 4)
#define WR_FD_TELL (1ull << 5)
#define WR_FD_WRITE (1ull << 6)
#define WR_FD_ADVISE (1ull << 7)
#define WR_FD_ALLOCATE (1ull << 8)
#define WR_PATH_CREATE_DIRECTORY (1ull << 9)
#define WR_PATH_CREATE_FILE (1ull << 10)
#define WR_PATH_LINK_SOURCE (1ull << 11)
#define WR_PATH_LINK_TARGET (1ull << 12)
#define WR_PATH_OPEN (1ull << 13)
#define WR_FD_READDIR (1ull << 14)
#define WR_PATH_READLINK (1ull << 15)
#define WR_PATH_RENAME_SOURCE (1ull << 16)
#define WR_PATH_RENAME_TARGET (1ull << 17)
#define WR_PATH_FILESTAT_GET (1ull << 18)
#define WR_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WR_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WR_FD_FILESTAT_GET (1ull << 21)
#define WR_FD_FILESTAT_SET_SIZE (1ull << 22)
#define WR_FD_FILESTAT_SET_TIMES (1ull << 23)
#define WR_PATH_SYMLINK (1ull << 24)
#define WR_PATH_REMOVE_DIRECTORY (1ull << 25)
#define WR_PATH_UNLINK_FILE (1ull << 26)
#define WR_POLL_FD_READWRITE (1ull << 27)
#define WR_ALL ((1ull << 30) - 1)
/* Rights a directory descriptor hands out; those of a regular file. */
#define WR_DIR_BASE                                                                     \
    (WR_FD_FDSTAT_SET_FLAGS | WR_FD_SYNC | WR_FD_ADVISE | WR_PATH_CREATE_DIRECTORY |     \
     WR_PATH_CREATE_FILE | WR_PATH_LINK_SOURCE | WR_PATH_LINK_TARGET | WR_PATH_OPEN |    \
     WR_FD_READDIR | WR_PATH_READLINK | WR_PATH_RENAME_SOURCE | WR_PATH_RENAME_TARGET |  \
     WR_PATH_FILESTAT_GET | WR_PATH_FILESTAT_SET_SIZE | WR_PATH_FILESTAT_SET_TIMES |     \
     WR_FD_FILESTAT_GET | WR_FD_FILESTAT_SET_TIMES | WR_PATH_SYMLINK |                   \
     WR_PATH_REMOVE_DIRECTORY | WR_PATH_UNLINK_FILE | WR_FD_DATASYNC)
#define WR_FILE_BASE                                                                    \
    (WR_FD_DATASYNC | WR_FD_READ | WR_FD_SEEK | WR_FD_FDSTAT_SET_FLAGS | WR_FD_SYNC |    \
     WR_FD_TELL | WR_FD_WRITE | WR_FD_ADVISE | WR_FD_ALLOCATE | WR_FD_FILESTAT_GET |     \
     WR_FD_FILESTAT_SET_SIZE | WR_FD_FILESTAT_SET_TIMES | WR_POLL_FD_READWRITE)
/* What a read-only tree takes away. */
#define WR_MUTATING                                                                     \
    (WR_FD_WRITE | WR_FD_ALLOCATE | WR_FD_FILESTAT_SET_SIZE | WR_FD_FILESTAT_SET_TIMES |  \
     WR_FD_DATASYNC | WR_PATH_CREATE_DIRECTORY | WR_PATH_CREATE_FILE |                  \
     WR_PATH_LINK_SOURCE | WR_PATH_LINK_TARGET | WR_PATH_RENAME_SOURCE |                \
     WR_PATH_RENAME_TARGET | WR_PATH_FILESTAT_SET_SIZE | WR_PATH_FILESTAT_SET_TIMES |    \
     WR_PATH_SYMLINK | WR_PATH_REMOVE_DIRECTORY | WR_PATH_UNLINK_FILE)

/* fdflags, oflags, lookupflags, fstflags */
#define WFD_APPEND 1u
#define WFD_DSYNC 2u
#define WFD_NONBLOCK 4u
#define WFD_RSYNC 8u
#define WFD_SYNC 16u
#define WO_CREAT 1u
#define WO_DIRECTORY 2u
#define WO_EXCL 4u
#define WO_TRUNC 8u
#define WL_SYMLINK_FOLLOW 1u
#define WFST_ATIM 1u
#define WFST_ATIM_NOW 2u
#define WFST_MTIM 4u
#define WFST_MTIM_NOW 8u

typedef enum ww_kind {
    WW_FREE = 0,
    WW_STDIN,   /* fd 0: bytes or the host's stdin */
    WW_OUTPUT,  /* fds 1, 2: callback or capture */
    WW_FILE,    /* a host file (or device) descriptor */
    WW_DIR      /* a host directory descriptor (a sandbox root for paths) */
} ww_kind;

typedef struct ww_dirent {
    uint64_t ino;
    uint8_t type;
    char *name;
    size_t namelen;
} ww_dirent;

typedef struct ww_fd {
    ww_kind kind;
    int host;                /* host descriptor (FILE, DIR), else -1 */
    int out_fd;              /* WW_OUTPUT: 1 or 2 */
    uint64_t rights, inheriting;
    uint16_t fdflags;
    bool read_only;          /* from a read-only preopen */
    bool preopen;            /* a preopened directory (prestat) */
    char *guest_name;        /* preopens: the guest path */
    uint8_t filetype;
    ww_dirent *dir;          /* readdir snapshot (taken at cookie 0) */
    size_t ndir;
} ww_fd;

typedef struct ww_buf {
    uint8_t *data;
    size_t len, cap;
    uint64_t dropped;
} ww_buf;

struct wasmplug_wasi_ctx {
    wasmplug_engine *engine;
    char **args;
    size_t nargs;
    char **env;
    size_t nenv;
    uint8_t *stdin_data;
    size_t stdin_len, stdin_pos;
    bool stdin_inherit;
    wasmplug_wasi_output_fn on_output;
    void *output_user;
    size_t max_capture;
    ww_buf cap[2];           /* stdout, stderr */
    bool deterministic;
    uint64_t realtime0;      /* deterministic clocks */
    uint64_t advanced;       /* ns slept so far (deterministic) */
    uint64_t rng[4];         /* xoshiro256** state (deterministic) */
    ww_fd *fds;
    uint32_t nfds;
    wasmplug_func *funcs[64]; /* made by wasmplug_wasi_link, owned; by table index */
};

/* The environment of one WASI call: its context and the caller's memory. */
typedef struct ww_env {
    wasmplug_caller *caller;
    wasmplug_wasi_ctx *ctx;
    uint8_t *mem;
    size_t size;
} ww_env;

/* Host address of [addr, addr + len) in guest memory, or NULL (-> EFAULT). */
static inline uint8_t *ww_mem(ww_env *e, uint32_t addr, uint64_t len)
{
    if (!e->mem || (uint64_t)addr + len > e->size)
        return NULL;
    return e->mem + addr;
}
static inline bool ww_put32(ww_env *e, uint32_t addr, uint32_t v)
{
    uint8_t *p = ww_mem(e, addr, 4);
    if (!p)
        return false;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return true;
}
static inline bool ww_put64(ww_env *e, uint32_t addr, uint64_t v)
{
    uint8_t *p = ww_mem(e, addr, 8);
    if (!p)
        return false;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return true;
}
static inline uint32_t ww_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ww_le64(const uint8_t *p)
{
    return (uint64_t)ww_le32(p) | (uint64_t)ww_le32(p + 4) << 32;
}
static inline void ww_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ww_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void ww_st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A WASI function: arguments in slots; returns an errno, or WW_EXIT after
 * arranging a TRAP_EXIT on the caller. */
#define WW_EXIT (-1)
typedef int32_t (*ww_impl)(ww_env *e, const wasmplug_slot *a);

/* wasi_ctx.c */
WW_INTERNAL int32_t ww_errno(int host_errno);       /* host errno -> WASI errno */
WW_INTERNAL ww_fd *ww_get(ww_env *e, uint32_t fd, int32_t *err); /* EBADF if free */
WW_INTERNAL int32_t ww_alloc_fd(wasmplug_wasi_ctx *c, uint32_t *out); /* lowest free */
WW_INTERNAL void ww_close_entry(ww_fd *f);
WW_INTERNAL int32_t ww_output(wasmplug_wasi_ctx *c, int fd, const uint8_t *data, size_t len);
WW_INTERNAL uint8_t ww_filetype(unsigned st_mode);

/* wasi_fd.c: a 64-byte filestat; timespecs for utimensat from WASI times. */
WW_INTERNAL void ww_put_filestat(uint8_t *p, const struct stat *st);
WW_INTERNAL int32_t ww_times(uint64_t atim, uint64_t mtim, uint32_t fstflags,
                             struct timespec ts[2]);

/* wasi_path.c: resolver (path relative to a directory entry). */
typedef struct ww_resolved {
    int dirfd;       /* parent directory of the last component */
    bool owned;      /* dirfd must be closed by ww_release */
    char name[256];  /* the last component ("." for the directory itself) */
    uint32_t depth;  /* directories between the base and dirfd */
    bool trailing_slash; /* the path ended in '/': it must name a directory */
} ww_resolved;
WW_INTERNAL int32_t ww_resolve(int base, const char *path, size_t len, bool follow,
                               ww_resolved *r);
WW_INTERNAL void ww_release(ww_resolved *r);

/* Family entry points (wasi_misc.c, wasi_fd.c, wasi_path.c, wasi_poll.c). */
#define WW_FUNCS(X)                                                         \
    X(args_get, "ii", "i")                                                  \
    X(args_sizes_get, "ii", "i")                                            \
    X(environ_get, "ii", "i")                                               \
    X(environ_sizes_get, "ii", "i")                                         \
    X(clock_res_get, "ii", "i")                                             \
    X(clock_time_get, "iIi", "i")                                           \
    X(fd_advise, "iIIi", "i")                                               \
    X(fd_allocate, "iII", "i")                                              \
    X(fd_close, "i", "i")                                                   \
    X(fd_datasync, "i", "i")                                                \
    X(fd_fdstat_get, "ii", "i")                                             \
    X(fd_fdstat_set_flags, "ii", "i")                                       \
    X(fd_fdstat_set_rights, "iII", "i")                                     \
    X(fd_filestat_get, "ii", "i")                                           \
    X(fd_filestat_set_size, "iI", "i")                                      \
    X(fd_filestat_set_times, "iIIi", "i")                                   \
    X(fd_pread, "iiiIi", "i")                                               \
    X(fd_prestat_get, "ii", "i")                                            \
    X(fd_prestat_dir_name, "iii", "i")                                      \
    X(fd_pwrite, "iiiIi", "i")                                              \
    X(fd_read, "iiii", "i")                                                 \
    X(fd_readdir, "iiiIi", "i")                                             \
    X(fd_renumber, "ii", "i")                                               \
    X(fd_seek, "iIii", "i")                                                 \
    X(fd_sync, "i", "i")                                                    \
    X(fd_tell, "ii", "i")                                                   \
    X(fd_write, "iiii", "i")                                                \
    X(path_create_directory, "iii", "i")                                    \
    X(path_filestat_get, "iiiii", "i")                                      \
    X(path_filestat_set_times, "iiiiIIi", "i")                              \
    X(path_link, "iiiiiii", "i")                                            \
    X(path_open, "iiiiiIIii", "i")                                          \
    X(path_readlink, "iiiiii", "i")                                         \
    X(path_remove_directory, "iii", "i")                                    \
    X(path_rename, "iiiiii", "i")                                           \
    X(path_symlink, "iiiii", "i")                                           \
    X(path_unlink_file, "iii", "i")                                         \
    X(poll_oneoff, "iiii", "i")                                             \
    X(proc_exit, "i", "")                                                   \
    X(proc_raise, "i", "i")                                                 \
    X(sched_yield, "", "i")                                                 \
    X(random_get, "ii", "i")                                                \
    X(sock_accept, "iii", "i")                                              \
    X(sock_recv, "iiiiii", "i")                                             \
    X(sock_send, "iiiii", "i")                                              \
    X(sock_shutdown, "ii", "i")

#define WW_DECLARE(name, params, results) \
    WW_INTERNAL int32_t ww_##name(ww_env *e, const wasmplug_slot *a);
WW_FUNCS(WW_DECLARE)
#undef WW_DECLARE

/* wasi_misc.c: the clocks (also used by poll_oneoff). */
WW_INTERNAL int32_t ww_clock_now(wasmplug_wasi_ctx *c, uint32_t id, uint64_t *out);

#endif
