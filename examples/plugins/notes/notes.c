/*
 * notes.c - a notes plugin on the SQL service (grant "db": plugin.yaml asks
 * for `database: true`). Its own SQLite database keeps the notes between
 * runs and across versions; every call is one transaction.
 *
 *   add      input: the note's text          output: {"id": N}
 *   list     input: none                     output: [{"id", "text", "created"}]
 *   search   input: a word                   output: the notes containing it
 *   remove   input: an id                    output: {"removed": 0|1}
 */
#include "wasmplug_pdk.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL,"
    " created TEXT NOT NULL DEFAULT (datetime('now')))";

/* The input as a JSON array of one string: parameters are always bound. */
static const char *one_param(const char *text)
{
    wp_jw w = {0};
    wp_jw_array(&w);
    wp_jw_string(&w, text);
    wp_jw_end_array(&w);
    wp_buf_char(&w.buf, '\0');
    return w.buf.oom ? NULL : w.buf.data;
}

static int sql_failed(void)
{
    return wp_fail(1, wp_db_error());
}

WP_FN(add)
{
    const char *text = wp_input_string();
    if (!text || !*text)
        return wp_fail(1, "a note needs some text");
    if (wp_db_exec(SCHEMA, NULL) < 0 || wp_db_exec("INSERT INTO notes(text) VALUES(?1)",
                                                   one_param(text)) < 0)
        return sql_failed();
    const char *rows = wp_db_query("SELECT last_insert_rowid() AS id", NULL);
    if (!rows)
        return sql_failed();
    /* [{"id":N}] -> {"id":N} */
    size_t n = wp_strlen(rows);
    wp_output(rows + 1, n > 2 ? n - 2 : 0);
    return 0;
}

WP_FN(list)
{
    if (wp_db_exec(SCHEMA, NULL) < 0)
        return sql_failed();
    const char *rows = wp_db_query("SELECT id, text, created FROM notes ORDER BY id", NULL);
    if (!rows)
        return sql_failed();
    wp_output_str(rows);
    return 0;
}

WP_FN(search)
{
    const char *word = wp_input_string();
    if (wp_db_exec(SCHEMA, NULL) < 0)
        return sql_failed();
    const char *rows = wp_db_query(
        "SELECT id, text, created FROM notes WHERE instr(lower(text), lower(?1)) > 0 ORDER BY id",
        one_param(word ? word : ""));
    if (!rows)
        return sql_failed();
    wp_output_str(rows);
    return 0;
}

WP_FN(remove)
{
    long long id = 0;
    if (!wp_parse_int(wp_input_string(), &id))
        return wp_fail(1, "remove takes a note's id");
    wp_buf params = {0};
    wp_buf_char(&params, '[');
    wp_buf_int(&params, id);
    wp_buf_str(&params, "]");
    wp_buf_char(&params, '\0');
    if (wp_db_exec(SCHEMA, NULL) < 0)
        return sql_failed();
    int32_t n = wp_db_exec("DELETE FROM notes WHERE id = ?1", params.data);
    if (n < 0)
        return sql_failed();
    wp_output_str(n ? "{\"removed\":1}" : "{\"removed\":0}");
    return 0;
}
