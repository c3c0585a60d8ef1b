/*
 * cli.h - shared pieces of the wasmplug command: exit codes, global
 * options, option parsing, output (text or --json via jansson), plugin
 * resolution and the flags shared by run and exec.
 */
#ifndef WASMPLUG_CLI_H
#define WASMPLUG_CLI_H

#include <wasmplug.h>
#include <wasmplug/manifest.h>
#ifdef WASMPLUG_CLI_HAVE_WASI
#include <wasmplug/wasi.h>
#endif

#include <jansson.h>

#include <stdbool.h>
#include <stdio.h>

#include "services/store.h"
#include "term.h"

/* Exit codes (documented in --help and docs/wasmplug.1). */
enum {
    EXIT_OK = 0,
    EXIT_PLUGIN = 1,     /* the plugin failed: trap, non-zero return, host function error */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_NOT_FOUND = 3,  /* plugin, function, file or export not found */
    EXIT_INVALID = 4,    /* invalid manifest or module, unsupported feature, link error */
    EXIT_DENIED = 5,     /* permission denied */
    EXIT_LIMIT = 6,      /* timeout, fuel, memory, call depth, input/output size */
    EXIT_IO = 7,         /* store or file system error, already installed */
    EXIT_INTERNAL = 8    /* out of memory, unexpected failure */
};

/* Global options, parsed before and after the command name. */
typedef struct cli_globals {
    const char *store_opt;  /* --store DIR */
    char *store;            /* resolved store root (malloc'd) */
    const char *data_opt;   /* --data-dir DIR */
    char *data_dir;         /* plugins' data (kv, db) root (malloc'd), or NULL */
    const char *kv_redis;   /* --kv-redis URL: key-value data on Redis */
    const char *events_redis; /* --events-redis URL: bridge events to Redis */
    const char *bridge;     /* --bridge PATTERN[,PATTERN...]: the bridged topics */
    bool json;
    bool color;             /* ANSI colour on stderr/stdout (terminal only) */
    bool quiet;             /* -q: no notes, no plugin log lines */
    int log_level;          /* plugin log lines at this level and above
                               (wasmplug_log_level; default info, -v debug) */
    bool json_printed;      /* a JSON document went to stdout */
    char last_error[1024];  /* the last message of cli_error, for --json */
    const char *prog;
    char **argv;            /* main's arguments (for wasmplug-dist) */
} cli_globals;

extern cli_globals G;

/* ---- option parsing --------------------------------------------------- */

typedef struct cli_opt {
    const char *name;  /* long name without "--" */
    char short_name;   /* 0 if none */
    bool has_arg;
    int id;
} cli_opt;

/* One option or positional argument at a time: returns the option id, 0 for
 * a positional (in *arg), -1 at the end, -2 after printing a usage error. */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    bool no_more_opts;
} cli_args;

int cli_next(cli_args *a, const cli_opt *opts, const char *cmd, const char **arg);

/* ---- output ----------------------------------------------------------- */
/* Text output escapes untrusted strings (term.h): cli_error and cli_note
 * their whole message (newlines kept), the commands each name or manifest
 * string they print (term_field). */

void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void cli_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* A plugin's error on stderr (as wasmplug_plugin_error_format words it),
 * its names and message escaped. */
void cli_plugin_error(const wasmplug_plugin_error *err);
/* Print a JSON value to stdout (indented) and release it. */
void cli_json_print(json_t *v);
/* {"error": {...}} on stdout for --json, plus the text on stderr. */
int cli_fail_json(int code, const char *kind, const char *message);
/* The same for a message that holds a plugin's own text (its error
 * message, a trap's names): shown on one line (term_field), so that it
 * cannot start lines of its own; exact in --json. */
int cli_fail_json_line(int code, const char *kind, const char *message);
const char *cli_bold(void);
const char *cli_reset(void);
const char *cli_green(void);
const char *cli_red(void);
const char *cli_yellow(void);

