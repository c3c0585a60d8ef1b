/*
 * test_wasi.c - every function family of wasi_snapshot_preview1, called
 * directly through shim.wat with chosen arguments: args/environ, clocks,
 * random, fd_* on stdio and files, prestat, readdir, path_*, read-only
 * preopens, poll_oneoff, proc_exit and commands, sched_yield, proc_raise,
 * sockets, and linking. Error cases throughout: bad descriptors, bad
 * pointers (EFAULT, never a trap), read-only writes, missing files.
 */
#include "wasi_test.h"

#include <time.h>

#define BAD 0xFFFFFFF0u
#define RES 0x100u  /* results */
#define PATH 0x1000u
#define BUF 0x2000u
#define IOV 0x800u

enum { EBADF_ = 8, EEXIST_ = 20, EFAULT_ = 21, EINVAL_ = 28, EISDIR_ = 31, ELOOP_ = 32,
       ENAMETOOLONG_ = 37, ENOENT_ = 44, ENOSYS_ = 52, ENOTDIR_ = 54, ENOTEMPTY_ = 55,
       ENOTSOCK_ = 57, ENOTSUP_ = 58, EROFS_ = 69, ESPIPE_ = 70, ENOTCAPABLE_ = 76 };

static char root[256], rodir[300];

/* path_open relative to dirfd; returns the errno, the new fd in *fd. */
static int32_t open_at(wt *t, uint32_t dirfd, const char *path, uint32_t oflags, uint64_t rights,
                       uint32_t fdflags, uint32_t *fd)
{
    uint32_t n = wt_str(t, PATH, path);
    int32_t r = W(t, "path_open", dirfd, FOLLOW, PATH, n, oflags, rights, R_ALL, fdflags, RES);
    if (fd)
        *fd = r == 0 ? wt_u32(t, RES) : 0;
    return r;
}

static int32_t write_str(wt *t, uint32_t fd, const char *s)
{
    uint32_t n = wt_str(t, BUF, s);
    wt_iov(t, IOV, BUF, n);
    return W(t, "fd_write", fd, IOV, 1, RES);
}

static wasmplug_wasi_config base_cfg(void)
{
    static wasmplug_wasi_preopen dirs[2];
    dirs[0] = (wasmplug_wasi_preopen){root, "/sandbox", false};
    dirs[1] = (wasmplug_wasi_preopen){rodir, "/ro", true};
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    cfg.preopens = dirs;
    cfg.preopen_count = 2;
    return cfg;
}

static void test_args_env(void)
{
    setenv("WASI_TEST_X", "y", 1);
    setenv("WASI_OTHER", "hidden", 1);
    const char *args[] = {"prog", "a b", "\xc3\xbc"};
    const char *env[] = {"A=1", "WASI_TEST_X=explicit"};
    const char *inherit[] = {"WASI_TEST_*", "HOME_NOT_SET_ANYWHERE"};
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.arg_count = 3;
    cfg.env = env;
    cfg.env_count = 2;
    cfg.env_inherit = inherit;
    cfg.env_inherit_count = 2;
    wt t = wt_new(&cfg);
    CHECK_EQ(W(&t, "args_sizes_get", RES, RES + 4), 0);
    CHECK_EQ(wt_u32(&t, RES), 3);
    CHECK_EQ(wt_u32(&t, RES + 4), 5 + 4 + 3);
    CHECK_EQ(W(&t, "args_get", 0x200, BUF), 0);
    size_t size;
    uint8_t *m = wt_mem(&t, &size);
    CHECK_EQ(wt_u32(&t, 0x200), BUF);
    CHECK(strcmp((char *)m + wt_u32(&t, 0x204), "a b") == 0);
    CHECK(strcmp((char *)m + wt_u32(&t, 0x208), "\xc3\xbc") == 0);
    CHECK_EQ(W(&t, "args_get", BAD, BUF), EFAULT_);
    CHECK_EQ(W(&t, "args_get", 0x200, BAD), EFAULT_);
    CHECK_EQ(W(&t, "args_sizes_get", BAD, RES), EFAULT_);
    CHECK_EQ(W(&t, "args_get", 0x200, (uint64_t)(2 * 65536 - 4)), EFAULT_); /* buffer runs off */

    /* explicit entries win over inherited ones; others are not visible */
    CHECK_EQ(W(&t, "environ_sizes_get", RES, RES + 4), 0);
    CHECK_EQ(wt_u32(&t, RES), 2);
    CHECK_EQ(W(&t, "environ_get", 0x200, BUF), 0);
    CHECK(strcmp((char *)m + wt_u32(&t, 0x200), "A=1") == 0);
    CHECK(strcmp((char *)m + wt_u32(&t, 0x204), "WASI_TEST_X=explicit") == 0);
    CHECK_EQ(W(&t, "environ_get", BAD, BUF), EFAULT_);
    CHECK_EQ(W(&t, "environ_sizes_get", RES, BAD), EFAULT_);
    wt_free(&t);

    /* the allowlist alone */
    cfg.env_count = 0;
    t = wt_new(&cfg);
    CHECK_EQ(W(&t, "environ_sizes_get", RES, RES + 4), 0);
    CHECK_EQ(wt_u32(&t, RES), 1);
    CHECK_EQ(W(&t, "environ_get", 0x200, BUF), 0);
    m = wt_mem(&t, &size);
    CHECK(strcmp((char *)m + wt_u32(&t, 0x200), "WASI_TEST_X=y") == 0);
    wt_free(&t);

    /* bad configurations */
    wasmplug_wasi_ctx *c;
    wasmplug_error err;
    const char *badenv[] = {"NOEQUALS"};
    cfg.env = badenv;
    cfg.env_count = 1;
    CHECK_STATUS(wasmplug_wasi_new(wt_engine, &cfg, &c, &err), WASMPLUG_ERR_ARGUMENT);
    wasmplug_wasi_preopen missing = {"/nonexistent/dir/x", "/x", false};
    wasmplug_wasi_config_init(&cfg);
    cfg.preopens = &missing;
    cfg.preopen_count = 1;
    CHECK_STATUS(wasmplug_wasi_new(wt_engine, &cfg, &c, &err), WASMPLUG_ERR_IO);
    CHECK_CONTAINS(err.message, "/nonexistent/dir/x");
}

