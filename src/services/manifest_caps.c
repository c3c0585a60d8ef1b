/*
 * manifest_caps.c - permissions.capabilities: coarse capabilities as some
 * manifests state them, turned into the fine-grained requests the rest of
 * wasmplug grants and checks:
 *
 *     permissions:
 *       capabilities:
 *         network: false            # true: any host (http "*", a wide
 *                                   # request); or a list of http rules
 *         filesystem: read-only     # the current directory as /, read-only
 *                                   # (read-write: writable; false/none: no)
 *
 * What a capability asks for is still intersected with the host policy
 * like every request: "network: true" grants nothing the operator did not.
 */
#include "manifest_internal.h"

#include <string.h>

static wasmplug_status f_network(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    bool on;
    if (wpm_plain_bool(v, &on))
        return on ? wpm_strlist_add(c, &c->m->http_hosts, "*") : WASMPLUG_OK;
    if (v->type == YAML_SEQUENCE_NODE)
        return wpm_get_strlist(c, "permissions.capabilities.network", v, &c->m->http_hosts,
                               false, wpm_valid_http_rule,
                               "hosts or URL patterns such as api.example.org");
    return wpm_fail(c, v,
                    "'permissions.capabilities.network' must be true, false or a list of hosts "
                    "such as [api.example.org] (got %s%s%.80s%s)",
                    wpm_kind_name(v), v->type == YAML_SCALAR_NODE ? " '" : "",
                    v->type == YAML_SCALAR_NODE ? wpm_sval(v) : "",
                    v->type == YAML_SCALAR_NODE ? "'" : "");
}

static wasmplug_status f_filesystem(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    bool on;
    if (wpm_plain_bool(v, &on) && !on)
        return WASMPLUG_OK;
    const char *s = v->type == YAML_SCALAR_NODE ? wpm_sval(v) : "";
    if (!strcmp(s, "none"))
        return WASMPLUG_OK;
    if (!strcmp(s, "read-only") || !strcmp(s, "readonly") || !strcmp(s, "ro"))
        return wpm_add_dir(c, v, ".", "/", "ro");
    if (!strcmp(s, "read-write") || !strcmp(s, "readwrite") || !strcmp(s, "rw"))
        return wpm_add_dir(c, v, ".", "/", "rw");
    return wpm_fail(c, v,
                    "'permissions.capabilities.filesystem' must be read-only, read-write, none "
                    "or false (got %s%s%.80s%s)",
                    wpm_kind_name(v), *s ? " '" : "", s, *s ? "'" : "");
}

static const wpm_field CAPABILITY_FIELDS[] = {
    {"network", f_network}, {"filesystem", f_filesystem}, {NULL, NULL}};

wasmplug_status wpm_capabilities_section(wpm_ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    return wpm_walk_mapping(c, "'permissions.capabilities'", n, CAPABILITY_FIELDS);
}