/* The exit code for a library status. */
int cli_exit_for(wasmplug_status st);
/* A JSON string of possibly non-UTF-8 bytes (invalid bytes become U+FFFD). */
json_t *cli_json_bytes(const uint8_t *data, size_t len);

/* ---- plugins ---------------------------------------------------------- */

/* A plugin to run, validate or describe: a store/project entry, a plugin
 * directory, a plugin.yaml, or a bare .wasm (manifest embedded or none). */
typedef struct cli_plugin {
    wasmplug_manifest_doc *doc; /* NULL: no manifest */
    char *module_path;
    char *dir;                  /* plugin directory, if any */
    const char *source;         /* "store", "project", "path" */
} cli_plugin;

/* Resolve ref; on failure prints the error and returns the exit code. */
int cli_resolve(const char *ref, const char *manifest_opt, cli_plugin *out);
/* The arguments of a command taking one PLUGIN and an optional
 * --manifest FILE (info, validate): parse them, set up and resolve the
 * plugin; *ref is the PLUGIN argument. On failure prints why and returns
 * the exit code. */
int cli_resolve_args(int argc, char **argv, const char *cmd, const char *usage,
                     const char **ref, cli_plugin *out);
void cli_plugin_free(cli_plugin *p);
/* Print a manifest diagnostic as FILE:LINE:COLUMN: message; returns EXIT_INVALID. */
int cli_manifest_error(const wasmplug_manifest_diag *d, wasmplug_status st);
/* Read a file or "-" (stdin). */
uint8_t *cli_read_input(const char *path, size_t *len);

/* Parse "500ms", "2s", "16MiB", numbers. */
bool cli_parse_duration_ms(const char *s, uint32_t *ms);
bool cli_parse_size(const char *s, uint64_t *bytes);
bool cli_parse_u64(const char *s, uint64_t *v);

/* Settle colour and the store root; called by every command after parsing. */
int cli_setup(void);
/* EXIT_OK if a store root is known and usable, else prints why and returns
 * EXIT_USAGE (no root) or EXIT_IO (the root is not a directory). */
int cli_need_store(void);
/* EXIT_OK unless the store root exists and is not a directory (then prints
 * why and returns EXIT_IO). */
int cli_store_usable(void);
/* A manifest as JSON. */
json_t *cli_doc_json(const wasmplug_manifest_doc *doc);
/* "(i32, i32) -> i64" into buf. */
const char *cli_functype_str(const wasmplug_functype *t, char *buf, size_t size);
/* Create an engine (bounds mode from $WASMPLUG_BOUNDS: guard/explicit/auto). */
wasmplug_status cli_engine(wasmplug_engine **out);
/* "FILE: STATUS: MESSAGE (at byte offset N)" for a module the engine
 * refused (file and message escaped), in buf; returns buf. */
const char *cli_module_error(char *buf, size_t size, const char *file, wasmplug_status st,
                             const wasmplug_error *err);

/* ---- services (cli_services.c) ----------------------------------------- */

/* Attach the host services (data in G.data_dir, notifications on stderr). */
wasmplug_status cli_attach_services(wasmplug_host *h, char *msg, size_t msg_size);
/* The exit status for a failed cli_attach_services: EXIT_INTERNAL when it
 * could not continue in wasmplug-dist (as every forwarded command), else by
 * status (cli_exit_for). */
int cli_services_exit(wasmplug_status st);
/* Free what cli_attach_services made (its event bus): before wasmplug_host_free. */
void cli_detach_services(void);
/* The manifest permissions entry that requests a service grant
 * ("notify" -> "notify: true"). */
const char *cli_service_hint(const char *grant);

/* ---- commands --------------------------------------------------------- */

int cmd_list(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_flow(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_new(int argc, char **argv);
int cmd_kv(int argc, char **argv);
int cmd_dev(int argc, char **argv);

/* Features of a module the engine recorded while compiling it (inspect.c). */
json_t *cli_module_features(const wasmplug_module *m);

#endif
