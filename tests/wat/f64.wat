;; f64.wat - f64 arithmetic, min/max (NaN and signed zeros), sign operations
;; (bit-exact, also on NaNs), rounding, sqrt, comparisons with NaN.
(module
  (func $bits (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
  (func $is_nan (param f64) (result i32) (f64.ne (local.get 0) (local.get 0)))
  (func $add (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func $div (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func $min (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
  (func $max (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
  (func $nearest (param f64) (result f64) (f64.nearest (local.get 0)))

  (func (export "test_arith") (result i32)
    (i32.and
      (i32.and
        (f64.eq (call $add (f64.const 0.1) (f64.const 0.2)) (f64.const 0x1.3333333333334p-2))
        (f64.eq (f64.sub (f64.const 1) (f64.const 3)) (f64.const -2)))
      (i32.and
        (f64.eq (f64.mul (f64.const 0x1p1000) (f64.const 0x1p1000)) (f64.const inf))
        (f64.eq (call $div (f64.const 1) (f64.const 3)) (f64.const 0x1.5555555555555p-2)))))
  (func (export "test_div_special") (result i32)
    (i32.and
      (i32.and (f64.eq (call $div (f64.const 1) (f64.const 0)) (f64.const inf))
               (f64.eq (call $div (f64.const 1) (f64.const -0)) (f64.const -inf)))
      (i32.and (call $is_nan (call $div (f64.const 0) (f64.const 0)))
               (call $is_nan (f64.mul (f64.const inf) (f64.const 0))))))
  (func (export "test_min_max") (result i32)
    (i32.and
      (i32.and
        (i32.and (f64.eq (call $min (f64.const -1) (f64.const 2)) (f64.const -1))
                 (f64.eq (call $max (f64.const -1) (f64.const 2)) (f64.const 2)))
        (i32.and (i64.eq (call $bits (call $min (f64.const 0) (f64.const -0))) (i64.const 0x8000000000000000))
                 (i64.eq (call $bits (call $max (f64.const -0) (f64.const 0))) (i64.const 0))))
      (i32.and (call $is_nan (call $min (f64.const -inf) (f64.const nan)))
               (call $is_nan (call $max (f64.const nan) (f64.const inf))))))
  (func (export "test_sign_ops") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.eq (call $bits (f64.neg (f64.const nan:0x4000000000001))) (i64.const 0xfff4000000000001))
                 (i64.eq (call $bits (f64.abs (f64.const -nan:0x4000000000001))) (i64.const 0x7ff4000000000001)))
        (i32.and (i64.eq (call $bits (f64.copysign (f64.const 2) (f64.const -0))) (i64.const 0xc000000000000000))
                 (i64.eq (call $bits (f64.copysign (f64.const -nan:0x1) (f64.const 1))) (i64.const 0x7ff0000000000001))))
      (i64.eq (call $bits (f64.neg (f64.const 0))) (i64.const 0x8000000000000000))))
  (func (export "test_rounding") (result i32)
    (i32.and
      (i32.and
        (i32.and (f64.eq (f64.ceil (f64.const -1.5)) (f64.const -1))
                 (f64.eq (f64.floor (f64.const -1.5)) (f64.const -2)))
        (i32.and (f64.eq (f64.trunc (f64.const 1.999)) (f64.const 1))
                 (i64.eq (call $bits (f64.trunc (f64.const -0.5))) (i64.const 0x8000000000000000))))
      (i32.and
        (i32.and (f64.eq (call $nearest (f64.const 2.5)) (f64.const 2))
                 (f64.eq (call $nearest (f64.const -3.5)) (f64.const -4)))
        (i32.and (f64.eq (call $nearest (f64.const 0x1.fffffffffffffp51)) (f64.const 0x1p52))
                 (f64.eq (call $nearest (f64.const 0x1.0000000000001p52)) (f64.const 0x1.0000000000001p52))))))
  (func (export "test_sqrt") (result i32)
    (i32.and
      (f64.eq (f64.sqrt (f64.const 2)) (f64.const 0x1.6a09e667f3bcdp+0))
      (call $is_nan (f64.sqrt (f64.const -inf)))))
  (func (export "test_compare_nan") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eqz (f64.eq (f64.const nan) (f64.const nan)))
                 (f64.ne (f64.const nan) (f64.const 0)))
        (i32.and (i32.eqz (f64.le (f64.const nan) (f64.const inf)))
                 (i32.eqz (f64.gt (f64.const nan) (f64.const -inf)))))
      (i32.and (f64.eq (f64.const 0) (f64.const -0)) (f64.lt (f64.const -inf) (f64.const 0)))))
  (func (export "test_reinterpret") (result i32)
    (i32.and
      (f64.eq (f64.reinterpret_i64 (i64.const 0x3ff0000000000000)) (f64.const 1))
      (i64.eq (i64.reinterpret_f64 (f64.const -2)) (i64.const 0xc000000000000000))))
  (func (export "test_promote_demote") (result i32)
    (i32.and
      (i32.and (f64.eq (f64.promote_f32 (f32.const 1.5)) (f64.const 1.5))
               (f32.eq (f32.demote_f64 (f64.const 0x1p200)) (f32.const inf)))
      (i32.and (f32.eq (f32.demote_f64 (f64.const 0.1)) (f32.const 0.1))
               (f64.ne (f64.promote_f32 (f32.const nan)) (f64.promote_f32 (f32.const nan))))))
)
