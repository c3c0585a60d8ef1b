/*
 * transfer.h - downloads through libcurl for the distribution client
 * (internal to the services library): http(s)://, file:// and plain paths,
 * into memory, with a size limit, retries with exponential backoff that
 * resume where the previous attempt stopped (HTTP Range), and progress.
 * Nothing is written to disk: the caller checks the digest first.
 */
#ifndef WASMPLUG_SERVICES_TRANSFER_H
#define WASMPLUG_SERVICES_TRANSFER_H

#include <wasmplug.h>

/* Progress: bytes so far and expected (0 when unknown). */
typedef void (*wps_progress_fn)(void *ud, const char *what, uint64_t now, uint64_t total);

typedef struct wps_fetch_opts {
    uint64_t max_size;      /* refuse bodies larger than this (0: 256 MiB) */
    int retries;            /* extra attempts after a transient failure (<0: 0) */
    unsigned backoff_ms;    /* first retry delay, doubled each time (0: 200 ms) */
    long timeout_s;         /* per attempt (0: 60 s) */
    const char *what;       /* name shown in progress and messages */
    wps_progress_fn progress;
    void *progress_ud;
} wps_fetch_opts;

/* Fetch url into *data (malloc'd, *len bytes). ERR_NOT_FOUND for 404 or a
 * missing file, ERR_LIMIT over max_size, ERR_IO otherwise (with the URL and
 * curl's reason in msg). */
wasmplug_status wps_fetch(const char *url, const wps_fetch_opts *opts, uint8_t **data,
                          size_t *len, char *msg, size_t msgsize);

/* base joined with a relative path ("http://h/r" + "p/x" = "http://h/r/p/x");
 * a base without a scheme is a directory and becomes a file:// URL. */
char *wps_url_join(const char *base, const char *rel);

#endif