static void test_clocks_random(void)
{
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    cfg.deterministic = true;
    cfg.clock_start_ns = 1234567890123ull;
    cfg.random_seed = 7;
    wt t = wt_new(&cfg);
    CHECK_EQ(W(&t, "clock_time_get", 0, 1, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 1234567890123ull);
    CHECK_EQ(W(&t, "clock_time_get", 1, 1, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 0);
    CHECK_EQ(W(&t, "clock_time_get", 9, 1, RES), EINVAL_);
    CHECK_EQ(W(&t, "clock_time_get", 0, 1, BAD), EFAULT_);
    CHECK_EQ(W(&t, "clock_res_get", 1, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 1000);
    CHECK_EQ(W(&t, "clock_res_get", 4, RES), EINVAL_);
    CHECK_EQ(W(&t, "clock_res_get", 0, BAD), EFAULT_);
    CHECK_EQ(W(&t, "random_get", BUF, 64), 0);
    uint8_t first[64];
    size_t size;
    memcpy(first, wt_mem(&t, &size) + BUF, 64);
    CHECK_EQ(W(&t, "random_get", BAD, 4), EFAULT_);
    CHECK_EQ(W(&t, "random_get", BUF, 0), 0);
    wt t2 = wt_new(&cfg); /* same seed: same bytes */
    CHECK_EQ(W(&t2, "random_get", BUF, 64), 0);
    CHECK(memcmp(first, wt_mem(&t2, &size) + BUF, 64) == 0);
    wt_free(&t2);
    cfg.random_seed = 8;
    t2 = wt_new(&cfg);
    CHECK_EQ(W(&t2, "random_get", BUF, 64), 0);
    CHECK(memcmp(first, wt_mem(&t2, &size) + BUF, 64) != 0);
    wt_free(&t2);
    /* sleeping advances the virtual clocks only */
    memset(wt_mem(&t, &size) + 0x400, 0, 48);
    wt_set64(&t, 0x400, 77);                   /* userdata */
    wt_set32(&t, 0x400 + 16, 1);               /* monotonic */
    wt_set64(&t, 0x400 + 24, 5000000000ull);   /* 5 s, relative */
    time_t before = time(NULL);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 1, RES), 0);
    CHECK(time(NULL) - before < 2);
    CHECK_EQ(wt_u32(&t, RES), 1);
    CHECK_EQ(wt_u64(&t, 0x500), 77);
    CHECK_EQ(W(&t, "clock_time_get", 1, 1, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 5000000000ull);
    CHECK_EQ(W(&t, "clock_time_get", 0, 1, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 1234567890123ull + 5000000000ull);
    wt_free(&t);

    /* real clocks and randomness */
    wasmplug_wasi_config_init(&cfg);
    t = wt_new(&cfg);
    CHECK_EQ(W(&t, "clock_time_get", 0, 1, RES), 0);
    uint64_t now = wt_u64(&t, RES) / 1000000000ull;
    CHECK(now + 5 >= (uint64_t)time(NULL) && now <= (uint64_t)time(NULL) + 5);
    CHECK_EQ(W(&t, "clock_time_get", 1, 1, RES), 0);
    CHECK(wt_u64(&t, RES) > 0);
    CHECK_EQ(W(&t, "clock_time_get", 2, 1, RES), 0);
    CHECK_EQ(W(&t, "random_get", BUF, 32), 0);
    uint8_t zero[32] = {0};
    CHECK(memcmp(wt_mem(&t, &size) + BUF, zero, 32) != 0);
    /* a real 10 ms sleep */
    memset(wt_mem(&t, &size) + 0x400, 0, 48);
    wt_set32(&t, 0x400 + 16, 1);
    wt_set64(&t, 0x400 + 24, 10000000ull);
    CHECK_EQ(W(&t, "clock_time_get", 1, 1, RES), 0);
    uint64_t t0 = wt_u64(&t, RES);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 1, RES), 0);
    CHECK_EQ(W(&t, "clock_time_get", 1, 1, RES), 0);
    CHECK(wt_u64(&t, RES) - t0 >= 10000000ull);
    wt_free(&t);
}

static int cb_calls;
static char cb_text[64];
static void on_output(void *user, int fd, const uint8_t *data, size_t len)
{
    (void)user;
    cb_calls++;
    size_t at = strlen(cb_text);
    snprintf(cb_text + at, sizeof cb_text - at, "%d:%.*s;", fd, (int)len, (const char *)data);
}

static void test_stdio(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    cfg.stdin_data = (const uint8_t *)"input bytes";
    cfg.stdin_len = 11;
    cfg.max_capture = 8;
    wt t = wt_new(&cfg);
    CHECK_EQ(write_str(&t, 1, "hello "), 0);
    CHECK_EQ(wt_u32(&t, RES), 6);
    wt_str(&t, BUF, "abcXYZ");
    wt_iov(&t, IOV, BUF, 3);
    wt_iov(&t, IOV + 8, BUF + 3, 3);
    CHECK_EQ(W(&t, "fd_write", 2, IOV, 2, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 6);
    CHECK_EQ(write_str(&t, 1, "world"), 0); /* 3 bytes past max_capture */
    const uint8_t *data;
    size_t len;
    uint64_t dropped;
    CHECK_STATUS(wasmplug_wasi_output(t.ctx, 1, &data, &len, &dropped), WASMPLUG_OK);
    CHECK(len == 8 && memcmp(data, "hello wo", 8) == 0);
    CHECK_EQ(dropped, 3);
    CHECK_STATUS(wasmplug_wasi_output(t.ctx, 2, &data, &len, NULL), WASMPLUG_OK);
    CHECK(len == 6 && memcmp(data, "abcXYZ", 6) == 0);
    CHECK_STATUS(wasmplug_wasi_output(t.ctx, 3, &data, &len, NULL), WASMPLUG_ERR_ARGUMENT);
    wasmplug_wasi_output_clear(t.ctx);
    wasmplug_wasi_output(t.ctx, 1, &data, &len, NULL);
    CHECK_EQ(len, 0);

    /* stdin from bytes, in pieces, then EOF */
    wt_iov(&t, IOV, BUF, 5);
    CHECK_EQ(W(&t, "fd_read", 0, IOV, 1, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 5);
    size_t size;
    CHECK(memcmp(wt_mem(&t, &size) + BUF, "input", 5) == 0);
    wt_iov(&t, IOV, BUF, 100);
    CHECK_EQ(W(&t, "fd_read", 0, IOV, 1, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 6);
    CHECK_EQ(W(&t, "fd_read", 0, IOV, 1, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 0);

    /* errors */
    CHECK_EQ(W(&t, "fd_write", 99, IOV, 1, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_write", 0, IOV, 1, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_read", 1, IOV, 1, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_write", 1, BAD, 1, RES), EFAULT_);
    CHECK_EQ(W(&t, "fd_write", 1, IOV, 1, BAD), EFAULT_);
    wt_iov(&t, IOV, BAD, 4);
    CHECK_EQ(W(&t, "fd_write", 1, IOV, 1, RES), EFAULT_);
    CHECK_EQ(W(&t, "fd_read", 0, IOV, 1, RES), EFAULT_);
    CHECK_EQ(W(&t, "fd_seek", 1, 0, 0, RES), ESPIPE_);
    CHECK_EQ(W(&t, "fd_tell", 0, RES), ESPIPE_);
    CHECK_EQ(W(&t, "fd_pread", 0, IOV, 1, 0, RES), ESPIPE_);
    CHECK_EQ(W(&t, "fd_fdstat_get", 1, RES), 0);
    size_t msz;
    uint8_t *m = wt_mem(&t, &msz);
    CHECK_EQ(m[RES], 2); /* character device */
    CHECK(wt_u64(&t, RES + 8) & R_WRITE);
    CHECK_EQ(W(&t, "fd_fdstat_get", 1, BAD), EFAULT_);
    CHECK_EQ(W(&t, "fd_fdstat_get", 42, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_filestat_get", 2, RES), 0);
    CHECK_EQ(m[RES + 16], 2);
    wt_free(&t);

    /* callback delivery */
    cfg.on_output = on_output;
    cfg.output_user = NULL;
    t = wt_new(&cfg);
    CHECK_EQ(write_str(&t, 1, "out"), 0);
    CHECK_EQ(write_str(&t, 2, "err"), 0);
    CHECK_EQ(cb_calls, 2);
    CHECK(strcmp(cb_text, "1:out;2:err;") == 0);
    wt_free(&t);
}

static void test_prestat(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    CHECK_EQ(W(&t, "fd_prestat_get", 3, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 0);
    CHECK_EQ(wt_u32(&t, RES + 4), 8);
    CHECK_EQ(W(&t, "fd_prestat_dir_name", 3, BUF, 8), 0);
    size_t size;
    CHECK(memcmp(wt_mem(&t, &size) + BUF, "/sandbox", 8) == 0);
    CHECK_EQ(W(&t, "fd_prestat_dir_name", 3, BUF, 4), ENAMETOOLONG_);
    CHECK_EQ(W(&t, "fd_prestat_dir_name", 3, BAD, 8), EFAULT_);
    CHECK_EQ(W(&t, "fd_prestat_get", 4, RES), 0);
    CHECK_EQ(wt_u32(&t, RES + 4), 3);
    CHECK_EQ(W(&t, "fd_prestat_get", 5, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_prestat_get", 1, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_prestat_get", 3, BAD), EFAULT_);
    wt_free(&t);
}

static void test_files(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    uint32_t fd;
    CHECK_EQ(open_at(&t, 3, "f.txt", O_CREAT_ | O_TRUNC_, R_ALL, 0, &fd), 0);
    CHECK(fd >= 5);
    CHECK_EQ(write_str(&t, fd, "hello world"), 0);
    CHECK_EQ(wt_u32(&t, RES), 11);
    CHECK_EQ(W(&t, "fd_tell", fd, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 11);
    CHECK_EQ(W(&t, "fd_tell", fd, BAD), EFAULT_);
    CHECK_EQ(W(&t, "fd_seek", fd, 0, 0, RES), 0);
    CHECK_EQ(W(&t, "fd_seek", fd, 0, 3, RES), EINVAL_);
    CHECK_EQ(W(&t, "fd_seek", fd, (uint64_t)-100, 1, RES), EINVAL_);
    CHECK_EQ(W(&t, "fd_seek", fd, 0, 0, BAD), EFAULT_);
    wt_iov(&t, IOV, BUF, 5);
    CHECK_EQ(W(&t, "fd_read", fd, IOV, 1, RES), 0);
    size_t size;
    uint8_t *m = wt_mem(&t, &size);
    CHECK(wt_u32(&t, RES) == 5 && memcmp(m + BUF, "hello", 5) == 0);
    CHECK_EQ(W(&t, "fd_seek", fd, (uint64_t)-2, 2, RES), 0);
    CHECK_EQ(wt_u64(&t, RES), 9);
    CHECK_EQ(W(&t, "fd_pread", fd, IOV, 1, 6, RES), 0);
    CHECK(wt_u32(&t, RES) == 5 && memcmp(m + BUF, "world", 5) == 0);
    CHECK_EQ(W(&t, "fd_pread", fd, IOV, 1, (uint64_t)-1, RES), EINVAL_);
    wt_str(&t, BUF, "HELLO");
    CHECK_EQ(W(&t, "fd_pwrite", fd, IOV, 1, 0, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 5);
    char *text = wt_read_text(root, "f.txt");
    CHECK(text && strcmp(text, "HELLO world") == 0);
    free(text);
    CHECK_EQ(W(&t, "fd_filestat_get", fd, RES), 0);
    CHECK_EQ(m[RES + 16], 4);
    CHECK_EQ(wt_u64(&t, RES + 32), 11);
    CHECK_EQ(W(&t, "fd_filestat_get", fd, BAD), EFAULT_);
    CHECK_EQ(W(&t, "fd_filestat_set_size", fd, 5), 0);
    CHECK_EQ(W(&t, "fd_filestat_get", fd, RES), 0);
    CHECK_EQ(wt_u64(&t, RES + 32), 5);
    CHECK_EQ(W(&t, "fd_allocate", fd, 0, 100), 0);
    CHECK_EQ(W(&t, "fd_filestat_get", fd, RES), 0);
    CHECK_EQ(wt_u64(&t, RES + 32), 100);
    CHECK_EQ(W(&t, "fd_filestat_set_size", fd, 5), 0);
    CHECK_EQ(W(&t, "fd_advise", fd, 0, 0, 1), 0);
    CHECK_EQ(W(&t, "fd_advise", fd, 0, 0, 9), EINVAL_);
    CHECK_EQ(W(&t, "fd_sync", fd), 0);
    CHECK_EQ(W(&t, "fd_datasync", fd), 0);
    CHECK_EQ(W(&t, "fd_sync", 77), EBADF_);
    CHECK_EQ(W(&t, "fd_filestat_set_times", fd, 1000000000ull, 2000000000ull, 1 | 4), 0);
    CHECK_EQ(W(&t, "fd_filestat_get", fd, RES), 0);
    CHECK_EQ(wt_u64(&t, RES + 48), 2000000000ull);
    CHECK_EQ(W(&t, "fd_filestat_set_times", fd, 0, 0, 1 | 2), EINVAL_);

    /* append flag */
    CHECK_EQ(W(&t, "fd_fdstat_set_flags", fd, 1), 0);
    CHECK_EQ(W(&t, "fd_seek", fd, 0, 0, RES), 0);
    CHECK_EQ(write_str(&t, fd, "!"), 0);
    text = wt_read_text(root, "f.txt");
    CHECK(text && strcmp(text, "HELLO!") == 0);
    free(text);
    CHECK_EQ(W(&t, "fd_fdstat_get", fd, RES), 0);
    CHECK_EQ(m[RES + 2], 1);
    CHECK_EQ(W(&t, "fd_fdstat_set_flags", fd, 64), EINVAL_);

    /* rights only shrink; a descriptor without FD_WRITE cannot write */
    CHECK_EQ(W(&t, "fd_fdstat_set_rights", fd, R_READ | R_SEEK | R_TELL, 0), 0);
    CHECK_EQ(write_str(&t, fd, "x"), EBADF_);
    CHECK_EQ(W(&t, "fd_fdstat_set_rights", fd, R_ALL, 0), ENOTCAPABLE_);
    CHECK_EQ(W(&t, "fd_filestat_set_size", fd, 0), EBADF_);

    /* renumber and close */
    uint32_t fd2;
    CHECK_EQ(open_at(&t, 3, "f.txt", 0, R_READ | R_SEEK, 0, &fd2), 0);
    CHECK_EQ(W(&t, "fd_renumber", fd2, fd), 0);
    CHECK_EQ(W(&t, "fd_read", fd2, IOV, 1, RES), EBADF_);
    wt_iov(&t, IOV, BUF, 6);
    CHECK_EQ(W(&t, "fd_read", fd, IOV, 1, RES), 0);
    CHECK(wt_u32(&t, RES) == 6 && memcmp(m + BUF, "HELLO!", 6) == 0);
    CHECK_EQ(write_str(&t, fd, "x"), EBADF_); /* opened read-only */
    CHECK_EQ(W(&t, "fd_renumber", fd, 99), EBADF_);
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    CHECK_EQ(W(&t, "fd_close", fd), EBADF_);

    /* missing files and wrong kinds */
    CHECK_EQ(open_at(&t, 3, "nope.txt", 0, R_READ, 0, NULL), ENOENT_);
    CHECK_EQ(open_at(&t, 3, "f.txt", O_CREAT_ | O_EXCL_, R_ALL, 0, NULL), EEXIST_);
    CHECK_EQ(open_at(&t, 3, "f.txt", O_DIR_, R_READ, 0, NULL), ENOTDIR_);
    CHECK_EQ(open_at(&t, 3, "f.txt/x", 0, R_READ, 0, NULL), ENOTDIR_);
    CHECK_EQ(open_at(&t, 1, "f.txt", 0, R_READ, 0, NULL), ENOTDIR_);
    CHECK_EQ(open_at(&t, 50, "f.txt", 0, R_READ, 0, NULL), EBADF_);
    CHECK_EQ(open_at(&t, 3, "", 0, R_READ, 0, NULL), ENOENT_);
    CHECK_EQ(W(&t, "path_open", 3, 0, BAD, 4, 0, R_READ, 0, 0, RES), EFAULT_);
    CHECK_EQ(W(&t, "path_open", 3, 0, PATH, 5, 0, R_READ, 0, 0, BAD), EFAULT_);
    CHECK_EQ(W(&t, "path_open", 3, 0, PATH, 5, 64, R_READ, 0, 0, RES), EINVAL_);
    /* a FIFO in the tree does not block the open (no writer: EOF) */
    char fifo[400];
    snprintf(fifo, sizeof fifo, "%s/fifo", root);
    CHECK(mkfifo(fifo, 0644) == 0);
    CHECK_EQ(open_at(&t, 3, "fifo", 0, R_READ, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_fdstat_get", fd, RES), 0);
    CHECK_EQ(m[RES + 2], 0); /* not left non-blocking */
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    unlink(fifo);
    uint32_t dfd;
    CHECK_EQ(open_at(&t, 3, ".", O_DIR_, R_DIR, 0, &dfd), 0);
    wt_iov(&t, IOV, BUF, 4);
    CHECK_EQ(W(&t, "fd_read", dfd, IOV, 1, RES), EISDIR_);
    CHECK_EQ(W(&t, "fd_seek", dfd, 0, 0, RES), EBADF_);
    CHECK_EQ(W(&t, "fd_close", dfd), 0);
    wt_free(&t);
}

/* Names in a readdir buffer of used bytes (complete entries only). */
static int dir_names(wt *t, uint32_t buf, uint32_t used, char names[][32], int max,
                     uint64_t *last_cookie)
{
    size_t size;
    uint8_t *m = wt_mem(t, &size) + buf;
    int n = 0;
    uint32_t at = 0;
    while (at + 24 <= used && n < max) {
        uint32_t len;
        memcpy(&len, m + at + 16, 4);
        if (at + 24 + len > used)
            break;
        memcpy(last_cookie, m + at, 8);
        snprintf(names[n++], 32, "%.*s", (int)len, (char *)m + at + 24);
        at += 24 + len;
    }
    return n;
}

static void test_readdir(void)
{
    char d[300];
    snprintf(d, sizeof d, "%s/list", root);
    mkdir(d, 0755);
    wt_write_file(d, "one", "1");
    wt_write_file(d, "two", "22");
    mkdir(strcat(strcpy((char[320]){0}, d), "/three"), 0755);
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    uint32_t fd;
    CHECK_EQ(open_at(&t, 3, "list", O_DIR_, R_DIR, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_readdir", fd, BUF, 4096, 0, RES), 0);
    uint32_t used = wt_u32(&t, RES);
    char names[16][32];
    uint64_t cookie = 0;
    int n = dir_names(&t, BUF, used, names, 16, &cookie);
    CHECK_EQ(n, 5);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], ".") == 0) seen |= 1;
        if (strcmp(names[i], "..") == 0) seen |= 2;
        if (strcmp(names[i], "one") == 0) seen |= 4;
        if (strcmp(names[i], "two") == 0) seen |= 8;
        if (strcmp(names[i], "three") == 0) seen |= 16;
    }
    CHECK_EQ(seen, 31);
    /* a small buffer is filled completely; the cookie resumes */
    CHECK_EQ(W(&t, "fd_readdir", fd, BUF, 30, 0, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 30);
    n = dir_names(&t, BUF, 30, names, 16, &cookie);
    CHECK_EQ(n, 1);
    int total = n;
    for (int round = 0; round < 10; round++) {
        CHECK_EQ(W(&t, "fd_readdir", fd, BUF, 60, cookie, RES), 0);
        used = wt_u32(&t, RES);
        if (used == 0)
            break;
        total += dir_names(&t, BUF, used, names, 16, &cookie);
    }
    CHECK_EQ(total, 5);
    CHECK_EQ(W(&t, "fd_readdir", fd, BUF, 100, 1000, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 0);
    CHECK_EQ(W(&t, "fd_readdir", fd, BAD, 100, 0, RES), EFAULT_);
    CHECK_EQ(W(&t, "fd_readdir", fd, BUF, 100, 0, BAD), EFAULT_);
    CHECK_EQ(W(&t, "fd_readdir", 1, BUF, 100, 0, RES), ENOTDIR_);
    CHECK_EQ(W(&t, "fd_readdir", 66, BUF, 100, 0, RES), EBADF_);
    wt_free(&t);
}

static void test_paths(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    uint32_t n;
    n = wt_str(&t, PATH, "newdir");
    CHECK_EQ(W(&t, "path_create_directory", 3, PATH, n), 0);
    CHECK(wt_exists(root, "newdir"));
    CHECK_EQ(W(&t, "path_create_directory", 3, PATH, n), EEXIST_);
    CHECK_EQ(W(&t, "path_create_directory", 3, BAD, n), EFAULT_);
    CHECK_EQ(W(&t, "path_create_directory", 9, PATH, n), EBADF_);
    uint32_t fd;
    CHECK_EQ(open_at(&t, 3, "newdir/file", O_CREAT_, R_ALL, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    n = wt_str(&t, PATH, "newdir");
    CHECK_EQ(W(&t, "path_remove_directory", 3, PATH, n), ENOTEMPTY_);
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH, n), EISDIR_);
    n = wt_str(&t, PATH, "newdir/file");
    CHECK_EQ(W(&t, "path_remove_directory", 3, PATH, n), ENOTDIR_);
    /* rename */
    uint32_t n2 = wt_str(&t, PATH + 256, "newdir/renamed");
    CHECK_EQ(W(&t, "path_rename", 3, PATH, n, 3, PATH + 256, n2), 0);
    CHECK(!wt_exists(root, "newdir/file") && wt_exists(root, "newdir/renamed"));
    CHECK_EQ(W(&t, "path_rename", 3, PATH, n, 3, PATH + 256, n2), ENOENT_);
    /* symlink, readlink, filestat follow / nofollow */
    n = wt_str(&t, PATH, "renamed");
    n2 = wt_str(&t, PATH + 256, "newdir/link");
    CHECK_EQ(W(&t, "path_symlink", PATH, n, 3, PATH + 256, n2), 0);
    CHECK_EQ(W(&t, "path_readlink", 3, PATH + 256, n2, BUF, 64, RES), 0);
    size_t size;
    uint8_t *m = wt_mem(&t, &size);
    CHECK(wt_u32(&t, RES) == 7 && memcmp(m + BUF, "renamed", 7) == 0);
    CHECK_EQ(W(&t, "path_readlink", 3, PATH + 256, n2, BUF, 3, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 3);
    CHECK_EQ(W(&t, "path_readlink", 3, PATH + 256, n2, BAD, 3, RES), EFAULT_);
    CHECK_EQ(W(&t, "path_filestat_get", 3, 0, PATH + 256, n2, RES), 0);
    CHECK_EQ(m[RES + 16], 7);
    CHECK_EQ(W(&t, "path_filestat_get", 3, FOLLOW, PATH + 256, n2, RES), 0);
    CHECK_EQ(m[RES + 16], 4);
    CHECK_EQ(W(&t, "path_filestat_get", 3, FOLLOW, PATH + 256, n2, BAD), EFAULT_);
    n = wt_str(&t, PATH, "newdir/nothing");
    CHECK_EQ(W(&t, "path_filestat_get", 3, 0, PATH, n, RES), ENOENT_);
    CHECK_EQ(W(&t, "path_readlink", 3, PATH, n, BUF, 64, RES), ENOENT_);
    n = wt_str(&t, PATH, "newdir/renamed");
    CHECK_EQ(W(&t, "path_readlink", 3, PATH, n, BUF, 64, RES), EINVAL_);
    /* nofollow open of a link */
    n = wt_str(&t, PATH, "newdir/link");
    CHECK_EQ(W(&t, "path_open", 3, 0, PATH, n, 0, R_READ, 0, 0, RES), ELOOP_);
    CHECK_EQ(W(&t, "path_open", 3, FOLLOW, PATH, n, 0, R_READ, 0, 0, RES), 0);
    /* hard link */
    n = wt_str(&t, PATH, "newdir/renamed");
    n2 = wt_str(&t, PATH + 256, "hard");
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH, n, 3, PATH + 256, n2), 0);
    CHECK_EQ(W(&t, "path_filestat_get", 3, 0, PATH + 256, n2, RES), 0);
    CHECK_EQ(wt_u64(&t, RES + 24), 2);
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH, n, 3, PATH + 256, n2), EEXIST_);
    /* times */
    CHECK_EQ(W(&t, "path_filestat_set_times", 3, 0, PATH + 256, n2, 0, 3000000000ull, 4), 0);
    CHECK_EQ(W(&t, "path_filestat_get", 3, 0, PATH + 256, n2, RES), 0);
    CHECK_EQ(wt_u64(&t, RES + 48), 3000000000ull);
    CHECK_EQ(W(&t, "path_filestat_set_times", 3, 0, PATH + 256, n2, 0, 0, 12), EINVAL_);
    /* unlink, rmdir */
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH + 256, n2), 0);
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH + 256, n2), ENOENT_);
    n = wt_str(&t, PATH, "newdir/link");
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH, n), 0);
    n = wt_str(&t, PATH, "newdir/renamed");
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH, n), 0);
    n = wt_str(&t, PATH, "newdir/");
    CHECK_EQ(W(&t, "path_remove_directory", 3, PATH, n), 0);
    CHECK(!wt_exists(root, "newdir"));
    n = wt_str(&t, PATH, ".");
    CHECK(W(&t, "path_remove_directory", 3, PATH, n) != 0);
    wt_free(&t);
}

/* The cases of the official WASI test suite (path_link,
 * path_symlink_trailing_slashes, path_open_preopen, truncation_rights). */
static void test_suite_cases(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    uint32_t fd, n, n2;
    CHECK_EQ(open_at(&t, 3, "conf", O_CREAT_, R_ALL, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    /* a link or symlink named "x/" names a directory: never created */
    n = wt_str(&t, PATH, "conf");
    n2 = wt_str(&t, PATH + 256, "conf-link/");
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH, n, 3, PATH + 256, n2), ENOENT_);
    CHECK_EQ(W(&t, "path_symlink", PATH, n, 3, PATH + 256, n2), ENOENT_);
    CHECK(!wt_exists(root, "conf-link"));
    n2 = wt_str(&t, PATH + 256, "conf/");
    CHECK_EQ(W(&t, "path_symlink", PATH, n, 3, PATH + 256, n2), ENOTDIR_);
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH + 256, n2, 3, PATH, n), ENOTDIR_);
    n2 = wt_str(&t, PATH + 256, "conf-dir/");
    CHECK_EQ(W(&t, "path_create_directory", 3, PATH + 256, n2), 0);
    CHECK_EQ(W(&t, "path_symlink", PATH, n, 3, PATH + 256, n2), EEXIST_);
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH, n, 3, PATH + 256, n2), EEXIST_);
    CHECK_EQ(W(&t, "path_remove_directory", 3, PATH + 256, n2), 0);
    n2 = wt_str(&t, PATH + 256, "conf-link");
    CHECK_EQ(W(&t, "path_link", 3, 0, PATH, n, 3, PATH + 256, n2), 0);
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH + 256, n2), 0);
    /* a directory opened for writing: EISDIR; for reading: fine */
    CHECK_EQ(open_at(&t, 3, ".", O_DIR_, R_READ | R_WRITE, 0, NULL), EISDIR_);
    CHECK_EQ(open_at(&t, 3, "conf", O_DIR_, R_READ | R_WRITE, 0, NULL), ENOTDIR_);
    CHECK_EQ(open_at(&t, 3, ".", O_DIR_, R_READ, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    CHECK_EQ(open_at(&t, 3, ".", O_DIR_, R_DIR, 0, &fd), 0);
    CHECK_EQ(W(&t, "fd_close", fd), 0);
    /* truncating takes path_filestat_set_size from the directory and
     * fd_filestat_set_size from the file */
    uint32_t dfd, ffd;
    CHECK_EQ(open_at(&t, 3, ".", O_DIR_, R_DIR, 0, &dfd), 0);
    CHECK_EQ(open_at(&t, 3, "conf", 0, R_WRITE, 0, &ffd), 0);
    CHECK_EQ(write_str(&t, ffd, "12345"), 0);
    CHECK_EQ(W(&t, "fd_close", ffd), 0);
    const uint64_t path_size = 1ull << 19, fd_size = 1ull << 22;
    CHECK_EQ(W(&t, "fd_fdstat_get", dfd, RES), 0);
    uint64_t dir_rights = wt_u64(&t, RES + 8), dir_inheriting = wt_u64(&t, RES + 16);
    CHECK((dir_rights & path_size) && !(dir_rights & fd_size));
    CHECK_EQ(W(&t, "fd_fdstat_set_rights", dfd, dir_rights & ~path_size, dir_inheriting), 0);
    CHECK_EQ(open_at(&t, dfd, "conf", O_TRUNC_, 0, 0, NULL), ENOTCAPABLE_);
    char *text = wt_read_text(root, "conf");
    CHECK(text && strcmp(text, "12345") == 0);
    free(text);
    CHECK_EQ(open_at(&t, 3, "conf", 0, R_WRITE, 0, &ffd), 0);
    CHECK_EQ(W(&t, "fd_fdstat_set_rights", ffd, R_WRITE, 0), 0);
    CHECK_EQ(W(&t, "fd_filestat_set_size", ffd, 1), ENOTCAPABLE_);
    CHECK_EQ(W(&t, "fd_close", ffd), 0);
    CHECK_EQ(open_at(&t, 3, "conf", O_TRUNC_, 0, 0, NULL), 0);
    CHECK_EQ(open_at(&t, 3, "conf", 0, R_WRITE | fd_size, 0, &ffd), 0);
    CHECK_EQ(W(&t, "fd_filestat_set_size", ffd, 3), 0);
    CHECK_EQ(W(&t, "fd_close", ffd), 0);
    text = wt_read_text(root, "conf");
    CHECK(text && memcmp(text, "\0\0\0", 4) == 0);
    free(text);
    CHECK_EQ(W(&t, "fd_close", dfd), 0);
    n = wt_str(&t, PATH, "conf");
    CHECK_EQ(W(&t, "path_unlink_file", 3, PATH, n), 0);
    wt_free(&t);
}

static void test_read_only(void)
{
    wt_write_file(rodir, "data.txt", "read me");
    wasmplug_wasi_config cfg = base_cfg();
    wt t = wt_new(&cfg);
    uint32_t fd, n, n2;
    CHECK_EQ(open_at(&t, 4, "data.txt", 0, R_READ | R_SEEK, 0, &fd), 0);
    wt_iov(&t, IOV, BUF, 7);
    CHECK_EQ(W(&t, "fd_read", fd, IOV, 1, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 7);
    CHECK_EQ(write_str(&t, fd, "x"), EBADF_);
    CHECK_EQ(W(&t, "fd_filestat_set_size", fd, 0), EBADF_);
    CHECK_EQ(W(&t, "fd_allocate", fd, 0, 10), EBADF_);
    CHECK_EQ(open_at(&t, 4, "data.txt", 0, R_READ | R_WRITE, 0, NULL), EROFS_);
    CHECK_EQ(open_at(&t, 4, "data.txt", O_TRUNC_, R_READ, 0, NULL), EROFS_);
    CHECK_EQ(open_at(&t, 4, "new.txt", O_CREAT_, R_READ, 0, NULL), EROFS_);
    CHECK_EQ(open_at(&t, 4, "data.txt", 0, R_READ, 1 /* append */, NULL), EROFS_);
    n = wt_str(&t, PATH, "sub");
    CHECK_EQ(W(&t, "path_create_directory", 4, PATH, n), EROFS_);
    n = wt_str(&t, PATH, "data.txt");
    CHECK_EQ(W(&t, "path_unlink_file", 4, PATH, n), EROFS_);
    n2 = wt_str(&t, PATH + 256, "moved.txt");
    CHECK_EQ(W(&t, "path_rename", 4, PATH, n, 4, PATH + 256, n2), EROFS_);
    CHECK_EQ(W(&t, "path_rename", 4, PATH, n, 3, PATH + 256, n2), EROFS_); /* out of ro into rw */
    CHECK_EQ(W(&t, "path_link", 4, 0, PATH, n, 3, PATH + 256, n2), EROFS_);
    CHECK_EQ(W(&t, "path_symlink", PATH, n, 4, PATH + 256, n2), EROFS_);
    CHECK_EQ(W(&t, "path_remove_directory", 4, PATH, n), EROFS_);
    CHECK_EQ(W(&t, "path_filestat_set_times", 4, 0, PATH, n, 0, 0, 8), EROFS_);
    CHECK_EQ(W(&t, "fd_filestat_set_times", fd, 0, 0, 8), EROFS_);
    /* a directory opened inside stays read-only */
    uint32_t dfd;
    CHECK_EQ(open_at(&t, 4, ".", O_DIR_, R_DIR, 0, &dfd), 0);
    CHECK_EQ(open_at(&t, dfd, "x", O_CREAT_, R_ALL, 0, NULL), EROFS_);
    char *text = wt_read_text(rodir, "data.txt");
    CHECK(text && strcmp(text, "read me") == 0);
    free(text);
    CHECK(!wt_exists(rodir, "new.txt") && !wt_exists(rodir, "sub"));
    CHECK(!wt_exists(root, "moved.txt"));
    wt_free(&t);
}

static void test_poll_misc(void)
{
    wasmplug_wasi_config cfg = base_cfg();
    cfg.stdin_data = (const uint8_t *)"abc";
    cfg.stdin_len = 3;
    cfg.deterministic = true;
    wt t = wt_new(&cfg);
    size_t size;
    uint8_t *m = wt_mem(&t, &size);
    /* stdin readable now, and a clock: only the fd event fires */
    memset(m + 0x400, 0, 96);
    wt_set64(&t, 0x400, 1);
    m[0x400 + 8] = 1; /* fd_read */
    wt_set32(&t, 0x400 + 16, 0);
    wt_set64(&t, 0x430, 2);
    m[0x430 + 8] = 0; /* clock */
    wt_set32(&t, 0x430 + 16, 1);
    wt_set64(&t, 0x430 + 24, 1000000);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 2, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 1);
    CHECK_EQ(wt_u64(&t, 0x500), 1);
    CHECK_EQ(m[0x500 + 10], 1);
    CHECK_EQ(wt_u64(&t, 0x500 + 16), 3);
    /* stdout writable; a bad fd reports EBADF in its event */
    memset(m + 0x400, 0, 96);
    m[0x400 + 8] = 2;
    wt_set32(&t, 0x400 + 16, 1);
    wt_set64(&t, 0x430, 9);
    m[0x430 + 8] = 1;
    wt_set32(&t, 0x430 + 16, 55);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 2, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 2);
    CHECK_EQ(m[0x520 + 8], EBADF_);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 0, RES), EINVAL_);
    CHECK_EQ(W(&t, "poll_oneoff", BAD, 0x500, 1, RES), EFAULT_);
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 1, BAD), EFAULT_);
    /* absolute clock in the past fires at once */
    memset(m + 0x400, 0, 48);
    wt_set32(&t, 0x400 + 16, 0);
    m[0x400 + 40] = 1; /* abstime */
    CHECK_EQ(W(&t, "poll_oneoff", 0x400, 0x500, 1, RES), 0);
    CHECK_EQ(wt_u32(&t, RES), 1);

    CHECK_EQ(wt_callv(&t, "sched_yield", NULL, 0), 0);
    CHECK_EQ(W(&t, "proc_raise", 6), ENOSYS_);
    /* no descriptor is a socket (the WASI test suite's sock_shutdown-not_sock) */
    CHECK_EQ(W(&t, "sock_accept", 1, 0, RES), ENOTSOCK_);
    CHECK_EQ(W(&t, "sock_recv", 3, IOV, 1, 0, RES, RES + 4), ENOTSOCK_);
    CHECK_EQ(W(&t, "sock_send", 1, IOV, 1, 0, RES), ENOTSOCK_);
    CHECK_EQ(W(&t, "sock_shutdown", 1, 0), ENOTSOCK_);
    CHECK_EQ(W(&t, "sock_shutdown", 77, 0), EBADF_);
    /* proc_exit ends the call with its code, as a trap of kind EXIT */
    CHECK_EQ(W(&t, "proc_exit", 42), -1);
    CHECK_STATUS(t.err.status, WASMPLUG_ERR_TRAP);
    CHECK_EQ(t.err.trap, WASMPLUG_TRAP_EXIT);
    CHECK_EQ(t.err.exit_code, 42);
    wt_free(&t);
    CHECK(strcmp(wasmplug_wasi_errno_name(76), "ENOTCAPABLE") == 0);
    CHECK(strcmp(wasmplug_wasi_errno_name(8), "EBADF") == 0);
    CHECK(strcmp(wasmplug_wasi_errno_name(500), "E?") == 0);
}

