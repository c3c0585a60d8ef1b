/*
 * main.c - the wasmplug command: global options, command dispatch, help
 * texts, option parsing, output helpers (colour on a terminal only, --json
 * through jansson), exit codes and resolving a plugin reference to a
 * manifest and module.
 */
#include "cli.h"
#include "interrupt.h"
#include "cli_dist.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cli_globals G;

/* ------------------------------------------------------------------------ */
/* Help                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *summary;
    const char *details;
} command;

#define LIMIT_FLAGS                                                                      \
    "  --timeout DURATION   wall-clock limit per call (500ms, 2s, 1m)\n"                 \
    "  --fuel N             instruction budget per call\n"                               \
    "  --max-memory SIZE    linear memory limit (64KiB pages; 16MiB, 1GiB)\n"            \
    "  --max-call-depth N   nested wasm calls\n"
/* serve and worker: what their plugins get (run_opts.h CLI_LAUNCH_OPTS). */
#define LAUNCH_FLAGS                                                                     \
    "A plugin gets what was granted at install, as `run` gives it (host functions,\n"    \
    "services, WASI variables and directories, outbound HTTP), less --deny:\n"           \
    "  --deny PATTERN       deny what PATTERN matches, whatever was granted at install\n"\
    "                       ('http:*': no network; 'wasi.fs.*': no directories)\n"       \
    "  --allow-http PATTERN outbound HTTP only where PATTERN allows it too (default:\n"  \
    "                       the recorded http grants alone decide)\n"                    \
    "  --allow-http-address HOST=CIDR  let HOST resolve to the special range CIDR\n"     \
    "                       (loopback, private, ...: refused by default)\n"              \
    "  --http-ca FILE       PEM CA bundle trusted for HTTPS besides the system's\n"
#define WASI_FLAGS                                                                       \
    "  --allow-env NAME     let the plugin see environment variable NAME (a '*' at\n"   \
    "                       the end matches a prefix; NAME=VALUE sets a value)\n"       \
    "  --dir HOST:GUEST[:ro|:rw]  make directory HOST visible as GUEST (default rw\n"   \
    "                       for --dir; manifest dirs default to ro)\n"

