;; f64_load_ops.wat - f64 add/sub/mul of a value loaded just before (the
;; F64_<op>_LOAD operations of ops.h, with a plain or an (a + imm) address):
;; both operand orders, the wrap of the address sum, and out-of-bounds traps.
(module
  (memory 1)
  (data (i32.const 0) "\00\00\00\00\00\00\f8\3f")  ;; 1.5 at 0
  (data (i32.const 8) "\00\00\00\00\00\00\10\c0")  ;; -4.0 at 8
  (func $add (param f64 i32) (result f64) (f64.add (local.get 0) (f64.load (local.get 1))))
  (func $add_rev (param f64 i32) (result f64) (f64.add (f64.load (local.get 1)) (local.get 0)))
  (func $sub (param f64 i32) (result f64) (f64.sub (local.get 0) (f64.load offset=8 (local.get 1))))
  (func $sub_rev (param f64 i32) (result f64) (f64.sub (f64.load (local.get 1)) (local.get 0)))
  (func $mul (param f64 i32) (result f64) (f64.mul (local.get 0) (f64.load (local.get 1))))
  (func $mul_rev (param f64 i32) (result f64) (f64.mul (f64.load (local.get 1)) (local.get 0)))
  (func $add_ai (param f64 i32) (result f64)
    (f64.add (local.get 0) (f64.load (i32.add (local.get 1) (i32.const 8)))))
  (func $sub_ai (param f64 i32) (result f64)
    (f64.sub (local.get 0) (f64.load (i32.add (local.get 1) (i32.const 8)))))
  (func $mul_ai (param f64 i32) (result f64)
    (f64.mul (local.get 0) (f64.load (i32.sub (local.get 1) (i32.const 8)))))
  ;; a computed first operand, then the load: the loaded value is b
  (func $chain (param f64 i32) (result f64)
    (f64.add (f64.mul (local.get 0) (local.get 0)) (f64.load (local.get 1))))
  ;; in a loop: sum of the two values, twice
  (func $loop (param i32) (result f64) (local f64 i32)
    (loop $l
      (local.set 1 (f64.add (local.get 1) (f64.load (local.get 0))))
      (local.set 1 (f64.add (local.get 1) (f64.load (i32.add (local.get 0) (i32.const 8)))))
      (br_if $l (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1))) (i32.const 2))))
    (local.get 1))
  (func (export "test_plain") (result i32)
    (i32.and
      (i32.and (f64.eq (call $add (f64.const 2) (i32.const 0)) (f64.const 3.5))
               (f64.eq (call $add_rev (f64.const 2) (i32.const 8)) (f64.const -2)))
      (i32.and
        (i32.and (f64.eq (call $sub (f64.const 2) (i32.const 0)) (f64.const 6))
                 (f64.eq (call $sub_rev (f64.const 2) (i32.const 0)) (f64.const -0.5)))
        (i32.and (f64.eq (call $mul (f64.const 2) (i32.const 8)) (f64.const -8))
                 (f64.eq (call $mul_rev (f64.const 3) (i32.const 0)) (f64.const 4.5))))))
  (func (export "test_addr_imm") (result i32)
    (i32.and
      (i32.and (f64.eq (call $add_ai (f64.const 1) (i32.const 0)) (f64.const -3))
               (f64.eq (call $sub_ai (f64.const 1) (i32.const -8)) (f64.const -0.5)))
      (i32.and (f64.eq (call $mul_ai (f64.const 2) (i32.const 16)) (f64.const -8))
               (f64.eq (call $chain (f64.const 3) (i32.const 8)) (f64.const 5)))))
  (func (export "test_loop") (result i32)
    (f64.eq (call $loop (i32.const 0)) (f64.const -5)))
  (func (export "test_nan") (result i32)
    (f64.store (i32.const 64) (f64.const nan))
    (f64.ne (call $add (f64.const 1) (i32.const 64)) (f64.const 0)))
  (func (export "trap_memory_out_of_bounds_add") (result f64)
    (call $add (f64.const 1) (i32.const 0xFFF9)))
  (func (export "trap_memory_out_of_bounds_sub_offset") (result f64)
    (call $sub (f64.const 1) (i32.const 0xFFF8)))
  (func (export "trap_memory_out_of_bounds_add_ai") (result f64)
    (call $add_ai (f64.const 1) (i32.const 0xFFF1)))
  (func (export "trap_memory_out_of_bounds_mul_ai_wrap") (result f64)
    (call $mul_ai (f64.const 1) (i32.const 4)))
)
