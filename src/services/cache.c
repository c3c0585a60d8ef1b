/*
 * cache.c - the on-disk compiled-module cache (see cache.h): content-hash
 * keyed entries holding wasmplug_module_serialize output, loaded with
 * wasmplug_module_deserialize, rebuilt when anything about them is wrong.
 */
#include "services/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *wps_cache_result_name(wps_cache_result r)
{
    switch (r) {
    case WPS_CACHE_HIT: return "hit";
    case WPS_CACHE_MISS: return "miss";
    case WPS_CACHE_REBUILT: return "rebuilt";
    default: return "off";
    }
}

char *wps_cache_dir(const char *override)
{
    const char *env = getenv(WPS_ENV_CACHE_DIR);
    const char *base = NULL, *tail = "";
    if (override && *override)
        base = override;
    else if (env && *env)
        base = env;
    else if ((env = getenv("XDG_CACHE_HOME")) && *env == '/')
        base = env, tail = "/wasmplug/modules";
    else if ((env = getenv("HOME")) && *env)
        base = env, tail = "/.cache/wasmplug/modules";
    if (!base)
        return NULL;
    size_t n = strlen(base) + strlen(tail) + 1;
    char *d = malloc(n);
    if (d)
        snprintf(d, n, "%s%s", base, tail);
    return d;
}

/* A 128-bit content key: two independently seeded multiply-xorshift
 * lanes over 8-byte words. Not cryptographic: it names entries; a loaded
 * entry is also checked to hold exactly these bytes. */
static void content_hash(const uint8_t *p, size_t n, uint64_t out[2])
{
    uint64_t a = 0x6a09e667f3bcc908ull ^ n, b = 0xbb67ae8584caa73bull ^ (n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        a = (a ^ (w * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
        a ^= a >> 29;
        b = (b ^ (w * 0x87c37b91114253d5ull)) * 0x4cf5ad432745937full;
        b ^= b >> 31;
    }
    uint64_t t = 0;
    for (unsigned k = 0; i < n; i++, k++)
        t |= (uint64_t)p[i] << (8 * k);
    a = (a ^ t) * 0xff51afd7ed558ccdull;
    b = (b ^ t) * 0xc4ceb9fe1a85ec53ull;
    out[0] = a ^ (a >> 33);
    out[1] = b ^ (b >> 33);
}

/* mkdir -p, private to the user (0700). */
static int make_dirs(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return ENAMETOOLONG;
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return errno;
        *s = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

static uint8_t *read_all(const char *path, size_t *size, int *error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *error = 0;
    if (fd < 0) {
        *error = errno;
        return NULL;
    }
    struct stat st;
    uint8_t *d = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size < ((uint64_t)1 << 32) && (d = malloc((size_t)st.st_size + 1))) {
        size_t len = 0;
        while (len < (size_t)st.st_size) {
            ssize_t r = read(fd, d + len, (size_t)st.st_size - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        *size = len;
    } else {
        *error = EIO;
    }
    close(fd);
    return d;
}

/* Write data atomically: a private temporary file in dir, then rename. */
static int write_entry(const char *dir, const char *path, const uint8_t *data, size_t size)
{
    int e = make_dirs(dir);
    if (e)
        return e;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-XXXXXX", dir, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e)
        unlink(tmp);
    return e;
}

/* The wasm binary inside a serialized module (format 1 of serialize.c:
 * 36-byte header, then u32 size and the bytes) equals ours: guards against
 * a content-hash collision. */
static int holds_module(const uint8_t *d, size_t n, const uint8_t *wasm, size_t size)
{
    if (n < 40)
        return 0;
    uint32_t len = (uint32_t)d[36] | (uint32_t)d[37] << 8 | (uint32_t)d[38] << 16 |
                   (uint32_t)d[39] << 24;
    return len == size && n - 40 >= size && (size == 0 || memcmp(d + 40, wasm, size) == 0);
}

wasmplug_status wps_cache_load(wasmplug_engine *e, const char *dir, const uint8_t *wasm,
                               size_t size, wasmplug_module **out, wps_cache_info *info,
                               wasmplug_error *err)
{
    wps_cache_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    *out = NULL;
    if (!dir)
        return wasmplug_module_new(e, wasm, size, out, err);

    uint64_t h[2];
    content_hash(wasm, size, h);
    snprintf(info->path, sizeof info->path, "%s/%016llx%016llx-%zu-%s.wpcm", dir,
             (unsigned long long)h[0], (unsigned long long)h[1], size, wasmplug_version());
    info->result = WPS_CACHE_MISS;

    size_t n = 0;
    int rerr = 0;
    uint8_t *data = read_all(info->path, &n, &rerr);
    if (data) {
        wasmplug_error derr;
        wasmplug_error_clear(&derr);
        wasmplug_status st = WASMPLUG_ERR_SERIALIZATION;
        if (!holds_module(data, n, wasm, size))
            snprintf(derr.message, sizeof derr.message, "%s",
                     n < 40 ? "truncated entry" : "entry holds another module");
        else
            st = wasmplug_module_deserialize(e, data, n, out, &derr);
        free(data);
        if (st == WASMPLUG_OK) {
            info->result = WPS_CACHE_HIT;
            return WASMPLUG_OK;
        }
        if (st == WASMPLUG_ERR_NOMEM)
            return wasmplug_module_new(e, wasm, size, out, err);
        info->result = WPS_CACHE_REBUILT;
        snprintf(info->note, sizeof info->note, "invalid cache entry %.300s (%.400s): rebuilt",
                 info->path, derr.message);
        unlink(info->path);
    } else if (rerr && rerr != ENOENT && rerr != ENOTDIR) {
        snprintf(info->note, sizeof info->note, "cannot read cache entry %.300s: %.200s", info->path,
                 strerror(rerr));
    }

    wasmplug_status st = wasmplug_module_new(e, wasm, size, out, err);
    if (st != WASMPLUG_OK)
        return st;
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    wasmplug_error serr;
    if (wasmplug_module_serialize(*out, &bytes, &nbytes, &serr) != WASMPLUG_OK) {
        snprintf(info->note, sizeof info->note, "not cached: %.400s", serr.message);
        return WASMPLUG_OK;
    }
    int werr = write_entry(dir, info->path, bytes, nbytes);
    wasmplug_serialized_free(bytes);
    if (werr) {
        size_t used = strlen(info->note);
        snprintf(info->note + used, sizeof info->note - used, "%scache not written (%.300s: %.200s)",
                 used ? "; " : "", dir, strerror(werr));
    }
    return WASMPLUG_OK;
}
