/*
 * interp_mem.h - the linear-memory load/store handlers of the interpreter
 * loop, written once and included twice inside run() (interp.c): with
 * WP_GUARDED 0 (explicit bounds check on every access, the handlers of
 * wp_op_cell) and WP_GUARDED 1 (no check: the memory's guard pages fault and
 * memory.c turns the fault into a trap). Not a standalone header.
 *
 * Operands: loads are (d, a, off), stores (a, b, off); the effective address
 * is the u32 address plus the u64 offset, so it never wraps. The _ADDR_IMM
 * forms take (d, a, imm) / (a, b, imm) and access (a + imm) mod 2^32; the
 * _ADDR_ADD forms (d, a, b, off) / (a, b, value, off) access
 * ((a + (b << k)) mod 2^32) + off (k: a shift packed above the 32-bit
 * offset, see SUM_AT). The
 * F64_<op>_LOAD forms are (d, a, addr, off/imm): d = a op (f64 at addr);
 * the F64_<op>_STORE forms (a, b, off) update the f64 at a + off to
 * b op (its old value). F32_<op>_LOAD likewise for f32, and its
 * _ADDR_ADD forms (d, a, base, index, off) load from the _ADDR_ADD address.
 */

#if WP_GUARDED
#define MOP(name) GOP(name)
/* 4 GiB address + 4 GiB offset + 8 bytes stays inside the 8 GiB+ reservation. */
#define MEM_AT(addr, off, n)                                                    \
    uint8_t *p = (uint8_t *)((uintptr_t)base + (uintptr_t)((uint64_t)(addr) + (off)))
#else
#define MOP(name) OP(name)
#define MEM_AT(addr, off, n)                                                    \
    uint64_t ea_ = (uint64_t)(addr) + (off);                                    \
    if (WP_UNLIKELY(ea_ + (n) > msize))                                         \
        TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);                               \
    uint8_t *p = base + ea_
#endif

/* The two address forms: a.u32 + off (u64, no wrap), and the _ADDR_IMM
 * operations' (a.u32 + imm) mod 2^32 with no offset. */
#define AT_OFF(ka) S(ka).u32, ip[3].u64
#define AT_IMM(ka) (uint32_t)(S(ka).u32 + ip[3].u32), 0
/* The same for the 5-cell f64 load-and-compute forms (address slot in
 * cell 3, offset/imm in cell 4). */
#define AT_OFF4(ka) S(ka).u32, ip[4].u64
#define AT_IMM4(ka) (uint32_t)(S(ka).u32 + ip[4].u32), 0

#define LOAD_BITS(T, n, field, at)                                              \
    {                                                                           \
        MEM_AT(at, n);                                                          \
        T v_;                                                                   \
        memcpy(&v_, p, n);                                                      \
        S(1).field = v_;                                                        \
        NEXT(4);                                                                \
    }
#define LOAD_EXT(T, n, field, cast, at)                                         \
    {                                                                           \
        MEM_AT(at, n);                                                          \
        T v_;                                                                   \
        memcpy(&v_, p, n);                                                      \
        S(1).field = (cast)v_;                                                  \
        NEXT(4);                                                                \
    }
#define STORE_BITS(T, n, field, at)                                             \
    {                                                                           \
        MEM_AT(at, n);                                                          \
        T v_ = (T)S(2).field;                                                   \
        memcpy(p, &v_, n);                                                      \
        NEXT(4);                                                                \
    }

/* The _ADDR_ADD forms: address (a + (b << k)) mod 2^32, then + off; cell 4
 * holds off (32 bits) and above it the shift k (a scaled index, often 0). */
#define SUM_AT(ka)                                                              \
    (uint32_t)(S(ka).u32 + (S((ka) + 1).u32 << (ip[4].u64 >> 32 & 31))), (uint64_t)ip[4].u32
