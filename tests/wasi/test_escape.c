/*
 * test_escape.c - the sandbox escape suite: every way out of a preopened
 * directory is refused and nothing outside is read, created, changed or
 * removed: ".." chains, absolute paths, symbolic links pointing outside
 * (relative, absolute, through directories), symlink loops, rename and
 * link out of (or into) the sandbox, creating links that point outside,
 * directories opened inside acting as their own sandbox, and a symbolic
 * link swapped in by another thread between check and use.
 *
 * Layout (host):  T/outside/secret.txt       "SECRET"
 *                 T/outside/dir/             (must stay empty)
 *                 T/sb/  (preopen "/sb", fd 3)  a.txt "inside", sub/, links
 */
#include "wasi_test.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#define RES 0x100u
#define PATH 0x1000u
#define PATH2 0x1800u
#define BUF 0x2000u
#define IOV 0x800u
enum { EEXIST_ = 20, ELOOP_ = 32, ENOENT_ = 44, ENOTCAPABLE_ = 76 };
#define CHECK_EQ_R(a, b) CHECK((a) == (b))

static char T[256], sb[300], outside[300];

static int32_t try_open(wt *t, uint32_t dirfd, const char *path, uint32_t lookup,
                        uint32_t oflags, uint64_t rights)
{
    uint32_t n = wt_str(t, PATH, path);
    int32_t r = W(t, "path_open", dirfd, lookup, PATH, n, oflags, rights, R_ALL, 0, RES);
    if (r == 0)
        W(t, "fd_close", wt_u32(t, RES));
    return r;
}

/* A fingerprint of everything outside the sandbox: names and sizes. */
static void fingerprint(const char *dir, char *out, size_t size)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -printf '%%p %%s %%T@\\n' | sort", dir);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, size - 1, p) : 0;
    out[n] = 0;
    if (p)
        pclose(p);
}

static void host_symlink(const char *target, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", sb, name);
    unlink(p);
    if (symlink(target, p) != 0)
        printf("warning: symlink %s failed\n", p);
}

static wt sandbox(void)
{
    static wasmplug_wasi_preopen dir;
    dir = (wasmplug_wasi_preopen){sb, "/sb", false};
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    cfg.preopens = &dir;
    cfg.preopen_count = 1;
    return wt_new(&cfg);
}

static void test_dotdot_and_absolute(wt *t)
{
    static const char *paths[] = {
        "..", "../", "../outside/secret.txt", "./../outside/secret.txt",
        "sub/../../outside/secret.txt", "sub/./../../outside/secret.txt",
        "sub/deeper/../../../outside/secret.txt", "a.txt/../../outside/secret.txt",
        "sub/..//../outside/secret.txt", "/etc/passwd", "/", "//etc/passwd",
        "/sb/a.txt", "sub/../../sb/a.txt"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int32_t r = try_open(t, 3, paths[i], FOLLOW, 0, R_READ);
        if (!CHECK(r == ENOTCAPABLE_ || r == ENOENT_ || r == 54 /* ENOTDIR */))
            printf("     path '%s' gave %d\n", paths[i], r);
        r = try_open(t, 3, paths[i], 0, 0, R_READ);
        if (!CHECK(r != 0))
            printf("     path '%s' opened without following links\n", paths[i]);
    }
    /* the escapes proper say ENOTCAPABLE */
    CHECK_EQ(try_open(t, 3, "../outside/secret.txt", FOLLOW, 0, R_READ), ENOTCAPABLE_);
    CHECK_EQ(try_open(t, 3, "/etc/passwd", FOLLOW, 0, R_READ), ENOTCAPABLE_);
    /* a long chain: 60 levels down, 61 up */
    char chain[1024] = "";
    for (int i = 0; i < 60; i++)
        strcat(chain, "sub/");
    char longp[2048];
    snprintf(longp, sizeof longp, "%s", chain);
    for (int i = 0; i < 61; i++)
        strcat(longp, "../");
    strcat(longp, "outside/secret.txt");
    CHECK_EQ(try_open(t, 3, longp, FOLLOW, 0, R_READ), ENOTCAPABLE_);
    longp[strlen(chain) + 3 * 60] = 0; /* 60 up: back at the base */
    strcat(longp, "a.txt");
    CHECK_EQ(try_open(t, 3, longp, FOLLOW, 0, R_READ), 0);
    /* inside, ".." is fine */
    CHECK_EQ(try_open(t, 3, "sub/../a.txt", FOLLOW, 0, R_READ), 0);
    CHECK_EQ(try_open(t, 3, "sub/deeper/../../a.txt", FOLLOW, 0, R_READ), 0);
    /* every path function refuses the same escapes */
    uint32_t n = wt_str(t, PATH, "../outside/secret.txt");
    uint32_t n2 = wt_str(t, PATH2, "stolen.txt");
    CHECK_EQ(W(t, "path_filestat_get", 3, FOLLOW, PATH, n, BUF), ENOTCAPABLE_);
    CHECK_EQ(W(t, "path_unlink_file", 3, PATH, n), ENOTCAPABLE_);
    CHECK_EQ(W(t, "path_readlink", 3, PATH, n, BUF, 64, RES), ENOTCAPABLE_);
    CHECK_EQ(W(t, "path_filestat_set_times", 3, 0, PATH, n, 0, 0, 8), ENOTCAPABLE_);
    CHECK_EQ(W(t, "path_rename", 3, PATH, n, 3, PATH2, n2), ENOTCAPABLE_);
    CHECK_EQ(W(t, "path_link", 3, 0, PATH, n, 3, PATH2, n2), ENOTCAPABLE_);
    n = wt_str(t, PATH, "../outside/dir/new");
    CHECK_EQ(W(t, "path_create_directory", 3, PATH, n), ENOTCAPABLE_);
    CHECK_EQ(try_open(t, 3, "../outside/dir/created", FOLLOW, O_CREAT_, R_ALL), ENOTCAPABLE_);
    n = wt_str(t, PATH, "../outside/dir");
    CHECK_EQ(W(t, "path_remove_directory", 3, PATH, n), ENOTCAPABLE_);
    n = wt_str(t, PATH, "..");
    CHECK(W(t, "path_remove_directory", 3, PATH, n) != 0);
    n = wt_str(t, PATH, "sub/..");
    CHECK(W(t, "path_remove_directory", 3, PATH, n) != 0);
    CHECK(wt_exists(T, "sb"));
}

