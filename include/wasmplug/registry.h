/*
 * wasmplug/registry.h - signed plugin registries and the distribution
 * client: trusted keys, registries, search, install, update, outdated,
 * rollback, lock files and publishing (services layer,
 * libwasmplug_services; needs libsodium, libarchive, libcurl, jansson).
 *
 * A registry is a static tree any HTTP server, a directory or a file://
 * URL can serve:
 *
 *     index.json             the index (below)
 *     index.json.minisig     its minisign signature; trusted comment
 *                            "wasmplug index version N"
 *     packages/<id>-<version>.wasmplug[.minisig]   packages and signatures
 *
 *     {"wasmplug_index": 1, "version": 7, "expires": 1767225600,
 *      "plugins": {"word-counter": {"description": "...", "keywords": [...],
 *         "versions": {"1.2.0": {"file": "packages/word-counter-1.2.0.wasmplug",
 *            "sha256": "<64 hex>", "size": 4242, "description": "...",
 *            "permissions": ["host.log", "wasi.env:LANG", ...]}}}}}
 *
 * The client verifies the index with the store's trusted keys, refuses an
 * index whose version is older than the newest it has accepted from that
 * registry (rollback protection) or whose "expires" time has passed (freeze
 * protection), then checks every package it downloads against the index's
 * size and SHA-256 before reading it, and its signature against the
 * trusted keys. Nothing reaches the store unless every check passed: a
 * refused install leaves the store byte-identical.
 *
 * Files under the store root (see also services/store.h):
 *     trusted/<KEYID>.pub          trusted publisher keys (minisign format)
 *     registries.json              registries, priorities, newest index seen
 *     plugins/<id>/<version>/wasmplug-install.json   where a version came
 *                                  from (registry, range), its digest, signer
 *     plugins/<id>/<version>/grants  the permissions the operator granted
 * and, in a project directory, wasmplug.lock (id, version, digest,
 * registry of each plugin install/update chose; install --locked replays it).
 *
 * Functions return WASMPLUG_OK or an error with the reason in msg (msgsize
 * bytes). Results are malloc'd and freed with the matching _free function.
 */
#ifndef WASMPLUG_REGISTRY_H
#define WASMPLUG_REGISTRY_H

#include <wasmplug/manifest.h>
#include <wasmplug/signing.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WASMPLUG_INDEX_FILE "index.json"
#define WASMPLUG_LOCK_FILE "wasmplug.lock"
#define WASMPLUG_INSTALL_RECORD "wasmplug-install.json"

/* ------------------------------------------------------------------------ */
/* Trusted keys                                                             */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_trusted_key {
    wasmplug_pubkey key;
    char id_hex[17];
    char *name;  /* the label given when it was added ("" if none) */
} wasmplug_trusted_key;

/** Trust a public key (a minisign public key file's text or its base64
 *  line) under an optional name. Adding a key twice replaces its name. */
WASMPLUG_API wasmplug_status wasmplug_trust_add(const char *store, const char *key_text,
                                                size_t len, const char *name,
                                                wasmplug_pubkey *added, char *msg,
                                                size_t msgsize);
/** Every trusted key, sorted by id. */
WASMPLUG_API wasmplug_status wasmplug_trust_list(const char *store, wasmplug_trusted_key **out,
                                                 size_t *count, char *msg, size_t msgsize);
/** Remove a key by its id (hex) or name. ERR_NOT_FOUND if no key matches. */
WASMPLUG_API wasmplug_status wasmplug_trust_remove(const char *store, const char *id_or_name,
                                                   char *msg, size_t msgsize);
WASMPLUG_API void wasmplug_trusted_keys_free(wasmplug_trusted_key *keys, size_t count);

/* ------------------------------------------------------------------------ */
/* Registries                                                               */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_registry {
    char *name;
    char *url;              /* http(s)://, file:// or a directory */
    int priority;           /* higher first; ties in order of addition */
    uint64_t seen_version;  /* newest index version accepted (0: none yet) */
    bool pinned;            /* the index must be signed by index_key ... */
    wasmplug_pubkey index_key; /* ... rather than by any trusted key */
} wasmplug_registry;

/** Add (or change the URL, priority and pinned key of) a registry.
 *  index_key (may be NULL) pins the key that must sign its index; without
 *  one, any key the store trusts may. */
