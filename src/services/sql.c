/*
 * sql.c - the SQL service (grant "db"): each plugin gets its own SQLite
 * database, <data_dir>/<plugin id>/db.sqlite (WAL), with the per-call
 * transaction of storage.h (a failed call leaves no trace).
 *
 * Imports (module "wasmplug", docs/ABI.md):
 *   db_exec(sql, params) -> i32          rows changed; -1 on an SQL error
 *                                        (its message readable with result_read)
 *   db_query(sql, params, out) -> i32    the rows as a JSON array of objects
 *                                        (column -> value; blobs as
 *                                        {"base64": ...}), its length (copied
 *                                        up to out's length, all of it
 *                                        readable with result_read); -1 on an
 *                                        SQL error
 * params: empty, a JSON array (?1, ?2, ...) or object (:name, @name, $name)
 * of null, booleans, numbers and strings - always bound, never spliced into
 * the SQL.
 *
 * What a plugin may not do fails the whole call: ATTACH/DETACH, extension
 * loading, transaction control (the host owns the transaction), virtual
 * tables other than fts5/rtree, PRAGMAs outside a read-only safe list
 * (ERR_PERMISSION_DENIED naming the statement's action); a database larger
 * than its size limit (ERR_QUOTA); a result larger than the limit
 * (ERR_OUTPUT_TOO_LARGE); a statement running past its time limit, the
 * call's timeout or a cancel (SQLite's progress handler: ERR_TIMEOUT,
 * ERR_CANCELLED).
 */
#include "storage.h"

#include <jansson.h>
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DB_FILE "db.sqlite"
#define DB_SQL_MAX (1u << 20)

typedef struct sql_service {
    wps_base base;
    uint64_t max_bytes;     /* policy */
    uint32_t max_result;
    uint32_t statement_ms;
} sql_service;

