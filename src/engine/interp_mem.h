/*
 * interp_mem.h - the linear-memory load/store handlers of the interpreter
 * loop, written once and included twice inside run() (interp.c): with
 * WP_GUARDED 0 (explicit bounds check on every access, the handlers of
 * wp_op_cell) and WP_GUARDED 1 (no check: the memory's guard pages fault and
 * memory.c turns the fault into a trap). Not a standalone header.
 *
 * Operands: loads are (d, a, off), stores (a, b, off); the effective address
 * is the u32 address plus the u64 offset, so it never wraps.
 */

#if WP_GUARDED
#define MOP(name) GOP(name)
/* 4 GiB address + 4 GiB offset + 8 bytes stays inside the 8 GiB+ reservation. */
#define MEM_AT(ka, ko, n)                                                       \
    uint8_t *p = (uint8_t *)((uintptr_t)base + (uintptr_t)((uint64_t)S(ka).u32 + ip[ko].u64))
#else
#define MOP(name) OP(name)
#define MEM_AT(ka, ko, n)                                                       \
    uint64_t ea_ = (uint64_t)S(ka).u32 + ip[ko].u64;                            \
    if (WP_UNLIKELY(ea_ + (n) > msize))                                         \
        TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);                               \
    uint8_t *p = base + ea_
#endif

#define LOAD_BITS(T, n, field)                                                  \
    {                                                                           \
        MEM_AT(2, 3, n);                                                        \
        T v_;                                                                   \
        memcpy(&v_, p, n);                                                      \
        S(1).field = v_;                                                        \
        NEXT(4);                                                                \
    }
#define LOAD_EXT(T, n, field, cast)                                             \
    {                                                                           \
        MEM_AT(2, 3, n);                                                        \
        T v_;                                                                   \
        memcpy(&v_, p, n);                                                      \
        S(1).field = (cast)v_;                                                  \
        NEXT(4);                                                                \
    }
#define STORE_BITS(T, n, field)                                                 \
    {                                                                           \
        MEM_AT(1, 3, n);                                                        \
        T v_ = (T)S(2).field;                                                   \
        memcpy(p, &v_, n);                                                      \
        NEXT(4);                                                                \
    }

MOP(I32_LOAD) LOAD_BITS(uint32_t, 4, u32)
MOP(I64_LOAD) LOAD_BITS(uint64_t, 8, u64)
MOP(F32_LOAD) LOAD_BITS(uint32_t, 4, f32_bits)
MOP(F64_LOAD) LOAD_BITS(uint64_t, 8, f64_bits)
MOP(I32_LOAD8_S) LOAD_EXT(int8_t, 1, i32, int32_t)
MOP(I32_LOAD8_U) LOAD_EXT(uint8_t, 1, u32, uint32_t)
MOP(I32_LOAD16_S) LOAD_EXT(int16_t, 2, i32, int32_t)
MOP(I32_LOAD16_U) LOAD_EXT(uint16_t, 2, u32, uint32_t)
MOP(I64_LOAD8_S) LOAD_EXT(int8_t, 1, i64, int64_t)
MOP(I64_LOAD8_U) LOAD_EXT(uint8_t, 1, u64, uint64_t)
MOP(I64_LOAD16_S) LOAD_EXT(int16_t, 2, i64, int64_t)
MOP(I64_LOAD16_U) LOAD_EXT(uint16_t, 2, u64, uint64_t)
MOP(I64_LOAD32_S) LOAD_EXT(int32_t, 4, i64, int64_t)
MOP(I64_LOAD32_U) LOAD_EXT(uint32_t, 4, u64, uint64_t)
MOP(I32_STORE) STORE_BITS(uint32_t, 4, u32)
MOP(I64_STORE) STORE_BITS(uint64_t, 8, u64)
MOP(F32_STORE) STORE_BITS(uint32_t, 4, f32_bits)
MOP(F64_STORE) STORE_BITS(uint64_t, 8, f64_bits)
MOP(I32_STORE8) STORE_BITS(uint8_t, 1, u32)
MOP(I32_STORE16) STORE_BITS(uint16_t, 2, u32)
MOP(I64_STORE8) STORE_BITS(uint8_t, 1, u64)
MOP(I64_STORE16) STORE_BITS(uint16_t, 2, u64)
MOP(I64_STORE32) STORE_BITS(uint32_t, 4, u64)

#undef LOAD_BITS
#undef LOAD_EXT
#undef STORE_BITS
#undef MEM_AT
#undef MOP
