;; saturating.wat - non-trapping float-to-int conversions (trunc_sat):
;; NaN gives 0, out-of-range values clamp, in-range values truncate.
(module
  (func (export "test_i32_f32") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (i32.trunc_sat_f32_s (f32.const nan)) (i32.const 0))
                 (i32.eq (i32.trunc_sat_f32_s (f32.const 0x1p40)) (i32.const 0x7fffffff)))
        (i32.and (i32.eq (i32.trunc_sat_f32_s (f32.const -inf)) (i32.const 0x80000000))
                 (i32.eq (i32.trunc_sat_f32_s (f32.const -3.9)) (i32.const -3))))
      (i32.and
        (i32.and (i32.eq (i32.trunc_sat_f32_u (f32.const -5)) (i32.const 0))
                 (i32.eq (i32.trunc_sat_f32_u (f32.const inf)) (i32.const -1)))
        (i32.eq (i32.trunc_sat_f32_u (f32.const 0x1.fffffep31)) (i32.const 0xffffff00)))))
  (func (export "test_i32_f64") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (i32.trunc_sat_f64_s (f64.const -nan)) (i32.const 0))
                 (i32.eq (i32.trunc_sat_f64_s (f64.const 2147483648)) (i32.const 0x7fffffff)))
        (i32.eq (i32.trunc_sat_f64_s (f64.const -2147483648.9)) (i32.const 0x80000000)))
      (i32.and (i32.eq (i32.trunc_sat_f64_u (f64.const 4294967296)) (i32.const -1))
               (i32.eq (i32.trunc_sat_f64_u (f64.const 4294967295.5)) (i32.const -1)))))
  (func (export "test_i64_f32") (result i32)
    (i32.and
      (i32.and (i64.eq (i64.trunc_sat_f32_s (f32.const nan)) (i64.const 0))
               (i64.eq (i64.trunc_sat_f32_s (f32.const 0x1p63)) (i64.const 0x7fffffffffffffff)))
      (i32.and (i64.eq (i64.trunc_sat_f32_u (f32.const -inf)) (i64.const 0))
               (i64.eq (i64.trunc_sat_f32_u (f32.const 0x1p64)) (i64.const -1)))))
  (func (export "test_i64_f64") (result i32)
    (i32.and
      (i32.and (i64.eq (i64.trunc_sat_f64_s (f64.const -0x1p63)) (i64.const 0x8000000000000000))
               (i64.eq (i64.trunc_sat_f64_s (f64.const -inf)) (i64.const 0x8000000000000000)))
      (i32.and (i64.eq (i64.trunc_sat_f64_u (f64.const 0x1.fffffffffffffp63)) (i64.const 0xfffffffffffff800))
               (i64.eq (i64.trunc_sat_f64_u (f64.const nan)) (i64.const 0)))))
)
