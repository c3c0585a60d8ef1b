;; f32_load_ops.wat - f32 add/sub/mul of a value loaded just before (the
;; F32_<op>_LOAD operations of ops.h, with a plain, an (a + imm) or a
;; base + (index << k) + offset address), f32 and f64 adds in a row
;; (F32_ADD2, F64_ADD2): both operand orders, the wrap of the address sums,
;; a filter-like sum of products, and out-of-bounds traps.
(module
  (memory 1)
  (data (i32.const 0) "\00\00\c0\3f")   ;; 1.5 at 0
  (data (i32.const 4) "\00\00\80\c0")   ;; -4.0 at 4
  (data (i32.const 8) "\00\00\20\41")   ;; 10.0 at 8
  (data (i32.const 12) "\00\00\00\3f")  ;; 0.5 at 12
  (func $add (param f32 i32) (result f32) (f32.add (local.get 0) (f32.load (local.get 1))))
  (func $add_rev (param f32 i32) (result f32) (f32.add (f32.load (local.get 1)) (local.get 0)))
  (func $sub (param f32 i32) (result f32) (f32.sub (local.get 0) (f32.load offset=4 (local.get 1))))
  (func $sub_rev (param f32 i32) (result f32) (f32.sub (f32.load (local.get 1)) (local.get 0)))
  (func $mul (param f32 i32) (result f32) (f32.mul (local.get 0) (f32.load (local.get 1))))
  (func $mul_rev (param f32 i32) (result f32) (f32.mul (f32.load (local.get 1)) (local.get 0)))
  (func $add_ai (param f32 i32) (result f32)
    (f32.add (local.get 0) (f32.load (i32.add (local.get 1) (i32.const 4)))))
  (func $mul_ai (param f32 i32) (result f32)
    (f32.mul (local.get 0) (f32.load (i32.sub (local.get 1) (i32.const 4)))))
  ;; base + (index << 2) + offset, both operand orders
  (func $mul_sum (param f32 i32 i32) (result f32)
    (f32.mul (local.get 0)
             (f32.load offset=4 (i32.add (local.get 1) (i32.shl (local.get 2) (i32.const 2))))))
  (func $sub_sum_rev (param f32 i32 i32) (result f32)
    (f32.sub (f32.load (i32.add (local.get 1) (local.get 2))) (local.get 0)))
  (func $add_sum (param f32 i32 i32) (result f32)
    (f32.add (local.get 0) (f32.load (i32.add (local.get 1) (local.get 2)))))
  ;; k0*m[0] + (k1*m[1] + (k2*m[2] + k3*m[3])): the products first, then a
  ;; chain of adds, as clang emits a filter: the loads fold into the
  ;; products, the adds pair up
  (func $taps (param $p i32) (param $i i32) (result f32)
    (f32.add (f32.mul (f32.const 2) (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
      (f32.add (f32.mul (f32.const 3) (f32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (f32.add (f32.mul (f32.const 4) (f32.load offset=8 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
                 (f32.mul (f32.const 5) (f32.load offset=12 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))))))
  (func $f64_adds (param f64 f64 f64) (result f64)
    (f64.add (f64.add (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "test_plain") (result i32)
    (i32.and
      (i32.and (f32.eq (call $add (f32.const 2) (i32.const 0)) (f32.const 3.5))
               (f32.eq (call $add_rev (f32.const 2) (i32.const 4)) (f32.const -2)))
      (i32.and
        (i32.and (f32.eq (call $sub (f32.const 2) (i32.const 0)) (f32.const 6))
                 (f32.eq (call $sub_rev (f32.const 2) (i32.const 0)) (f32.const -0.5)))
        (i32.and (f32.eq (call $mul (f32.const 2) (i32.const 4)) (f32.const -8))
                 (f32.eq (call $mul_rev (f32.const 3) (i32.const 0)) (f32.const 4.5))))))
  (func (export "test_addr_imm") (result i32)
    (i32.and (f32.eq (call $add_ai (f32.const 1) (i32.const 0)) (f32.const -3))
             (f32.eq (call $mul_ai (f32.const 2) (i32.const 12)) (f32.const 20))))
  (func (export "test_addr_sum") (result i32)
    (i32.and
      (i32.and (f32.eq (call $mul_sum (f32.const 2) (i32.const 0) (i32.const 1)) (f32.const 20))
               ;; 4 + (0x40000000 << 2) wraps to 4, offset 4: 10.0
               (f32.eq (call $mul_sum (f32.const 1) (i32.const 4) (i32.const 0x40000000)) (f32.const 10)))
      (i32.and (f32.eq (call $sub_sum_rev (f32.const 1) (i32.const 12) (i32.const -4)) (f32.const 9))
               (f32.eq (call $add_sum (f32.const 1) (i32.const -4) (i32.const 8)) (f32.const -3)))))
  (func (export "test_taps") (result i32)
    ;; 2*1.5 + 3*(-4) + 4*10 + 5*0.5 = 33.5
    (i32.and (f32.eq (call $taps (i32.const 0) (i32.const 0)) (f32.const 33.5))
             (f64.eq (call $f64_adds (f64.const 1) (f64.const 2) (f64.const 4)) (f64.const 7))))
  (func (export "test_nan") (result i32)
    (f32.store (i32.const 64) (f32.const nan))
    (f32.ne (call $add (f32.const 1) (i32.const 64)) (f32.const 0)))
  (func (export "trap_memory_out_of_bounds_add") (result f32)
    (call $add (f32.const 1) (i32.const 0xFFFD)))
  (func (export "trap_memory_out_of_bounds_sub_offset") (result f32)
    (call $sub (f32.const 1) (i32.const 0xFFFC)))
  (func (export "trap_memory_out_of_bounds_add_ai") (result f32)
    (call $add_ai (f32.const 1) (i32.const 0xFFF9)))
  (func (export "trap_memory_out_of_bounds_mul_ai_wrap") (result f32)
    (call $mul_ai (f32.const 1) (i32.const 2)))
  (func (export "trap_memory_out_of_bounds_mul_sum") (result f32)
    (call $mul_sum (f32.const 1) (i32.const 0xFFF0) (i32.const 3)))
  (func (export "trap_memory_out_of_bounds_add_sum_wrap") (result f32)
    (call $add_sum (f32.const 1) (i32.const -2) (i32.const 0)))
)