/* Per plugin (wps_db.service), used under the database's lock. */
typedef struct sql_data {
    uint64_t max_bytes;       /* the size limit set (PRAGMA max_page_count) */
    uint64_t page;            /* the database's page size */
    wasmplug_hostcall *call;  /* the call whose statement runs */
    uint64_t deadline_ns;     /* the statement's time limit */
    wasmplug_status stop;     /* why the progress handler stopped it */
    char denied[160];         /* what the authorizer refused */
} sql_data;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* PRAGMAs a plugin may run: they only read the schema. */
static bool pragma_safe(const char *name, const char *arg)
{
    static const char *const safe[] = {"table_info",       "table_xinfo", "index_list",
                                       "index_info",       "index_xinfo", "foreign_key_list",
                                       "foreign_key_check", "table_list", "user_version",
                                       "integrity_check",  "quick_check", "data_version"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (strcasecmp(name, safe[i]) == 0)
            /* user_version may be read or set (schema migrations) */
            return arg == NULL || strcasecmp(name, "user_version") == 0 ||
                   strcasecmp(name, "table_info") == 0 || strcasecmp(name, "table_xinfo") == 0 ||
                   strcasecmp(name, "index_list") == 0 || strcasecmp(name, "index_info") == 0 ||
                   strcasecmp(name, "index_xinfo") == 0 ||
                   strcasecmp(name, "foreign_key_list") == 0 ||
                   strcasecmp(name, "foreign_key_check") == 0;
    return false;
}

static int authorize(void *user, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    (void)db;
    (void)trigger;
    sql_data *s = user;
    if (!s->call)
        return SQLITE_OK; /* the host's own statements: BEGIN, COMMIT, ROLLBACK */
    const char *why = NULL;
    switch (action) {
    case SQLITE_ATTACH: why = "ATTACH"; break;
    case SQLITE_DETACH: why = "DETACH"; break;
    case SQLITE_TRANSACTION: why = "transaction control (BEGIN/COMMIT/ROLLBACK: each call is one "
                                   "transaction the host commits)"; break;
    case SQLITE_SAVEPOINT: why = "SAVEPOINT/RELEASE (each call is one transaction)"; break;
    case SQLITE_PRAGMA:
        if (!pragma_safe(a1, a2)) {
            snprintf(s->denied, sizeof s->denied, "PRAGMA %.60s%s%.40s", a1, a2 ? " = " : "",
                     a2 ? a2 : "");
            return SQLITE_DENY;
        }
        break;
    case SQLITE_FUNCTION:
        if (a2 && strcasecmp(a2, "load_extension") == 0)
            why = "load_extension()";
        break;
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
        if (!a2 || (strcasecmp(a2, "fts5") != 0 && strcasecmp(a2, "rtree") != 0)) {
            snprintf(s->denied, sizeof s->denied, "virtual table module %.60s",
                     a2 ? a2 : "?");
            return SQLITE_DENY;
        }
        break;
    default: break;
    }
    if (why) {
        snprintf(s->denied, sizeof s->denied, "%s", why);
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

/* Every 1000 VM steps: the call's deadline, interrupt and cancel, and the
 * statement's own time limit. Non-zero stops the statement. */
static int progress(void *user)
{
    sql_data *s = user;
    wasmplug_status st = s->call ? wasmplug_hostcall_check(s->call) : WASMPLUG_OK;
    if (st == WASMPLUG_OK && s->deadline_ns && mono_ns() > s->deadline_ns)
        st = WASMPLUG_ERR_LIMIT;
    s->stop = st;
    return st != WASMPLUG_OK;
}

static void sql_db_close(wps_db *d)
{
    if (d)
        free(d->service);
    wps_db_close(d);
}

/* The plugin's database, set up on first use, with the call's transaction. */
static wps_db *sql_enter(wasmplug_hostcall *call, sql_service *ss)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_db *d = wps_db_of(call, &ss->base, DB_FILE, NULL, msg, sizeof msg);
    if (d && !d->service) {
        pthread_mutex_lock(&d->lock);
        if (!d->service) {
            sql_data *s = calloc(1, sizeof *s);
            if (s) {
                s->page = 4096;
                sqlite3_stmt *st;
                if (sqlite3_prepare_v2(d->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW)
                    s->page = (uint64_t)sqlite3_column_int(st, 0);
                sqlite3_finalize(st);
                sqlite3_set_authorizer(d->db, authorize, s);
                sqlite3_progress_handler(d->db, 1000, progress, s);
                sqlite3_limit(d->db, SQLITE_LIMIT_LENGTH, 16 << 20);
                sqlite3_limit(d->db, SQLITE_LIMIT_SQL_LENGTH, DB_SQL_MAX);
                d->service = s;
            } else {
                snprintf(msg, sizeof msg, "out of memory");
            }
        }
        bool ok = d->service != NULL;
        pthread_mutex_unlock(&d->lock);
        if (!ok)
            d = NULL;
    }
    if (!d) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "%s", msg);
        return NULL;
    }
    if (!wps_txn_enter(call, &ss->base, d, msg, sizeof msg)) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "plugin '%s': %s", d->plugin, msg);
        return NULL;
    }
    /* The call holds the database: its size limit is the current version's
     * (a reload may have changed database.max_size). */
    sql_data *s = d->service;
    uint64_t max = wps_effective(wps_setting_u64(wasmplug_hostcall_plugin(call), "db.max_bytes"),
                                 ss->max_bytes, ss->max_bytes);
    if (max != s->max_bytes) {
        char pragma[80];
        snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %llu",
                 (unsigned long long)(max / s->page + 1));
        sqlite3_exec(d->db, pragma, NULL, NULL, NULL);
        s->max_bytes = max;
    }
    return d;
}

/* A soft SQL error: the import returns -1, the message is the result. */
static int soft_error(wasmplug_hostcall *call, wps_db *d, wasmplug_slot *results)
{
    const char *m = sqlite3_errmsg(d->db);
    wasmplug_hostcall_write(call, m, strlen(m));
    results[0].i32 = -1;
    return 0;
}

/* After a statement failed with rc: fail the call for what the plugin may
 * not do (returns 1), or make it a soft error (returns 0, results set). */
