/*
 * wasmplug/package.h - plugin packages (services layer,
 * libwasmplug_services; needs libarchive).
 *
 * A package is one file per plugin version, <id>-<version>.wasmplug: a
 * gzip-compressed POSIX tar archive holding plugin.yaml, the module at the
 * manifest's path, and optionally README*, LICENSE* and an assets/ tree.
 * Packing is deterministic (sorted entries, zero times and owners), so the
 * same directory always gives the same bytes and the same signature.
 *
 * Reading a package is the security boundary: it happens in memory, and
 * refuses absolute paths, ".." components, links, devices, FIFOs, duplicate
 * names, more entries than the limit and more bytes than the limits (the
 * decompressor stops at the limit, so a decompression bomb costs at most
 * the limit). Detached signatures (<package>.minisig, wasmplug/signing.h)
 * cover the package file's bytes.
 */
#ifndef WASMPLUG_PACKAGE_H
#define WASMPLUG_PACKAGE_H

#include <wasmplug/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The package file extension. */
#define WASMPLUG_PACKAGE_EXT ".wasmplug"

/** Limits applied while reading a package (0 = the default). */
typedef struct wasmplug_package_limits {
    uint64_t max_file_size;   /* one entry, uncompressed (default 64 MiB) */
    uint64_t max_total_size;  /* all entries, uncompressed (default 128 MiB) */
    size_t max_entries;       /* default 1,000 */
} wasmplug_package_limits;

#define WASMPLUG_PACKAGE_MAX_FILE (64ULL << 20)
#define WASMPLUG_PACKAGE_MAX_TOTAL (128ULL << 20)
#define WASMPLUG_PACKAGE_MAX_ENTRIES 1000

/** One file of a package (path relative, '/'-separated; data owned). */
typedef struct wasmplug_package_file {
    char *path;
    uint8_t *data;
    size_t size;
} wasmplug_package_file;

/** A package read into memory. */
typedef struct wasmplug_package {
    wasmplug_manifest_doc *doc;   /* the parsed plugin.yaml */
    wasmplug_package_file *files; /* every file, plugin.yaml first */
    size_t count;
    const wasmplug_package_file *manifest; /* into files */
    const wasmplug_package_file *module;   /* into files */
} wasmplug_package;

/**
 * Pack the plugin directory dir (with plugin.yaml; the manifest must parse
 * and its module must exist). out is a directory (the file is named
 * <id>-<version>.wasmplug inside) or a file path. The file is written to a
 * temporary name and renamed. *out_path (may be NULL) gets the path written.
 */
WASMPLUG_API wasmplug_status wasmplug_package_pack(const char *dir, const char *out,
                                                   char **out_path, char *msg, size_t msgsize);

/**
 * Read a package from memory (name is used in messages). Errors name the
 * entry and the rule: WASMPLUG_ERR_MALFORMED (not a package, a bad entry),
 * WASMPLUG_ERR_LIMIT (a size or count limit), WASMPLUG_ERR_MANIFEST.
 * limits may be NULL. *out is freed with wasmplug_package_free.
 */
WASMPLUG_API wasmplug_status wasmplug_package_read(const uint8_t *data, size_t len,
                                                   const char *name,
                                                   const wasmplug_package_limits *limits,
                                                   wasmplug_package **out, char *msg,
                                                   size_t msgsize);
WASMPLUG_API void wasmplug_package_free(wasmplug_package *pkg);

/** "<id>-<version>.wasmplug" (malloc'd). */
WASMPLUG_API char *wasmplug_package_filename(const char *id, const char *version);

/** The SHA-256 of data as 64 lower-case hex digits (hex: 65 bytes). */
WASMPLUG_API void wasmplug_sha256_hex(const uint8_t *data, size_t len, char hex[65]);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_PACKAGE_H */
