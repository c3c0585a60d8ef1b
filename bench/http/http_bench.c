/*
 * http_bench.c - requests per second through a plugin (wasmplug.http_request,
 * the whole path: call, import, allowlist, address check, libcurl, result)
 * against libcurl called directly from C, on the same local server
 * (libmicrohttpd, in this process, 127.0.0.1, keep-alive) in the same run.
 * Rounds alternate between the two; the medians and the overhead are
 * printed (docs/PERFORMANCE.md).
 *
 *   wasmplug-bench-http [--rounds N] [--requests N]
 */
#include "wasmplug.h"
#include "wasmplug/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    /* Answer on the second call, after the whole request was read, so the
     * connection stays open (a response queued earlier closes it). */
    static int seen;
    if (!*state) {
        *state = &seen;
        return MHD_YES;
    }
    static const char body[] = "hello";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling (client) thread: what a request costs the
 * client, much less disturbed than wall time on a loaded machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The last round's client CPU time per request, in microseconds. */
static double round_cpu_us;

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p, (void)user;
    return size * n;
}

/* libcurl from C: one easy handle reused (keep-alive), no proxy. */
static double direct_round(CURL *e, int requests)
{
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < requests; i++) {
        long status = 0;
        if (curl_easy_perform(e) != CURLE_OK ||
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
            fprintf(stderr, "direct request %d failed\n", i);
            exit(1);
        }
    }
    round_cpu_us = (cpu_s() - c0) / requests * 1e6;
    return requests / (now_s() - t0);
}

static double plugin_round(wasmplug_plugin *p, const char *req, int requests)
{
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < requests; i++) {
        wasmplug_buf out;
        wasmplug_plugin_error err;
        if (wasmplug_plugin_call(p, "get", (const uint8_t *)req, strlen(req), &out, &err) !=
                WASMPLUG_OK ||
            out.len != 4 || memcmp(out.data, "200\n", 4) != 0) {
            fprintf(stderr, "plugin request %d failed: %s\n", i, err.message);
            exit(1);
        }
        wasmplug_buf_free(&out);
    }
    round_cpu_us = (cpu_s() - c0) / requests * 1e6;
    return requests / (now_s() - t0);
}

/* The HTTP service called from C: the plugin path without the plugin. */
static double service_round(wasmplug_http_client *c, const char *url, int requests)
{
    wasmplug_http_request rq = {"GET", url, NULL, 0, NULL, 0};
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < requests; i++) {
        wasmplug_http_response resp;
        wasmplug_http_error err;
        if (wasmplug_http_perform(c, &rq, NULL, &resp, &err) != WASMPLUG_HTTP_OK ||
            resp.status != 200) {
            fprintf(stderr, "service request %d failed: %s\n", i, err.message);
            exit(1);
        }
        wasmplug_http_response_free(&resp);
    }
    round_cpu_us = (cpu_s() - c0) / requests * 1e6;
    return requests / (now_s() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = 7, requests = 3000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests"))
            requests = atoi(argv[i + 1]);
    }
    if (rounds < 1 || rounds > 99 || requests < 1) {
        fprintf(stderr, "usage: %s [--rounds 1..99] [--requests N]\n", argv[0]);
        return 2;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer,
                         NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        fprintf(stderr, "cannot start the local server\n");
        return 1;
    }
    int port = info->port;
    char url[64], req[128], rule[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", port);
    snprintf(req, sizeof req, "GET %s\n\n", url);
    snprintf(rule, sizeof rule, "http:http://127.0.0.1:%d/*", port);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);

    wasmplug_host *h;
    wasmplug_http_policy *pol;
    wasmplug_plugin *p;
    wasmplug_plugin_error err;
    wasmplug_host_new(NULL, &h);
    wasmplug_http_policy_new(NULL, &pol);
    wasmplug_http_policy_allow_address(pol, "127.0.0.1", "127.0.0.0/8", NULL, 0);
    wasmplug_http_attach(h, pol, NULL);
    wasmplug_host_grant(h, "*", rule);
    const char *perms[] = {rule};
    wasmplug_manifest m = {0};
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.manifest = &m;
    opt.init = true;
    if (wasmplug_host_load_file(h, "bench", BENCH_HTTP_PLUGIN, &opt, &p, &err) != WASMPLUG_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    /* The same service called from C: its own policy allowing the entry. */
    const char *entry = rule + strlen("http:");
    wasmplug_http_policy *cpol;
    wasmplug_http_client *c;
    wasmplug_http_policy_new(NULL, &cpol);
    wasmplug_http_policy_allow_address(cpol, "127.0.0.1", "127.0.0.0/8", NULL, 0);
    wasmplug_http_policy_allow(cpol, "*", entry, NULL, 0);
    wasmplug_http_client_new(cpol, "bench", NULL, &entry, 1, &c, NULL, 0);
    /* Warm every path (connections, caches). */
    direct_round(e, 200);
    service_round(c, url, 200);
    plugin_round(p, req, 200);
    double direct[99], service[99], plugin[99], dcpu[99], scpu[99], pcpu[99];
    for (int r = 0; r < rounds; r++) {
        direct[r] = direct_round(e, requests);
        dcpu[r] = round_cpu_us;
        service[r] = service_round(c, url, requests);
        scpu[r] = round_cpu_us;
        plugin[r] = plugin_round(p, req, requests);
        pcpu[r] = round_cpu_us;
    }
    double *all[] = {direct, service, plugin, dcpu, scpu, pcpu};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        qsort(all[i], (size_t)rounds, sizeof all[i][0], cmp_double);
    double dm = direct[rounds / 2], sm = service[rounds / 2], pm = plugin[rounds / 2];
    double dc = dcpu[rounds / 2], sc = scpu[rounds / 2], pc = pcpu[rounds / 2];
    printf("HTTP GET of 5 bytes from a local server (libmicrohttpd, keep-alive), "
           "%d rounds of %d requests, medians:\n",
           rounds, requests);
    printf("                          requests/s   wall us   client CPU us\n");
    printf("  libcurl from C         %11.0f %9.1f %11.2f\n", dm, 1e6 / dm, dc);
    printf("  HTTP service from C    %11.0f %9.1f %11.2f\n", sm, 1e6 / sm, sc);
    printf("  through a plugin       %11.0f %9.1f %11.2f\n", pm, 1e6 / pm, pc);
    printf("  plugin vs libcurl: %.1f %% fewer requests/s, %+.2f us of client CPU per request "
           "(%+.1f %%)\n",
           (1 - pm / dm) * 100, pc - dc, (pc / dc - 1) * 100);
    wasmplug_http_client_free(c);
    wasmplug_http_policy_free(cpol);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    wasmplug_http_policy_free(pol);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    MHD_stop_daemon(d);
    return 0;
}
