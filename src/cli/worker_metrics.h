/*
 * worker_metrics.h - `wasmplug worker --metrics ADDR:PORT`: GET /metrics
 * with the worker's counters (wasmplug_worker_stats) and its plugins'
 * metrics, in the Prometheus text format, served by the server library
 * (src/server: listener, Prometheus writer). wasmplug-dist only.
 */
#ifndef WASMPLUG_CLI_WORKER_METRICS_H
#define WASMPLUG_CLI_WORKER_METRICS_H

#include <wasmplug/queue.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct worker_metrics worker_metrics;

/* Serve the counters of w (labelled with stream) and the metrics of host's
 * plugins on addr ("PORT" on 127.0.0.1, or "ADDR:PORT"; port 0 picks a free
 * one). where gets the address as bound. false with msg. */
bool worker_metrics_start(const char *addr, wasmplug_worker *w, wasmplug_host *host,
                          const char *stream, worker_metrics **out, char *where,
                          size_t where_size, char *msg, size_t msg_size);
void worker_metrics_stop(worker_metrics *m);

#endif
