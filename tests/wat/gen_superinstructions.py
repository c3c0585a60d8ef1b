#!/usr/bin/env python3
# gen_superinstructions.py - writes superinstructions.wat (next to this script):
# run_wat tests for every fused operation of ops.h, with expected values
# computed here in Python, independently of the engine. Rerun after changing it.
import os

M32, M64 = (1 << 32) - 1, (1 << 64) - 1
def s(x, w): x &= (1 << w) - 1; return x - (1 << w) if x >> (w - 1) else x
def rot(x, n, w, left):
    m = (1 << w) - 1; n %= w; x &= m
    return ((x << n) | (x >> (w - n))) & m if left else ((x >> n) | (x << (w - n))) & m
ops = {
 "add": lambda a, b, w: a + b, "sub": lambda a, b, w: a - b, "mul": lambda a, b, w: a * b,
 "and": lambda a, b, w: a & b, "or": lambda a, b, w: a | b, "xor": lambda a, b, w: a ^ b,
 "shl": lambda a, b, w: a << (b % w), "shr_s": lambda a, b, w: s(a, w) >> (b % w),
 "shr_u": lambda a, b, w: (a & ((1 << w) - 1)) >> (b % w),
 "rotl": lambda a, b, w: rot(a, b, w, True), "rotr": lambda a, b, w: rot(a, b, w, False),
 "eq": lambda a, b, w: int(a == b), "ne": lambda a, b, w: int(a != b),
 "lt_s": lambda a, b, w: int(s(a, w) < s(b, w)), "lt_u": lambda a, b, w: int(a < b),
 "gt_s": lambda a, b, w: int(s(a, w) > s(b, w)), "gt_u": lambda a, b, w: int(a > b),
 "le_s": lambda a, b, w: int(s(a, w) <= s(b, w)), "le_u": lambda a, b, w: int(a <= b),
 "ge_s": lambda a, b, w: int(s(a, w) >= s(b, w)), "ge_u": lambda a, b, w: int(a >= b),
}
cmps = [k for k in ops if k in ("eq", "ne") or k[:2] in ("lt", "gt", "le", "ge")]
vals = {32: [0, 1, 0x80000000, 0xFFFFFFFF], 64: [1, 0x8000000000000000, M64, 0xFFFFFFFF]}
imms = {32: [1, 32, 0x80000000], 64: [1, 64, M64]}
def lit(v, w): return str(s(v, w))
funcs, tests = [], []
group = []
def flush(name):
    global group
    e = "(i32.const 1)"
    for c in group:
        e = f"(i32.and {e}\n      {c})"
    tests.append(f'  (func (export "test_{name}") (result i32)\n    {e})')
    group = []
