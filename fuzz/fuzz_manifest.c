/*
 * fuzz_manifest.c - libFuzzer target for the manifest parser
 * (src/services/manifest.c): any text given to wasmplug_manifest_parse is
 * accepted or rejected with a diagnostic, never a crash, hang or leak. An
 * accepted manifest goes through everything the CLI does with one: the
 * host's view, the module path, the permission requests and a semver
 * comparison of its version; a rejected one must say where (a line within
 * the text, or none) and why.
 *
 * The same text is also embedded in a module's "wasmplug.manifest" custom
 * section and parsed from there.
 *
 * Build: cmake -DWASMPLUG_FUZZ=ON with clang; run: build/fuzz/fuzz_manifest CORPUS_DIR
 * (fuzz/README.md).
 */
#include <wasmplug/manifest.h>

#include "services/grants.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const wasmplug_manifest_doc *doc)
{
    wasmplug_manifest host;
    if (wasmplug_manifest_to_host(doc, &host) == WASMPLUG_OK && host.id && !host.id[0])
        abort(); /* an accepted manifest always has an id */
    free(wasmplug_manifest_module_path(doc));
    wps_requests r;
    if (wps_requests_of(doc, &r) == WASMPLUG_OK)
        wps_requests_free(&r);
    if (doc->version && wasmplug_semver_compare(doc->version, doc->version) != 0)
        abort(); /* a version equals itself */
}

/* A module holding only the custom section wasmplug.manifest = text. */
static uint8_t *embed(const uint8_t *text, size_t len, size_t *out_len)
{
    static const char name[] = WASMPLUG_MANIFEST_SECTION;
    size_t nlen = sizeof name - 1, body = 1 + nlen + len;
    uint8_t *m = malloc(8 + 1 + 5 + body);
    if (!m || body > 0x0FFFFFFF) {
        free(m);
        return NULL;
    }
    memcpy(m, "\0asm\1\0\0\0", 8);
    size_t at = 8;
    m[at++] = 0; /* custom section */
    for (size_t v = body;; v >>= 7) { /* LEB128 size */
        m[at++] = (uint8_t)((v & 0x7F) | (v >> 7 ? 0x80 : 0));
        if (!(v >> 7))
            break;
    }
    m[at++] = (uint8_t)nlen;
    memcpy(m + at, name, nlen);
    at += nlen;
    memcpy(m + at, text, len);
    *out_len = at + len;
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_diag diag;
    wasmplug_status st = wasmplug_manifest_parse((const char *)data, size, "fuzz.yaml", &doc, &diag);
    if (st == WASMPLUG_OK) {
        use(doc);
        wasmplug_manifest_doc_free(doc);
    } else if (!diag.message[0] || doc) {
        abort(); /* a rejection says why, and gives nothing back */
    }
    size_t mlen;
    uint8_t *module = embed(data, size, &mlen);
    if (module) {
        doc = NULL;
        if (wasmplug_manifest_from_module(module, mlen, "fuzz.wasm", &doc, &diag) == WASMPLUG_OK) {
            use(doc);
            wasmplug_manifest_doc_free(doc);
        }
        free(module);
    }
    return 0;
}
