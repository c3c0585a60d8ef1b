/*
 * native_cache.c - verified storage of native code (see native_cache.h).
 * Digests with libsodium's SHA-256; the engine itself stays libc-only.
 */
#include "services/native_cache.h"
#include "services/store.h"

#include <wasmplug/native.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *wps_native_result_name(wps_native_result r)
{
    switch (r) {
    case WPS_NATIVE_HIT: return "hit";
    case WPS_NATIVE_COMPILED: return "compiled";
    case WPS_NATIVE_REBUILT: return "rebuilt";
    case WPS_NATIVE_MISSING: return "missing";
    case WPS_NATIVE_UNSUPPORTED: return "unsupported";
    case WPS_NATIVE_FAILED: return "failed";
    default: return "off";
    }
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A file or directory only this user may change: owned by us, not writable
 * by group or others. */
static const char *untrusted(const struct stat *st)
{
    if (st->st_uid != geteuid())
        return "it is owned by another user";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return "it is writable by other users";
    return NULL;
}

/* <cache_dir>/native, made 0700 if missing and create; NULL (note set
 * when it exists but is not safe to use). */
static char *native_dir(const char *cache_dir, bool create, char *note, size_t note_size)
{
    size_t n = strlen(cache_dir) + sizeof "/native";
    char *dir = malloc(n);
    if (!dir)
        return NULL;
    snprintf(dir, n, "%s/native", cache_dir);
    if (create)
        (void)wps_mkdirs(dir, 0700); /* a first user has no ~/.cache/wasmplug yet */
    struct stat st;
    const char *why = NULL;
    if (lstat(dir, &st) != 0 && !create && errno == ENOENT) {
        free(dir); /* nothing compiled yet */
        return NULL;
    }
    if (lstat(dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "it is not a directory";
    else
        why = untrusted(&st);
    if (why) {
        snprintf(note, note_size, "native code cache %s not used: %s", dir, why);
        free(dir);
        return NULL;
    }
    return dir;
}

/* The compiler's identity without running it (a run of the command stays
 * as fast as before): the command, the file it resolves to in $PATH with
 * its size and modification time, and the flags. */
static bool compiler_identity(char *out, size_t size)
{
    const char *cc = getenv("WASMPLUG_CC");
    if (!cc || !*cc)
        cc = getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    char first[256];
    snprintf(first, sizeof first, "%s", cc);
    first[strcspn(first, " \t")] = '\0';
    char found[4096] = "";
    if (strchr(first, '/')) {
        snprintf(found, sizeof found, "%s", first);
    } else {
        const char *path = getenv("PATH");
        for (const char *p = path ? path : "/usr/bin:/bin"; *p && !found[0];) {
            size_t n = strcspn(p, ":");
            char cand[4096];
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, first);
            if (access(cand, X_OK) == 0)
                snprintf(found, sizeof found, "%s", cand);
            p += n + (p[n] == ':');
        }
    }
    char *real = found[0] ? realpath(found, NULL) : NULL;
    struct stat st;
    if (!real || stat(real, &st) != 0) {
        free(real);
        return false;
    }
    snprintf(out, size, "%s|%s|%lld|%lld|-O2", cc, real, (long long)st.st_size,
             (long long)st.st_mtime);
    free(real);
    return true;
}

/* The entry's key: SHA-256 over the module's bytes and everything its code
 * depends on (engine build and bounds mode, compiler). */
static void entry_key(const uint8_t *wasm, size_t size, wasmplug_bounds_mode bounds,
                      const char *compiler_id, char out[65])
{
    crypto_hash_sha256_state s;
    crypto_hash_sha256_init(&s);
    crypto_hash_sha256_update(&s, wasm, size);
    uint64_t engine = wasmplug_native_engine_key();
    uint32_t mode = (uint32_t)bounds;
    crypto_hash_sha256_update(&s, (const uint8_t *)&engine, sizeof engine);
    crypto_hash_sha256_update(&s, (const uint8_t *)&mode, sizeof mode);
    crypto_hash_sha256_update(&s, (const uint8_t *)compiler_id, strlen(compiler_id));
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&s, h);
    hex(h, sizeof h, out);
}

/* SHA-256 (hex) of what fd holds; the size in *size. */
static bool digest_fd(int fd, char out[65], size_t *size)
{
    crypto_hash_sha256_state s;
    crypto_hash_sha256_init(&s);
    uint8_t buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        crypto_hash_sha256_update(&s, buf, (size_t)n);
        total += (size_t)n;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&s, h);
    hex(h, sizeof h, out);
    *size = total;
    return true;
}

/* Open path for checking: no symlinks, a regular file only we can change. */
static int open_trusted(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *why = errno == ENOENT ? NULL : strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "it is not a regular file";
        close(fd);
        return -1;
    }
    if ((*why = untrusted(&st)) != NULL) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Verify the entry and attach it. 1: attached; 0: missing; -1: failed a
 * check (why says which). */
