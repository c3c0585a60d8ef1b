/*
 * test_sql.c - the SQL service on real SQLite files: tables, bound
 * parameters (positional and named), rows as JSON (integers, reals, text,
 * blobs, null), SQL errors returned to the plugin, injection attempts
 * through parameters, forbidden SQL (ATTACH, PRAGMAs outside the safe list,
 * transaction control, extension loading), the database size limit (and
 * its change by a reload), the
 * result size limit, the statement time limit and the call's timeout
 * (progress handler), a trap's changes rolled back, bad pointers and
 * parameters, and a denied grant.
 */
#include "host_test.h"

#include <wasmplug/services.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char data_dir[256];

static wasmplug_host *sql_host(const wasmplug_services_config *over, uint32_t timeout_ms)
{
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    if (timeout_ms)
        hc.limits.timeout_ms = timeout_ms;
    wasmplug_host *h = host_test_new(&hc);
    wasmplug_services_config sc;
    if (over)
        sc = *over;
    else
        wasmplug_services_config_init(&sc);
    sc.data_dir = data_dir;
    char msg[256];
    CHECK_CODE(wasmplug_services_attach(h, &sc, NULL, msg, sizeof msg), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "*", "db"), WASMPLUG_OK, NULL);
    return h;
}

/* The load options of sqlplug as id@version with settings (in *m). */
static wasmplug_load_options sql_options(wasmplug_manifest *m, const char *id,
                                         const char *version, const wasmplug_kv *settings,
                                         size_t nsettings, bool with_db)
{
    static const char *const perms[] = {"db"};
    memset(m, 0, sizeof *m);
    m->id = id;
    m->version = version;
    m->permissions = perms;
    m->permission_count = with_db ? 1 : 0;
    m->settings = settings;
    m->setting_count = nsettings;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = m;
    o.init = true;
    return o;
}

static wasmplug_plugin *sql_load(wasmplug_host *h, const char *id, const wasmplug_kv *settings,
                                 size_t nsettings, bool with_db, wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    wasmplug_load_options o = sql_options(&m, id, "1.0.0", settings, nsettings, with_db);
    char path[1024];
    host_test_path(path, sizeof path, "sqlplug");
    wasmplug_plugin *p = NULL;
    wasmplug_host_load_file(h, id, path, &o, &p, err);
    return p;
}

static const char *call(wasmplug_plugin *p, const char *func, const char *in,
                        wasmplug_status want, wasmplug_plugin_error *err, int line)
{
    static char out[8192];
    wasmplug_status st;
    char *o = host_test_call(p, func, in, &st, err);
    snprintf(out, sizeof out, "%s", o);
    free(o);
    if (!test_check(st == want, __FILE__, line, func)) {
        char buf[1024];
        wasmplug_plugin_error_format(err, buf, sizeof buf);
        printf("     %s(%s): got %s, expected %s: %s\n", func, in, wasmplug_status_name(st),
               wasmplug_status_name(want), buf);
    }
    return out;
}
#define CALL(p, f, in, want) call((p), (f), (in), (want), &err, __LINE__)

