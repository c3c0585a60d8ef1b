/*
 * queue_internal.h - what the queue client (queue.c) and the worker
 * (queue_worker.c) share: key names and field parsing (the protocol is in
 * <wasmplug/queue.h>).
 */
#ifndef WPS_QUEUE_INTERNAL_H
#define WPS_QUEUE_INTERNAL_H

#include <wasmplug/queue.h>

#include "redis_conn.h"

/* Longest stream name accepted (the derived keys add a suffix). */
#define WPS_QUEUE_STREAM_MAX 200
/* Longest key: NAME plus ":idem:" and an idempotency key. */
#define WPS_QUEUE_KEY_MAX 512

/* A stream name is 1..WPS_QUEUE_STREAM_MAX printable bytes without spaces;
 * false with msg otherwise. */
bool wps_queue_name_ok(const char *what, const char *name, char *msg, size_t msg_size);
/* "NAME<suffix>" into buf; false if it does not fit. */
bool wps_queue_key(char *buf, size_t size, const char *stream, const char *suffix);

/* The field `name` of a stream entry's field/value array (a REDIS_REPLY_ARRAY
 * of 2n strings), or NULL. */
const redisReply *wps_queue_field(const redisReply *fields, const char *name);
/* The code of a status name ("ERR_TRAP"); WASMPLUG_ERR_IO if unknown. */
wasmplug_status wps_queue_status_of(const char *name, size_t len);

/* A wps_redis failure as a library status (USAGE -> ERR_ARGUMENT, others ERR_IO). */
wasmplug_status wps_queue_status_redis(wps_redis_status st);

#endif
