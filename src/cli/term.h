/*
 * term.h - untrusted text made safe to show on a terminal.
 *
 * Names from modules (exports, imports, the name section), manifest strings,
 * plugin logs and output, and messages built from them may hold escape
 * sequences (which a terminal would obey: move the cursor, rewrite the
 * title, set the clipboard) or newlines (which forge extra lines). Every
 * such text goes through these functions before it reaches stdout or
 * stderr as text; JSON output needs none (jansson escapes it exactly).
 *
 * What is escaped, so that it shows as visible characters:
 *   C0 controls and DEL      \n \r \t \e, others \xNN (\x7f)
 *   C1 controls (U+0080..9F) \u0085 ...
 *   bidirectional overrides  \u202e ... (U+202A..202E, U+2066..2069), which
 *                            reorder what is shown
 *   invalid UTF-8 bytes      \xNN (each byte of a bad sequence)
 * A field (TERM_FIELD: one name or value on one line) escapes everything
 * above, and a backslash as \\ so that the result reads back unambiguously.
 * Text (TERM_TEXT: messages, logs, plugin output) keeps newlines and tabs
 * and leaves backslashes alone.
 */
#ifndef WASMPLUG_CLI_TERM_H
#define WASMPLUG_CLI_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum term_mode {
    TERM_FIELD, /* one line: newlines, tabs and backslashes escaped too */
    TERM_TEXT   /* lines of text: newlines and tabs kept */
} term_mode;

/* The escaped form of len bytes of s, malloc'd (NULL when out of memory). */
char *term_escape(const void *s, size_t len, term_mode mode);

/* A NUL-terminated field escaped (TERM_FIELD), for printf("%s", ...): the
 * result lives in one of 8 buffers reused in turn, so it stays valid until
 * 8 more calls; "" for NULL, "?" when out of memory. Not thread-safe (the
 * CLI prints from its main thread). */
const char *term_field(const char *s);
/* The same for len bytes (not NUL-terminated). */
const char *term_fieldn(const void *s, size_t len);

/* Writing a stream of untrusted text (plugin output arriving in pieces):
 * a UTF-8 sequence split between two writes is still recognised. */
typedef struct term_stream {
    FILE *out;
    term_mode mode;
    unsigned char held[4]; /* the start of a sequence the last write ended in */
    size_t nheld;
} term_stream;

void term_stream_init(term_stream *ts, FILE *out, term_mode mode);
void term_stream_write(term_stream *ts, const void *data, size_t len);
/* Write out (escaped) bytes still held at the end of the stream. */
void term_stream_finish(term_stream *ts);

/* Whether f is a terminal (plugin output is escaped only there: a pipe or
 * a file gets the bytes as they are). */
bool term_is_tty(FILE *f);

#endif
