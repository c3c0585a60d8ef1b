/*
 * wasmplug/engine.h - the WebAssembly engine underneath wasmplug.
 *
 * Most applications use the plugin host API in <wasmplug.h>; this header is
 * the lower layer it is built on, public for embedders that want plain
 * WebAssembly (load a module, link imports, call exports) and for tools such
 * as the spec-test runner.
 *
 * Object hierarchy and ownership
 * ------------------------------
 *   wasmplug_engine      configuration and allocator; outlives everything
 *                        created from it.
 *   wasmplug_module      decoded, validated and compiled code. Immutable,
 *                        safe to share between threads, reference counted:
 *                        every instance keeps its module alive.
 *   wasmplug_instance    one instantiation: memories, tables, globals and
 *                        functions, plus the execution state (value stack,
 *                        fuel, interrupt flag) its calls run on. Reference
 *                        counted: an instance that imports another's export
 *                        keeps the exporting instance alive.
 *   wasmplug_func / _memory / _table / _global
 *                        "externs". Those created by the host with
 *                        wasmplug_*_new are reference counted on their own;
 *                        those obtained from an instance's exports are owned
 *                        by that instance and valid while it is alive.
 *
 * Threads: an engine and a module may be used from any number of threads.
 * An instance runs one call at a time; calls into the same instance from two
 * threads at once must be serialized by the caller. wasmplug_instance_interrupt
 * is the one function that may be called on an instance while another thread
 * is running it.
 *
 * Errors: functions return wasmplug_status (0 = WASMPLUG_OK). Functions that
 * take a wasmplug_error* fill it with the details (message, byte offset, trap
 * kind, wasm backtrace) when they fail; the pointer may be NULL. The library
 * never prints, aborts or exits.
 */
#ifndef WASMPLUG_ENGINE_H
#define WASMPLUG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define WASMPLUG_API __declspec(dllexport)
#elif defined(__GNUC__)
#define WASMPLUG_API __attribute__((visibility("default")))
#else
#define WASMPLUG_API
#endif

/* The version, in this one place: CMakeLists.txt reads these three lines for
 * the shared library's SONAME, the pkg-config file and the CMake package;
 * `wasmplug --version` prints wasmplug_version(). */
#define WASMPLUG_VERSION_MAJOR 0
#define WASMPLUG_VERSION_MINOR 1
#define WASMPLUG_VERSION_PATCH 0
#define WASMPLUG_VERSION_XSTR_(x) #x
#define WASMPLUG_VERSION_STR_(x) WASMPLUG_VERSION_XSTR_(x)
#define WASMPLUG_VERSION_STRING                                                  \
    WASMPLUG_VERSION_STR_(WASMPLUG_VERSION_MAJOR) "." WASMPLUG_VERSION_STR_(    \
        WASMPLUG_VERSION_MINOR) "." WASMPLUG_VERSION_STR_(WASMPLUG_VERSION_PATCH)

/** The library's version string, e.g. "0.1.0" (may differ from the header's). */
WASMPLUG_API const char *wasmplug_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/* X(name, message): the one table of status codes for the whole library
 * (engine and plugin host): the enum, wasmplug_strerror and
 * wasmplug_status_name come from it. */
#define WASMPLUG_STATUS_LIST(X)                                              \
    X(OK, "ok")                                                              \
    X(ERR_NOMEM, "out of memory")                                            \
    X(ERR_ARGUMENT, "invalid argument")                                      \
    X(ERR_MALFORMED, "malformed module")                                     \
    X(ERR_INVALID, "invalid module")                                         \
    X(ERR_UNSUPPORTED, "unsupported feature")                                \
    X(ERR_LINK, "link error")                                                \
    X(ERR_TRAP, "trap")                                                      \
    X(ERR_NOT_FOUND, "not found")                                            \
    X(ERR_IO, "input/output error")                                          \
    X(ERR_LIMIT, "limit exceeded")                                           \
    X(ERR_PERMISSION_DENIED, "permission denied")                            \
    X(ERR_TIMEOUT, "timeout")                                                \
    X(ERR_FUEL, "out of fuel")                                               \
    X(ERR_MEMORY_LIMIT, "memory limit exceeded")                             \
    X(ERR_CALL_DEPTH, "call depth limit exceeded")                           \
    X(ERR_INPUT_TOO_LARGE, "input too large")                                \
    X(ERR_OUTPUT_TOO_LARGE, "output too large")                              \
    X(ERR_PLUGIN_STATE, "plugin is not in a state that allows this")         \
    X(ERR_DUPLICATE, "name already in use")                                  \
    X(ERR_HOST_FUNCTION, "host function failed")                             \
    X(ERR_OUT_OF_BOUNDS, "pointer out of bounds")                            \
    X(ERR_SERIALIZATION, "serialization error")                              \
    X(ERR_CANCELLED, "cancelled")                                            \
    X(ERR_PLUGIN, "plugin reported an error")                                \
    X(ERR_MANIFEST, "invalid manifest")                                      \
    X(ERR_ABI, "plugin ABI mismatch")                                        \
    X(ERR_QUOTA, "storage quota exceeded")                                   \
    X(ERR_STORAGE, "storage error")                                          \
    X(ERR_WORKFLOW, "workflow failed")                                       \
    X(ERR_DEPENDENCY_MISSING, "dependency missing")                          \
    X(ERR_DEPENDENCY_VERSION, "dependency version not satisfied")            \
    X(ERR_DEPENDENCY_CYCLE, "dependency cycle")                              \
    X(ERR_IN_USE, "needed by other plugins")

