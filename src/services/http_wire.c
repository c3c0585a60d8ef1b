/*
 * http_wire.c - the bytes a plugin exchanges with wasmplug.http_request
 * (docs/ABI.md): a request is "METHOD URL\n", header lines "Name: value\n",
 * a blank line and the body (binary, to the end); a response is
 * "STATUS\n", header lines, a blank line and the body. Line ends may also
 * be "\r\n". Plain text framing, so every PDK builds it without a JSON or
 * binary codec, and bodies need no escaping.
 */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next line of [*p, end): its start and length without the line end;
 * false when no '\n' is left. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return false;
    *line = *p;
    *len = (size_t)(nl - *p);
    if (*len && (*p)[*len - 1] == '\r')
        (*len)--;
    *p = nl + 1;
    return true;
}

wasmplug_http_code wsh_wire_parse(const uint8_t *in, size_t len, wsh_wire_request *out,
                                  char *msg, size_t size)
{
    memset(out, 0, sizeof *out);
    const char *p = (const char *)in, *end = p + len;
    /* Copy everything up to the blank line, to NUL-terminate the parts. */
    const char *line;
    size_t n;
    const char *scan = p;
    size_t head = 0;
    bool blank = false;
    while (next_line(&scan, end, &line, &n)) {
        if (n == 0 && line != p) {
            blank = true;
            break;
        }
        head = (size_t)(scan - p);
    }
    if (!blank) {
        snprintf(msg, size,
                 "malformed request: expected \"METHOD URL\\n\", header lines and a blank "
                 "line before the body");
        return WASMPLUG_HTTP_BAD_REQUEST;
    }
    if (memchr(p, '\0', head)) {
        snprintf(msg, size, "malformed request: a NUL byte before the body");
        return WASMPLUG_HTTP_BAD_REQUEST;
    }
    if (!(out->text = malloc(head + 1))) {
        snprintf(msg, size, "out of memory");
        return WASMPLUG_HTTP_NOMEM;
    }
    memcpy(out->text, p, head);
    out->text[head] = '\0';
    out->req.body = (const uint8_t *)scan;
    out->req.body_len = (size_t)(end - scan);

    char *t = out->text, *tend = out->text + head;
    size_t lineno = 0;
    while (t < tend) {
        char *nl = memchr(t, '\n', (size_t)(tend - t));
        *nl = '\0';
        if (nl > t && nl[-1] == '\r')
            nl[-1] = '\0';
        lineno++;
        if (lineno == 1) {
            char *space = strchr(t, ' ');
            if (!space || space == t || !space[1] || strchr(space + 1, ' ')) {
                snprintf(msg, size, "malformed request line '%.80s': expected \"METHOD URL\"", t);
                wsh_wire_free(out);
                return WASMPLUG_HTTP_BAD_REQUEST;
            }
            *space = '\0';
            out->req.method = t;
            out->req.url = space + 1;
        } else {
            char *colon = strchr(t, ':');
            if (!colon || colon == t) {
                snprintf(msg, size, "malformed header line %zu '%.80s': expected \"Name: value\"",
                         lineno - 1, t);
                wsh_wire_free(out);
                return WASMPLUG_HTTP_BAD_REQUEST;
            }
            if (out->req.header_count == WSH_WIRE_MAX_HEADERS) {
                snprintf(msg, size, "more than %d request headers", WSH_WIRE_MAX_HEADERS);
                wsh_wire_free(out);
                return WASMPLUG_HTTP_BAD_REQUEST;
            }
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            out->headers[out->req.header_count].key = t;
            out->headers[out->req.header_count].value = v;
            out->req.header_count++;
        }
        t = nl + 1;
    }
    out->req.headers = out->headers;
    return WASMPLUG_HTTP_OK;
}

void wsh_wire_free(wsh_wire_request *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* The response's head (status and header lines) is gathered here and
 * written in one piece: each write appends to the call's result and copies
 * into the plugin's buffer, so a write per line would cost more than the
 * lines. A head larger than the buffer is written in parts. */
typedef struct head_buf {
    char text[1024];
    size_t n;
    wsh_wire_write_fn write;
    void *user;
    bool ok;
} head_buf;

static void head_put(head_buf *b, const char *data, size_t n)
{
    if (!b->ok)
        return;
    if (n > sizeof b->text - b->n) {
        b->ok = !b->n || b->write(b->user, b->text, b->n);
        b->n = 0;
        if (b->ok && n > sizeof b->text) {
            b->ok = b->write(b->user, data, n);
            return;
        }
    }
    memcpy(b->text + b->n, data, n);
    b->n += n;
}

bool wsh_wire_response(const wasmplug_http_response *resp, wsh_wire_write_fn write, void *user)
{
    head_buf b;
    b.n = 0;
    b.write = write;
    b.user = user;
    b.ok = true;
    char status[16];
    int sn = snprintf(status, sizeof status, "%d\n", resp->status);
    head_put(&b, status, (size_t)sn);
    for (size_t i = 0; i < resp->header_count; i++) {
        const char *k = resp->headers[i].key, *v = resp->headers[i].value;
        head_put(&b, k, strlen(k));
        head_put(&b, ": ", 2);
        head_put(&b, v, strlen(v));
        head_put(&b, "\n", 1);
    }
    head_put(&b, "\n", 1);
    if (!b.ok || !write(user, b.text, b.n))
        return false;
    return !resp->body_len || write(user, resp->body, resp->body_len);
}
