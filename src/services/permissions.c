/*
 * permissions.c - the permissions a manifest requests, in the host's grant
 * vocabulary (services/grants.h decides the names and which are wide),
 * with the embedder's sensitive host functions marked privileged too. What
 * install shows and an update's consent compares.
 */
#include "services/dist_internal.h"
#include "services/grants.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

wasmplug_status wasmplug_manifest_permissions(const wasmplug_manifest_doc *doc,
                                              const char *const *sensitive, size_t n,
                                              wasmplug_permission **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    wps_requests r;
    if (wps_requests_of(doc, &r) != WASMPLUG_OK)
        return WASMPLUG_ERR_NOMEM;
    wasmplug_permission *p = r.count ? calloc(r.count, sizeof *p) : NULL;
    wasmplug_status st = r.count && !p ? WASMPLUG_ERR_NOMEM : WASMPLUG_OK;
    for (size_t i = 0; !st && i < r.count; i++) {
        const wps_request *q = &r.items[i];
        bool priv = q->wide != NULL;
        for (size_t k = 0; k < n && !priv && q->kind == WPS_REQ_HOST_FUNCTION; k++)
            priv = fnmatch(sensitive[k], q->permission, 0) == 0;
        if (!(p[i].name = strdup(q->permission)))
            st = WASMPLUG_ERR_NOMEM;
        p[i].privileged = priv;
        *count = i + 1;
    }
    wps_requests_free(&r);
    if (st) {
        wasmplug_permissions_free(p, *count);
        *count = 0;
        return st;
    }
    *out = p;
    return WASMPLUG_OK;
}

void wasmplug_permissions_free(wasmplug_permission *p, size_t count)
{
    for (size_t i = 0; p && i < count; i++)
        free(p[i].name);
    free(p);
}