WASMPLUG_API wasmplug_status wasmplug_registry_add(const char *store, const char *name,
                                                   const char *url, int priority,
                                                   const wasmplug_pubkey *index_key, char *msg,
                                                   size_t msgsize);
/** The registries, highest priority first. */
WASMPLUG_API wasmplug_status wasmplug_registry_list(const char *store, wasmplug_registry **out,
                                                    size_t *count, char *msg, size_t msgsize);
WASMPLUG_API wasmplug_status wasmplug_registry_remove(const char *store, const char *name,
                                                      char *msg, size_t msgsize);
WASMPLUG_API void wasmplug_registries_free(wasmplug_registry *r, size_t count);

/**
 * Publish packages (count paths) into the registry directory dir (created
 * if needed): copy each and its signature (made with key when the package
 * has no <package>.minisig next to it) into packages/, add them to the
 * index, bump the index version once, set "expires" to now + expires_days
 * (0: 30), and sign the index with key. Each file is written under a
 * temporary name and renamed, the index last; concurrent publishers are
 * serialised with a lock. If one package fails the index is left as it
 * was. A published version is immutable: the same id and version with other
 * bytes is ERR_DUPLICATE. keywords (may be NULL) are added to each plugin's.
 */
WASMPLUG_API wasmplug_status wasmplug_registry_publish(const char *dir,
                                                       const char *const *package_paths,
                                                       size_t count, const wasmplug_seckey *key,
                                                       const wasmplug_strlist *keywords,
                                                       unsigned expires_days, char *msg,
                                                       size_t msgsize);

/* ------------------------------------------------------------------------ */
/* Permissions and consent                                                  */
/* ------------------------------------------------------------------------ */

/** One permission a manifest requests, as the host checks it (the grant
 *  vocabulary of `wasmplug run`): "host.log", "wasi.env:LANG",
 *  "wasi.fs.read:/data", "wasi.fs.write:/out", "kv", "events.publish:P",
 *  "events.subscribe:P", "http:HOST". */
typedef struct wasmplug_permission {
    char *name;
    bool privileged;  /* wide: a directory outside the plugin's data, an
                         environment pattern, any host, a host-function
                         pattern, or a host function the embedder marks
                         sensitive */
} wasmplug_permission;

/** The permissions doc requests. sensitive (count n, may be NULL): host
 *  function patterns the embedder marks as privileged. */
WASMPLUG_API wasmplug_status wasmplug_manifest_permissions(const wasmplug_manifest_doc *doc,
                                                           const char *const *sensitive,
                                                           size_t n, wasmplug_permission **out,
                                                           size_t *count);
WASMPLUG_API void wasmplug_permissions_free(wasmplug_permission *p, size_t count);

/** What a consent callback is asked. */
typedef struct wasmplug_consent_request {
    const char *id;
    const char *version;
    const char *installed_version;           /* NULL for a first install */
    const wasmplug_manifest_doc *manifest;   /* the new version's */
    const wasmplug_permission *requested;    /* everything the version requests */
    size_t requested_count;
    const wasmplug_permission *added;        /* not granted to the installed version */
    size_t added_count;
    bool *grant;  /* one per requested permission, preset to true: clear
                     entries to grant less (first installs) */
} wasmplug_consent_request;

/** Return true to go ahead with the grants in req->grant. Called for every
 *  first install (without a callback everything requested is granted) and
 *  for every update that requests permissions the installed version was
 *  not granted: such an update is refused when the callback returns false
 *  or there is none (unless accept_permissions is set, in which case the
 *  callback is only informed). The grants are recorded in the installed
 *  version's "grants" file (services/grants.h), which `run` uses. */
typedef bool (*wasmplug_consent_fn)(void *user, const wasmplug_consent_request *req);
/** Download progress: bytes so far and expected (0: unknown). */
typedef void (*wasmplug_progress_fn)(void *user, const char *what, uint64_t now, uint64_t total);