static int statement_failed(wasmplug_hostcall *call, sql_service *ss, wps_db *d, int rc,
                            const char *fn, wasmplug_slot *results)
{
    sql_data *s = d->service;
    switch (rc & 0xff) {
    case SQLITE_AUTH:
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_PERMISSION_DENIED,
                               "%s: forbidden SQL: %s is not allowed in a plugin's database", fn,
                               s->denied[0] ? s->denied : "this statement");
        return 1;
    case SQLITE_FULL:
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_QUOTA,
                               "plugin '%s': the database is over its size limit of %llu bytes "
                               "(database.max_size)",
                               d->plugin, (unsigned long long)s->max_bytes);
        return 1;
    case SQLITE_INTERRUPT:
        if (s->stop == WASMPLUG_ERR_LIMIT)
            wasmplug_hostcall_fail(call, WASMPLUG_ERR_TIMEOUT,
                                   "%s: the statement ran longer than its limit of %u ms", fn,
                                   ss->statement_ms);
        else
            wasmplug_hostcall_fail(call, s->stop != WASMPLUG_OK ? s->stop
                                                                : WASMPLUG_ERR_CANCELLED,
                                   "%s: the statement was stopped: the call %s", fn,
                                   s->stop == WASMPLUG_ERR_TIMEOUT ? "timed out"
                                                                   : "was cancelled");
        return 1;
    case SQLITE_NOMEM:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
        return wps_db_fail(call, d, fn);
    default:
        return soft_error(call, d, results);
    }
}

/* Bind a JSON array (positional) or object (named) of scalars to st.
 * false with msg for what cannot be bound. */
static bool bind_params(sqlite3_stmt *st, json_t *params, char *msg, size_t size)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        json_t *v;
        char label[80];
        if (json_is_array(params)) {
            v = json_array_get(params, (size_t)i - 1);
            snprintf(label, sizeof label, "parameter %d", i);
        } else {
            const char *name = sqlite3_bind_parameter_name(st, i);
            v = name ? json_object_get(params, name + 1) : NULL;
            snprintf(label, sizeof label, "parameter %.60s", name ? name : "?");
        }
        int rc;
        if (!v || json_is_null(v))
            rc = sqlite3_bind_null(st, i);
        else if (json_is_boolean(v))
            rc = sqlite3_bind_int(st, i, json_is_true(v));
        else if (json_is_integer(v))
            rc = sqlite3_bind_int64(st, i, json_integer_value(v));
        else if (json_is_real(v))
            rc = sqlite3_bind_double(st, i, json_real_value(v));
        else if (json_is_string(v))
            rc = sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                                   SQLITE_TRANSIENT);
        else {
            snprintf(msg, size, "%s is an array or object; bind null, booleans, numbers or "
                                "strings", label);
            return false;
        }
        if (rc != SQLITE_OK) {
            snprintf(msg, size, "%s: %s", label, sqlite3_errstr(rc));
            return false;
        }
    }
    return true;
}

/* The parameters of an import: NULL for none, else a JSON array or object. */
static bool parse_params(wasmplug_hostcall *call, const wasmplug_hostarg *a, json_t **out,
                         const char *fn)
{
    *out = NULL;
    if (a->len == 0)
        return true;
    json_error_t e;
    *out = json_loadb((const char *)a->ptr, a->len, 0, &e);
    if (!*out || (!json_is_array(*out) && !json_is_object(*out))) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "%s: the parameters must be a JSON array or object%s%s", fn,
                               *out ? "" : ": ", *out ? "" : e.text);
        json_decref(*out);
        *out = NULL;
        return false;
    }
    return true;
}

/* Prepare the statement at *sql (advancing it past the statement), its
 * parameters bound, its time limit armed. NULL and *rc on failure (rc
 * SQLITE_OK and NULL: nothing but whitespace or comments was left). */
static sqlite3_stmt *prepare(wps_db *d, sql_service *ss, wasmplug_hostcall *call,
                             const char **sql, const char *end, json_t *params, int *rc,
                             char *msg, size_t size)
{
    sql_data *s = d->service;
    s->denied[0] = 0;
    s->call = call;
    s->stop = WASMPLUG_OK;
    s->deadline_ns = ss->statement_ms ? mono_ns() + (uint64_t)ss->statement_ms * 1000000u : 0;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    *rc = sqlite3_prepare_v2(d->db, *sql, (int)(end - *sql), &st, &tail);
    *sql = tail ? tail : end;
    msg[0] = 0;
    if (*rc == SQLITE_OK && st && params && !bind_params(st, params, msg, size)) {
        sqlite3_finalize(st);
        *rc = SQLITE_MISUSE;
        return NULL;
    }
    return st;
}

