;; calls.wat - direct calls (recursion, mutual recursion, many mixed
;; parameters), call_indirect (through two tables, type checks, null and
;; out-of-range elements) and unbounded recursion.
(module
  (type $i_i (func (param i32) (result i32)))
  (type $ii_i (func (param i32 i32) (result i32)))
  (type $v_i (func (result i32)))
  (table $t 4 funcref)
  (table $t2 2 funcref)
  (elem (table $t) (i32.const 0) func $double $square $add)
  (elem (table $t2) (i32.const 1) func $seven)

  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $seven (result i32) (i32.const 7))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $even (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func $mixed (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64) (result f64)
    ;; weighted sum, so every parameter position matters
    (f64.add
      (f64.add
        (f64.add (f64.convert_i32_s (local.get 0))
                 (f64.mul (f64.convert_i64_s (local.get 1)) (f64.const 10)))
        (f64.add (f64.mul (f64.promote_f32 (local.get 2)) (f64.const 100))
                 (f64.mul (local.get 3) (f64.const 1000))))
      (f64.add
        (f64.add (f64.mul (f64.convert_i32_s (local.get 4)) (f64.const 1e4))
                 (f64.mul (f64.convert_i64_s (local.get 5)) (f64.const 1e5)))
        (f64.add
          (f64.add (f64.mul (f64.promote_f32 (local.get 6)) (f64.const 1e6))
                   (f64.mul (local.get 7) (f64.const 1e7)))
          (f64.add (f64.mul (f64.convert_i32_s (local.get 8)) (f64.const 1e8))
                   (f64.mul (f64.convert_i64_s (local.get 9)) (f64.const 1e9)))))))
  (func $locals_zeroed (param i32) (result i32)
    (local i32 i64 f32 f64)
    (if (local.get 0)
      (then (local.set 1 (i32.const 5)) (local.set 2 (i64.const 5))))
    (i32.and
      (i32.and (i32.eqz (local.get 1)) (i64.eqz (local.get 2)))
      (i32.and (f32.eq (local.get 3) (f32.const 0)) (f64.eq (local.get 4) (f64.const 0)))))
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))

  (func (export "test_direct") (result i32)
    (i32.and
      (i32.and (i32.eq (call $fib (i32.const 20)) (i32.const 6765))
               (i32.eq (call $even (i32.const 1000)) (i32.const 1)))
      (i32.eqz (call $odd (i32.const 1000)))))
  (func (export "test_many_params") (result i32)
    (f64.eq
      (call $mixed (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (i32.const 5)
                   (i64.const 6) (f32.const 7) (f64.const 8) (i32.const 9) (i64.const 1))
      (f64.const 1987654321)))
  (func (export "test_locals_zeroed_each_call") (result i32)
    (drop (call $locals_zeroed (i32.const 1)))
    (call $locals_zeroed (i32.const 0)))
  (func (export "test_call_indirect") (result i32)
    (i32.and
      (i32.and
        (i32.eq (call_indirect (type $i_i) (i32.const 21) (i32.const 0)) (i32.const 42))
        (i32.eq (call_indirect (type $i_i) (i32.const 9) (i32.const 1)) (i32.const 81)))
      (i32.and
        (i32.eq (call_indirect (type $ii_i) (i32.const 2) (i32.const 3) (i32.const 2)) (i32.const 5))
        (i32.eq (call_indirect $t2 (type $v_i) (i32.const 1)) (i32.const 7)))))
  (func (export "test_deep_recursion_ok") (result i32)
    (i32.eq (call $even (i32.const 5000)) (i32.const 1)))

  (func (export "trap_indirect_call_type_mismatch")  (result i32)
    (call_indirect (type $v_i) (i32.const 0)))
  (func (export "trap_indirect_call_type_mismatch_params") (result i32)
    (call_indirect (type $ii_i) (i32.const 1) (i32.const 2) (i32.const 1)))
  (func (export "trap_uninitialized_element") (result i32)
    (call_indirect (type $i_i) (i32.const 1) (i32.const 3)))
  (func (export "trap_uninitialized_element_t2") (result i32)
    (call_indirect $t2 (type $v_i) (i32.const 0)))
  (func (export "trap_undefined_element") (result i32)
    (call_indirect (type $i_i) (i32.const 1) (i32.const 4)))
  (func (export "trap_undefined_element_negative") (result i32)
    (call_indirect (type $i_i) (i32.const 1) (i32.const -1)))
  (func (export "trap_call_stack_exhausted") (result i32)
    (call $recurse (i32.const 0)))
  (func (export "test_usable_after_exhaustion") (result i32)
    (i32.eq (call $fib (i32.const 10)) (i32.const 55)))
)