/* ------------------------------------------------------------------------ */
/* The client                                                               */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_dist_options {
    const char *store;              /* the store root (required) */
    const char *lock_dir;           /* where wasmplug.lock is written (NULL: nowhere) */
    bool allow_unsigned;            /* accept packages without a trusted signature */
    bool accept_permissions;        /* grant added permissions without asking */
    uint64_t max_download;          /* per file (0: 64 MiB) */
    int retries;                    /* per download (0: 3; <0: none) */
    unsigned backoff_ms;            /* first retry delay (0: 200 ms) */
    const char *const *sensitive;   /* host function patterns shown as privileged */
    size_t sensitive_count;
    wasmplug_progress_fn progress;
    void *progress_user;
    wasmplug_consent_fn consent;
    void *consent_user;
} wasmplug_dist_options;

typedef struct wasmplug_search_hit {
    char *registry;
    char *id;
    char *version;       /* newest */
    char *description;
    wasmplug_strlist keywords;
    uint64_t size;
} wasmplug_search_hit;

/** Search every registry's index: query words (case-insensitive) must each
 *  occur in the id, the description or a keyword. An empty query lists
 *  everything. Hits are sorted by id; a plugin in several registries is
 *  listed from the highest-priority one. */
WASMPLUG_API wasmplug_status wasmplug_dist_search(const wasmplug_dist_options *o,
                                                  const char *query, wasmplug_search_hit **hits,
                                                  size_t *count, char *msg, size_t msgsize);
WASMPLUG_API void wasmplug_search_hits_free(wasmplug_search_hit *hits, size_t count);

/** What an install, update or rollback did. */
typedef struct wasmplug_dist_result {
    char *id;
    char *version;       /* installed (or rolled back to) */
    char *previous;      /* the version it replaces as the newest (NULL if none) */
    char *registry;      /* NULL for a local package */
    char *sha256;
    bool unchanged;      /* already installed / up to date: nothing done */
} wasmplug_dist_result;

/**
 * Install spec: "NAME", "NAME@RANGE" (wasmplug/semver.h) from the
 * registries (highest priority first, newest matching version), or the path
 * of a .wasmplug package (its signature at PATH.minisig). Order: resolve,
 * download (size and digest against the index), verify the signature,
 * read the package within its limits, validate the module, ask for consent,
 * install atomically, write the lock file.
 */
WASMPLUG_API wasmplug_status wasmplug_dist_install(const wasmplug_dist_options *o,
                                                   const char *spec, wasmplug_dist_result *res,
                                                   char *msg, size_t msgsize);
/** Update id (NULL: every plugin installed from a registry) to the newest
 *  version its install range allows. Earlier versions stay installed (for
 *  rollback). *res gets one entry per plugin considered. */
WASMPLUG_API wasmplug_status wasmplug_dist_update(const wasmplug_dist_options *o, const char *id,
                                                  wasmplug_dist_result **res, size_t *count,
                                                  char *msg, size_t msgsize);

typedef struct wasmplug_outdated_entry {
    char *id;
    char *installed;
    char *wanted;    /* newest allowed by the install range */
    char *latest;    /* newest in the registry */
    char *registry;
} wasmplug_outdated_entry;

/** Plugins installed from a registry that has a newer version. */
WASMPLUG_API wasmplug_status wasmplug_dist_outdated(const wasmplug_dist_options *o,
                                                    wasmplug_outdated_entry **out, size_t *count,
                                                    char *msg, size_t msgsize);
WASMPLUG_API void wasmplug_outdated_free(wasmplug_outdated_entry *e, size_t count);

/** Remove id's newest version, so the previously installed one is the
 *  newest again. ERR_NOT_FOUND when fewer than two versions are installed. */
WASMPLUG_API wasmplug_status wasmplug_dist_rollback(const wasmplug_dist_options *o,
                                                    const char *id, wasmplug_dist_result *res,
                                                    char *msg, size_t msgsize);

/** Install exactly what lock_dir/wasmplug.lock lists (id, version, digest,
 *  registry): a digest differing from the lock file is refused. */
WASMPLUG_API wasmplug_status wasmplug_dist_install_locked(const wasmplug_dist_options *o,
                                                          const char *lock_dir,
                                                          wasmplug_dist_result **res,
                                                          size_t *count, char *msg,
                                                          size_t msgsize);

WASMPLUG_API void wasmplug_dist_result_clear(wasmplug_dist_result *r);
WASMPLUG_API void wasmplug_dist_results_free(wasmplug_dist_result *r, size_t count);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_REGISTRY_H */