#define MEM_AT_SUM(at, n) MEM_AT(at, n) /* (expands SUM_AT's two arguments) */
#define LOAD_ADD(T, n, field, cast)                                             \
    {                                                                           \
        MEM_AT_SUM(SUM_AT(2), n);                                               \
        T v_;                                                                   \
        memcpy(&v_, p, n);                                                      \
        S(1).field = (cast)v_;                                                  \
        NEXT(5);                                                                \
    }
#define STORE_ADD(T, n, field)                                                  \
    {                                                                           \
        MEM_AT_SUM(SUM_AT(1), n);                                               \
        T v_ = (T)S(3).field;                                                   \
        memcpy(p, &v_, n);                                                      \
        NEXT(5);                                                                \
    }

#define F64_LOAD_OP(expr, at)                                                   \
    {                                                                           \
        MEM_AT(at, 8);                                                          \
        double m_;                                                              \
        memcpy(&m_, p, 8);                                                      \
        S(1).f64 = (expr);                                                      \
        NEXT(5);                                                                \
    }

#define F32_LOAD_OP(expr, at, n)                                                \
    {                                                                           \
        MEM_AT(at, 4);                                                          \
        float m_;                                                               \
        memcpy(&m_, p, 4);                                                      \
        S(1).f32 = (expr);                                                      \
        NEXT(n);                                                                \
    }
/* SUM_AT for the 6-cell F32_<op>_LOAD_ADDR_ADD forms (d, a, base, index,
 * off): base in cell 3, off and shift in cell 5. */
#define SUM_AT5(ka)                                                             \
    (uint32_t)(S(ka).u32 + (S((ka) + 1).u32 << (ip[5].u64 >> 32 & 31))), (uint64_t)ip[5].u32

#define F64_UPDATE(expr, at)                                                    \
    {                                                                           \
        MEM_AT(at, 8);                                                          \
        double m_;                                                              \
        memcpy(&m_, p, 8);                                                      \
        m_ = (expr);                                                            \
        memcpy(p, &m_, 8);                                                      \
        NEXT(4);                                                                \
    }

#define F64_MUL_ADD(b_addr, b_off)                                              \
    {                                                                           \
        double k_;                                                              \
        {                                                                       \
            MEM_AT(b_addr, b_off, 8);                                           \
            memcpy(&k_, p, 8);                                                  \
        }                                                                       \
        k_ = S(3).f64 * k_;                                                     \
        MEM_AT(S(1).u32, ip[2].u64, 8);                                         \
        double m_;                                                              \
        memcpy(&m_, p, 8);                                                      \
        m_ = k_ + m_;                                                           \
        memcpy(p, &m_, 8);                                                      \
        NEXT(6);                                                                \
    }

