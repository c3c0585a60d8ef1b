/*
 * transfer.c - downloads into memory through libcurl: size limit, retries
 * with backoff and resume, progress. See transfer.h.
 */
#include "services/transfer.h"
#include "services/dist_internal.h"

#include <curl/curl.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX (256ULL << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

char *wps_url_join(const char *base, const char *rel)
{
    bool has_scheme = strstr(base, "://") != NULL;
    char prefix[PATH_MAX + 8] = "";
    if (!has_scheme) {
        char abs[PATH_MAX];
        if (base[0] != '/') {
            if (!getcwd(abs, sizeof abs))
                return NULL;
            snprintf(prefix, sizeof prefix, "file://%s/", abs);
        } else {
            snprintf(prefix, sizeof prefix, "file://");
        }
    }
    size_t bl = strlen(base);
    while (bl > 1 && base[bl - 1] == '/')
        bl--;
    size_t n = strlen(prefix) + bl + strlen(rel) + 2;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s%.*s%s%s", prefix, (int)bl, base, *rel ? "/" : "", rel);
    return u;
}

typedef struct sink {
    uint8_t *data;
    size_t len, cap;
    uint64_t max;
    bool too_big;
    const wps_fetch_opts *opts;
    uint64_t resumed_from;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->len + n > s->max) {
        s->too_big = true;
        return 0; /* abort the transfer */
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + n)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d)
            return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    sink *s = ud;
    if (s->opts->progress)
        s->opts->progress(s->opts->progress_ud, s->opts->what,
                          s->resumed_from + (uint64_t)dlnow,
                          dltotal ? s->resumed_from + (uint64_t)dltotal : 0);
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

wasmplug_status wps_fetch(const char *url, const wps_fetch_opts *opts, uint8_t **data,
                          size_t *len, char *msg, size_t msgsize)
{
    *data = NULL;
    *len = 0;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "libcurl could not be initialised: %s",
                    curl_easy_strerror(curl_init_rc));
    CURL *c = curl_easy_init();
    if (!c)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    sink s = {0};
    s.opts = opts;
    s.max = opts->max_size ? opts->max_size : DEFAULT_MAX;
    int retries = opts->retries > 0 ? opts->retries : 0;
    unsigned delay = opts->backoff_ms ? opts->backoff_ms : 200;
    char err[CURL_ERROR_SIZE];
    wasmplug_status st = WASMPLUG_ERR_IO;
    for (int attempt = 0;; attempt++) {
        err[0] = '\0';
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout_s ? opts->timeout_s : 60L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "wasmplug/" WASMPLUG_VERSION_STRING);
        /* Resume: ask only for the bytes we do not have yet. */
        s.resumed_from = s.len;
        if (s.len)
            curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)s.len);
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        bool http = strncmp(url, "http", 4) == 0;
        if (rc == CURLE_OK && http && code == 200 && s.resumed_from) {
            /* The server ignored the range and sent everything again. */
            memmove(s.data, s.data + s.resumed_from, s.len - s.resumed_from);
            s.len -= s.resumed_from;
        }
        if (rc == CURLE_OK && (!http || code == 200 || code == 206)) {
            st = WASMPLUG_OK;
            break;
        }
        if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
            st = wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                      "%s is larger than the limit of %llu bytes", url,
                      (unsigned long long)s.max);
            break;
        }
        if (rc == CURLE_FILE_COULDNT_READ_FILE || (http && code == 404) ||
            (http && code == 410)) {
            st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize, "%s: not found%s", url,
                      http ? " (HTTP 404)" : "");
            break;
        }
        if (rc == CURLE_RANGE_ERROR || (http && code == 416)) {
            s.len = 0; /* the server cannot resume: start over */
        }
        bool transient = rc != CURLE_OK || code >= 500 || code == 408 || code == 429;
        if (rc == CURLE_OK && !transient) {
            st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "%s: the server answered HTTP %ld", url,
                      code);
            break;
        }
        if (attempt >= retries) {
            if (rc == CURLE_PARTIAL_FILE)
                st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize,
                          "%s: the download was cut short after %zu bytes (%d attempts)", url,
                          s.len, attempt + 1);
            else if (rc != CURLE_OK)
                st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "%s: %s (%d attempts)", url,
                          *err ? err : curl_easy_strerror(rc), attempt + 1);
            else
                st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize,
                          "%s: the server answered HTTP %ld (%d attempts)", url, code,
                          attempt + 1);
            break;
        }
        sleep_ms(delay);
        delay *= 2;
    }
    curl_easy_cleanup(c);
    if (st != WASMPLUG_OK) {
        free(s.data);
        return st;
    }
    if (!s.data && !(s.data = malloc(1))) /* an empty body is still a buffer */
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    *data = s.data;
    *len = s.len;
    return WASMPLUG_OK;
}