static const command COMMANDS[] = {
    {"list", cmd_list, "list [--all]",
     "list installed plugins (store and ./plugins)",
     "Lists the plugins in the store (newest version first) and in the project\n"
     "directory ./plugins. --all shows every version, not only the newest.\n"},
    {"install", cmd_install,
     "install DIR | FILE.wasm [--manifest plugin.yaml] [--force] [--yes | --grant PERMISSION...]\n"
     "        | NAME[@RANGE] | PACKAGE.wasmplug | --locked [options]",
     "install a plugin into the store",
     "Installs a plugin directory (with plugin.yaml), or a module with a\n"
     "manifest given by --manifest or embedded in its \"wasmplug.manifest\" custom\n"
     "section. The manifest and the module are validated first. The install is\n"
     "atomic: it is written to a temporary directory and renamed into place.\n"
     "It lists the permissions the plugin requests (wide ones marked '!') and\n"
     "records what you grant; `run` of the installed plugin grants exactly that.\n"
     "  --grant PERMISSION  grant the requests matching PERMISSION ('*' wildcards)\n"
     "  -y, --yes    grant everything requested (otherwise: asked on a terminal,\n"
     "               refused elsewhere)\n"
     "  --force      replace an installed copy of the same version\n"
     "  --no-validate  skip the module check (the manifest is always checked)\n"
     "From registries (see `registry`): NAME or NAME@RANGE (^1.2, ~1.2.3, >=1 <2,\n"
     "1.x) installs the newest matching version from the highest-priority registry\n"
     "that has one; PACKAGE.wasmplug installs a package file (signature in\n"
     "PACKAGE.wasmplug.minisig). The package must be signed by a trusted key\n"
     "(`trust`), match the index's size and SHA-256, and unpack within limits;\n"
     "anything refused leaves the store unchanged. The permissions it requests\n"
     "are decided as above (--yes, --grant, or a terminal confirmation) and\n"
     "recorded. Installing a newer version that requests more than the installed\n"
     "one was granted needs --accept-permissions (or --yes), or a yes at the\n"
     "prompt on a terminal. wasmplug.lock in the project directory records id,\n"
     "version, digest and registry.\n"
     "  --locked            install exactly what wasmplug.lock lists\n"
     "  --allow-unsigned    accept packages without a trusted signature\n"
     "  --accept-permissions  grant what a newer version adds without asking\n"
     "  --project DIR       where wasmplug.lock lives (default: .)\n"
     "  --no-lock           do not write wasmplug.lock\n"
     "  --sensitive PATTERN mark host functions as privileged in the listing\n"
     "Environment: WASMPLUG_RETRIES (default 3), WASMPLUG_BACKOFF_MS (200).\n"},
    {"update", CLI_DIST(cmd_update), "update [NAME] [--accept-permissions]",
     "update plugins installed from registries",
     "Installs the newest version each plugin's install range allows (earlier\n"
     "versions stay, for rollback). An update that requests permissions the\n"
     "installed version was not granted needs --accept-permissions, or a yes at\n"
     "the prompt on a terminal (which lists the difference).\n"},
    {"outdated", CLI_DIST(cmd_outdated), "outdated",
     "list plugins with newer versions in their registry", ""},
    {"rollback", CLI_DIST(cmd_rollback), "rollback NAME",
     "go back to the previously installed version",
     "Removes the newest installed version of NAME, so the one installed before\n"
     "it is used again, and updates wasmplug.lock.\n"},
    {"search", CLI_DIST(cmd_search), "search [QUERY...]",
     "search the registries (id, description, keywords)", ""},
    {"registry", CLI_DIST(cmd_registry),
     "registry add NAME URL [--priority N] [--key KEY.pub] | list | remove NAME",
     "manage the registries install and search use",
     "URL is http(s)://, file:// or a directory holding index.json,\n"
     "index.json.minisig and packages/. Higher priorities are asked first. The\n"
     "index must be signed by a trusted key (with --key: by that key only); an\n"
     "index older than one seen before, or past its expiry time, is refused.\n"},
    {"trust", CLI_DIST(cmd_trust), "trust add KEY.pub [--name NAME] | list | remove ID|NAME",
     "manage the publisher keys this store trusts", ""},
    {"pack", CLI_DIST(cmd_pack), "pack DIR [-o OUT]",
     "make a package (ID-VERSION.wasmplug) from a plugin directory",
     "Packs plugin.yaml, the module, README*, LICENSE* and assets/ into a\n"
     "deterministic gzip'ed tar.\n"},
    {"keygen", CLI_DIST(cmd_keygen),
     "keygen [-p wasmplug.pub] [-s wasmplug.key] [--unencrypted] [--passphrase-file F]",
     "create a signing key pair (minisign format)",
     "The secret key is encrypted with a passphrase (scrypt, as minisign does),\n"
     "asked on the terminal or read from --passphrase-file, unless --unencrypted.\n"
     "--fast-kdf uses a cheaper scrypt cost (libsodium's interactive level).\n"},
    {"sign", CLI_DIST(cmd_sign), "sign FILE... [-s wasmplug.key] [-t COMMENT]",
     "sign files (FILE.minisig, readable by minisign)", ""},
    {"verify", CLI_DIST(cmd_verify), "verify FILE [-p KEY.pub] [-x SIG]",
     "check a minisign signature (default: with the trusted keys)", ""},
    {"publish", CLI_DIST(cmd_publish),
     "publish PACKAGE... | --plugin-manifest plugin.yaml --registry DIR [-s wasmplug.key]\n"
     "        [--keyword K]",
     "add packages to a registry directory and re-sign its index",
     "Copies each package and its signature (made with the key if the package has\n"
     "none) into DIR/packages, adds them to DIR/index.json, raises the index\n"
     "version and signs the index. --expires-days N (default 30): clients refuse the index\n"
     "after that, so publish (or re-publish) regularly.\n"},
    {"serve", CLI_DIST(cmd_serve),
     "serve [--listen ADDR:PORT] [--token-file F] [--public-read] [--threads N] [--pool N]\n"
     "        [--max-body SIZE] [--idle-timeout DURATION] [--drain-timeout DURATION]\n"
     "        [--access-log FILE|-|off] [--max-connections-per-ip N] [--no-load]\n"
     "        [--queue-redis URL [--queue-stream NAME] [--queue-plugins PATTERNS]\n"
     "         [--queue-timeout DURATION]]\n"
     "        [--deny PATTERN] [--allow-http PATTERN] [--allow-http-address HOST=CIDR]\n"
     "        [--http-ca FILE]",
     "serve the store's plugins over HTTP (JSON API, Prometheus metrics)",
     "Loads every installed plugin (newest version) with the permissions granted at\n"
     "install, and answers an HTTP API: plugins and their info, load/reload/kill/\n"
     "dispose, calls (POST /v1/plugins/NAME/call/FUNC: body in, output out),\n"
     "events and dead letters, metrics and error histories, GET /metrics\n"
     "(Prometheus), GET /healthz and /readyz. See wasmplug(1).\n"
     "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080; port 0 picks a\n"
     "                       free one; the address is printed on stdout)\n"
     "  --token-file F       bearer token (first line, >= 16 characters, mode 600):\n"
     "                       needed by every endpoint but health; without it the\n"
     "                       server is read-only and listens on loopback only\n"
     "  --public-read        read-only endpoints answer without the token\n"
     "  --threads N          server threads (default: 2 per CPU); calls run on them\n"
     "                       (a long call delays its thread's other connections)\n"
     "  --pool N             instances per plugin (default 4)\n"
     "  --max-body SIZE      largest call input (default 1MiB)\n"
     "  --idle-timeout D     close idle or stalled connections after D (default 15s)\n"
     "  --drain-timeout D    on SIGTERM, wait up to D for requests in progress\n"
     "                       (default 10s), then cancel the calls still running\n"
     "  --access-log FILE    one JSON line per request (default: stderr; off: none)\n"
     "  --max-connections-per-ip N  connections one client address may hold\n"
     "  --no-load            start with no plugin loaded (POST /v1/plugins loads)\n"
     "  --queue-redis URL    forward calls to the workers of a Redis stream (`wasmplug\n"
     "                       worker`) instead of running them here; same answers,\n"
     "                       plus X-Wasmplug-Worker; Idempotency-Key: answered once;\n"
     "                       Redis unreachable: 503 with Retry-After\n"
     "  --queue-stream NAME  the workers' stream (default: calls)\n"
     "  --queue-plugins PATTERNS  plugin ids forwarded, comma-separated, '*' wildcards\n"
     "                       (default: *); the others load and run here\n"
     "  --queue-timeout D    longest wait for a worker's answer (default 30s; at most\n"
     "                       a request's timeout_ms + 2s): then 504. Each waiting\n"
     "                       call holds a server thread (--threads)\n"
     LAUNCH_FLAGS
     "SIGHUP syncs with the store: new plugins are loaded, changed ones reloaded\n"
     "without dropping calls, removed ones killed. SIGTERM/SIGINT drain and stop.\n"},
    {"remove", cmd_remove, "remove ID[@VERSION] [--purge]",
     "remove a plugin (every version unless one is given)",
     "The plugin's stored data (key-value, SQL: see --data-dir) is kept, so a\n"
     "reinstall finds it, unless --purge is given with every version removed.\n"},
    {"worker", CLI_DIST(cmd_worker),
     "worker --redis URL --stream NAME --group GROUP [--concurrency N] [--consumer NAME]\n"
     "        [--claim-idle DURATION] [--max-deliveries N] [--idempotency-ttl DURATION]\n"
     "        [--batch N] [--metrics [HOST:]PORT] [--deny PATTERN] [--allow-http PATTERN]\n"
     "        [--allow-http-address HOST=CIDR] [--http-ca FILE]",
     "run plugin calls queued on a Redis stream",
     "Joins consumer group GROUP of stream NAME (both created if missing) on the\n"
     "Redis at URL (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH) and\n"
     "runs the calls queued there (by `wasmplug submit` or the C API,\n"
     "<wasmplug/queue.h>) on plugins installed in the store, each with what was\n"
     "granted at install, N calls at a time on N instances (--concurrency, default\n"
     "1). Each answer goes to the caller's reply stream and the entry is\n"
     "acknowledged in the same step (at least once: a call whose worker died is\n"
     "claimed by another after --claim-idle, default 30s, and may run twice, but\n"
     "is answered once). Calls with the same idempotency key get the cached\n"
     "result (--idempotency-ttl, default 24h). An entry delivered more than\n"
     "--max-deliveries times (default 5) without an answer, or malformed, moves\n"
     "to NAME:dead and its caller gets the reason. Lost connections are retried\n"
     "with backoff. SIGTERM or Ctrl-C: finish and answer the calls in hand, exit.\n"
     "SIGHUP: sync with the store (new plugins loaded, new versions hot-reloaded).\n"
     "  --metrics [HOST:]PORT  Prometheus counters at /metrics (127.0.0.1 unless\n"
     "                     HOST; port 0 picks one, printed on stderr)\n" LAUNCH_FLAGS},
    {"submit", CLI_DIST(cmd_submit),
     "submit --redis URL --stream NAME PLUGIN FUNCTION [INPUT | --input-file F]\n"
     "        [--timeout DURATION] [--idempotency-key KEY] [--call-timeout DURATION]\n"
     "        [--fuel N]",
     "queue a plugin call on a Redis stream and wait for its answer",
     "Queues the call for the workers of stream NAME and prints the output (as\n"
     "`run` does; --json: {ok, status, output or error, worker, deliveries,\n"
     "cached}). --timeout (default 30s) is how long to wait for the answer (exit\n"
     "6 when none came; exit 7 when Redis did not answer for that long);\n"
     "--call-timeout and --fuel limit the call on the worker\n"
     "(below the plugin's own limits only). Calls with the same --idempotency-key\n"
     "are answered with the first one's result. Exit codes of a failed call are\n"
     "those of `run`.\n"},
    {"kv", cmd_kv,
     "kv PLUGIN list [PREFIX] [--limit N] [--after KEY] | get KEY | set KEY VALUE|- | "
     "delete KEY | export [FILE] | import FILE|- [--replace]",
     "read and write a plugin's key-value data",
     "PLUGIN is a plugin id (its data is in DATA/ID/kv.sqlite, see --data-dir) or\n"
     "anything run accepts (its manifest's id is used); it need not be running.\n"
     "list prints the keys starting with PREFIX in byte order, one per line (pages:\n"
     "--limit, and --after the last key of the previous page); get prints a value;\n"
     "set takes the value as an argument or (-) from stdin; export writes all of\n"
     "the data as JSON (bytes that are not UTF-8 as key_base64/value_base64), which\n"
     "import reads back (--replace: empty the data first). Keys and values are\n"
     "escaped on a terminal, written as they are into a pipe.\n"},
    {"info", cmd_info, "info PLUGIN [--allow-http PATTERN...]",
     "show a plugin's manifest, permissions (and grants), resources and exports",
     "PLUGIN is an installed id (ID or ID@VERSION), a plugin directory, a\n"
     "plugin.yaml or a .wasm file. With --allow-http, also the HTTP entries\n"
     "those patterns would grant (as `run` would).\n"},
    {"validate", cmd_validate, "validate PLUGIN [--manifest plugin.yaml]",
     "check a manifest and its module",
     "Checks: the manifest against the schema (errors give FILE:LINE:COLUMN);\n"
     "the module decodes and validates; every feature it uses is supported;\n"
     "every export the manifest names exists; every import is part of the ABI,\n"
     "WASI, or a host function the manifest requests (and the CLI provides);\n"
     "and a trial load in a host. Exit 0 when valid, 4 otherwise.\n"},
    {"flow", cmd_flow,
     "flow run FILE [--input JSON | --input-file F] [--state-out F] [--trace F]\n"
     "        | flow validate FILE | flow graph FILE | flow replay TRACE [--workflow FILE]\n"
     "        (each with [--plugin DIR]... [--grant PERMISSION]...)",
     "run workflows of plugin nodes",
     "A workflow file (workflow.yaml) lists nodes (name, type, config) and\n"
     "connects them from/to on actions; plugins declare node types in their\n"
     "manifest (prep, exec and post exports) or serve a plain export as exec.\n"
     "Built-in types: route, transform, delay, log, workflow. See\n"
     "docs/WORKFLOWS.md. --plugin DIR adds a plugin directory (plugin.yaml and\n"
     "its module) to those the file lists; --grant PERMISSION is the host policy\n"
     "for their requests (none granted otherwise).\n"
     "  run       run from the start node; prints the final state (--json: with\n"
     "            the run log). --input JSON or --input-file F is the initial\n"
     "            state; --state-out F writes the final state; --trace F writes\n"
     "            the run log with every phase's output (for replay). -v prints\n"
     "            each step. Ctrl-C cancels the run (exit 130).\n"
     "  validate  every type exists, every action a node can return is connected\n"
     "            or listed in its 'final', configs match their schemas, grants\n"
     "            (--grant P) cover what the plugins request, every node reachable.\n"
     "  graph     the workflow as Graphviz dot (pipe to `dot -Tsvg`).\n"
     "  replay    re-run a trace against the plugins as they are now and report\n"
     "            where nodes, outputs or actions differ (exit 1 if any do).\n"
     "Errors in the file are located FILE:LINE:COLUMN (exit 4); a failed run\n"
     "exits 1, a timeout 6.\n"},
    {"run", cmd_run, "run PLUGIN FUNCTION [INPUT] [options]",
     "call a plugin function and print its output",
     "Bytes functions (ABI v1 `() -> i32`, or the compatibility ABI) get INPUT,\n"
     "--input-file FILE (- for stdin), or stdin when it is not a terminal, and\n"
     "their output is printed. Other exports are called with typed values:\n"
     "INPUT is their arguments, separated by spaces or commas.\n"
     "  --config KEY=VALUE   config value (overrides the manifest's default)\n"
     "  --grant PERMISSION   grant a host function (module.name, '*' wildcards)\n"
     "  --deny PERMISSION    refuse permissions the manifest requests: host functions\n"
     "                       (host.log), variables (wasi.env:NAME) or directories\n"
     "                       (wasi.fs.read:GUEST, wasi.fs.write:GUEST); '*' wildcards\n" WASI_FLAGS
     LIMIT_FLAGS
     "  --max-input SIZE     largest input a call takes (4096, 64KiB, 1MiB)\n"
     "  --max-output SIZE    largest output a call may produce\n"
     "A limit flag overrides the manifest's resources (which otherwise can only\n"
     "lower the defaults).\n"
     "  --allow-http PATTERN allow outbound HTTP to URLs matching PATTERN\n"
     "                       ([METHODS ][http[s]://]HOST[:PORT][/PATH], '*' wildcards,\n"
     "                       e.g. api.example.com, 'GET https://*.example.org/v1/*');\n"
     "                       with a manifest, only its http entries that match\n"
     "  --allow-http-address HOST=CIDR  let HOST resolve to the special range CIDR\n"
     "                       (loopback, private, ...: refused by default)\n"
     "  --http-ca FILE       PEM CA bundle trusted for HTTPS besides the system's\n"
     "  --stats              print load/init/call time, fuel, memory, cache and HTTP use\n"
     "  --manifest FILE      manifest for a bare .wasm\n"
     "  --no-cache           compile the module, don't use the compiled-module cache\n"
     "  --cache-dir DIR      compiled-module cache (default $WASMPLUG_CACHE_DIR, else\n"
     "                       $XDG_CACHE_HOME/wasmplug/modules)\n"
     "  --tier auto|native|interp  auto: native code made by `wasmplug compile`\n"
     "                       when the cache has it (default); native: compile it\n"
     "                       now when missing; interp: the interpreter only\n"
     "The plugin's WASI stdout/stderr (in the result with --json) and its log\n"
     "lines go to stderr; stdout carries the call's output alone.\n"
     "The CLI provides these host functions (granted only when requested):\n"
     "  host.log(ptr, len)    print a line to stderr\n"
     "  host.add(a, b) -> i32 add two numbers\n"
     "  host.time_ms() -> i64 milliseconds since the Unix epoch\n"},
    {"exec", cmd_exec, "exec FILE.wasm [ARGS...] [options]",
     "run a WASI command module (its _start)",
     "Runs a WASI preview 1 command with ARGS as its arguments, stdin/stdout/\n"
     "stderr connected to the terminal, and only the environment variables and\n"
     "directories granted. Exits with the module's exit code; failures of the\n"
     "runtime itself use the codes below. Put options before FILE, or use --\n"
     "before ARGS that start with '-'.\n" WASI_FLAGS LIMIT_FLAGS
     "  --stats              print time, fuel, memory and the tier to stderr\n"
     "  --tier auto|native|interp  native code from `wasmplug compile` (auto,\n"
     "                       the default), compiled now when missing (native), or\n"
     "                       the interpreter only (interp)\n"},
    {"compile", cmd_compile, "compile FILE.wasm [--cache-dir DIR]",
     "make a module's native code (system C compiler) for run and exec",
     "Translates the module to C, compiles it with the system C compiler (cc,\n"
     "or $CC / $WASMPLUG_CC) at -O2 and keeps the shared object in the\n"
     "native-code cache (<cache dir>/native: only you may write there; its\n"
     "SHA-256 is recorded now and checked before every load). `run` and `exec`\n"
     "then run the module natively (`--stats` says which tier ran). Modules\n"
     "using SIMD are not compiled: they run in the interpreter.\n"},
    {"inspect", cmd_inspect, "inspect FILE.wasm",
     "show a module's sections, imports, exports, features and sizes", ""},
    {"dev", cmd_dev, "dev DIR [FUNCTION [INPUT]] [--runs N] [--debounce MS]",
     "rebuild, reload and rerun a plugin project on every change",
     "Builds the plugin project DIR with its build.sh, loads it (granting what\n"
     "its manifest requests, as `run` does for a project; no HTTP), calls\n"
     "FUNCTION with INPUT and prints the output, or the error with its backtrace.\n"
     "Then watches DIR (build products and hidden files aside) and on every\n"
     "change builds again, hot-reloads the plugin and calls again. A failed build\n"
     "or a version that does not load leaves the running one in place.\n"
     "  --runs N        stop after N calls (default: until Ctrl-C)\n"
     "  --debounce MS   wait for MS quiet milliseconds after a change (150)\n"},
    {"new", cmd_new, "new LANG NAME [--dir DIR]",
     "create a plugin project from a PDK template",
     "Copies the template for LANG (c, assemblyscript, rust, zig, ... whatever\n"
     "templates are installed) into NAME (or DIR), replacing the placeholder\n"
     "plugin name. `wasmplug new --list` shows the templates found. Templates\n"
     "are searched in $WASMPLUG_TEMPLATES, the installed share directory and the\n"
     "source tree.\n"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static const char EXIT_HELP[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the plugin failed (trap, error return, host function error)\n"
    "  2  usage error\n"
    "  3  not found (plugin, function, file)\n"
    "  4  invalid manifest or module, unsupported feature, link error\n"
    "  5  permission denied\n"
    "  6  limit exceeded (timeout, fuel, memory, call depth, input/output size,\n"
    "     storage quota)\n"
    "  7  store or file system error (including: already installed)\n"
    "  8  internal error\n"
    "  130  interrupted (Ctrl-C cancelled the running call)\n";

static const char GLOBAL_HELP[] =
    "Global options (before or after the command):\n"
    "  --store DIR   plugin store (default: $WASMPLUG_STORE, else\n"
    "                $XDG_DATA_HOME/wasmplug, else ~/.local/share/wasmplug)\n"
    "  --data-dir DIR  plugins' stored data, DIR/<plugin id>/ (default:\n"
    "                $WASMPLUG_PLUGIN_DATA, else $XDG_STATE_HOME/wasmplug, else\n"
    "                ~/.local/state/wasmplug)\n"
    "  --kv-redis URL  plugins' key-value data on Redis (redis://HOST[:PORT][/DB]),\n"
    "                shared by every host using it, instead of DIR/<id>/kv.sqlite\n"
    "  --events-redis URL  bridge events to Redis Streams, so that hosts on other\n"
    "                machines receive them (with --bridge)\n"
    "  --bridge PATTERNS  the bridged topics, comma-separated (default: >, all)\n"
    "  --json        machine-readable output on stdout\n"
    "  --color WHEN  auto (default: only on a terminal), always, never\n"
    "  -q, --quiet   no progress, notes or plugin log lines\n"
    "  -v, --verbose plugin log lines from level debug (default: info and above)\n"
    "  --log-level LEVEL  plugin log lines from LEVEL: trace, debug, info, warn, error\n"
    "  -h, --help    help (for a command: wasmplug CMD --help)\n"
    "  --version     print the version\n";

static void usage_all(FILE *f)
{
    fprintf(f, "usage: wasmplug [global options] COMMAND [args]\n\n"
               "Sandboxed WebAssembly plugins: install, inspect, validate and run them.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\n%s\n%s\nSee wasmplug(1) for details.\n", GLOBAL_HELP, EXIT_HELP);
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static void usage_command(const command *c, FILE *f)
{
    fprintf(f, "usage: wasmplug %s\n\n%s.\n", c->usage, c->summary);
    if (c->details && *c->details)
        fprintf(f, "\n%s", c->details);
    fprintf(f, "\n%s\n%s", GLOBAL_HELP, EXIT_HELP);
}

/* ------------------------------------------------------------------------ */
/* Option parsing                                                           */
/* ------------------------------------------------------------------------ */

enum { G_STORE = 1000, G_JSON, G_COLOR, G_NO_COLOR, G_QUIET, G_HELP, G_VERBOSE, G_LOG_LEVEL,
       G_DATA_DIR, G_KV_REDIS, G_EVENTS_REDIS, G_BRIDGE };

static const cli_opt GLOBAL_OPTS[] = {
    {"store", 0, true, G_STORE},  {"json", 0, false, G_JSON},
    {"data-dir", 0, true, G_DATA_DIR},
    {"kv-redis", 0, true, G_KV_REDIS}, {"events-redis", 0, true, G_EVENTS_REDIS},
    {"bridge", 0, true, G_BRIDGE},
    {"color", 0, true, G_COLOR},  {"colour", 0, true, G_COLOR},
    {"no-color", 0, false, G_NO_COLOR}, {"quiet", 'q', false, G_QUIET},
    {"verbose", 'v', false, G_VERBOSE}, {"log-level", 0, true, G_LOG_LEVEL},
    {"help", 'h', false, G_HELP}, {NULL, 0, false, 0}};

/* Plugin log levels by name (--log-level). */
static const char *const LOG_LEVELS[] = {"trace", "debug", "info", "warn", "error"};

static int color_mode = -1; /* -1 auto, 0 never, 1 always */

static const cli_opt *match(const cli_opt *opts, const char *arg, size_t len, bool is_long)
{
    for (const cli_opt *o = opts; o && o->name; o++) {
        if (is_long ? (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
                    : (o->short_name && o->short_name == arg[0]))
            return o;
    }
    return NULL;
}

/* Handle a global option; false on a usage error. */
static bool apply_global(int id, const char *val, const char *cmd)
{
    switch (id) {
    case G_STORE:
        if (!*val) {
            cli_error("--store needs a directory (got an empty string)");
            return false;
        }
        G.store_opt = val;
        return true;
    case G_VERBOSE:
        G.log_level = WASMPLUG_LOG_DEBUG;
        return true;
    case G_LOG_LEVEL:
        for (int l = WASMPLUG_LOG_TRACE; l <= WASMPLUG_LOG_ERROR; l++)
            if (!strcmp(val, LOG_LEVELS[l])) {
                G.log_level = l;
                return true;
            }
        cli_error("--log-level takes trace, debug, info, warn or error (got '%s')", val);
        return false;
    case G_JSON:
        G.json = true;
        return true;
    case G_COLOR:
        if (!strcmp(val, "always"))
            color_mode = 1;
        else if (!strcmp(val, "never"))
            color_mode = 0;
        else if (!strcmp(val, "auto"))
            color_mode = -1;
        else {
            cli_error("--color takes auto, always or never (got '%s')", val);
            return false;
        }
        return true;
    case G_NO_COLOR:
        color_mode = 0;
        return true;
    case G_QUIET:
        G.quiet = true;
        return true;
    case G_DATA_DIR:
        G.data_opt = val;
        return true;
    case G_KV_REDIS:
        G.kv_redis = val;
        return true;
    case G_EVENTS_REDIS:
        G.events_redis = val;
        return true;
    case G_BRIDGE:
        G.bridge = val;
        return true;
    case G_HELP: {
        const command *c = cmd ? find_command(cmd) : NULL;
        if (c)
            usage_command(c, stdout);
        else
            usage_all(stdout);
        exit(EXIT_OK);
    }
    }
    return false;
}

int cli_next(cli_args *a, const cli_opt *opts, const char *cmd, const char **arg)
{
    while (a->i < a->argc) {
        const char *s = a->argv[a->i++];
        if (a->no_more_opts || s[0] != '-' || s[1] == '\0') {
            *arg = s;
            return 0;
        }
        if (strcmp(s, "--") == 0) {
            a->no_more_opts = true;
            continue;
        }
        bool is_long = s[1] == '-';
        const char *name = s + (is_long ? 2 : 1);
        const char *eq = is_long ? strchr(name, '=') : NULL;
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (!is_long && len != 1) {
            /* -x VALUE only; no bundling. Negative numbers are positional. */
            if ((name[0] >= '0' && name[0] <= '9') || name[0] == '.') {
                *arg = s;
                return 0;
            }
            cli_error("%s: unknown option '%s' (see wasmplug %s --help)", cmd ? cmd : "wasmplug",
                      s, cmd ? cmd : "");
            return -2;
        }
        const cli_opt *o = match(opts, name, len, is_long);
        bool global = false;
        if (!o) {
            o = match(GLOBAL_OPTS, name, len, is_long);
            global = o != NULL;
        }
        if (!o) {
            if (!is_long && name[0] >= '0' && name[0] <= '9') {
                *arg = s; /* "-5" as a typed argument */
                return 0;
            }
            cli_error("%s: unknown option '%s' (see wasmplug %s--help)", cmd ? cmd : "wasmplug", s,
                      cmd ? "CMD " : "");
            return -2;
        }
        const char *val = NULL;
        if (o->has_arg) {
            if (eq)
                val = eq + 1;
            else if (a->i < a->argc)
                val = a->argv[a->i++];
            else {
                cli_error("option --%s needs a value", o->name);
                return -2;
            }
        } else if (eq) {
            cli_error("option --%s takes no value", o->name);
            return -2;
        }
        if (global) {
            if (!apply_global(o->id, val, cmd))
                return -2;
            continue;
        }
        *arg = val;
        return o->id;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

const char *cli_bold(void) { return G.color ? "\033[1m" : ""; }
const char *cli_reset(void) { return G.color ? "\033[0m" : ""; }
const char *cli_green(void) { return G.color ? "\033[32m" : ""; }
const char *cli_red(void) { return G.color ? "\033[31m" : ""; }
const char *cli_yellow(void) { return G.color ? "\033[33m" : ""; }

/* A message on stderr, escaped as text: messages quote names, manifest
 * strings and library errors, which may hold escape sequences. */
static void print_message(const char *fmt, va_list ap)
{
    char small[512], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (text = malloc((size_t)n + 1)) != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    if (n < 0 || !text)
        text = small; /* the message cut short rather than lost */
    term_stream ts;
    term_stream_init(&ts, stderr, TERM_TEXT);
    term_stream_write(&ts, text, strlen(text));
    term_stream_finish(&ts);
    fputc('\n', stderr);
    if (text != small)
        free(text);
}

void cli_error(const char *fmt, ...)
{
    fprintf(stderr, "%swasmplug: error:%s ", G.color ? "\033[1;31m" : "", cli_reset());
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    vsnprintf(G.last_error, sizeof G.last_error, fmt, again); /* for --json (finish) */
    va_end(again);
    print_message(fmt, ap);
    va_end(ap);
}

void cli_note(const char *fmt, ...)
{
    if (G.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    print_message(fmt, ap);
    va_end(ap);
}

/* Copy an escaped field into a fixed-size array of the error. */
#define SET_FIELD(array) snprintf((array), sizeof(array), "%s", term_field(array))

void cli_plugin_error(const wasmplug_plugin_error *err)
{
    /* The names and the message may be the plugin's own: escape each as a
     * field, so that only the backtrace's lines start new lines. */
    wasmplug_plugin_error *shown = malloc(sizeof *shown);
    char *text = malloc(8192);
    if (!shown || !text) {
        free(shown);
        free(text);
        cli_error("%s", term_field(err->message));
        return;
    }
    *shown = *err;
    SET_FIELD(shown->plugin);
    SET_FIELD(shown->function);
    SET_FIELD(shown->message);
    for (uint32_t i = 0; i < shown->frame_count && i < WASMPLUG_ERROR_FRAMES_MAX; i++)
        SET_FIELD(shown->frames[i].func_name);
    wasmplug_plugin_error_format(shown, text, 8192);
    cli_error("%s", text);
    free(text);
    free(shown);
}

void cli_json_print(json_t *v)
{
    G.json_printed = true;
    if (!v) {
        fputs("null\n", stdout);
        return;
    }
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(v);
}

static const char *exit_kind(int code)
{
    static const char *const kinds[] = {"ok",    "plugin", "usage",   "not_found", "invalid",
                                        "denied", "limit", "io", "internal"};
    if (code == EXIT_INTERRUPTED)
        return "interrupted";
    return code >= 0 && code <= EXIT_INTERNAL ? kinds[code] : "error";
}

static int fail_json(int code, const char *kind, const char *message, bool one_line)
{
    cli_error("%s", one_line ? term_field(message) : message);
    if (G.json)
        cli_json_print(json_pack("{s:b, s:{s:s, s:s, s:i}}", "ok", 0, "error", "kind",
                                 kind ? kind : exit_kind(code), "message", message,
                                 "exit_code", code));
    return code;
}

int cli_fail_json(int code, const char *kind, const char *message)
{
    return fail_json(code, kind, message, false);
}

int cli_fail_json_line(int code, const char *kind, const char *message)
{
    return fail_json(code, kind, message, true);
}

int cli_exit_for(wasmplug_status st)
{
    switch (st) {
    case WASMPLUG_OK:
        return EXIT_OK;
    case WASMPLUG_ERR_NOT_FOUND:
        return EXIT_NOT_FOUND;
    case WASMPLUG_ERR_MALFORMED:
    case WASMPLUG_ERR_INVALID:
    case WASMPLUG_ERR_UNSUPPORTED:
    case WASMPLUG_ERR_LINK:
    case WASMPLUG_ERR_MANIFEST:
    case WASMPLUG_ERR_ABI:
    case WASMPLUG_ERR_ARGUMENT:
        return EXIT_INVALID;
    case WASMPLUG_ERR_PERMISSION_DENIED:
        return EXIT_DENIED;
    case WASMPLUG_ERR_LIMIT:
    case WASMPLUG_ERR_TIMEOUT:
    case WASMPLUG_ERR_FUEL:
    case WASMPLUG_ERR_MEMORY_LIMIT:
    case WASMPLUG_ERR_CALL_DEPTH:
    case WASMPLUG_ERR_INPUT_TOO_LARGE:
    case WASMPLUG_ERR_OUTPUT_TOO_LARGE:
    case WASMPLUG_ERR_QUOTA:
        return EXIT_LIMIT;
    case WASMPLUG_ERR_IO:
    case WASMPLUG_ERR_DUPLICATE:
    case WASMPLUG_ERR_STORAGE:
        return EXIT_IO;
    case WASMPLUG_ERR_NOMEM:
        return EXIT_INTERNAL;
    default:
        return EXIT_PLUGIN;
    }
}

/* Replace invalid UTF-8 with U+FFFD so any output can be a JSON string. */
json_t *cli_json_bytes(const uint8_t *data, size_t len)
{
    json_t *s = json_stringn((const char *)(data ? data : (const uint8_t *)""), len);
    if (s)
        return s;
    char *buf = malloc(len * 3 + 1);
    if (!buf)
        return json_null();
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = data[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = n > 0 && i + n <= len && c != 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = (data[i + k] & 0xC0) == 0x80;
        if (ok && n > 1 && json_stringn((const char *)data + i, n) == NULL)
            ok = false;
        if (ok) {
            memcpy(buf + o, data + i, n);
            o += n;
            i += n;
        } else {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *r = json_stringn(buf, o);
    free(buf);
    return r ? r : json_null();
}

/* ------------------------------------------------------------------------ */
/* Parsing helpers                                                          */
/* ------------------------------------------------------------------------ */

bool cli_parse_u64(const char *s, uint64_t *v)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

static bool parse_with_units(const char *s, const char *const *names, const uint64_t *muls,
                             uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno)
        return false;
    if (!*end) {
        *out = x;
        return true;
    }
    for (size_t i = 0; names[i]; i++)
        if (strcmp(end, names[i]) == 0) {
            if (x > UINT64_MAX / muls[i])
                return false;
            *out = x * muls[i];
            return true;
        }
    return false;
}

bool cli_parse_duration_ms(const char *s, uint32_t *ms)
{
    static const char *const names[] = {"ms", "s", "m", "min", "h", NULL};
    static const uint64_t muls[] = {1, 1000, 60000, 60000, 3600000};
    uint64_t v;
    if (!parse_with_units(s, names, muls, &v) || v == 0 || v >= UINT32_MAX)
        return false;
    *ms = (uint32_t)v;
    return true;
}

bool cli_parse_size(const char *s, uint64_t *bytes)
{
    static const char *const names[] = {"B", "K", "KiB", "KB", "M", "MiB", "MB",
                                        "G", "GiB", "GB", NULL};
    static const uint64_t muls[] = {1,       1024,    1024,       1000,       1 << 20,
                                    1 << 20, 1000000, 1u << 30, 1u << 30, 1000000000};
    return parse_with_units(s, names, muls, bytes) && *bytes > 0;
}

uint8_t *cli_read_input(const char *path, size_t *len)
{
    if (strcmp(path, "-") != 0)
        return (uint8_t *)wps_read_file(path, len);
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Resolving plugins                                                        */
/* ------------------------------------------------------------------------ */

int cli_manifest_error(const wasmplug_manifest_diag *d, wasmplug_status st)
{
    char msg[1024];
    if (d->line)
        snprintf(msg, sizeof msg, "%s:%u:%u: %s", term_field(d->file), d->line, d->column,
                 term_field(d->message));
    else
        snprintf(msg, sizeof msg, "%s: %s", term_field(d->file), term_field(d->message));
    int code = st == WASMPLUG_ERR_NOT_FOUND ? EXIT_NOT_FOUND
               : st == WASMPLUG_ERR_IO      ? EXIT_IO
                                            : EXIT_INVALID;
    cli_error("%s", msg);
    /* Every further error, one line each ("L:C: message" in d->more). */
    json_t *errors = json_array();
    json_array_append_new(errors, json_pack("{s:i, s:i, s:s}", "line", (int)d->line, "column",
                                            (int)d->column, "message", d->message));
    unsigned shown = 1;
    for (const char *line = d->more; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        unsigned l = 0, c = 0;
        int used = 0;
        char text[600];
        snprintf(text, sizeof text, "%.*s", (int)n, line);
        if (sscanf(text, "%u:%u: %n", &l, &c, &used) == 2 && used > 0) {
            cli_error("%s:%u:%u: %s", term_field(d->file), l, c, term_field(text + used));
            json_array_append_new(errors, json_pack("{s:i, s:i, s:s}", "line", (int)l, "column",
                                                    (int)c, "message", text + used));
            shown++;
        }
        line += n + (nl ? 1 : 0);
    }
    if (d->error_count > shown)
        cli_error("%s: %u more error%s not shown", term_field(d->file), d->error_count - shown,
                  d->error_count - shown == 1 ? "" : "s");
    if (G.json) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:i}", "kind",
                              code == EXIT_INVALID ? "invalid_manifest" : exit_kind(code),
                              "message", msg, "file", d->file, "exit_code", code);
        if (d->line) {
            json_object_set_new(e, "line", json_integer(d->line));
            json_object_set_new(e, "column", json_integer(d->column));
        }
        json_object_set_new(e, "errors", errors);
        json_object_set_new(e, "error_count", json_integer(d->error_count ? d->error_count : 1));
        cli_json_print(json_pack("{s:b, s:o}", "ok", 0, "error", e));
    } else
        json_decref(errors);
    return code;
}

void cli_plugin_free(cli_plugin *p)
{
    wasmplug_manifest_doc_free(p->doc);
    free(p->module_path);
    free(p->dir);
    memset(p, 0, sizeof *p);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int from_manifest_file(const char *path, cli_plugin *out)
{
    wasmplug_manifest_diag d;
    wasmplug_status st = wasmplug_manifest_load(path, &out->doc, &d);
    if (st != WASMPLUG_OK)
        return cli_manifest_error(&d, st);
    out->module_path = wasmplug_manifest_module_path(out->doc);
    out->dir = strdup(out->doc->dir);
    return out->module_path && out->dir ? EXIT_OK : EXIT_INTERNAL;
}

int cli_resolve_args(int argc, char **argv, const char *cmd, const char *usage,
                     const char **ref_out, cli_plugin *out)
{
    enum { OPT_MANIFEST = 1 };
    static const cli_opt opts[] = {{"manifest", 'm', true, OPT_MANIFEST}, {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *ref = NULL, *manifest = NULL, *arg;
    int id;
    while ((id = cli_next(&a, opts, cmd, &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == OPT_MANIFEST)
            manifest = arg;
        else if (!ref)
            ref = arg;
        else {
            cli_error("%s takes one plugin (got '%s' too)", cmd, arg);
            return EXIT_USAGE;
        }
    }
    if (!ref) {
        cli_error("usage: %s", usage);
        return EXIT_USAGE;
    }
    *ref_out = ref;
    int rc = cli_setup();
    if (rc)
        return rc;
    return cli_resolve(ref, manifest, out);
}

int cli_resolve(const char *ref, const char *manifest_opt, cli_plugin *out)
{
    memset(out, 0, sizeof *out);
    out->source = "path";
    struct stat sb;
    bool exists = stat(ref, &sb) == 0;
    bool pathlike = strchr(ref, '/') || ends_with(ref, ".wasm") || ends_with(ref, ".yaml") ||
                    ends_with(ref, ".yml") || !strcmp(ref, ".") || !strcmp(ref, "..");
    char cwd[4096];
    const char *project = getcwd(cwd, sizeof cwd) ? cwd : NULL;
    wps_entry e;
    char msg[1024];
    /* A bare word is an id (project ./plugins, then the store); only when no
     * such plugin exists is it taken as a directory of that name. */
    if (!pathlike) {
        int rc = cli_store_usable();
        if (rc != EXIT_OK)
            return rc;
    }
    wasmplug_status found = pathlike ? WASMPLUG_ERR_NOT_FOUND
                                     : wps_find(G.store, project, ref, &e, msg, sizeof msg);
    if (found == WASMPLUG_OK) {
        out->source = e.source == WPS_STORE ? "store" : "project";
        if (!e.doc) {
            int rc = cli_manifest_error(&e.diag, WASMPLUG_ERR_MANIFEST);
            wps_entry_clear(&e);
            return rc;
        }
        out->doc = e.doc;
        out->dir = e.dir;
        e.doc = NULL;
        e.dir = NULL;
        wps_entry_clear(&e);
        out->module_path = wasmplug_manifest_module_path(out->doc);
        return out->module_path ? EXIT_OK : EXIT_INTERNAL;
    }
    if (exists && S_ISDIR(sb.st_mode) && (pathlike || !manifest_opt)) {
        size_t n = strlen(ref) + sizeof WASMPLUG_MANIFEST_FILE + 2;
        char *mf = malloc(n);
        if (!mf)
            return EXIT_INTERNAL;
        snprintf(mf, n, "%s/%s", ref, WASMPLUG_MANIFEST_FILE);
        bool has_manifest = stat(mf, &sb) == 0;
        if (has_manifest || manifest_opt) {
            int rc = from_manifest_file(manifest_opt ? manifest_opt : mf, out);
            free(mf);
            return rc;
        }
        snprintf(msg, sizeof msg,
                 "%s is a directory without %s: a plugin directory holds its manifest "
                 "(wasmplug new makes one; a module alone can be given as FILE.wasm)",
                 ref, mf);
        free(mf);
        return cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
    }
    if (exists && S_ISREG(sb.st_mode) && (ends_with(ref, ".yaml") || ends_with(ref, ".yml")))
        return from_manifest_file(ref, out);
    if (exists && S_ISREG(sb.st_mode)) {
        /* A module: manifest from --manifest, else embedded, else none. */
        if (manifest_opt) {
            wasmplug_manifest_diag d;
            wasmplug_status st = wasmplug_manifest_load(manifest_opt, &out->doc, &d);
            if (st != WASMPLUG_OK)
                return cli_manifest_error(&d, st);
        } else {
            size_t len;
            uint8_t *bytes = (uint8_t *)wps_read_file(ref, &len);
            if (bytes) {
                wasmplug_manifest_diag d;
                wasmplug_status st = wasmplug_manifest_from_module(bytes, len, ref, &out->doc, &d);
                free(bytes);
                if (st != WASMPLUG_OK && st != WASMPLUG_ERR_NOT_FOUND &&
                    st != WASMPLUG_ERR_MALFORMED)
                    return cli_manifest_error(&d, st);
            }
        }
        out->module_path = strdup(ref);
        return out->module_path ? EXIT_OK : EXIT_INTERNAL;
    }
    if (pathlike && !exists) {
        snprintf(msg, sizeof msg, "%s: no such file or directory", ref);
        return cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
    }
    if (pathlike)
        snprintf(msg, sizeof msg, "%s: not a plugin directory, manifest or module", ref);
    return cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

/* Whether --json is among the options, so that even a usage error found
 * before it is reported in JSON. Stops at "--", and for exec at FILE (what
 * follows belongs to the module). */
static bool wants_json(int argc, char **argv)
{
    bool exec = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return false;
        if (!strcmp(argv[i], "--json"))
            return true;
        if (argv[i][0] != '-') {
            if (exec)
                return false;
            exec = !strcmp(argv[i], "exec");
        }
    }
    return false;
}

/* In --json mode every failure ends with one error document on stdout:
 * those not printed yet (usage errors) get one here. */
static int finish(int rc)
{
    if (rc != EXIT_OK && G.json && !G.json_printed)
        cli_json_print(json_pack("{s:b, s:{s:s, s:s, s:i}}", "ok", 0, "error", "kind",
                                 exit_kind(rc), "message",
                                 G.last_error[0] ? G.last_error : "failed", "exit_code", rc));
    return rc;
}

int main(int argc, char **argv)
{
    G.prog = "wasmplug";
    G.log_level = WASMPLUG_LOG_INFO;
    G.json = wants_json(argc, argv);
    G.argv = argv;
    /* Global options before the command. */
    int i = 1;
    const char *cmdname = NULL;
    for (; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--version") == 0) {
            if (G.json)
                cli_json_print(json_pack("{s:s, s:i}", "version", wasmplug_version(), "abi",
                                         WASMPLUG_ABI_VERSION));
            else
                printf("wasmplug %s (ABI v%d)\n", wasmplug_version(), WASMPLUG_ABI_VERSION);
            return EXIT_OK;
        }
        if (s[0] != '-') {
            cmdname = s;
            break;
        }
        const char *eq = strchr(s, '=');
        const cli_opt *o = s[1] == '-' ? match(GLOBAL_OPTS, s + 2,
                                               eq ? (size_t)(eq - s - 2) : strlen(s + 2), true)
                                       : match(GLOBAL_OPTS, s + 1, 1, false);
        if (!o || (s[1] != '-' && s[2])) {
            cli_error("unknown option '%s' (see wasmplug --help)", s);
            return finish(EXIT_USAGE);
        }
        const char *val = NULL;
        if (o->has_arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                cli_error("option --%s needs a value", o->name);
                return finish(EXIT_USAGE);
            }
        }
        if (!apply_global(o->id, val, NULL))
            return finish(EXIT_USAGE);
    }
    if (!cmdname) {
        usage_all(stderr);
        snprintf(G.last_error, sizeof G.last_error, "no command given (see wasmplug --help)");
        return finish(EXIT_USAGE);
    }
    if (strcmp(cmdname, "help") == 0) {
        const command *c = i + 1 < argc ? find_command(argv[i + 1]) : NULL;
        if (c)
            usage_command(c, stdout);
        else
            usage_all(stdout);
        return EXIT_OK;
    }
    const command *c = find_command(cmdname);
    if (!c) {
        char names[512];
        size_t at = 0;
        for (size_t k = 0; k < NCOMMANDS && at < sizeof names; k++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
                                   COMMANDS[k].name);
        cli_error("unknown command '%s' (commands: %s)", cmdname, names);
        return finish(EXIT_USAGE);
    }
#ifndef WASMPLUG_CLI_DIST
    /* Redis (hiredis) is in wasmplug-dist only (src/cli/CMakeLists.txt);
     * given after the command, cli_attach_services continues there. */
    if (G.kv_redis || G.events_redis)
        return finish(cli_dist_forward(argc, argv));
#endif
    /* The command parses its own arguments (and any global options among
     * them); colour and the store are settled lazily below, so commands
     * call cli_setup() through the hooks in their parsers. */
    int rc = c->fn(argc - i, argv + i);
    free(G.store);
    free(G.data_dir);
    return finish(rc);
}

int cli_setup(void)
{
    /* auto: only when both streams are terminals, so no escape codes ever
     * land in a pipe or a file. */
    G.color = color_mode == 1 || (color_mode == -1 && isatty(1) && isatty(2) &&
                                  getenv("NO_COLOR") == NULL && !G.json);
    /* NULL when there is no home directory: only install and remove need
     * a store (cli_need_store); the others just find nothing there. */
    G.store = wps_store_root(G.store_opt);
    G.data_dir = wps_plugin_data_root(G.data_opt);
    return EXIT_OK;
}

int cli_store_usable(void)
{
    struct stat st;
    if (!G.store || stat(G.store, &st) != 0 || S_ISDIR(st.st_mode))
        return EXIT_OK;
    char msg[1200];
    snprintf(msg, sizeof msg,
             "the plugin store %s is not a directory (give --store or $WASMPLUG_STORE a "
             "directory, or a path that does not exist yet)",
             G.store);
    return cli_fail_json(EXIT_IO, "store", msg);
}

int cli_need_store(void)
{
    if (G.store)
        return cli_store_usable();
    cli_error("cannot find the plugin store: set --store, $WASMPLUG_STORE or $HOME");
    return EXIT_USAGE;
}
