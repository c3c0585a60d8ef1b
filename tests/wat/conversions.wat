;; conversions.wat - trapping float-to-int truncation (edges, NaN, overflow),
;; int-to-float conversion with rounding, wrap/extend, promote/demote.
(module
  (func $i32_trunc_f32_s (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func $i32_trunc_f32_u (param f32) (result i32) (i32.trunc_f32_u (local.get 0)))
  (func $i32_trunc_f64_s (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func $i32_trunc_f64_u (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
  (func $i64_trunc_f32_s (param f32) (result i64) (i64.trunc_f32_s (local.get 0)))
  (func $i64_trunc_f32_u (param f32) (result i64) (i64.trunc_f32_u (local.get 0)))
  (func $i64_trunc_f64_s (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func $i64_trunc_f64_u (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))

  (func (export "test_trunc_i32") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $i32_trunc_f32_s (f32.const -1.9)) (i32.const -1))
                 (i32.eq (call $i32_trunc_f32_s (f32.const -0x1p31)) (i32.const 0x80000000)))
        (i32.and (i32.eq (call $i32_trunc_f32_u (f32.const 0x1.fffffep31)) (i32.const 0xffffff00))
                 (i32.eq (call $i32_trunc_f32_u (f32.const -0.9)) (i32.const 0))))
      (i32.and
        (i32.and (i32.eq (call $i32_trunc_f64_s (f64.const 2147483647.9)) (i32.const 0x7fffffff))
                 (i32.eq (call $i32_trunc_f64_s (f64.const -2147483648.9)) (i32.const 0x80000000)))
        (i32.and (i32.eq (call $i32_trunc_f64_u (f64.const 4294967295.9)) (i32.const -1))
                 (i32.eq (call $i32_trunc_f64_u (f64.const -0.99)) (i32.const 0))))))
  (func (export "test_trunc_i64") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.eq (call $i64_trunc_f32_s (f32.const -0x1p63)) (i64.const 0x8000000000000000))
                 (i64.eq (call $i64_trunc_f32_u (f32.const 0x1.fffffep63)) (i64.const 0xffffff0000000000)))
        (i32.and (i64.eq (call $i64_trunc_f64_s (f64.const -0x1p63)) (i64.const 0x8000000000000000))
                 (i64.eq (call $i64_trunc_f64_s (f64.const 0x1.fffffffffffffp62)) (i64.const 0x7ffffffffffffc00))))
      (i32.and (i64.eq (call $i64_trunc_f64_u (f64.const 0x1.fffffffffffffp63)) (i64.const 0xfffffffffffff800))
               (i64.eq (call $i64_trunc_f64_u (f64.const -0.5)) (i64.const 0)))))
  (func (export "test_convert") (result i32)
    (i32.and
      (i32.and
        (i32.and (f32.eq (f32.convert_i32_s (i32.const -1)) (f32.const -1))
                 (f32.eq (f32.convert_i32_u (i32.const -1)) (f32.const 0x1p32)))
        (i32.and (f32.eq (f32.convert_i32_s (i32.const 16777217)) (f32.const 16777216))
                 (f32.eq (f32.convert_i64_s (i64.const 0x7fffffffffffffff)) (f32.const 0x1p63))))
      (i32.and
        (i32.and (f32.eq (f32.convert_i64_u (i64.const -1)) (f32.const 0x1p64))
                 (f64.eq (f64.convert_i64_u (i64.const 0x8000000000000401)) (f64.const 0x1.0000000000001p63)))
        (i32.and (f64.eq (f64.convert_i32_u (i32.const 0x80000000)) (f64.const 2147483648))
                 (i32.and (f64.eq (f64.convert_i64_s (i64.const -9007199254740993)) (f64.const -9007199254740992))
                          (f32.eq (f32.convert_i64_u (i64.const 0x20000020000001)) (f32.const 0x1.000002p53)))))))
  (func (export "test_int_float_roundtrip") (result i32)
    (local i32)
    (local.set 0 (i32.const 123456))
    (i32.eq (i32.trunc_f64_s (f64.convert_i32_s (local.get 0))) (local.get 0)))

  (func (export "trap_invalid_conversion_i32_f32_s") (result i32) (call $i32_trunc_f32_s (f32.const nan)))
  (func (export "trap_invalid_conversion_i32_f64_u") (result i32) (call $i32_trunc_f64_u (f64.const -nan)))
  (func (export "trap_invalid_conversion_i64_f32_u") (result i64) (call $i64_trunc_f32_u (f32.const nan:0x1)))
  (func (export "trap_invalid_conversion_i64_f64_s") (result i64) (call $i64_trunc_f64_s (f64.const nan)))
  (func (export "trap_integer_overflow_i32_f32_s") (result i32) (call $i32_trunc_f32_s (f32.const 0x1p31)))
  (func (export "trap_integer_overflow_i32_f32_u") (result i32) (call $i32_trunc_f32_u (f32.const -1)))
  (func (export "trap_integer_overflow_i32_f64_s") (result i32) (call $i32_trunc_f64_s (f64.const -2147483649)))
  (func (export "trap_integer_overflow_i32_f64_u") (result i32) (call $i32_trunc_f64_u (f64.const 4294967296)))
  (func (export "trap_integer_overflow_i64_f32_s") (result i64) (call $i64_trunc_f32_s (f32.const inf)))
  (func (export "trap_integer_overflow_i64_f32_u") (result i64) (call $i64_trunc_f32_u (f32.const 0x1p64)))
  (func (export "trap_integer_overflow_i64_f64_s") (result i64) (call $i64_trunc_f64_s (f64.const 0x1p63)))
  (func (export "trap_integer_overflow_i64_f64_u") (result i64) (call $i64_trunc_f64_u (f64.const -1)))
)
