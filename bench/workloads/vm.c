/*
 * vm.c - a bytecode interpreter loop: a small stack machine (32-bit values,
 * locals per call frame, a data array, calls and returns, 24 opcodes) with a
 * switch dispatch, running three programs assembled at start-up: Collatz
 * chain lengths (arithmetic, branches), a sieve of Eratosthenes over the
 * data array (loads, stores), and naive recursive fib (calls). A scripting
 * or rules-engine plugin runs exactly this kind of loop: a dispatch per
 * bytecode, operand-stack traffic, unpredictable branches.
 * One unit = the three programs once.
 */
#include "workload.h"

enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_GET, OP_SET, OP_TEE,
    OP_ADD, OP_SUB, OP_MUL, OP_DIVU, OP_REMU, OP_AND, OP_SHRU, OP_LTU,
    OP_EQ, OP_JMP, OP_JZ, OP_JNZ, OP_LOAD, OP_STORE, OP_CALL, OP_RET,
};

#define CODE_CAP 512
#define STACK_CAP 1024
#define FRAMES_CAP 256
#define DATA_CAP 65536
#define LOCALS 4

static int32_t code[CODE_CAP];
static uint32_t code_len;
static uint32_t data[DATA_CAP];

typedef struct frame {
    uint32_t ret;
    uint32_t locals[LOCALS];
} frame;

/* Runs from pc with arg on the stack; returns the top of the stack at HALT,
 * or 0xFFFFFFFF on an error (stack, frames or data out of range). */
static uint32_t execute(uint32_t pc, uint32_t arg)
{
    uint32_t stack[STACK_CAP];
    frame frames[FRAMES_CAP];
    uint32_t sp = 0, fp = 0;
    uint32_t *locals = frames[0].locals;
    for (int i = 0; i < LOCALS; i++)
        locals[i] = 0;
    stack[sp++] = arg;
    for (;;) {
        int32_t op = code[pc++];
        if (sp + 2 >= STACK_CAP)
            return 0xFFFFFFFFu;
        switch (op) {
        case OP_HALT: return sp ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case OP_POP: sp--; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: {
            uint32_t t = stack[sp - 1];
            stack[sp - 1] = stack[sp - 2];
            stack[sp - 2] = t;
            break;
        }
        case OP_GET: stack[sp++] = locals[code[pc++]]; break;
        case OP_SET: locals[code[pc++]] = stack[--sp]; break;
        case OP_TEE: locals[code[pc++]] = stack[sp - 1]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_DIVU:
            sp--;
            if (!stack[sp])
                return 0xFFFFFFFFu;
            stack[sp - 1] /= stack[sp];
            break;
        case OP_REMU:
            sp--;
            if (!stack[sp])
                return 0xFFFFFFFFu;
            stack[sp - 1] %= stack[sp];
            break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_SHRU: sp--; stack[sp - 1] >>= stack[sp] & 31; break;
        case OP_LTU: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case OP_JMP: pc = (uint32_t)code[pc]; break;
        case OP_JZ: pc = stack[--sp] ? pc + 1 : (uint32_t)code[pc]; break;
        case OP_JNZ: pc = stack[--sp] ? (uint32_t)code[pc] : pc + 1; break;
        case OP_LOAD: {
            uint32_t a = stack[sp - 1];
            if (a >= DATA_CAP)
                return 0xFFFFFFFFu;
            stack[sp - 1] = data[a];
            break;
        }
        case OP_STORE: {
            uint32_t v = stack[--sp], a = stack[--sp];
            if (a >= DATA_CAP)
                return 0xFFFFFFFFu;
            data[a] = v;
            break;
        }
        case OP_CALL: /* argument on the stack becomes local 0 */
            if (fp + 1 >= FRAMES_CAP)
                return 0xFFFFFFFFu;
            fp++;
            frames[fp].ret = pc + 1;
            locals = frames[fp].locals;
            locals[0] = stack[--sp];
            for (int i = 1; i < LOCALS; i++)
                locals[i] = 0;
            pc = (uint32_t)code[pc];
            break;
        case OP_RET: /* result stays on the stack */
            pc = frames[fp].ret;
            fp--;
            locals = frames[fp].locals;
            break;
        default: return 0xFFFFFFFFu;
        }
    }
}

/* ---- assembler ---- */

static void a1(int32_t op)
{
    if (code_len < CODE_CAP)
        code[code_len++] = op;
}

static void a2(int32_t op, int32_t v)
{
    a1(op);
    a1(v);
}

static uint32_t here(void)
{
    return code_len;
}

/* Emits a jump whose target is patched later; returns the operand's index. */
static uint32_t jump(int32_t op)
{
    a2(op, 0);
    return code_len - 1;
}

static void patch(uint32_t at, uint32_t target)
{
    code[at] = (int32_t)target;
}

static uint32_t prog_collatz, prog_sieve, prog_fib;

