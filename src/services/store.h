/*
 * store.h - the local plugin store (services layer, internal to the CLI).
 *
 * Layout under the store root ($WASMPLUG_STORE, else
 * $XDG_DATA_HOME/wasmplug, else ~/.local/share/wasmplug):
 *
 *     plugins/<id>/<version>/plugin.yaml     the manifest
 *     plugins/<id>/<version>/<module>        the module, at the manifest's path
 *     .tmp/                                  installs and removals in progress
 *
 * Installs are atomic: everything is written (and fsync'ed) into a fresh
 * directory under .tmp, which is then renamed into place; a crash leaves at
 * most a directory under .tmp, which the next store operation deletes once
 * its owning process is gone. Removals rename the version out of plugins/
 * first, so a plugin is either fully listed or not at all.
 *
 * Discovery: plugins in the store, and in a project's ./plugins directory
 * (./plugins/<name>/plugin.yaml or ./plugins/<name>/<version>/plugin.yaml).
 */
#ifndef WASMPLUG_SERVICES_STORE_H
#define WASMPLUG_SERVICES_STORE_H

#include <wasmplug/manifest.h>

#include <sys/types.h>

#define WPS_ENV_STORE "WASMPLUG_STORE"
/* Test hook: when set, an install kills its own process (SIGKILL) half-way
 * through copying the module ("rename": after writing everything, just
 * before the rename), to show nothing half-installed remains. */
#define WPS_ENV_CRASH "WASMPLUG_TEST_CRASH_INSTALL"

typedef enum wps_source { WPS_STORE, WPS_PROJECT, WPS_PATH } wps_source;

/** One plugin found by discovery. */
typedef struct wps_entry {
    char *dir;                   /* the directory holding plugin.yaml */
    wps_source source;
    wasmplug_manifest_doc *doc;  /* NULL if the manifest is invalid */
    wasmplug_manifest_diag diag; /* why, when doc is NULL */
} wps_entry;

/** The store root: explicit (--store), else the environment, else XDG.
 *  malloc'd; NULL only when no home directory can be found. */
char *wps_store_root(const char *explicit_root);

#define WPS_ENV_PLUGIN_DATA "WASMPLUG_PLUGIN_DATA"
/** Where plugins' data (kv, db) lives: explicit (--data-dir), else
 *  $WASMPLUG_PLUGIN_DATA, else $XDG_STATE_HOME/wasmplug, else
 *  ~/.local/state/wasmplug. malloc'd; NULL without a home directory. */
char *wps_plugin_data_root(const char *explicit_root);

/** All plugins: the store's (sorted by id, newest version first), then the
 *  project's (project_dir may be NULL). *out freed with wps_entries_free. */
wasmplug_status wps_list(const char *root, const char *project_dir, wps_entry **out,
                         size_t *count, char *msg, size_t msgsize);
void wps_entries_free(wps_entry *e, size_t count);
/** An entry's plugin id and version: its manifest's, else from its path
 *  (buf holds the id then). */
const char *wps_entry_id(const wps_entry *e, char *buf, size_t size);
const char *wps_entry_version(const wps_entry *e);
void wps_entry_clear(wps_entry *e);

/** Find id (or "id@version") in the project's plugins, then the store; the
 *  newest version unless one is given. ERR_NOT_FOUND with a message. */
wasmplug_status wps_find(const char *root, const char *project_dir, const char *ref,
                         wps_entry *out, char *msg, size_t msgsize);

/** Whether ref ("id" or "id@version") has a version installed in the store
 *  at root (a plugin.yaml in its directory; the manifest is not parsed):
 *  cheap enough for every request. false for names that are not plain
 *  directory names. */
bool wps_installed(const char *root, const char *ref);

/**
 * Install a plugin: the manifest text (written as plugin.yaml) and the
 * module file at module_path (copied to the manifest's module path).
 * doc is the parsed manifest (id, version, module). force replaces an
 * installed copy of the same version (atomically). On success *dest (may
 * be NULL) gets the installed directory (malloc'd).
 */
wasmplug_status wps_install(const char *root, const wasmplug_manifest_doc *doc,
                            const char *manifest_text, size_t manifest_len,
                            const char *module_path, bool force, char **dest, char *msg,
                            size_t msgsize);

/** One file to install: path relative to the plugin's directory. */
typedef struct wps_file {
    const char *path;
    const void *data;
    size_t size;
} wps_file;

/**
 * Install files as plugins/<id>/<version> (atomically, as wps_install;
 * paths must be relative and checked by the caller). The last file is the
 * one the crash hook interrupts.
 */
wasmplug_status wps_install_files(const char *root, const char *id, const char *version,
                                  const wps_file *files, size_t count, bool force, char **dest,
                                  char *msg, size_t msgsize);

/** Remove id's version (NULL: every version). ERR_NOT_FOUND if not installed.
 *  *removed gets how many versions were removed. */
wasmplug_status wps_remove(const char *root, const char *id, const char *version,
                           size_t *removed, char *msg, size_t msgsize);

/** Delete leftovers of interrupted installs/removals whose process is gone. */
void wps_cleanup(const char *root);

/** mkdir -p. 0 on success, else errno. */
int wps_mkdirs(const char *path, mode_t mode);
/** rm -rf. 0 on success, else errno. */
int wps_rmtree(const char *path);
/** Read a whole file (malloc'd, NUL-terminated); NULL with errno set. */
char *wps_read_file(const char *path, size_t *len);

#endif
