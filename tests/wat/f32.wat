;; f32.wat - f32 arithmetic, min/max (NaN and signed zeros), sign operations
;; (bit-exact, also on NaNs), rounding, sqrt, comparisons with NaN.
(module
  (func $bits (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func $is_nan (param f32) (result i32) (f32.ne (local.get 0) (local.get 0)))
  (func $add (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func $div (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
  (func $min (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func $max (param f32 f32) (result f32) (f32.max (local.get 0) (local.get 1)))
  (func $nearest (param f32) (result f32) (f32.nearest (local.get 0)))

  (func (export "test_arith") (result i32)
    (i32.and
      (i32.and
        (f32.eq (call $add (f32.const 1.5) (f32.const 2.25)) (f32.const 3.75))
        (f32.eq (f32.sub (f32.const 1) (f32.const 3)) (f32.const -2)))
      (i32.and
        (f32.eq (f32.mul (f32.const 0x1p100) (f32.const 0x1p100)) (f32.const inf))
        (f32.eq (call $div (f32.const 1) (f32.const 3)) (f32.const 0x1.555556p-2)))))
  (func (export "test_div_special") (result i32)
    (i32.and
      (i32.and (f32.eq (call $div (f32.const 1) (f32.const 0)) (f32.const inf))
               (f32.eq (call $div (f32.const -1) (f32.const 0)) (f32.const -inf)))
      (i32.and (call $is_nan (call $div (f32.const 0) (f32.const 0)))
               (call $is_nan (call $add (f32.const inf) (f32.const -inf))))))
  (func (export "test_min_max") (result i32)
    (i32.and
      (i32.and
        (i32.and (f32.eq (call $min (f32.const 1) (f32.const 2)) (f32.const 1))
                 (f32.eq (call $max (f32.const 1) (f32.const 2)) (f32.const 2)))
        (i32.and (i32.eq (call $bits (call $min (f32.const 0) (f32.const -0))) (i32.const 0x80000000))
                 (i32.eq (call $bits (call $max (f32.const -0) (f32.const 0))) (i32.const 0))))
      (i32.and (call $is_nan (call $min (f32.const 1) (f32.const nan)))
               (call $is_nan (call $max (f32.const nan) (f32.const 1))))))
  (func (export "test_sign_ops") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $bits (f32.neg (f32.const nan:0x200001))) (i32.const 0xffa00001))
                 (i32.eq (call $bits (f32.abs (f32.const -nan:0x200001))) (i32.const 0x7fa00001)))
        (i32.and (i32.eq (call $bits (f32.copysign (f32.const 2) (f32.const -0))) (i32.const 0xc0000000))
                 (i32.eq (call $bits (f32.copysign (f32.const -nan:0x1) (f32.const 1))) (i32.const 0x7f800001))))
      (i32.eq (call $bits (f32.neg (f32.const 0))) (i32.const 0x80000000))))
  (func (export "test_rounding") (result i32)
    (i32.and
      (i32.and
        (i32.and (f32.eq (f32.ceil (f32.const -1.5)) (f32.const -1))
                 (f32.eq (f32.floor (f32.const -1.5)) (f32.const -2)))
        (i32.and (f32.eq (f32.trunc (f32.const -1.7)) (f32.const -1))
                 (i32.eq (call $bits (f32.ceil (f32.const -0.5))) (i32.const 0x80000000))))
      (i32.and
        (i32.and (f32.eq (call $nearest (f32.const 2.5)) (f32.const 2))
                 (f32.eq (call $nearest (f32.const 3.5)) (f32.const 4)))
        (i32.and (i32.eq (call $bits (call $nearest (f32.const -0.5))) (i32.const 0x80000000))
                 (f32.eq (call $nearest (f32.const 0x1.fffffep22)) (f32.const 0x1p23))))))
  (func (export "test_sqrt") (result i32)
    (i32.and
      (i32.and (f32.eq (f32.sqrt (f32.const 16)) (f32.const 4))
               (call $is_nan (f32.sqrt (f32.const -1))))
      (i32.eq (call $bits (f32.sqrt (f32.const -0))) (i32.const 0x80000000))))
  (func (export "test_compare_nan") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eqz (f32.eq (f32.const nan) (f32.const nan)))
                 (f32.ne (f32.const nan) (f32.const nan)))
        (i32.and (i32.eqz (f32.lt (f32.const nan) (f32.const 1)))
                 (i32.eqz (f32.ge (f32.const nan) (f32.const 1)))))
      (i32.and
        (i32.and (f32.eq (f32.const 0) (f32.const -0)) (f32.le (f32.const -0) (f32.const 0)))
        (i32.and (f32.gt (f32.const 1) (f32.const -inf)) (i32.eqz (f32.gt (f32.const 1) (f32.const 1)))))))
  (func (export "test_reinterpret") (result i32)
    (i32.and
      (f32.eq (f32.reinterpret_i32 (i32.const 0x3f800000)) (f32.const 1))
      (i32.eq (i32.reinterpret_f32 (f32.const -2)) (i32.const 0xc0000000))))
  (func (export "test_select_f32") (result i32)
    (f32.eq (select (f32.const 1.5) (f32.const 2.5) (i32.const 0)) (f32.const 2.5)))
)