typedef enum wasmplug_status {
#define WASMPLUG_X_ENUM(name, msg) WASMPLUG_##name,
    WASMPLUG_STATUS_LIST(WASMPLUG_X_ENUM)
#undef WASMPLUG_X_ENUM
    WASMPLUG_STATUS_COUNT
} wasmplug_status;

/**
 * A static, human-readable description of any status code, engine or host
 * level ("permission denied", "out of fuel", ...). Never NULL; an unknown
 * code gives "unknown status".
 */
WASMPLUG_API const char *wasmplug_strerror(wasmplug_status status);
/** The symbolic name of a code without its prefix ("ERR_TIMEOUT"). Never NULL. */
WASMPLUG_API const char *wasmplug_status_name(wasmplug_status status);

/* X(name, message): trap kinds. The messages are the spec test suite's. */
#define WASMPLUG_TRAP_LIST(X)                                                \
    X(NONE, "no trap")                                                       \
    X(UNREACHABLE, "unreachable")                                            \
    X(MEMORY_OUT_OF_BOUNDS, "out of bounds memory access")                   \
    X(TABLE_OUT_OF_BOUNDS, "out of bounds table access")                     \
    X(UNDEFINED_ELEMENT, "undefined element")                                \
    X(UNINITIALIZED_ELEMENT, "uninitialized element")                        \
    X(INDIRECT_CALL_TYPE_MISMATCH, "indirect call type mismatch")            \
    X(INTEGER_DIVIDE_BY_ZERO, "integer divide by zero")                      \
    X(INTEGER_OVERFLOW, "integer overflow")                                  \
    X(INVALID_CONVERSION, "invalid conversion to integer")                   \
    X(CALL_STACK_EXHAUSTED, "call stack exhausted")                          \
    X(VALUE_STACK_EXHAUSTED, "value stack exhausted")                        \
    X(OUT_OF_FUEL, "out of fuel")                                            \
    X(INTERRUPTED, "interrupted")                                            \
    X(HOST_ERROR, "host function failed")                                    \
    X(EXIT, "exit requested")

typedef enum wasmplug_trap {
#define WASMPLUG_X_ENUM(name, msg) WASMPLUG_TRAP_##name,
    WASMPLUG_TRAP_LIST(WASMPLUG_X_ENUM)
#undef WASMPLUG_X_ENUM
    WASMPLUG_TRAP_COUNT
} wasmplug_trap;

/** A static description of a trap kind (the spec's wording). Never NULL. */
WASMPLUG_API const char *wasmplug_trap_string(wasmplug_trap trap);

#define WASMPLUG_ERROR_MESSAGE_MAX 256
#define WASMPLUG_ERROR_FRAMES_MAX 16
#define WASMPLUG_ERROR_NAME_MAX 64

/** One frame of a wasm backtrace, innermost first. */
typedef struct wasmplug_frame {
    uint32_t func_index;                  /* index in the module's function space */
    char func_name[WASMPLUG_ERROR_NAME_MAX]; /* from the name section, or "" */
} wasmplug_frame;

/**
 * Details of a failure. Self-contained (no pointers into other objects), so
 * it can be kept, copied and freed with its owner. Caller-allocated.
 */
typedef struct wasmplug_error {
    wasmplug_status status;   /* WASMPLUG_OK when nothing failed */
    wasmplug_trap trap;       /* for WASMPLUG_ERR_TRAP, else TRAP_NONE */
    uint64_t offset;          /* byte offset in the module binary for decode and
                                 validation errors; UINT64_MAX when not known */
    int32_t exit_code;        /* for TRAP_EXIT (e.g. WASI proc_exit) */
    char message[WASMPLUG_ERROR_MESSAGE_MAX];
    uint32_t frame_count;     /* backtrace frames stored (at most FRAMES_MAX) */
    wasmplug_frame frames[WASMPLUG_ERROR_FRAMES_MAX];
} wasmplug_error;