static void test_symlinks(wt *t)
{
    host_symlink("../outside/secret.txt", "rel-out");
    host_symlink("/etc/passwd", "abs-out");
    host_symlink(outside, "abs-dir");
    host_symlink("..", "up");
    host_symlink("sub/../../outside", "sneaky");
    host_symlink("../outside/dir/dangling", "dangle");
    host_symlink("loop2", "loop1");
    host_symlink("loop1", "loop2");
    host_symlink("self", "self");
    host_symlink("a.txt", "good");
    host_symlink("sub", "good-dir");
    char p[600];
    snprintf(p, sizeof p, "%s/sub/deeper/escape", sb);
    unlink(p);
    if (symlink("../../../outside/secret.txt", p) != 0)
        printf("warning: symlink failed\n");

    static const char *escapes[] = {"rel-out", "abs-out", "abs-dir/secret.txt", "up/outside/secret.txt",
                                    "sneaky/secret.txt", "sub/deeper/escape", "up", "abs-dir",
                                    "good-dir/../up/outside/secret.txt"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        int32_t r = try_open(t, 3, escapes[i], FOLLOW, 0, R_READ);
        if (!CHECK_EQ_R(r, ENOTCAPABLE_))
            printf("     '%s' gave %d\n", escapes[i], r);
        uint32_t n = wt_str(t, PATH, escapes[i]);
        r = W(t, "path_filestat_get", 3, FOLLOW, PATH, n, BUF);
        if (!CHECK_EQ_R(r, ENOTCAPABLE_))
            printf("     filestat '%s' gave %d\n", escapes[i], r);
    }
    /* creating through a dangling link that points outside */
    CHECK_EQ(try_open(t, 3, "dangle", FOLLOW, O_CREAT_, R_ALL), ENOTCAPABLE_);
    CHECK(try_open(t, 3, "dangle", 0, O_CREAT_, R_ALL) != 0);
    CHECK(!wt_exists(outside, "dir/dangling"));
    /* without following, a link is never opened (O_NOFOLLOW) */
    CHECK_EQ(try_open(t, 3, "rel-out", 0, 0, R_READ), ELOOP_);
    /* loops */
    CHECK_EQ(try_open(t, 3, "loop1", FOLLOW, 0, R_READ), ELOOP_);
    CHECK_EQ(try_open(t, 3, "self", FOLLOW, 0, R_READ), ELOOP_);
    CHECK_EQ(try_open(t, 3, "loop1/x", FOLLOW, 0, R_READ), ELOOP_);
    /* links inside the sandbox work */
    CHECK_EQ(try_open(t, 3, "good", FOLLOW, 0, R_READ), 0);
    CHECK_EQ(try_open(t, 3, "good-dir/deeper/../../a.txt", FOLLOW, 0, R_READ), 0);
    /* reading a link's text is allowed (it is not followed) */
    uint32_t n = wt_str(t, PATH, "rel-out");
    CHECK_EQ(W(t, "path_readlink", 3, PATH, n, BUF, 64, RES), 0);
    /* hard-linking an outside file through a link, with follow */
    uint32_t n2 = wt_str(t, PATH2, "copy");
    CHECK_EQ(W(t, "path_link", 3, FOLLOW, PATH, n, 3, PATH2, n2), ENOTCAPABLE_);
    CHECK(!wt_exists(sb, "copy"));
    /* unlinking a link removes the link, never its target */
    n = wt_str(t, PATH, "rel-out");
    CHECK_EQ(W(t, "path_unlink_file", 3, PATH, n), 0);
    CHECK(wt_exists(outside, "secret.txt"));
    /* creating links that point outside */
    static const char *targets[] = {"../outside/secret.txt", "/etc/passwd", "..",
                                    "sub/../../x", "sub/deeper/../../../x"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        n = wt_str(t, PATH, targets[i]);
        n2 = wt_str(t, PATH2, "made-link");
        int32_t r = W(t, "path_symlink", PATH, n, 3, PATH2, n2);
        if (!CHECK_EQ_R(r, ENOTCAPABLE_))
            printf("     symlink to '%s' gave %d\n", targets[i], r);
    }
    n = wt_str(t, PATH, "../a.txt"); /* from sub/: stays inside */
    n2 = wt_str(t, PATH2, "sub/ok-link");
    CHECK_EQ(W(t, "path_symlink", PATH, n, 3, PATH2, n2), 0);
    CHECK_EQ(try_open(t, 3, "sub/ok-link", FOLLOW, 0, R_READ), 0);
    CHECK(!wt_exists(sb, "made-link"));
}