n = 0
for w in (32, 64):
    t = f"i{w}"
    mask = (1 << w) - 1
    for op, f in ops.items():
        for k in imms[w]:
            base = f"${t}_{op}_{k:x}"
            # d = a op imm (CONST removed), imm op a (swapped), and the same inside a loop (constant slot)
            funcs.append(f'  (func {base} (param {t}) (result {t if op not in cmps else "i32"}) ({t}.{op} (local.get 0) ({t}.const {lit(k, w)})))')
            funcs.append(f'  (func {base}_swap (param {t}) (result {t if op not in cmps else "i32"}) ({t}.{op} ({t}.const {lit(k, w)}) (local.get 0)))')
            rt = t if op not in cmps else "i32"
            funcs.append(f'  (func {base}_loop (param {t}) (result {rt}) (local {rt} i32)\n'
                         f'    (loop $l (local.set 1 ({t}.{op} (local.get 0) ({t}.const {lit(k, w)})))\n'
                         f'      (br_if $l (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1))) (i32.const 2))))\n'
                         f'    (local.get 1))')
            for a in vals[w]:
                for suffix, (x, y) in (("", (a, k)), ("_swap", (k, a)), ("_loop", (a, k))):
                    r = f(x, y, w) & (mask if op not in cmps else M32)
                    rw = w if op not in cmps else 32
                    rtt = f"i{rw}"
                    group.append(f'({rtt}.eq (call {base}{suffix} ({t}.const {lit(a, w)})) ({rtt}.const {lit(r, rw)}))')
                    n += 1
            flush(f"{t}_{op}_imm_{k:x}")
    # compare-and-branch: br_if (taken when true), if (taken when false), register and immediate forms
    for op in cmps:
        f = ops[op]
        funcs.append(f'  (func ${t}_br_{op} (param {t} {t}) (result i32)\n'
                     f'    (block (br_if 0 ({t}.{op} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))')
        funcs.append(f'  (func ${t}_if_{op} (param {t} {t}) (result i32)\n'
                     f'    (if (result i32) ({t}.{op} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))')
        funcs.append(f'  (func ${t}_if1_{op} (param {t} {t}) (result i32) (local i32)\n'
                     f'    (if ({t}.{op} (local.get 0) (local.get 1)) (then (local.set 2 (i32.const 1)))) (local.get 2))')
        funcs.append(f'  (func ${t}_brv_{op} (param {t} {t}) (result i32)\n'
                     f'    (local.get 0) (drop) (block (result i32) (i32.const 5) (drop) (i32.const 1) ({t}.{op} (local.get 0) (local.get 1)) (br_if 0) (drop) (i32.const 0)))')
        funcs.append(f'  (func ${t}_eqz_{op} (param {t} {t}) (result i32)\n'
                     f'    (i32.eqz ({t}.{op} (local.get 0) (local.get 1))))')
        funcs.append(f'  (func ${t}_eqzbr_{op} (param {t} {t}) (result i32)\n'
                     f'    (block (br_if 0 (i32.eqz ({t}.{op} (local.get 0) (local.get 1)))) (return (i32.const 0))) (i32.const 1))')
        funcs.append(f'  (func ${t}_eqzif_{op} (param {t} {t}) (result i32)\n'
                     f'    (if (result i32) (i32.eqz ({t}.{op} (local.get 0) ({t}.const 1))) (then (i32.const 1)) (else (i32.const 0))))')
        funcs.append(f'  (func ${t}_ret_{op} (param {t} {t}) (result i32)\n'
                     f'    (i32.const 1) ({t}.{op} (local.get 0) (local.get 1)) (br_if 0) (drop) (i32.const 0))')
        for k in imms[w]:
            funcs.append(f'  (func ${t}_bri_{op}_{k:x} (param {t}) (result i32)\n'
                         f'    (block (br_if 0 ({t}.{op} (local.get 0) ({t}.const {lit(k, w)}))) (return (i32.const 0))) (i32.const 1))')
            funcs.append(f'  (func ${t}_ifi_{op}_{k:x} (param {t}) (result i32)\n'
                         f'    (if (result i32) ({t}.{op} (local.get 0) ({t}.const {lit(k, w)})) (then (i32.const 1)) (else (i32.const 0))))')
            for a in vals[w]:
                r = f(a, k, w)
                for kind in ("bri", "ifi"):
                    group.append(f'(i32.eq (call ${t}_{kind}_{op}_{k:x} ({t}.const {lit(a, w)})) (i32.const {r}))')
                    n += 1
            flush(f"br_if_{t}_{op}_imm_{k:x}")
        for a in vals[w]:
            for b in vals[w]:
                r = f(a, b, w)
                for kind in ("br", "if", "if1", "brv", "ret"):
                    group.append(f'(i32.eq (call ${t}_{kind}_{op} ({t}.const {lit(a, w)}) ({t}.const {lit(b, w)})) (i32.const {r}))')
                for kind in ("eqz", "eqzbr"):
                    group.append(f'(i32.eq (call ${t}_{kind}_{op} ({t}.const {lit(a, w)}) ({t}.const {lit(b, w)})) (i32.const {1 - r}))')
                group.append(f'(i32.eq (call ${t}_eqzif_{op} ({t}.const {lit(a, w)}) ({t}.const {lit(b, w)})) (i32.const {1 - f(a, 1, w)}))')
                n += 1
        flush(f"br_if_{t}_{op}")