static int try_load(wasmplug_module *m, const char *so, const char *sumpath, wps_native_info *info,
                    char *why, size_t why_size)
{
    const char *bad = NULL;
    int fd = open_trusted(so, &bad);
    if (fd < 0) {
        if (!bad)
            return 0;
        snprintf(why, why_size, "%s", bad);
        return -1;
    }
    int sfd = open_trusted(sumpath, &bad);
    char recorded[80] = "";
    if (sfd >= 0) {
        ssize_t n = read(sfd, recorded, 64);
        recorded[n > 0 ? n : 0] = '\0';
        close(sfd);
    }
    char actual[65];
    size_t size = 0;
    if (!digest_fd(fd, actual, &size)) {
        snprintf(why, why_size, "cannot read it");
        close(fd);
        return -1;
    }
    if (strcmp(recorded, actual) != 0) {
        snprintf(why, why_size, "its SHA-256 does not match the digest recorded at compile time%s",
                 recorded[0] ? "" : " (no digest recorded)");
        close(fd);
        return -1;
    }
    /* load what was checked: the same open file */
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_module_attach_native(m, access(fdpath, F_OK) == 0 ? fdpath : so,
                                                       &err);
    close(fd);
    if (st != WASMPLUG_OK) {
        snprintf(why, why_size, "%s", err.message);
        return -1;
    }
    info->object_size = size;
    return 1;
}

/* Compile into a temporary file in dir, record its digest, move both in
 * place. */
static bool compile_entry(wasmplug_module *m, const char *dir, const char *so,
                          const char *sumpath, wps_native_info *info)
{
    char tmp[4200], tmpsum[4300];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-XXXXXX", dir, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(info->note, sizeof info->note, "cannot write in %s: %s", dir, strerror(errno));
        return false;
    }
    close(fd);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_native_compile(m, tmp, NULL, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    info->compile_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (st != WASMPLUG_OK) {
        unlink(tmp);
        info->result = st == WASMPLUG_ERR_UNSUPPORTED ? WPS_NATIVE_UNSUPPORTED : WPS_NATIVE_FAILED;
        snprintf(info->note, sizeof info->note, "%s", err.message);
        return false;
    }
    chmod(tmp, 0600);
    const char *bad = NULL;
    fd = open_trusted(tmp, &bad);
    char digest[65];
    size_t size = 0;
    bool ok = fd >= 0 && digest_fd(fd, digest, &size);
    if (fd >= 0)
        close(fd);
    snprintf(tmpsum, sizeof tmpsum, "%s.sha256", tmp);
    FILE *f = ok ? fopen(tmpsum, "w") : NULL;
    ok = f && fprintf(f, "%s", digest) == 64;
    if (f && fclose(f) != 0)
        ok = false;
    ok = ok && chmod(tmpsum, 0600) == 0 && rename(tmpsum, sumpath) == 0 && rename(tmp, so) == 0;
    if (!ok) {
        snprintf(info->note, sizeof info->note, "cannot store native code in %s: %s", dir,
                 strerror(errno));
        unlink(tmp);
        unlink(tmpsum);
        info->result = WPS_NATIVE_FAILED;
    }
    return ok;
}

void wps_native_attach(wasmplug_module *m, const uint8_t *wasm, size_t size,
                       wasmplug_bounds_mode bounds, const char *cache_dir, bool compile,
                       wps_native_info *info)
{
    memset(info, 0, sizeof *info);
    info->result = WPS_NATIVE_OFF;
    if (!m || !wasm || !cache_dir)
        return;
    char why[512];
    if (!wasmplug_native_supported(m, why, sizeof why)) {
        info->result = WPS_NATIVE_UNSUPPORTED;
        snprintf(info->note, sizeof info->note, "%s", why);
        return;
    }
    if (sodium_init() < 0) {
        snprintf(info->note, sizeof info->note, "libsodium cannot start");
        return;
    }
    char *dir = native_dir(cache_dir, compile, info->note, sizeof info->note);
    if (!dir) {
        if (!info->note[0])
            info->result = WPS_NATIVE_MISSING;
        return;
    }
    char id[8192], key[65];
    if (!compiler_identity(id, sizeof id)) {
        /* no compiler: objects compiled earlier cannot be matched to one */
        info->result = WPS_NATIVE_MISSING;
        snprintf(info->note, sizeof info->note, "no C compiler found (cc, $CC or $WASMPLUG_CC)");
        free(dir);
        return;
    }
    entry_key(wasm, size, bounds, id, key);
    char sumpath[4200];
    snprintf(info->path, sizeof info->path, "%s/%s.so", dir, key);
    snprintf(sumpath, sizeof sumpath, "%s/%s.sha256", dir, key);
    int r = try_load(m, info->path, sumpath, info, why, sizeof why);
    if (r == 1) {
        info->result = WPS_NATIVE_HIT;
    } else {
        bool rebuilt = r < 0;
        if (rebuilt) {
            /* never loaded: deleted, rebuilt when allowed */
            info->rejected = true;
            unlink(info->path);
            unlink(sumpath);
            snprintf(info->note, sizeof info->note, "native code %.500s rejected: %.400s",
                     info->path, why);
        }
        if (!compile) {
            info->result = WPS_NATIVE_MISSING;
        } else if (compile_entry(m, dir, info->path, sumpath, info)) {
            r = try_load(m, info->path, sumpath, info, why, sizeof why);
            if (r == 1) {
                info->result = rebuilt ? WPS_NATIVE_REBUILT : WPS_NATIVE_COMPILED;
            } else {
                info->result = WPS_NATIVE_FAILED;
                snprintf(info->note, sizeof info->note, "%s", why);
            }
        }
    }
    free(dir);
}
