/*
 * fuzz_wasi_path.c - libFuzzer target for the WASI path resolver
 * (ww_resolve in src/wasi/wasi_path.c), the function that keeps every
 * guest path inside its preopened directory.
 *
 * A sandbox tree is built once in a temporary directory, with the links an
 * attacker would plant: to the parent, to an absolute path, to a file
 * outside, loops, dangling links, links to directories. Each input is
 * (flags byte, path bytes); the resolver must either refuse the path or
 * give a parent directory that is one of the sandbox's own directories and
 * a single component that is not "..", and (when asked to follow links) not
 * a link; and it must not leak a descriptor. Any other outcome aborts.
 *
 * Build: cmake -DWASMPLUG_FUZZ=ON with clang; run: build/fuzz/fuzz_wasi_path CORPUS_DIR
 * (fuzz/README.md).
 */
#include "wasi/wasi_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64];
static int base = -1;       /* the sandbox, as a preopen holds it */
static int lowest_free = -1; /* the descriptor open() returns when none leaked */
static struct stat inside[8];
static size_t ninside;

static void make(const char *rel, bool dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    if (dir ? mkdir(p, 0755) : close(open(p, O_CREAT | O_WRONLY, 0644)))
        abort();
}

static void link_to(const char *target, const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    if (symlink(target, p))
        abort();
}

static void remember_inside(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    if (stat(p, &inside[ninside++]))
        abort();
}

static void remove_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_wasi_path: could not remove %s\n", top);
}

static void setup(void)
{
    snprintf(top, sizeof top, "%s", "/tmp/fuzz-wasi-path-XXXXXX");
    if (!mkdtemp(top))
        abort();
    atexit(remove_tree);
    make("outside", true);
    make("outside/secret", false);
    make("sandbox", true);
    make("sandbox/a.txt", false);
    make("sandbox/sub", true);
    make("sandbox/sub/deeper", true);
    make("sandbox/sub/deeper/file", false);
    link_to("..", "sandbox/up");
    link_to("/etc", "sandbox/abs");
    link_to("../outside/secret", "sandbox/out");
    link_to("../../../outside", "sandbox/sub/deeper/escape");
    link_to("loop", "sandbox/loop");
    link_to("loopb", "sandbox/loopa");
    link_to("loopa", "sandbox/loopb");
    link_to("sub", "sandbox/dirlink");
    link_to("sub/deeper/../..", "sandbox/self");
    link_to("nothing/here", "sandbox/dangling");
    link_to("../a.txt", "sandbox/sub/rel");
    link_to("deeper/", "sandbox/sub/slash");
    remember_inside("sandbox");
    remember_inside("sandbox/sub");
    remember_inside("sandbox/sub/deeper");
    char p[256];
    snprintf(p, sizeof p, "%s/sandbox", top);
    base = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    lowest_free = open("/dev/null", O_RDONLY);
    if (base < 0 || lowest_free < 0)
        abort();
    close(lowest_free);
}

static bool is_inside(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    for (size_t i = 0; i < ninside; i++)
        if (inside[i].st_dev == st.st_dev && inside[i].st_ino == st.st_ino)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base < 0)
        setup();
    if (size < 1)
        return 0;
    bool follow = data[0] & 1;
    const char *path = (const char *)data + 1;
    size_t len = size - 1;
    ww_resolved r;
    int32_t err = ww_resolve(base, path, len, follow, &r);
    if (err == WE_SUCCESS) {
        if (!is_inside(r.dirfd))
            abort(); /* the parent directory is not the sandbox's */
        if (!r.name[0] || strchr(r.name, '/') || strcmp(r.name, "..") == 0)
            abort(); /* not a single component below that directory */
        struct stat st;
        if (follow && fstatat(r.dirfd, r.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            abort(); /* a link left for the kernel to follow */
        if (strcmp(r.name, ".") == 0 && !is_inside(r.dirfd))
            abort();
        ww_release(&r);
    } else if (r.owned) {
        abort(); /* a refusal holds no descriptor */
    }
    int probe = open("/dev/null", O_RDONLY);
    if (probe != lowest_free)
        abort(); /* a descriptor leaked */
    close(probe);
    return 0;
}
