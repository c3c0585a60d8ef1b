/*
 * compile.h - shared between compile.c (module-level validation, driver)
 * and compile_func.c (validation and translation of function bodies).
 */
#ifndef WP_COMPILE_H
#define WP_COMPILE_H

#include "module.h"

/* Largest frame (params + locals + operand stack) a function may need, in
 * slots. Valid modules beyond it fail with WASMPLUG_ERR_LIMIT: such a frame
 * could never run on a realistic value stack anyway. */
#define WP_MAX_FRAME_SLOTS (1u << 24)

/*
 * Validate every defined function body of m and compile it into
 * m->funcs[i].code (cells allocated in m->arena). Malformed bodies fail with
 * WASMPLUG_ERR_MALFORMED even when an earlier body is invalid, as the spec
 * decodes the whole module before validating it.
 */
WP_INTERNAL wasmplug_status wp_compile_functions(wasmplug_module *m, wasmplug_error *err);

/*
 * The module-level rules (index spaces, limits, constant expressions and
 * their types, segments against their tables and memories, exports, the
 * start function), without the function bodies. Also run on modules loaded
 * from compiled bytes (serialize.c), whose binary is not trusted either.
 */
WP_INTERNAL wasmplug_status wp_validate_module(wasmplug_module *m, wasmplug_error *err);

/*
 * disasm.c: a text listing of compiled code, one instruction per line.
 * Writes at most size bytes (NUL-terminated when size > 0) and returns the
 * length of the whole listing, as snprintf does.
 */
WP_INTERNAL size_t wp_disasm(const wp_code *code, char *buf, size_t size);

/* compile_tables.c: what the body compiler knows about each opcode. */

/* Plain numeric instructions: d = op(a) or d = op(a, b). r == 0: not one. */
typedef struct wp_numop {
    uint16_t op;       /* wp_op, or WP_NUM_REINTERPRET (no code: slots hold bits) */
    uint8_t a, b, r;   /* operand types (b == 0: unary) and result type */
    const char *name;
} wp_numop;
#define WP_NUM_REINTERPRET 0xFFFF

/* Loads and stores, opcodes 0x28..0x3E. */
typedef struct wp_memop {
    uint16_t op;
    uint8_t align;     /* natural alignment, log2 */
    uint8_t type;      /* value loaded or stored */
    bool store;
    const char *name;
} wp_memop;

WP_INTERNAL extern const wp_numop wp_num_ops[256];   /* by opcode byte */
WP_INTERNAL extern const wp_numop wp_sat_ops[8];     /* 0xFC 0..7 */
WP_INTERNAL extern const wp_memop wp_mem_ops[0x3F - 0x28];
/* Superinstruction forms of an operation (compile_tables.c); 0: none. */
typedef struct wp_fusion {
    uint16_t imm;      /* binary op: the form with an immediate second operand */
    uint16_t swap;     /* binary op: the op computing op(b, a) (commutative: itself) */
    uint16_t br;       /* compare (register or _IMM form): its BR_IF_ form */
    uint16_t negate;   /* compare: the compare of the opposite result */
    uint16_t addr_imm; /* load/store: the form addressing (a + imm) mod 2^32 */
    uint16_t load_op;  /* f32/f64 add/sub/mul: the form with b loaded from memory */
    uint16_t update;   /* F64_<op>_LOAD: the form storing back to the same address */
    uint16_t add_br;   /* BR_IF, BR_IF_NOT, BR_IF_I32_<cmp>: the form with an
                          I32_ADD_IMM in front (ADD_BR_IF...) */
    uint16_t addr_add; /* load/store (and F32_<op>_LOAD): the form addressing
                          (a + b) mod 2^32 + off */
} wp_fusion;
WP_INTERNAL extern const wp_fusion wp_fusions[WP_OP_COUNT];

/* Names of the other opcodes; NULL: no WebAssembly 2.0 opcode. */
WP_INTERNAL extern const char *const wp_opcode_names[256];
/* The name of an opcode (a byte, or 0xFC00 | sub-opcode), for messages. */
WP_INTERNAL const char *wp_opcode_name(uint32_t op);

#endif