/** Reset an error to "no error". */
WASMPLUG_API void wasmplug_error_clear(wasmplug_error *err);

/* ------------------------------------------------------------------------ */
/* Values and types                                                         */
/* ------------------------------------------------------------------------ */

/** Value types, numbered as in the binary format. */
typedef enum wasmplug_valtype {
    WASMPLUG_I32 = 0x7F,
    WASMPLUG_I64 = 0x7E,
    WASMPLUG_F32 = 0x7D,
    WASMPLUG_F64 = 0x7C,
    WASMPLUG_V128 = 0x7B, /* 128-bit SIMD vector: two slots (see wasmplug_slot) */
    WASMPLUG_FUNCREF = 0x70,
    WASMPLUG_EXTERNREF = 0x6F
} wasmplug_valtype;

/** The text-format name of a value type ("i32", "funcref", ...; "unknown type" otherwise). */
WASMPLUG_API const char *wasmplug_valtype_name(wasmplug_valtype type);

typedef struct wasmplug_engine wasmplug_engine;
typedef struct wasmplug_module wasmplug_module;
typedef struct wasmplug_instance wasmplug_instance;
typedef struct wasmplug_func wasmplug_func;
typedef struct wasmplug_memory wasmplug_memory;
typedef struct wasmplug_table wasmplug_table;
typedef struct wasmplug_global wasmplug_global;
typedef struct wasmplug_caller wasmplug_caller;

/**
 * One value slot: the engine's native representation of any value, 8 bytes.
 * An i32 lives in .i32 (the upper bytes are unspecified); floats are kept as
 * their bit patterns (read .f32_bits / .f64_bits to see a NaN's payload).
 * A funcref is a wasmplug_func* in .ref; an externref is the host's void* in
 * .ref. NULL is the null reference for both. A v128 occupies two consecutive
 * slots (bytes 0-7, then 8-15, wasm byte order) wherever values are passed
 * as slot arrays: arguments and results of host functions and of
 * wasmplug_func_call_slots count two slots for each v128.
 */
typedef union wasmplug_slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    uint32_t f32_bits;
    uint64_t f64_bits;
    void *ref;
} wasmplug_slot;

/**
 * A typed value, for the convenience call API and globals. A v128 keeps its
 * 16 bytes in wasm (little-endian) order: bytes 0-7 in of, 8-15 in of_hi
 * (so lane 0 of an i32x4 is of.u32, lane 2 of_hi.u32); of_hi is unused by
 * every other type.
 */
typedef struct wasmplug_val {
    wasmplug_valtype type;
    wasmplug_slot of;
    wasmplug_slot of_hi;
} wasmplug_val;

/** A function type. The arrays are owned by whoever supplies the struct. */
typedef struct wasmplug_functype {
    uint32_t param_count;
    uint32_t result_count;
    const wasmplug_valtype *params;
    const wasmplug_valtype *results;
} wasmplug_functype;

/** Limits in pages (memories) or elements (tables). */
typedef struct wasmplug_limits {
    uint32_t min;
    uint32_t max;     /* meaningful when has_max */
    bool has_max;
} wasmplug_limits;

typedef enum wasmplug_extern_kind {
    WASMPLUG_EXTERN_FUNC = 0,
    WASMPLUG_EXTERN_TABLE = 1,
    WASMPLUG_EXTERN_MEMORY = 2,
    WASMPLUG_EXTERN_GLOBAL = 3
} wasmplug_extern_kind;

/** The type of an import or export. Pointers are owned by the module. */
typedef struct wasmplug_externtype {
    wasmplug_extern_kind kind;
    union {
        wasmplug_functype func;
        struct { wasmplug_valtype elem; wasmplug_limits limits; } table;
        wasmplug_limits memory;
        struct { wasmplug_valtype type; bool mutable_; } global;
    } of;
} wasmplug_externtype;