static void test_rename_link_out(wt *t)
{
    uint32_t n = wt_str(t, PATH, "a.txt");
    static const char *dests[] = {"../stolen.txt", "../outside/dir/stolen.txt", "/tmp/stolen.txt",
                                  "up/stolen.txt", "abs-dir/stolen.txt"};
    host_symlink("..", "up");
    host_symlink(outside, "abs-dir");
    for (size_t i = 0; i < sizeof dests / sizeof dests[0]; i++) {
        uint32_t n2 = wt_str(t, PATH2, dests[i]);
        int32_t r = W(t, "path_rename", 3, PATH, n, 3, PATH2, n2);
        if (!CHECK(r != 0))
            printf("     rename to '%s' succeeded\n", dests[i]);
        r = W(t, "path_link", 3, 0, PATH, n, 3, PATH2, n2);
        if (!CHECK(r != 0))
            printf("     link to '%s' succeeded\n", dests[i]);
    }
    /* renaming "up" (a link) moves the link, not what it points to */
    CHECK(wt_exists(sb, "a.txt"));
    CHECK(!wt_exists(T, "stolen.txt") && !wt_exists(outside, "dir/stolen.txt") &&
          !wt_exists(outside, "stolen.txt"));
    /* pulling an outside file in */
    n = wt_str(t, PATH, "../outside/secret.txt");
    uint32_t n2 = wt_str(t, PATH2, "pulled.txt");
    CHECK_EQ(W(t, "path_rename", 3, PATH, n, 3, PATH2, n2), ENOTCAPABLE_);
    n = wt_str(t, PATH, "up/outside/secret.txt");
    CHECK_EQ(W(t, "path_rename", 3, PATH, n, 3, PATH2, n2), ENOTCAPABLE_);
    CHECK(!wt_exists(sb, "pulled.txt") && wt_exists(outside, "secret.txt"));
}

static void test_nested_dir_fd(wt *t)
{
    uint32_t n = wt_str(t, PATH, "sub");
    CHECK_EQ(W(t, "path_open", 3, FOLLOW, PATH, n, 2, R_DIR, R_ALL, 0, RES), 0);
    uint32_t sub = wt_u32(t, RES);
    CHECK_EQ(try_open(t, sub, "../a.txt", FOLLOW, 0, R_READ), ENOTCAPABLE_);
    CHECK_EQ(try_open(t, sub, "deeper/../../a.txt", FOLLOW, 0, R_READ), ENOTCAPABLE_);
    CHECK_EQ(try_open(t, sub, "deeper/escape", FOLLOW, 0, R_READ), ENOTCAPABLE_);
    CHECK_EQ(try_open(t, sub, "deeper/..", FOLLOW, 2, R_READ), 0);
    W(t, "fd_close", sub);
}

