;; simd_lanes.wat - lane semantics the spec pins down: wrapping and
;; saturating integer lanes, shift counts modulo the lane width, float
;; min/max with -0 and NaN, pmin/pmax, nearest ties-to-even, saturating
;; truncation, narrowing, shuffle/swizzle indices, bitmask and all_true.
(module
  (func (export "test_saturate") (result i32)
    (i32.and
      (i32.and
        (i32.eq (i8x16.extract_lane_s 0 (i8x16.add_sat_s (i8x16.splat (i32.const 127)) (i8x16.splat (i32.const 1))))
                (i32.const 127))
        (i32.eq (i8x16.extract_lane_u 0 (i8x16.sub_sat_u (i8x16.splat (i32.const 1)) (i8x16.splat (i32.const 2))))
                (i32.const 0)))
      (i32.and
        (i32.eq (i16x8.extract_lane_s 0 (i16x8.q15mulr_sat_s (i16x8.splat (i32.const -32768)) (i16x8.splat (i32.const -32768))))
                (i32.const 32767))
        (i32.eq (i8x16.extract_lane_s 0 (i8x16.abs (i8x16.splat (i32.const -128)))) (i32.const -128)))))
  (func (export "test_shifts") (result i32)
    (i32.and
      (i32.eq (i32x4.extract_lane 0 (i32x4.shl (i32x4.splat (i32.const 1)) (i32.const 33))) (i32.const 2))
      (i32.and
        (i32.eq (i8x16.extract_lane_s 0 (i8x16.shr_s (i8x16.splat (i32.const -128)) (i32.const 9))) (i32.const -64))
        (i64.eq (i64x2.extract_lane 0 (i64x2.shr_u (i64x2.splat (i64.const -1)) (i32.const 127))) (i64.const 1)))))
  (func (export "test_min_max") (result i32)
    (local $m v128)
    (local.set $m (f32x4.min (v128.const f32x4 0 -0 nan 1) (v128.const f32x4 -0 0 1 nan)))
    (i32.and
      (i32.and
        (i32.eq (i32x4.extract_lane 0 (local.get $m)) (i32.const 0x80000000))
        (i32.eq (i32x4.extract_lane 1 (local.get $m)) (i32.const 0x80000000)))
      (i32.and
        (f32.ne (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 2 (local.get $m)))
        (i32.eq (i32x4.extract_lane 0 (f32x4.max (v128.const f32x4 -0 0 0 0) (v128.const f32x4 0 0 0 0)))
                (i32.const 0)))))
  (func (export "test_pmin") (result i32)
    ;; pmin(a, b) = b < a ? b : a: a NaN first operand stays
    (f32.ne (f32x4.extract_lane 0 (f32x4.pmin (v128.const f32x4 nan 0 0 0) (v128.const f32x4 1 0 0 0)))
            (f32.const 0)))
  (func (export "test_nearest") (result i32)
    (local $r v128)
    (local.set $r (f64x2.nearest (v128.const f64x2 2.5 -3.5)))
    (i32.and (f64.eq (f64x2.extract_lane 0 (local.get $r)) (f64.const 2))
             (f64.eq (f64x2.extract_lane 1 (local.get $r)) (f64.const -4))))
  (func (export "test_trunc_sat") (result i32)
    (local $r v128)
    (local.set $r (i32x4.trunc_sat_f32x4_s (v128.const f32x4 nan 3e9 -3e9 -1.9)))
    (local.set $r (i32x4.add (local.get $r)
                             (i32x4.trunc_sat_f64x2_u_zero (v128.const f64x2 -1 5e9))))
    (i32.and
      (i32.and (i32.eq (i32x4.extract_lane 0 (local.get $r)) (i32.const 0))
               (i32.eq (i32x4.extract_lane 1 (local.get $r)) (i32.const 0x7ffffffe)))
      (i32.and (i32.eq (i32x4.extract_lane 2 (local.get $r)) (i32.const 0x80000000))
               (i32.eq (i32x4.extract_lane 3 (local.get $r)) (i32.const -1)))))
  (func (export "test_narrow") (result i32)
    (i32.and
      (i32.eq (i8x16.extract_lane_u 15 (i8x16.narrow_i16x8_u (i16x8.splat (i32.const 0)) (i16x8.splat (i32.const 300))))
              (i32.const 255))
      (i32.eq (i16x8.extract_lane_s 0 (i16x8.narrow_i32x4_s (i32x4.splat (i32.const -40000)) (i32x4.splat (i32.const 0))))
              (i32.const -32768))))
  (func (export "test_shuffle_swizzle") (result i32)
    (local $a v128) (local $b v128)
    (local.set $a (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
    (local.set $b (v128.const i8x16 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31))
    (i32.and
      (i32.eq (i8x16.extract_lane_u 1
                (i8x16.shuffle 31 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $a) (local.get $b)))
              (i32.const 17))
      (i32.eq (i8x16.extract_lane_u 0
                (i8x16.swizzle (local.get $a) (v128.const i8x16 16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)))
              (i32.const 0))))
  (func (export "test_bitmask_all_true") (result i32)
    (i32.and
      (i32.eq (i8x16.bitmask (v128.const i8x16 -1 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 -128)) (i32.const 0x8005))
      (i32.and (i32.eqz (i32x4.all_true (v128.const i32x4 1 1 0 1)))
               (i64x2.all_true (v128.const i64x2 1 -1)))))
  (func (export "test_dot_extmul") (result i32)
    (i32.and
      (i32.eq (i32x4.extract_lane 0 (i32x4.dot_i16x8_s (i16x8.splat (i32.const -32768)) (i16x8.splat (i32.const -32768))))
              (i32.const 0x80000000))
      (i64.eq (i64x2.extract_lane 1 (i64x2.extmul_high_i32x4_u (i32x4.splat (i32.const -1)) (i32x4.splat (i32.const -1))))
              (i64.const 0xfffffffe00000001))))
  (func (export "test_bitselect") (result i32)
    (i64.eq (i64x2.extract_lane 0 (v128.bitselect (v128.const i64x2 -1 0) (v128.const i64x2 0 0)
                                                  (v128.const i64x2 0xff00 0)))
            (i64.const 0xff00)))
)