/* Whether [s, end) holds only whitespace and semicolons (not NUL-terminated). */
static bool blank(const char *s, const char *end)
{
    for (; s < end; s++)
        if (!strchr(" \t\r\n;", *s) || *s == '\0')
            return false;
    return true;
}

static bool sql_text_ok(wasmplug_hostcall *call, const wasmplug_hostarg *a, const char *fn)
{
    if (a->len == 0 || a->len > DB_SQL_MAX) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "%s: the SQL text must be 1 to %u bytes (got %u)", fn, DB_SQL_MAX,
                               a->len);
        return false;
    }
    return true;
}

/* db_exec(sql_ptr, sql_len, params_ptr, params_len) -> i32: every statement
 * of the text, each with the parameters it names. */
static int imp_exec(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                    wasmplug_slot *results)
{
    sql_service *ss = user;
    json_t *params;
    if (!sql_text_ok(call, &args[0], "db_exec") || !parse_params(call, &args[1], &params, "db_exec"))
        return 1;
    wps_db *d = sql_enter(call, ss);
    if (!d) {
        json_decref(params);
        return 1;
    }
    const char *sql = (const char *)args[0].ptr, *end = sql + args[0].len;
    int64_t changes = 0;
    int ret = 0;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    results[0].i32 = 0;
    while (sql < end) {
        int rc;
        sqlite3_stmt *st = prepare(d, ss, call, &sql, end, params, &rc, msg, sizeof msg);
        if (!st && rc == SQLITE_OK)
            break; /* only whitespace or comments left */
        if (!st && msg[0]) {
            wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT, "db_exec: %s", msg);
            ret = 1;
            break;
        }
        if (st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                ;
            if (rc == SQLITE_DONE)
                changes += sqlite3_changes(d->db);
        }
        if (rc != SQLITE_DONE && rc != SQLITE_OK) {
            ret = statement_failed(call, ss, d, st ? sqlite3_errcode(d->db) : rc, "db_exec",
                                   results);
            sqlite3_finalize(st);
            break;
        }
        sqlite3_finalize(st);
        results[0].i32 = changes > INT32_MAX ? INT32_MAX : (int32_t)changes;
    }
    ((sql_data *)d->service)->call = NULL;
    json_decref(params);
    return ret;
}

/* One column as JSON. */
static json_t *column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        const uint8_t *t = sqlite3_column_text(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        if (wps_utf8_valid(t, n))
            return json_stringn((const char *)t, n);
    } /* text that is not UTF-8: as bytes */
    /* fall through */
    case SQLITE_BLOB: {
        const void *b = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
        char *text = malloc(cap);
        json_t *v = text && sodium_bin2base64(text, cap, n ? b : (const void *)"", n,
                                              sodium_base64_VARIANT_ORIGINAL)
                        ? json_pack("{s:s}", "base64", text)
                        : NULL;
        free(text);
        return v;
    }
    default: return json_null();
    }
}

