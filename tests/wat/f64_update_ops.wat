;; f64_update_ops.wat - f64 values updated in place (the F64_<op>_STORE and
;; F64_MUL_ADD_STORE operations of ops.h): a[i] op= x and a[i] += k * b[j],
;; with plain and (b + imm) addresses; the near misses that must not fuse
;; (another address or offset, a label between the multiply and the add, the
;; result also kept); and out-of-bounds traps that leave memory untouched.
(module
  (memory 1)
  (data (i32.const 0) "\00\00\00\00\00\00\f8\3f")  ;; 1.5 at 0
  (data (i32.const 8) "\00\00\00\00\00\00\10\c0")  ;; -4.0 at 8

  (func $reset
    (f64.store (i32.const 0) (f64.const 1.5))
    (f64.store (i32.const 8) (f64.const -4)))
  (func $at (param i32) (result f64) (f64.load (local.get 0)))

  ;; a[p] = x op a[p]
  (func $add (param i32 f64)
    (f64.store (local.get 0) (f64.add (local.get 1) (f64.load (local.get 0)))))
  (func $add_rev (param i32 f64)
    (f64.store (local.get 0) (f64.add (f64.load (local.get 0)) (local.get 1))))
  (func $sub (param i32 f64)
    (f64.store offset=8 (local.get 0) (f64.sub (local.get 1) (f64.load offset=8 (local.get 0)))))
  (func $mul (param i32 f64)
    (f64.store (local.get 0) (f64.mul (local.get 1) (f64.load (local.get 0)))))
  ;; a[p] += k * a[q] (offsets on both), and with q + imm
  (func $axpy (param $p i32) (param $k f64) (param $q i32)
    (f64.store offset=8 (local.get $p)
      (f64.add (f64.mul (local.get $k) (f64.load (local.get $q)))
               (f64.load offset=8 (local.get $p)))))
  (func $axpy_imm (param $p i32) (param $k f64) (param $q i32)
    (f64.store (local.get $p)
      (f64.add (f64.mul (local.get $k) (f64.load (i32.add (local.get $q) (i32.const 8))))
               (f64.load (local.get $p)))))

  ;; near misses: the store goes elsewhere (another offset, another slot)
  (func $other_offset (param i32 f64)
    (f64.store offset=8 (local.get 0) (f64.add (local.get 1) (f64.load (local.get 0)))))
  (func $other_slot (param i32 f64 i32)
    (f64.store (local.get 2) (f64.add (local.get 1) (f64.load (local.get 0)))))
  ;; the sum is also kept in a local: it must still be computed
  (func $kept (param i32 f64) (result f64) (local f64)
    (f64.store (local.get 0) (local.tee 2 (f64.add (local.get 1) (f64.load (local.get 0)))))
    (local.get 2))
  ;; a label between the multiply and the add: the branch carries another
  ;; value to the add, so the multiply must not be folded into the update
  (func $label_between (param $p i32) (param $k f64) (param $skip i32)
    (f64.store (local.get $p)
      (f64.add
        (block (result f64)
          (br_if 0 (f64.const 100) (local.get $skip))
          (drop)
          (f64.mul (local.get $k) (f64.load offset=8 (local.get $p))))
        (f64.load (local.get $p)))))
  ;; a[i] += k * b[i] over arrays, as a compiled loop does
  (func $axpy_loop (param $a i32) (param $b i32) (param $k f64) (param $n i32) (local $i i32)
    (loop $l
      (f64.store (i32.add (local.get $a) (local.get $i))
        (f64.add (f64.mul (local.get $k) (f64.load (i32.add (local.get $b) (local.get $i))))
                 (f64.load (i32.add (local.get $a) (local.get $i)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                          (i32.mul (local.get $n) (i32.const 8))))))

  (func (export "test_update") (result i32)
    (local i32)
    (call $reset)
    (call $add (i32.const 0) (f64.const 2))          ;; 3.5
    (call $add_rev (i32.const 8) (f64.const 1))      ;; -3
    (local.set 0 (i32.and (f64.eq (call $at (i32.const 0)) (f64.const 3.5))
                          (f64.eq (call $at (i32.const 8)) (f64.const -3))))
    (call $sub (i32.const 0) (f64.const 1))          ;; [8] = 1 - -3 = 4
    (call $mul (i32.const 0) (f64.const -2))         ;; [0] = -7
    (i32.and (local.get 0)
      (i32.and (f64.eq (call $at (i32.const 8)) (f64.const 4))
               (f64.eq (call $at (i32.const 0)) (f64.const -7)))))
  (func (export "test_axpy") (result i32)
    (local i32)
    (call $reset)
    (call $axpy (i32.const 0) (f64.const 2) (i32.const 0))      ;; [8] = 2*1.5 + -4 = -1
    (local.set 0 (f64.eq (call $at (i32.const 8)) (f64.const -1)))
    (call $axpy_imm (i32.const 0) (f64.const 0.5) (i32.const 0)) ;; [0] = 0.5*-1 + 1.5 = 1
    (local.set 0 (i32.and (local.get 0) (f64.eq (call $at (i32.const 0)) (f64.const 1))))
    ;; (q + imm) wraps at 32 bits: q = -8 reads address 0
    (call $axpy_imm (i32.const 8) (f64.const 3) (i32.const -8))  ;; [8] = 3*1 + -1 = 2
    (i32.and (local.get 0) (f64.eq (call $at (i32.const 8)) (f64.const 2))))
  (func (export "test_near_misses") (result i32)
    (local i32)
    (call $reset)
    (call $other_offset (i32.const 0) (f64.const 1))  ;; [8] = 1 + [0] = 2.5, [0] kept
    (local.set 0 (i32.and (f64.eq (call $at (i32.const 8)) (f64.const 2.5))
                          (f64.eq (call $at (i32.const 0)) (f64.const 1.5))))
    (call $other_slot (i32.const 8) (f64.const 1) (i32.const 0)) ;; [0] = 1 + 2.5
    (local.set 0 (i32.and (local.get 0)
      (i32.and (f64.eq (call $at (i32.const 0)) (f64.const 3.5))
               (f64.eq (call $at (i32.const 8)) (f64.const 2.5)))))
    (local.set 0 (i32.and (local.get 0)
      (i32.and (f64.eq (call $kept (i32.const 0) (f64.const 0.5)) (f64.const 4))
               (f64.eq (call $at (i32.const 0)) (f64.const 4)))))
    (call $reset)
    (call $label_between (i32.const 0) (f64.const 2) (i32.const 0)) ;; [0] = 2*-4 + 1.5
    (local.set 0 (i32.and (local.get 0) (f64.eq (call $at (i32.const 0)) (f64.const -6.5))))
    (call $label_between (i32.const 0) (f64.const 2) (i32.const 1)) ;; [0] = 100 + -6.5
    (i32.and (local.get 0) (f64.eq (call $at (i32.const 0)) (f64.const 93.5))))
  (func (export "test_loop") (result i32)
    (local i32 i32)
    ;; a = 1, 2, ..., 8 at 256; b = 10, 20, ... at 512; a += 0.5 * b
    (loop $fill
      (f64.store (i32.add (i32.const 256) (i32.shl (local.get 0) (i32.const 3)))
                 (f64.convert_i32_u (i32.add (local.get 0) (i32.const 1))))
      (f64.store (i32.add (i32.const 512) (i32.shl (local.get 0) (i32.const 3)))
                 (f64.convert_i32_u (i32.mul (i32.add (local.get 0) (i32.const 1)) (i32.const 10))))
      (br_if $fill (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 8))))
    (call $axpy_loop (i32.const 256) (i32.const 512) (f64.const 0.5) (i32.const 8))
    (local.set 1 (i32.const 1))
    (local.set 0 (i32.const 0))
    (loop $check
      (local.set 1 (i32.and (local.get 1)
        (f64.eq (call $at (i32.add (i32.const 256) (i32.shl (local.get 0) (i32.const 3))))
                (f64.convert_i32_u (i32.mul (i32.add (local.get 0) (i32.const 1)) (i32.const 6))))))
      (br_if $check (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 8))))
    (local.get 1))
  (func (export "test_nan") (result i32)
    (f64.store (i32.const 64) (f64.const nan))
    (call $add (i32.const 64) (f64.const 1))
    (f64.ne (call $at (i32.const 64)) (call $at (i32.const 64))))

  ;; traps: the update's address out of bounds, or the multiply's; the
  ;; destination of the axpy whose source is out of bounds is [24]
  (func (export "test_before_traps") (result i32)
    (f64.store (i32.const 24) (f64.const 7))
    (f64.eq (call $at (i32.const 24)) (f64.const 7)))
  (func (export "trap_memory_out_of_bounds_update") (call $add (i32.const 0xFFF9) (f64.const 1)))
  (func (export "trap_memory_out_of_bounds_update_offset")
    (call $sub (i32.const 0xFFF1) (f64.const 1)))
  (func (export "trap_memory_out_of_bounds_axpy_dest")
    (call $axpy (i32.const 0xFFF8) (f64.const 1) (i32.const 0)))
  (func (export "trap_memory_out_of_bounds_axpy_source")
    (call $axpy (i32.const 16) (f64.const 1) (i32.const 0x10000)))
  (func (export "trap_memory_out_of_bounds_axpy_imm")
    (call $axpy_imm (i32.const 16) (f64.const 1) (i32.const 0xFFF9)))
  (func (export "test_untouched_after_traps") (result i32)
    (i32.and (f64.eq (call $at (i32.const 24)) (f64.const 7))
             (f64.eq (call $at (i32.const 16)) (f64.const 0))))
)