/* sum over n in [1, arg) of the Collatz chain length of n. */
static void asm_collatz(void)
{
    prog_collatz = here();
    a2(OP_SET, 0);            /* limit */
    a2(OP_PUSH, 1); a2(OP_SET, 1); /* n = 1 */
    a2(OP_PUSH, 0); a2(OP_SET, 3); /* total = 0 */
    uint32_t outer = here();
    a2(OP_GET, 1); a2(OP_GET, 0); a1(OP_LTU);
    uint32_t done = jump(OP_JZ);
    a2(OP_GET, 1); a2(OP_SET, 2); /* x = n */
    uint32_t inner = here();
    a2(OP_GET, 2); a2(OP_PUSH, 1); a1(OP_EQ);
    uint32_t next = jump(OP_JNZ);
    a2(OP_GET, 2); a2(OP_PUSH, 1); a1(OP_AND);
    uint32_t even = jump(OP_JZ);
    a2(OP_GET, 2); a2(OP_PUSH, 3); a1(OP_MUL); a2(OP_PUSH, 1); a1(OP_ADD); a2(OP_SET, 2);
    uint32_t count = jump(OP_JMP);
    patch(even, here());
    a2(OP_GET, 2); a2(OP_PUSH, 1); a1(OP_SHRU); a2(OP_SET, 2);
    patch(count, here());
    a2(OP_GET, 3); a2(OP_PUSH, 1); a1(OP_ADD); a2(OP_SET, 3);
    a2(OP_JMP, (int32_t)inner);
    patch(next, here());
    a2(OP_GET, 1); a2(OP_PUSH, 1); a1(OP_ADD); a2(OP_SET, 1);
    a2(OP_JMP, (int32_t)outer);
    patch(done, here());
    a2(OP_GET, 3); a1(OP_HALT);
}

/* Number of primes below arg (sieve in data[]), times 65536, plus the sum
 * of the primes' remainders mod 65536. */
static void asm_sieve(void)
{
    prog_sieve = here();
    a2(OP_SET, 0); /* limit */
    a2(OP_PUSH, 2); a2(OP_SET, 1);
    uint32_t clear = here(); /* data[i] = 1 for i in [2, limit) */
    a2(OP_GET, 1); a2(OP_GET, 0); a1(OP_LTU);
    uint32_t cleared = jump(OP_JZ);
    a2(OP_GET, 1); a2(OP_PUSH, 1); a1(OP_STORE);
    a2(OP_GET, 1); a2(OP_PUSH, 1); a1(OP_ADD); a2(OP_SET, 1);
    a2(OP_JMP, (int32_t)clear);
    patch(cleared, here());
    a2(OP_PUSH, 2); a2(OP_SET, 1); /* p = 2 */
    a2(OP_PUSH, 0); a2(OP_SET, 3); /* result */
    uint32_t outer = here();
    a2(OP_GET, 1); a2(OP_GET, 0); a1(OP_LTU);
    uint32_t done = jump(OP_JZ);
    a2(OP_GET, 1); a1(OP_LOAD);
    uint32_t composite = jump(OP_JZ);
    a2(OP_GET, 3); a2(OP_PUSH, 65536); a1(OP_ADD);
    a2(OP_GET, 1); a2(OP_PUSH, 65536); a1(OP_REMU); a1(OP_ADD); a2(OP_SET, 3);
    a2(OP_GET, 1); a2(OP_GET, 1); a1(OP_MUL); a2(OP_SET, 2); /* m = p * p */
    uint32_t mark = here();
    a2(OP_GET, 2); a2(OP_GET, 0); a1(OP_LTU);
    uint32_t marked = jump(OP_JZ);
    a2(OP_GET, 2); a2(OP_PUSH, 0); a1(OP_STORE);
    a2(OP_GET, 2); a2(OP_GET, 1); a1(OP_ADD); a2(OP_SET, 2);
    a2(OP_JMP, (int32_t)mark);
    patch(marked, here());
    patch(composite, here());
    a2(OP_GET, 1); a2(OP_PUSH, 1); a1(OP_ADD); a2(OP_SET, 1);
    a2(OP_JMP, (int32_t)outer);
    patch(done, here());
    a2(OP_GET, 3); a1(OP_HALT);
}

/* fib(arg), recursive: fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2). */
static void asm_fib(void)
{
    uint32_t entry = here();
    uint32_t call = jump(OP_CALL);
    a1(OP_HALT);
    uint32_t fib = here();
    patch(call, fib);
    a2(OP_GET, 0); a2(OP_PUSH, 2); a1(OP_LTU);
    uint32_t big = jump(OP_JZ);
    a2(OP_GET, 0); a1(OP_RET);
    patch(big, here());
    a2(OP_GET, 0); a2(OP_PUSH, 1); a1(OP_SUB);
    a2(OP_CALL, (int32_t)fib);
    a2(OP_GET, 0); a2(OP_PUSH, 2); a1(OP_SUB);
    a2(OP_CALL, (int32_t)fib);
    a1(OP_ADD); a1(OP_RET);
    prog_fib = entry;
}

static uint64_t workload(uint32_t n)
{
    code_len = 0;
    asm_collatz();
    asm_sieve();
    asm_fib();
    uint64_t sum = code_len;
    for (uint32_t u = 0; u < n; u++) {
        sum = wl_mix(sum, execute(prog_collatz, 3000 + u % 16));
        sum = wl_mix(sum, execute(prog_sieve, 60000 + u % 16));
        sum = wl_mix(sum, execute(prog_fib, 18 + u % 2));
    }
    return sum;
}

WL_ENTRY()