/* The race: another thread keeps swapping "race" between a regular file
 * inside and a link to the secret outside (rename over it, atomically);
 * likewise "racedir" between a directory inside and a link to outside.
 * Every open that succeeds must see inside content. */
static atomic_int race_stop;

static void *swapper(void *arg)
{
    (void)arg;
    char race[600], race_alt[600], racedir[600], racedir_alt[600];
    snprintf(race, sizeof race, "%s/race", sb);
    snprintf(race_alt, sizeof race_alt, "%s/.race-alt", sb);
    snprintf(racedir, sizeof racedir, "%s/racedir", sb);
    snprintf(racedir_alt, sizeof racedir_alt, "%s/.racedir-alt", sb);
    /* Only atomic exchanges: the swapper itself never writes through a link. */
    while (!atomic_load(&race_stop)) {
        renameat2(AT_FDCWD, race_alt, AT_FDCWD, race, RENAME_EXCHANGE);
        renameat2(AT_FDCWD, racedir_alt, AT_FDCWD, racedir, RENAME_EXCHANGE);
    }
    return NULL;
}

static void test_race(wt *t)
{
    char d[600];
    snprintf(d, sizeof d, "%s/racedir", sb);
    mkdir(d, 0755);
    wt_write_file(d, "secret.txt", "inside");
    wt_write_file(sb, "race", "inside");
    host_symlink("../outside/secret.txt", ".race-alt");
    host_symlink(outside, ".racedir-alt");
    atomic_store(&race_stop, 0);
    pthread_t th;
    if (!CHECK(pthread_create(&th, NULL, swapper, NULL) == 0))
        return; /* no race to run (and no thread to join) */
    int opened = 0, leaked = 0, refused = 0;
    size_t size;
    for (int i = 0; i < 20000; i++) {
        const char *path = (i & 1) ? "race" : "racedir/secret.txt";
        uint32_t n = wt_str(t, PATH, path);
        int32_t r = W(t, "path_open", 3, FOLLOW, PATH, n, 0, R_READ, 0, 0, RES);
        if (r != 0) {
            refused++;
            continue;
        }
        uint32_t fd = wt_u32(t, RES);
        wt_iov(t, IOV, BUF, 16);
        if (W(t, "fd_read", fd, IOV, 1, RES) == 0) {
            uint32_t got = wt_u32(t, RES);
            uint8_t *m = wt_mem(t, &size);
            if (got == 6 && memcmp(m + BUF, "SECRET", 6) == 0)
                leaked++;
            else
                opened++;
        }
        W(t, "fd_close", fd);
    }
    atomic_store(&race_stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ(leaked, 0);
    CHECK(opened > 0);
    printf("race: %d opens saw inside content, %d refused, %d leaked\n", opened, refused, leaked);
}

int main(int argc, char **argv)
{
    wt_engine = test_engine_with(test_bounds(&argc, argv), NULL, NULL);
    snprintf(T, sizeof T, "/tmp/wasi-escape-XXXXXX");
    if (!mkdtemp(T))
        return 1;
    snprintf(sb, sizeof sb, "%s/sb", T);
    snprintf(outside, sizeof outside, "%s/outside", T);
    mkdir(sb, 0755);
    mkdir(outside, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/dir", outside);
    mkdir(p, 0755);
    wt_write_file(outside, "secret.txt", "SECRET");
    wt_write_file(sb, "a.txt", "inside");
    snprintf(p, sizeof p, "%s/sub", sb);
    mkdir(p, 0755);
    char q[2400];
    snprintf(q, sizeof q, "%s", p);
    for (int i = 1; i < 60; i++) { /* sub/sub/.../sub, 60 levels, for the long chain */
        strcat(q, "/sub");
        mkdir(q, 0755);
    }
    snprintf(q, sizeof q, "%s/deeper", p);
    mkdir(q, 0755);

    char before[16384], after[16384];
    fingerprint(outside, before, sizeof before);
    wt t = sandbox();
    test_dotdot_and_absolute(&t);
    test_symlinks(&t);
    test_rename_link_out(&t);
    test_nested_dir_fd(&t);
    test_race(&t);
    wt_free(&t);
    fingerprint(outside, after, sizeof after);
    CHECK(strcmp(before, after) == 0); /* nothing outside touched */
    char *secret = wt_read_text(outside, "secret.txt");
    CHECK(secret && strcmp(secret, "SECRET") == 0);
    free(secret);
    wt_rm_rf(T);
    wasmplug_engine_free(wt_engine);
    return test_done();
}