static void test_basics(void)
{
    wasmplug_host *h = sql_host(NULL, 0);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = sql_load(h, "notes", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR(CALL(p, "exec",
                   "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT NOT NULL, score REAL,"
                   " data BLOB); CREATE INDEX notes_title ON notes(title);",
                   WASMPLUG_OK),
              "0");
    CHECK_STR(CALL(p, "exec", "INSERT INTO notes(title, score) VALUES(?1, ?2)\n[\"first\", 1.5]",
                   WASMPLUG_OK),
              "1");
    CHECK_STR(CALL(p, "exec",
                   "INSERT INTO notes(title, data) VALUES(:t, x'00ff')\n{\"t\": \"second\"}",
                   WASMPLUG_OK),
              "1");
    CHECK_STR(CALL(p, "query", "SELECT id, title, score, data FROM notes ORDER BY id",
                   WASMPLUG_OK),
              "[{\"id\":1,\"title\":\"first\",\"score\":1.5,\"data\":null},{\"id\":2,"
              "\"title\":\"second\",\"score\":null,\"data\":{\"base64\":\"AP8=\"}}]");
    /* Parameters are bound, never spliced: an injection attempt is just text. */
    const char *evil = "x'); DROP TABLE notes; --";
    char in[256];
    snprintf(in, sizeof in, "INSERT INTO notes(title) VALUES(?1)\n[\"%s\"]", evil);
    CHECK_STR(CALL(p, "exec", in, WASMPLUG_OK), "1");
    snprintf(in, sizeof in, "SELECT count(*) AS n FROM notes WHERE title = ?1\n[\"%s\"]", evil);
    CHECK_STR(CALL(p, "query", in, WASMPLUG_OK), "[{\"n\":1}]");
    CHECK_STR(CALL(p, "query", "SELECT count(*) AS n FROM notes", WASMPLUG_OK), "[{\"n\":3}]");
    CHECK_STR(CALL(p, "query", "SELECT title FROM notes WHERE id = ?1\n[\"1 OR 1=1\"]",
                   WASMPLUG_OK),
              "[]");
    /* SQL errors go back to the plugin; the call (and its transaction) goes on. */
    CHECK_STR(CALL(p, "exec", "INSERT INTO nope VALUES(1)", WASMPLUG_OK),
              "error: no such table: nope");
    CHECK_STR(CALL(p, "exec", "INSERT INTO notes(id, title) VALUES(1, 'dup')", WASMPLUG_OK),
              "error: UNIQUE constraint failed: notes.id");
    CHECK_STR(CALL(p, "query", "SELEC 1", WASMPLUG_OK), "error: near \"SELEC\": syntax error");
    CHECK_STR(CALL(p, "query", "SELECT 1 AS a; SELECT 2", WASMPLUG_ERR_ARGUMENT), "");
    CHECK_CONTAINS(err.message, "db_query runs one statement");
    CHECK_STR(CALL(p, "query", "PRAGMA table_info(notes)", WASMPLUG_OK)[0] == '[' ? "ok" : "no",
              "ok");
    CHECK_STR(CALL(p, "query", "PRAGMA user_version", WASMPLUG_OK), "[{\"user_version\":0}]");

    /* A trap after changes: they vanish. */
    CALL(p, "exec_then_trap", "DELETE FROM notes", WASMPLUG_ERR_TRAP);
    CHECK_STR(CALL(p, "query", "SELECT count(*) AS n FROM notes", WASMPLUG_OK), "[{\"n\":3}]");

    /* Bad input. */
    CALL(p, "bad_params", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the parameters must be a JSON array or object");
    CALL(p, "exec", "SELECT ?1\n[[1, 2]]", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "parameter 1 is an array or object");
    CALL(p, "empty_sql", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "the SQL text must be 1 to");
    CALL(p, "bad_pointer", "", WASMPLUG_ERR_OUT_OF_BOUNDS);
    CHECK_CONTAINS(err.message, "wasmplug.db_exec");
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_forbidden(void)
{
    wasmplug_host *h = sql_host(NULL, 0);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = sql_load(h, "sneaky", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "exec", "CREATE TABLE t(x)", WASMPLUG_OK);
    static const struct {
        const char *sql, *why;
    } cases[] = {
        {"ATTACH DATABASE '/tmp/other.db' AS other", "forbidden SQL: ATTACH is not allowed"},
        {"PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE"},
        {"PRAGMA writable_schema = 1", "PRAGMA writable_schema"},
        {"PRAGMA max_page_count = 100000000", "PRAGMA max_page_count"},
        {"BEGIN", "transaction control"},
        {"COMMIT", "transaction control"},
        {"SAVEPOINT s", "SAVEPOINT"},
        {"CREATE VIRTUAL TABLE v USING dbstat", "virtual table module dbstat"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CALL(p, "exec", cases[i].sql, WASMPLUG_ERR_PERMISSION_DENIED);
        if (!test_check(strstr(err.message, cases[i].why) != NULL, __FILE__, __LINE__,
                        cases[i].sql))
            printf("     message: %s\n", err.message);
    }
    /* Extension loading is switched off: the function does not run. */
    CHECK_CONTAINS(CALL(p, "query", "SELECT load_extension('/tmp/evil.so')", WASMPLUG_OK),
                   "error: ");
    /* A forbidden statement after a write in the same call: nothing stays. */
    CALL(p, "exec", "INSERT INTO t VALUES(1); ATTACH 'x' AS y", WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_STR(CALL(p, "query", "SELECT count(*) AS n FROM t", WASMPLUG_OK), "[{\"n\":0}]");
    /* Allowed: fts5. */
    CHECK(strncmp(CALL(p, "exec", "CREATE VIRTUAL TABLE f USING fts5(body)", WASMPLUG_OK),
                  "error", 5) != 0);
    CHECK_STR(CALL(p, "exec", "INSERT INTO f VALUES('full text search')", WASMPLUG_OK), "1");
    CHECK_STR(CALL(p, "query", "SELECT body FROM f WHERE f MATCH 'text'", WASMPLUG_OK),
              "[{\"body\":\"full text search\"}]");
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_limits(void)
{
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.db_max_result_bytes = 2000;
    sc.db_statement_ms = 200;
    wasmplug_host *h = sql_host(&sc, 0);
    wasmplug_plugin_error err;
    static const wasmplug_kv small[] = {{"db.max_bytes", "65536"}};
    wasmplug_plugin *p = sql_load(h, "limited", small, 1, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "exec", "CREATE TABLE b(x BLOB)", WASMPLUG_OK);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(10000))", WASMPLUG_OK);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(100000))", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "plugin 'limited': the database is over its size limit of 65536");
    CALL(p, "query", "SELECT x FROM b", WASMPLUG_ERR_OUTPUT_TOO_LARGE);
    CHECK_CONTAINS(err.message, "over the limit of 2000 bytes");
    CALL(p, "exec",
         "INSERT INTO b VALUES(1); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
         "FROM c) SELECT count(*) FROM c",
         WASMPLUG_ERR_TIMEOUT);
    CHECK_CONTAINS(err.message, "the statement ran longer than its limit of 200 ms");
    CHECK_STR(CALL(p, "query", "SELECT count(*) AS n FROM b", WASMPLUG_OK), "[{\"n\":1}]");
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);

    /* The call's own timeout stops a statement too. */
    h = sql_host(NULL, 150);
    p = sql_load(h, "slow", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        CALL(p, "query",
             "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
             "SELECT count(*) FROM c",
             WASMPLUG_ERR_TIMEOUT);
        CHECK_CONTAINS(err.message, "the call timed out");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* Reload p (sqlplug, granted db) as version with settings. */
static wasmplug_status sql_reload(wasmplug_plugin *p, const char *version,
                                  const wasmplug_kv *settings, size_t nsettings,
                                  wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    wasmplug_load_options o =
        sql_options(&m, wasmplug_plugin_id(p), version, settings, nsettings, true);
    wasmplug_reload_options ro;
    memset(&ro, 0, sizeof ro);
    ro.load = &o;
    char path[1024];
    host_test_path(path, sizeof path, "sqlplug");
    return wasmplug_plugin_reload_file(p, path, &ro, err);
}

/* The size limit is the current version's: a reload that raises or lowers
 * database.max_size is in force for the next call. */
static void test_limit_reload(void)
{
    wasmplug_host *h = sql_host(NULL, 0);
    wasmplug_plugin_error err;
    static const wasmplug_kv small[] = {{"db.max_bytes", "65536"}},
                             large[] = {{"db.max_bytes", "1048576"}};
    wasmplug_plugin *p = sql_load(h, "resized", small, 1, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "exec", "CREATE TABLE b(x BLOB)", WASMPLUG_OK);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(100000))", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "over its size limit of 65536 bytes");
    CHECK_CODE(sql_reload(p, "1.1.0", large, 1, &err), WASMPLUG_OK, &err);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(100000))", WASMPLUG_OK);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(1000000))", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "over its size limit of 1048576 bytes");
    CHECK_CODE(sql_reload(p, "1.2.0", small, 1, &err), WASMPLUG_OK, &err);
    CALL(p, "exec", "INSERT INTO b VALUES(zeroblob(50000))", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "over its size limit of 65536 bytes");
    CHECK_STR(CALL(p, "query", "SELECT count(*) AS n FROM b", WASMPLUG_OK), "[{\"n\":1}]");
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_denied(void)
{
    wasmplug_host *h = sql_host(NULL, 0);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = sql_load(h, "nodb", NULL, 0, false, &err);
    CHECK(p == NULL);
    CHECK_EQ(err.code, WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "does not request permission 'db'");
    wasmplug_host_free(h);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    snprintf(data_dir, sizeof data_dir, "%s/wasmplug-sql-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(data_dir)) {
        printf("FAIL: cannot create a temporary directory\n");
        return 1;
    }
    test_basics();
    test_forbidden();
    test_limits();
    test_limit_reload();
    test_denied();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", data_dir);
    return test_done();
}