# an i32 add of a constant whose sum a branch tests right after (ADD_BR_IF...):
# the sum kept in a local (tee) or a temporary, tested by br_if (taken on
# true) and if (taken on false), by every compare against a local and a
# constant, and by itself (nonzero / i32.eqz). Taken returns the sum d,
# not taken d - 7, so both the branch and the sum are checked.
add_vals = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
add_imms = [1, M32, 0x80000000]
add_bounds = [0, 1, 0x80000000, 0xFFFFFFFF]
def taken_or(d, t): return d if t else (d - 7) & M32
for k in add_imms:
    kk = lit(k, 32)
    tee = f"(local.tee 2 (i32.add (local.get 0) (i32.const {kk})))"
    tmp = f"(i32.add (local.get 0) (i32.const {kk}))"
    for op in cmps + ["nz", "eqz"]:
        def cond(x, y):
            if op == "nz": return x
            if op == "eqz": return f"(i32.eqz {x})"
            return f"(i32.{op} {x} {y})"
        forms = [("l", "(local.get 1)"), ("c", "(i32.const 1)")] if op not in ("nz", "eqz") else [("l", "")]
        for fname, y in forms:
            base = f"$add_{op}_{fname}_{k:x}"
            funcs.append(f'  (func {base}_br (param i32 i32) (result i32) (local i32)\n'
                         f'    (block (br_if 0 {cond(tee, y)}) (return (i32.sub (local.get 2) (i32.const 7))))\n'
                         f'    (local.get 2))')
            funcs.append(f'  (func {base}_if (param i32 i32) (result i32) (local i32)\n'
                         f'    (if (result i32) {cond(tee, y)} (then (local.get 2)) (else (i32.sub (local.get 2) (i32.const 7)))))')
            funcs.append(f'  (func {base}_tmp (param i32 i32) (result i32)\n'
                         f'    (block (br_if 0 {cond(tmp, y)}) (return (i32.const 0))) (i32.const 1))')
            for a in add_vals:
                for b in (add_bounds if fname == "l" else [1]):
                    d = (a + k) & M32
                    t = (d != 0 if op == "nz" else d == 0 if op == "eqz" else bool(ops[op](d, b, 32)))
                    for kind in ("br", "if"):
                        group.append(f'(i32.eq (call {base}_{kind} (i32.const {lit(a, 32)}) (i32.const {lit(b, 32)})) (i32.const {lit(taken_or(d, t), 32)}))')
                    group.append(f'(i32.eq (call {base}_tmp (i32.const {lit(a, 32)}) (i32.const {lit(b, 32)})) (i32.const {int(t)}))')
                    n += 1
        flush(f"add_br_{op}_{k:x}")
# a counted loop whose back edge is a compare-and-branch with an immediate, and one on a local bound
funcs.append('''  (func $count (param i32) (result i32) (local i32)
    (loop $l (br_if $l (i32.lt_s (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))
    (local.get 1))
  (func $count_imm (result i32) (local i32)
    (loop $l (br_if $l (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 3))) (i32.const 300))))
    (local.get 0))''')
tests.append('  (func (export "test_count") (result i32) (i32.eq (call $count (i32.const 1000)) (i32.const 1000)))')
tests.append('  (func (export "test_count_imm") (result i32) (i32.eq (call $count_imm) (i32.const 300)))')
hdr = """;; superinstructions.wat - the fused operations of ops.h (WP_IMM_OPS,
;; WP_BRANCH_OPS): every binary operation with a constant operand (second,
;; first = swapped, and inside a loop where constants live in slots), and
;; every integer compare feeding br_if / if (both branch senses, register and
;; immediate forms, with branch values), i32.eqz of a compare, and an i32 add
;; of a constant tested by a branch right after (WP_ADD_BRANCH_OPS).
;; Generated by gen_superinstructions.py (expected values computed there).
(module
"""
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "superinstructions.wat"), "w").write(hdr + "\n".join(funcs) + "\n" + "\n".join(tests) + "\n)\n")
print(f"superinstructions.wat: {len(tests)} test functions, {n} checks")