/** An extern value: what an import is satisfied with, what an export is. */
typedef struct wasmplug_extern {
    wasmplug_extern_kind kind;
    union {
        wasmplug_func *func;
        wasmplug_table *table;
        wasmplug_memory *memory;
        wasmplug_global *global;
    } of;
} wasmplug_extern;

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Allocator hook, realloc-style (as Lua's): new_size == 0 frees ptr and
 * returns NULL; otherwise returns a block of new_size bytes holding the first
 * min(old_size, new_size) bytes of ptr, or NULL on failure (ptr untouched).
 * old_size is 0 when ptr is NULL. Linear memories with guard pages, and
 * those with explicit checks larger than 1 MiB, are mapped with mmap
 * (committed lazily, page by page as they are touched) and do not go through
 * this hook.
 */
typedef void *(*wasmplug_alloc_fn)(void *user, void *ptr, size_t old_size,
                                   size_t new_size);

/**
 * How linear-memory accesses are checked.
 *
 * Guard pages: each memory reserves 8 GiB of address space (any u32 address
 * plus any u32 offset), of which only the memory's size is accessible, so
 * code needs no checks and an out-of-bounds access faults; the engine's
 * SIGSEGV/SIGBUS handler turns that fault into a MEMORY_OUT_OF_BOUNDS trap
 * (see wasmplug_signal_mode). Reservations cost address space, not memory:
 * x86-64 gives a process 128 TiB, so about 16,000 guard-page memories fit
 * (less under RLIMIT_AS, ulimit -v). When a reservation fails, or the handler
 * cannot be installed, the engine gives the new memory explicit checks
 * instead (unless no_bounds_fallback is set): the instance runs a copy of
 * the module's code with checked loads and stores, made once per module.
 * Memories of both kinds work side by side in one engine.
 *
 * Explicit: every access is checked (slower on memory-heavy code; see
 * docs/PERFORMANCE.md); a memory costs only its size in address space.
 */
typedef enum wasmplug_bounds_mode {
    WASMPLUG_BOUNDS_AUTO = 0,     /* guard pages where supported, else checks */
    WASMPLUG_BOUNDS_GUARD_PAGES,  /* reserve 8 GiB per memory; no checks in code */
    WASMPLUG_BOUNDS_EXPLICIT      /* explicit check on every access; portable */
} wasmplug_bounds_mode;

/**
 * Who owns the SIGSEGV/SIGBUS handlers that guard pages need. A fault is
 * the engine's when it hits a guard page of a memory while the faulting
 * thread runs wasm code; every other fault is passed on untouched.
 *
 * WASMPLUG_SIGNALS_VERIFY (default): the engine installs its handler when
 * the first guard-page engine is created, chaining to the handler it
 * replaces for faults that are not its own. Every call that enters wasm
 * from C checks that the handler is still in place (one sigaction() query,
 * tens of nanoseconds); if the host installed another one since (a crash
 * reporter, a language runtime, signal(SIGSEGV, SIG_DFL)), the engine puts
 * its own back and chains to the host's, which so still sees every fault
 * that is not a plugin's.
 *
 * WASMPLUG_SIGNALS_INSTALL_ONCE: install once, never check (saves the query
 * per call; the host promises never to change SIGSEGV/SIGBUS handling).
 *
 * WASMPLUG_SIGNALS_HOST: the engine never installs or checks a handler. The
 * host's own SIGSEGV and SIGBUS handlers (installed with SA_SIGINFO) must
 * call wasmplug_handle_fault first, on every fault.
 */
typedef enum wasmplug_signal_mode {
    WASMPLUG_SIGNALS_VERIFY = 0,
    WASMPLUG_SIGNALS_INSTALL_ONCE,
    WASMPLUG_SIGNALS_HOST
} wasmplug_signal_mode;

/** Default maximum of an instance's memory (pages) when neither the engine
 * nor the instance sets one: 16384 pages = 1 GiB. */
#define WASMPLUG_DEFAULT_MAX_MEMORY_PAGES 16384u

typedef struct wasmplug_engine_config {
    wasmplug_alloc_fn alloc;      /* NULL: the C library's realloc/free */
    void *alloc_user;
    wasmplug_bounds_mode bounds;  /* how linear memory accesses are checked */
    wasmplug_signal_mode signals; /* who keeps the guard-page fault handler */
    bool no_bounds_fallback;      /* guard pages only: a memory whose reservation
                                     fails is an error (ERR_NOMEM naming the limit)
                                     instead of a memory with explicit checks */
    uint32_t max_memory_pages;    /* default max_memory_pages of instances (a
                                     module whose memory needs more fails to
                                     instantiate with ERR_LIMIT); 0 =
                                     WASMPLUG_DEFAULT_MAX_MEMORY_PAGES, at most 65536 */
} wasmplug_engine_config;

/** Create an engine. cfg may be NULL for defaults. */
WASMPLUG_API wasmplug_status wasmplug_engine_new(const wasmplug_engine_config *cfg,
                                                 wasmplug_engine **out);
/** Free an engine. Every module and extern created from it must be freed first. */
WASMPLUG_API void wasmplug_engine_free(wasmplug_engine *engine);

/**
 * For hosts with WASMPLUG_SIGNALS_HOST: call this first in your SIGSEGV and
 * SIGBUS handlers (installed with SA_SIGINFO), passing the handler's three
 * arguments (siginfo is a siginfo_t *). If the fault is a plugin's
 * out-of-bounds access it does not return: it jumps back into the engine,
 * which reports a MEMORY_OUT_OF_BOUNDS trap (and unblocks the signal, so the
 * handler need not use SA_NODEFER). Otherwise it returns false and your
 * handler deals with the fault as it would have. Async-signal-safe. Also
 * usable in the other modes, e.g. from a handler that replaced the engine's
 * between two calls.
 */
WASMPLUG_API bool wasmplug_handle_fault(int sig, void *siginfo, void *ucontext);

/* ------------------------------------------------------------------------ */
/* Modules                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Decode, validate and compile a binary module. The bytes are copied; the
 * caller keeps ownership of them. On failure *out is NULL and err says why:
 * WASMPLUG_ERR_MALFORMED (binary format), WASMPLUG_ERR_INVALID (validation)
 * or WASMPLUG_ERR_UNSUPPORTED ("unsupported feature: X"), with err->offset
 * the byte offset of the offending input.
 */
WASMPLUG_API wasmplug_status wasmplug_module_new(wasmplug_engine *engine,
                                                 const uint8_t *bytes, size_t size,
                                                 wasmplug_module **out,
                                                 wasmplug_error *err);
/** Drop the caller's reference. The module lives on while instances use it. */
WASMPLUG_API void wasmplug_module_free(wasmplug_module *module);

/**
 * Compiled-module serialization (src/engine/serialize.c), for caches that
 * skip validation and compilation on later loads. wasmplug_module_serialize
 * writes m (its binary and compiled code) to a new buffer, *out (free it with
 * wasmplug_serialized_free), of *size bytes. The data is tied to this engine
 * build and its bounds-check mode. wasmplug_module_deserialize loads such a
 * buffer on engine e (same build, same bounds mode) into a new module, as
 * wasmplug_module_new would have made it; a foreign, damaged or truncated
 * buffer fails with WASMPLUG_ERR_SERIALIZATION (a checksum and structural
 * checks catch damage; the code itself is not re-validated, so only load
 * data from a place untrusted users cannot write).
 */
WASMPLUG_API wasmplug_status wasmplug_module_serialize(const wasmplug_module *m, uint8_t **out,
                                                       size_t *size, wasmplug_error *err);
WASMPLUG_API wasmplug_status wasmplug_module_deserialize(wasmplug_engine *e, const uint8_t *data,
                                                         size_t size, wasmplug_module **out,
                                                         wasmplug_error *err);
WASMPLUG_API void wasmplug_serialized_free(uint8_t *bytes);

WASMPLUG_API uint32_t wasmplug_module_import_count(const wasmplug_module *module);
/**
 * Describe import i: its module and field names (NUL-terminated, owned by the
 * module; *_len give the byte lengths since names may contain NUL) and type.
 */
WASMPLUG_API wasmplug_status wasmplug_module_import(const wasmplug_module *module,
                                                    uint32_t i,
                                                    const char **module_name, size_t *module_len,
                                                    const char **name, size_t *name_len,
                                                    wasmplug_externtype *type);
WASMPLUG_API uint32_t wasmplug_module_export_count(const wasmplug_module *module);
/** Describe export i: its name (owned by the module) and type. */
WASMPLUG_API wasmplug_status wasmplug_module_export(const wasmplug_module *module,
                                                    uint32_t i,
                                                    const char **name, size_t *name_len,
                                                    wasmplug_externtype *type);
/** The name-section name of function func_index, or NULL. Owned by the module. */
WASMPLUG_API const char *wasmplug_module_func_name(const wasmplug_module *module,
                                                   uint32_t func_index);
/** Post-MVP features a module uses (a set of wasmplug_feature bits). */
typedef enum wasmplug_feature {
    WASMPLUG_FEATURE_SIGN_EXT = 1u << 0,         /* sign-extension operators */
    WASMPLUG_FEATURE_SAT_CONV = 1u << 1,         /* non-trapping float-to-int */
    WASMPLUG_FEATURE_MULTI_VALUE = 1u << 2,      /* multi-value */
    WASMPLUG_FEATURE_BULK_MEMORY = 1u << 3,      /* bulk memory, DataCount, passive segments */
    WASMPLUG_FEATURE_REFERENCE_TYPES = 1u << 4,  /* reference types */
    WASMPLUG_FEATURE_MUTABLE_GLOBALS = 1u << 5,  /* import/export of mutable globals */
    WASMPLUG_FEATURE_SIMD = 1u << 6              /* fixed-width SIMD (v128) */
} wasmplug_feature;

/** The features the module uses (bits of wasmplug_feature). */
WASMPLUG_API uint32_t wasmplug_module_features(const wasmplug_module *module);
/** A feature's name ("sign-extension", "bulk memory", ...); "unknown feature" otherwise. */
WASMPLUG_API const char *wasmplug_feature_name(wasmplug_feature feature);

/**
 * Find the first custom section called name. On success *data and *size point
 * into the module's copy of the binary, valid while the module lives.
 */
WASMPLUG_API wasmplug_status wasmplug_module_custom_section(const wasmplug_module *module,
                                                            const char *name,
                                                            const uint8_t **data,
                                                            size_t *size);

/* ------------------------------------------------------------------------ */
/* Raw binaries (no decoding or validation)                                 */
/* ------------------------------------------------------------------------ */

/** One top-level section of a binary. Pointers point into the binary. */
typedef struct wasmplug_section {
    uint8_t id;               /* 0 custom, 1 type, ..., 11 data, 12 datacount */
    uint64_t offset;          /* byte offset of the section's id byte */
    const uint8_t *content;   /* the section's content (after id and size) */
    size_t content_size;
    const char *name;         /* custom sections: the name (not NUL-terminated), else NULL */
    size_t name_len;
    const uint8_t *payload;   /* custom sections: the bytes after the name, else = content */
    size_t payload_size;
} wasmplug_section;

/**
 * Walk the top-level sections of a binary without decoding them, for tools
 * that must describe modules the engine may reject. Set *cursor to 0 before
 * the first call; each call fills *section and advances *cursor. Returns
 * WASMPLUG_OK with a section, WASMPLUG_ERR_NOT_FOUND after the last one, or
 * WASMPLUG_ERR_MALFORMED (err->offset, err->message) for a bad header or a
 * section that does not fit.
 */
WASMPLUG_API wasmplug_status wasmplug_binary_next_section(const uint8_t *bytes, size_t size,
                                                          size_t *cursor,
                                                          wasmplug_section *section,
                                                          wasmplug_error *err);
/**
 * The payload of the first custom section called name (NUL-terminated) in a
 * binary, without decoding the rest. ERR_NOT_FOUND if there is none,
 * ERR_MALFORMED if the section layout is broken before it.
 */
WASMPLUG_API wasmplug_status wasmplug_binary_custom_section(const uint8_t *bytes, size_t size,
                                                            const char *name,
                                                            const uint8_t **data,
                                                            size_t *data_size);

/* ------------------------------------------------------------------------ */
/* Host-created externs                                                     */
/* ------------------------------------------------------------------------ */

/**
 * A host function. slots holds the arguments on entry (param_count slots, a
 * v128 taking two) and receives the results (result_count slots, from
 * slots[0]); the array has room for the larger of the two. Return 0 on success. A non-zero
 * return traps the calling wasm code with WASMPLUG_TRAP_HOST_ERROR (or the
 * kind set with wasmplug_caller_trap) and the message set with
 * wasmplug_caller_set_error.
 */
typedef int (*wasmplug_host_fn)(wasmplug_caller *caller, void *user,
                                wasmplug_slot *slots);

/**
 * Create a host function of the given type. finalizer (may be NULL) is called
 * with user when the function is freed. The type arrays are copied.
 */
WASMPLUG_API wasmplug_status wasmplug_func_new_host(wasmplug_engine *engine,
                                                    const wasmplug_functype *type,
                                                    wasmplug_host_fn fn, void *user,
                                                    void (*finalizer)(void *user),
                                                    wasmplug_func **out);
/** Create a memory (limits in 64 KiB pages). */
WASMPLUG_API wasmplug_status wasmplug_memory_new(wasmplug_engine *engine,
                                                 wasmplug_limits limits,
                                                 wasmplug_memory **out);
/** Create a table of funcref or externref, every element set to init. */
WASMPLUG_API wasmplug_status wasmplug_table_new(wasmplug_engine *engine,
                                                wasmplug_valtype elem,
                                                wasmplug_limits limits, void *init,
                                                wasmplug_table **out);
/** Create a global holding value. */
WASMPLUG_API wasmplug_status wasmplug_global_new(wasmplug_engine *engine,
                                                 wasmplug_val value, bool mutable_,
                                                 wasmplug_global **out);

/*
 * Reference counting for externs. Retaining an extern obtained from an
 * instance's exports retains that instance. Externs from wasmplug_*_new start
 * with one reference, dropped with the matching _free.
 */
WASMPLUG_API void wasmplug_extern_retain(wasmplug_extern ext);
WASMPLUG_API void wasmplug_extern_release(wasmplug_extern ext);
WASMPLUG_API void wasmplug_func_free(wasmplug_func *func);
WASMPLUG_API void wasmplug_memory_free(wasmplug_memory *memory);
WASMPLUG_API void wasmplug_table_free(wasmplug_table *table);
WASMPLUG_API void wasmplug_global_free(wasmplug_global *global);

/** The type of an extern. Pointers inside are valid while the extern lives. */
WASMPLUG_API wasmplug_externtype wasmplug_extern_type(wasmplug_extern ext);

/* ------------------------------------------------------------------------ */
/* Instances                                                                */
/* ------------------------------------------------------------------------ */

#define WASMPLUG_FUEL_UNLIMITED UINT64_MAX

typedef struct wasmplug_instance_config {
    uint32_t max_memory_pages;  /* memory.grow beyond this returns -1, and a memory
                                   whose minimum is larger fails to instantiate;
                                   0 = the engine's max_memory_pages */
    uint32_t max_call_depth;    /* nested wasm calls; 0 = default (10000) */
    uint32_t max_stack_slots;   /* value-stack slots (8 bytes each); 0 = default (1M) */
    uint64_t fuel;              /* initial fuel; 0 = WASMPLUG_FUEL_UNLIMITED */
    void *user;                 /* returned by wasmplug_instance_user and to host fns */
    bool defer_start;           /* don't run the start function in instance_new: the
                                   caller runs it with wasmplug_instance_start, so it
                                   can be interrupted or timed out like any call */
} wasmplug_instance_config;

/**
 * Instantiate a module. imports[i] satisfies the module's import i (same
 * order as wasmplug_module_import); each must match the import's kind and
 * type, else WASMPLUG_ERR_LINK naming the import. Runs data and element
 * segments and the start function; a trap there returns WASMPLUG_ERR_TRAP.
 * cfg may be NULL for defaults. The instance retains the module and imports.
 */
WASMPLUG_API wasmplug_status wasmplug_instance_new(wasmplug_module *module,
                                                   const wasmplug_extern *imports,
                                                   size_t import_count,
                                                   const wasmplug_instance_config *cfg,
                                                   wasmplug_instance **out,
                                                   wasmplug_error *err);
/**
 * Run the start function of an instance created with cfg->defer_start (no-op
 * when the module has none or it already ran). A trap returns
 * WASMPLUG_ERR_TRAP; the instance should then be freed, since the module
 * never completed its initialization. Instances whose start function failed
 * this way must not be kept in use by other instances (tables, globals).
 */
WASMPLUG_API wasmplug_status wasmplug_instance_start(wasmplug_instance *instance,
                                                     wasmplug_error *err);
/** Drop the caller's reference to an instance. */
WASMPLUG_API void wasmplug_instance_free(wasmplug_instance *instance);

WASMPLUG_API wasmplug_module *wasmplug_instance_module(const wasmplug_instance *instance);
WASMPLUG_API void *wasmplug_instance_user(const wasmplug_instance *instance);

/** Look up an export by name (NUL-terminated). */
WASMPLUG_API wasmplug_status wasmplug_instance_export(wasmplug_instance *instance,
                                                      const char *name,
                                                      wasmplug_extern *out);
/** Same, with an explicit name length (names may contain NUL). */
WASMPLUG_API wasmplug_status wasmplug_instance_export_n(wasmplug_instance *instance,
                                                        const char *name, size_t len,
                                                        wasmplug_extern *out);
/** The exported function called name, or NULL. */
WASMPLUG_API wasmplug_func *wasmplug_instance_func(wasmplug_instance *instance,
                                                   const char *name);
/** The instance's memory 0 (defined or imported), or NULL. */
WASMPLUG_API wasmplug_memory *wasmplug_instance_memory(wasmplug_instance *instance);

/** Set the fuel for the following calls (WASMPLUG_FUEL_UNLIMITED: no limit). */
WASMPLUG_API void wasmplug_instance_set_fuel(wasmplug_instance *instance, uint64_t fuel);
/** Fuel left (WASMPLUG_FUEL_UNLIMITED when unlimited). */
WASMPLUG_API uint64_t wasmplug_instance_fuel(const wasmplug_instance *instance);
/** Fuel consumed since the instance was created or the fuel was last set. */
WASMPLUG_API uint64_t wasmplug_instance_fuel_consumed(const wasmplug_instance *instance);
/**
 * How many memory.grow instructions returned -1 (refused: beyond the
 * memory's maximum, the instance's max_memory_pages, or memory the system
 * would not give) in calls run on this instance since it was created. A host
 * compares the count before and after a call to tell "the plugin hit its
 * memory limit" from any other trap. Grows requested with
 * wasmplug_memory_grow are not counted.
 */
WASMPLUG_API uint64_t wasmplug_instance_grows_refused(const wasmplug_instance *instance);
/**
 * Ask the running call (or, if none runs, the next one) to stop with
 * WASMPLUG_TRAP_INTERRUPTED at its next check (function entry or loop
 * back-edge). Safe to call from any thread, and from a signal handler.
 */
WASMPLUG_API void wasmplug_instance_interrupt(wasmplug_instance *instance);
/**
 * Withdraw an interrupt requested with wasmplug_instance_interrupt that no
 * call has acted on yet (e.g. one that arrived just after the call it was
 * meant for had finished). Thread-safe.
 */
WASMPLUG_API void wasmplug_instance_clear_interrupt(wasmplug_instance *instance);
/** Change the limits of the following calls (same meaning as the config). */
WASMPLUG_API void wasmplug_instance_set_limits(wasmplug_instance *instance,
                                               uint32_t max_call_depth,
                                               uint32_t max_stack_slots,
                                               uint32_t max_memory_pages);

/* ------------------------------------------------------------------------ */
/* Calling                                                                  */
/* ------------------------------------------------------------------------ */

/** The function's type; arrays valid while the function lives. */
WASMPLUG_API wasmplug_functype wasmplug_func_type(const wasmplug_func *func);

/**
 * Call a function with typed arguments. Counts and types must match the
 * function's type (WASMPLUG_ERR_ARGUMENT otherwise). A trap returns
 * WASMPLUG_ERR_TRAP with err->trap, a message and a backtrace; the instance
 * remains usable.
 */
WASMPLUG_API wasmplug_status wasmplug_func_call(wasmplug_func *func,
                                                const wasmplug_val *args, size_t arg_count,
                                                wasmplug_val *results, size_t result_count,
                                                wasmplug_error *err);
/**
 * The fast path: arguments in slots[0..param_count), results written to
 * slots[0..result_count), counting two slots for each v128 value. slots must
 * have room for both. No type checks.
 */
WASMPLUG_API wasmplug_status wasmplug_func_call_slots(wasmplug_func *func,
                                                      wasmplug_slot *slots,
                                                      wasmplug_error *err);

/* ------------------------------------------------------------------------ */
/* Inside host functions                                                    */
/* ------------------------------------------------------------------------ */

/** The instance whose code called the host function (NULL if called from C). */
WASMPLUG_API wasmplug_instance *wasmplug_caller_instance(wasmplug_caller *caller);
/** Set the message of the trap the host function is about to cause. */
WASMPLUG_API void wasmplug_caller_set_error(wasmplug_caller *caller, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Choose the trap kind (default HOST_ERROR) and, for TRAP_EXIT, the exit code. */
WASMPLUG_API void wasmplug_caller_trap(wasmplug_caller *caller, wasmplug_trap trap,
                                       int32_t exit_code);

/* ------------------------------------------------------------------------ */
/* Memories, tables, globals                                                */
/* ------------------------------------------------------------------------ */

/** Base address and size in bytes. Valid until the memory grows. */
WASMPLUG_API uint8_t *wasmplug_memory_data(wasmplug_memory *memory, size_t *size);
WASMPLUG_API uint32_t wasmplug_memory_pages(const wasmplug_memory *memory);
/** How accesses to this memory are checked: GUARD_PAGES or EXPLICIT (a
 * guard-mode engine gives a memory explicit checks when its reservation
 * fails; see wasmplug_bounds_mode). */
WASMPLUG_API wasmplug_bounds_mode wasmplug_memory_bounds(const wasmplug_memory *memory);
/** Grow by delta pages; *old_pages gets the previous size. ERR_LIMIT if it can't. */
WASMPLUG_API wasmplug_status wasmplug_memory_grow(wasmplug_memory *memory, uint32_t delta,
                                                  uint32_t *old_pages);

WASMPLUG_API uint32_t wasmplug_table_size(const wasmplug_table *table);
WASMPLUG_API wasmplug_status wasmplug_table_get(const wasmplug_table *table, uint32_t i,
                                                void **ref);
WASMPLUG_API wasmplug_status wasmplug_table_set(wasmplug_table *table, uint32_t i, void *ref);

WASMPLUG_API wasmplug_val wasmplug_global_get(const wasmplug_global *global);
/** Set a mutable global; ERR_ARGUMENT if immutable or the type differs. */
WASMPLUG_API wasmplug_status wasmplug_global_set(wasmplug_global *global, wasmplug_val value);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_ENGINE_H */