static void test_commands(void)
{
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    wasmplug_wasi_ctx *ctx;
    wasmplug_error err;
    int32_t code = -5;
    /* exit code from proc_exit, output captured */
    wasmplug_module *m = wt_module("cmd_exit");
    CHECK_STATUS(wasmplug_wasi_new(wt_engine, &cfg, &ctx, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_wasi_run_command(ctx, m, NULL, &code, &err), WASMPLUG_OK);
    CHECK_EQ(code, 42);
    const uint8_t *out;
    size_t len;
    wasmplug_wasi_output(ctx, 1, &out, &len, NULL);
    CHECK(len == 3 && memcmp(out, "hi\n", 3) == 0);
    wasmplug_wasi_free(ctx);
    wasmplug_module_free(m);
    /* returning from _start is exit code 0 */
    m = wt_module("cmd_return");
    CHECK_STATUS(wasmplug_wasi_new(wt_engine, &cfg, &ctx, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_wasi_run_command(ctx, m, NULL, &code, &err), WASMPLUG_OK);
    CHECK_EQ(code, 0);
    /* limits apply: fuel */
    wasmplug_instance_config icfg;
    memset(&icfg, 0, sizeof icfg);
    icfg.fuel = 1000;
    wasmplug_module *spin = wt_module("cmd_spin");
    CHECK_STATUS(wasmplug_wasi_run_command(ctx, spin, &icfg, &code, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
    wasmplug_module_free(spin);
    wasmplug_wasi_free(ctx);
    wasmplug_module_free(m);
    /* linking: a non-WASI import, an unknown WASI function, a wrong type */
    CHECK_STATUS(wasmplug_wasi_new(wt_engine, &cfg, &ctx, &err), WASMPLUG_OK);
    const char *bad[] = {"link_other", "link_unknown", "link_type"};
    for (int i = 0; i < 3; i++) {
        m = wt_module(bad[i]);
        CHECK_STATUS(wasmplug_wasi_run_command(ctx, m, NULL, &code, &err), WASMPLUG_ERR_LINK);
        wasmplug_module_free(m);
    }
    CHECK_CONTAINS(err.message, "fd_write");
    /* a reactor has no _start */
    m = wt_module("shim");
    CHECK_STATUS(wasmplug_wasi_run_command(ctx, m, NULL, &code, &err), WASMPLUG_ERR_NOT_FOUND);
    wasmplug_module_free(m);
    wasmplug_wasi_free(ctx);
    wasmplug_functype ft;
    CHECK(wasmplug_wasi_function("path_open", 9, &ft) && ft.param_count == 9 &&
          ft.params[5] == WASMPLUG_I64 && ft.result_count == 1);
    CHECK(wasmplug_wasi_function("proc_exit", 9, &ft) && ft.result_count == 0);
    CHECK(!wasmplug_wasi_function("fd_nothing", 10, NULL));
}

int main(int argc, char **argv)
{
    wt_engine = test_engine_with(test_bounds(&argc, argv), NULL, NULL);
    snprintf(root, sizeof root, "/tmp/wasi-test-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(rodir, sizeof rodir, "%s-ro", root);
    mkdir(rodir, 0755);
    test_args_env();
    test_clocks_random();
    test_stdio();
    test_prestat();
    test_files();
    test_readdir();
    test_paths();
    test_suite_cases();
    test_read_only();
    test_poll_misc();
    test_commands();
    wt_rm_rf(root);
    wt_rm_rf(rodir);
    wasmplug_engine_free(wt_engine);
    return test_done();
}