MOP(I32_LOAD) LOAD_BITS(uint32_t, 4, u32, AT_OFF(2))
MOP(I64_LOAD) LOAD_BITS(uint64_t, 8, u64, AT_OFF(2))
MOP(F32_LOAD) LOAD_BITS(uint32_t, 4, f32_bits, AT_OFF(2))
MOP(F64_LOAD) LOAD_BITS(uint64_t, 8, f64_bits, AT_OFF(2))
MOP(I32_LOAD8_S) LOAD_EXT(int8_t, 1, i32, int32_t, AT_OFF(2))
MOP(I32_LOAD8_U) LOAD_EXT(uint8_t, 1, u32, uint32_t, AT_OFF(2))
MOP(I32_LOAD16_S) LOAD_EXT(int16_t, 2, i32, int32_t, AT_OFF(2))
MOP(I32_LOAD16_U) LOAD_EXT(uint16_t, 2, u32, uint32_t, AT_OFF(2))
MOP(I64_LOAD8_S) LOAD_EXT(int8_t, 1, i64, int64_t, AT_OFF(2))
MOP(I64_LOAD8_U) LOAD_EXT(uint8_t, 1, u64, uint64_t, AT_OFF(2))
MOP(I64_LOAD16_S) LOAD_EXT(int16_t, 2, i64, int64_t, AT_OFF(2))
MOP(I64_LOAD16_U) LOAD_EXT(uint16_t, 2, u64, uint64_t, AT_OFF(2))
MOP(I64_LOAD32_S) LOAD_EXT(int32_t, 4, i64, int64_t, AT_OFF(2))
MOP(I64_LOAD32_U) LOAD_EXT(uint32_t, 4, u64, uint64_t, AT_OFF(2))
MOP(I32_STORE) STORE_BITS(uint32_t, 4, u32, AT_OFF(1))
MOP(I64_STORE) STORE_BITS(uint64_t, 8, u64, AT_OFF(1))
MOP(F32_STORE) STORE_BITS(uint32_t, 4, f32_bits, AT_OFF(1))
MOP(F64_STORE) STORE_BITS(uint64_t, 8, f64_bits, AT_OFF(1))
MOP(I32_STORE8) STORE_BITS(uint8_t, 1, u32, AT_OFF(1))
MOP(I32_STORE16) STORE_BITS(uint16_t, 2, u32, AT_OFF(1))
MOP(I64_STORE8) STORE_BITS(uint8_t, 1, u64, AT_OFF(1))
MOP(I64_STORE16) STORE_BITS(uint16_t, 2, u64, AT_OFF(1))
MOP(I64_STORE32) STORE_BITS(uint32_t, 4, u64, AT_OFF(1))
MOP(I32_LOAD_ADDR_IMM) LOAD_BITS(uint32_t, 4, u32, AT_IMM(2))
MOP(I64_LOAD_ADDR_IMM) LOAD_BITS(uint64_t, 8, u64, AT_IMM(2))
MOP(F32_LOAD_ADDR_IMM) LOAD_BITS(uint32_t, 4, f32_bits, AT_IMM(2))
MOP(F64_LOAD_ADDR_IMM) LOAD_BITS(uint64_t, 8, f64_bits, AT_IMM(2))
MOP(I32_LOAD8_S_ADDR_IMM) LOAD_EXT(int8_t, 1, i32, int32_t, AT_IMM(2))
MOP(I32_LOAD8_U_ADDR_IMM) LOAD_EXT(uint8_t, 1, u32, uint32_t, AT_IMM(2))
MOP(I32_LOAD16_S_ADDR_IMM) LOAD_EXT(int16_t, 2, i32, int32_t, AT_IMM(2))
MOP(I32_LOAD16_U_ADDR_IMM) LOAD_EXT(uint16_t, 2, u32, uint32_t, AT_IMM(2))
MOP(I32_STORE_ADDR_IMM) STORE_BITS(uint32_t, 4, u32, AT_IMM(1))
MOP(I64_STORE_ADDR_IMM) STORE_BITS(uint64_t, 8, u64, AT_IMM(1))
MOP(F32_STORE_ADDR_IMM) STORE_BITS(uint32_t, 4, f32_bits, AT_IMM(1))
MOP(F64_STORE_ADDR_IMM) STORE_BITS(uint64_t, 8, f64_bits, AT_IMM(1))
MOP(I32_STORE8_ADDR_IMM) STORE_BITS(uint8_t, 1, u32, AT_IMM(1))
MOP(I32_STORE16_ADDR_IMM) STORE_BITS(uint16_t, 2, u32, AT_IMM(1))
MOP(F64_ADD_LOAD) F64_LOAD_OP(S(2).f64 + m_, AT_OFF4(3))
MOP(F64_SUB_LOAD) F64_LOAD_OP(S(2).f64 - m_, AT_OFF4(3))
MOP(F64_MUL_LOAD) F64_LOAD_OP(S(2).f64 * m_, AT_OFF4(3))
MOP(F64_ADD_LOAD_ADDR_IMM) F64_LOAD_OP(S(2).f64 + m_, AT_IMM4(3))
MOP(F64_SUB_LOAD_ADDR_IMM) F64_LOAD_OP(S(2).f64 - m_, AT_IMM4(3))
MOP(F64_MUL_LOAD_ADDR_IMM) F64_LOAD_OP(S(2).f64 * m_, AT_IMM4(3))
MOP(F32_ADD_LOAD) F32_LOAD_OP(S(2).f32 + m_, AT_OFF4(3), 5)
MOP(F32_SUB_LOAD) F32_LOAD_OP(S(2).f32 - m_, AT_OFF4(3), 5)
MOP(F32_MUL_LOAD) F32_LOAD_OP(S(2).f32 * m_, AT_OFF4(3), 5)
MOP(F32_ADD_LOAD_ADDR_IMM) F32_LOAD_OP(S(2).f32 + m_, AT_IMM4(3), 5)
MOP(F32_SUB_LOAD_ADDR_IMM) F32_LOAD_OP(S(2).f32 - m_, AT_IMM4(3), 5)
MOP(F32_MUL_LOAD_ADDR_IMM) F32_LOAD_OP(S(2).f32 * m_, AT_IMM4(3), 5)
MOP(F64_ADD_STORE) F64_UPDATE(S(2).f64 + m_, AT_OFF(1))
MOP(F64_SUB_STORE) F64_UPDATE(S(2).f64 - m_, AT_OFF(1))
MOP(F64_MUL_STORE) F64_UPDATE(S(2).f64 * m_, AT_OFF(1))
MOP(F64_MUL_ADD_STORE) F64_MUL_ADD(S(4).u32, ip[5].u64)
MOP(F64_MUL_ADD_STORE_ADDR_IMM) F64_MUL_ADD((uint32_t)(S(4).u32 + ip[5].u32), 0)
MOP(I32_LOAD_ADDR_ADD) LOAD_ADD(uint32_t, 4, u32, uint32_t)
MOP(I64_LOAD_ADDR_ADD) LOAD_ADD(uint64_t, 8, u64, uint64_t)
MOP(F32_LOAD_ADDR_ADD) LOAD_ADD(uint32_t, 4, f32_bits, uint32_t)
MOP(I32_LOAD8_S_ADDR_ADD) LOAD_ADD(int8_t, 1, i32, int32_t)
MOP(I32_LOAD8_U_ADDR_ADD) LOAD_ADD(uint8_t, 1, u32, uint32_t)
MOP(I32_LOAD16_S_ADDR_ADD) LOAD_ADD(int16_t, 2, i32, int32_t)
MOP(I32_LOAD16_U_ADDR_ADD) LOAD_ADD(uint16_t, 2, u32, uint32_t)
MOP(I32_STORE_ADDR_ADD) STORE_ADD(uint32_t, 4, u32)
MOP(I64_STORE_ADDR_ADD) STORE_ADD(uint64_t, 8, u64)
MOP(F32_STORE_ADDR_ADD) STORE_ADD(uint32_t, 4, f32_bits)
MOP(F64_STORE_ADDR_ADD) STORE_ADD(uint64_t, 8, f64_bits)
MOP(I32_STORE8_ADDR_ADD) STORE_ADD(uint8_t, 1, u32)
MOP(I32_STORE16_ADDR_ADD) STORE_ADD(uint16_t, 2, u32)
MOP(F32_ADD_LOAD_ADDR_ADD) F32_LOAD_OP(S(2).f32 + m_, SUM_AT5(3), 6)
MOP(F32_SUB_LOAD_ADDR_ADD) F32_LOAD_OP(S(2).f32 - m_, SUM_AT5(3), 6)
MOP(F32_MUL_LOAD_ADDR_ADD) F32_LOAD_OP(S(2).f32 * m_, SUM_AT5(3), 6)

#undef LOAD_BITS
#undef LOAD_EXT
#undef STORE_BITS
#undef LOAD_ADD
#undef STORE_ADD
#undef SUM_AT
#undef SUM_AT5
#undef F32_LOAD_OP
#undef MEM_AT_SUM
#undef MEM_AT
#undef AT_OFF
#undef AT_IMM
#undef AT_OFF4
#undef AT_IMM4
#undef F64_LOAD_OP
#undef F64_UPDATE
#undef F64_MUL_ADD
#undef MOP