/* db_query(sql_ptr, sql_len, params_ptr, params_len, out_ptr, out_cap) -> i32 */
static int imp_query(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                     wasmplug_slot *results)
{
    sql_service *ss = user;
    json_t *params;
    if (!sql_text_ok(call, &args[0], "db_query") ||
        !parse_params(call, &args[1], &params, "db_query"))
        return 1;
    wps_db *d = sql_enter(call, ss);
    if (!d) {
        json_decref(params);
        return 1;
    }
    const char *sql = (const char *)args[0].ptr, *end = sql + args[0].len;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    int rc, ret = 0;
    sqlite3_stmt *st = prepare(d, ss, call, &sql, end, params, &rc, msg, sizeof msg);
    json_decref(params);
    json_t *rows = NULL;
    if (!st && msg[0]) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT, "db_query: %s", msg);
        ret = 1;
    } else if (!st) {
        ret = rc == SQLITE_OK ? (wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                                                        "db_query: no statement in the SQL"),
                                 1)
                              : statement_failed(call, ss, d, sqlite3_errcode(d->db), "db_query",
                                                 results);
    } else if (!blank(sql, end)) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "db_query runs one statement (use db_exec for several)");
        ret = 1;
    } else {
        rows = json_array();
        size_t approx = 2;
        int ncol = sqlite3_column_count(st);
        while (rows && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *row = json_object();
            for (int i = 0; row && i < ncol; i++) {
                approx += (size_t)sqlite3_column_bytes(st, i) + strlen(sqlite3_column_name(st, i)) + 8;
                json_object_set_new(row, sqlite3_column_name(st, i), column_json(st, i));
            }
            json_array_append_new(rows, row);
            if (approx > ss->max_result) {
                wasmplug_hostcall_fail(call, WASMPLUG_ERR_OUTPUT_TOO_LARGE,
                                       "db_query: the result is over the limit of %u bytes",
                                       ss->max_result);
                ret = 1;
                break;
            }
        }
        if (ret == 0 && rc != SQLITE_DONE)
            ret = statement_failed(call, ss, d, sqlite3_errcode(d->db), "db_query", results);
        else if (ret == 0) {
            char *text = json_dumps(rows, JSON_COMPACT | JSON_ENSURE_ASCII);
            size_t n = text ? strlen(text) : 0;
            if (!text) {
                wasmplug_hostcall_fail(call, WASMPLUG_ERR_NOMEM, "db_query: out of memory");
                ret = 1;
            } else if (n > ss->max_result) {
                wasmplug_hostcall_fail(call, WASMPLUG_ERR_OUTPUT_TOO_LARGE,
                                       "db_query: the result of %zu bytes is over the limit of "
                                       "%u bytes", n, ss->max_result);
                ret = 1;
            } else {
                size_t k = n < args[2].len ? n : args[2].len;
                if (k)
                    memcpy(args[2].ptr, text, k);
                if (wasmplug_hostcall_write(call, text, n) != WASMPLUG_OK) {
                    wasmplug_hostcall_fail(call, WASMPLUG_ERR_OUTPUT_TOO_LARGE,
                                           "db_query: the result of %zu bytes does not fit the "
                                           "plugin's max_output_bytes", n);
                    ret = 1;
                } else {
                    results[0].i32 = (int32_t)n;
                }
            }
            free(text);
        }
    }
    sqlite3_finalize(st);
    json_decref(rows);
    ((sql_data *)d->service)->call = NULL;
    return ret;
}

/* ------------------------------------------------------------------------ */
/* The service                                                              */
/* ------------------------------------------------------------------------ */

static wasmplug_status sql_call_end(void *user, wasmplug_plugin *plugin, void *state,
                                    wasmplug_status status, char *msg, size_t msg_size)
{
    (void)user;
    (void)plugin;
    return state ? wps_txn_end(state, status, msg, msg_size) : WASMPLUG_OK;
}

static void sql_plugin_free(void *user, wasmplug_plugin *plugin, void *state)
{
    (void)user;
    (void)plugin;
    sql_db_close(state);
}

static void sql_free(void *user)
{
    free(user);
}

static wasmplug_status sql_attach(wasmplug_services *svc, wasmplug_service_def *def, char *msg,
                                  size_t msg_size)
{
    (void)msg;
    (void)msg_size;
    sql_service *ss = calloc(1, sizeof *ss);
    if (!ss)
        return WASMPLUG_ERR_NOMEM;
    ss->max_bytes = WPS_DEFAULT(svc->cfg.db_max_bytes, 256u << 20);
    ss->max_result = WPS_DEFAULT(svc->cfg.db_max_result_bytes, 4u << 20);
    ss->statement_ms = WPS_DEFAULT(svc->cfg.db_statement_ms, 5000u);
    def->user = ss;
    def->call_end = sql_call_end;
    def->plugin_free = sql_plugin_free;
    def->finalizer = sql_free;
    return WASMPLUG_OK;
}

static const wps_import sql_imports[] = {
    {"db_exec", "(pp)i", "db", imp_exec},
    {"db_query", "(ppp)i", "db", imp_query},
    {NULL, NULL, NULL, NULL},
};

const wps_module wps_sql_module = {"db", WASMPLUG_SERVICE_DB, true, sql_imports, sql_attach};
