;; simd_memory.wat - v128 loads and stores of every form, at the end of
;; memory and past it (explicit checks in both bounds modes), offsets.
(module
  (memory 1)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\80\ff\7f\fe")

  (func (export "test_load_store") (result i32)
    (v128.store offset=100 (i32.const 0) (v128.load (i32.const 0)))
    (i64.eq (i64.load offset=108 (i32.const 0)) (i64.const 0x0f0e0d0c0b0a0908)))
  (func (export "test_load_extend") (result i32)
    (i32.and
      (i32.eq (i16x8.extract_lane_s 0 (v128.load8x8_s offset=16 (i32.const 0))) (i32.const -128))
      (i32.eq (i16x8.extract_lane_u 1 (v128.load8x8_u offset=16 (i32.const 0))) (i32.const 255))))
  (func (export "test_load_splat_zero") (result i32)
    (i32.and
      (i32.eq (i32x4.extract_lane 3 (v128.load32_splat (i32.const 4))) (i32.const 0x07060504))
      (i64.eq (i64x2.extract_lane 1 (v128.load64_zero (i32.const 8))) (i64.const 0))))
  (func (export "test_lanes") (result i32)
    (v128.store8_lane 5 (i32.const 200) (v128.load (i32.const 0)))
    (i32.and
      (i32.eq (i32.load8_u (i32.const 200)) (i32.const 5))
      (i32.eq (i16x8.extract_lane_u 7
                (v128.load16_lane 7 (i32.const 16) (v128.const i64x2 0 0)))
              (i32.const 0xff80))))
  (func (export "test_last_bytes") (result i32)
    (v128.store (i32.const 65520) (v128.const i32x4 1 2 3 4))
    (i32.eq (i32x4.extract_lane 3 (v128.load (i32.const 65520))) (i32.const 4)))
  (func (export "trap_memory_out_of_bounds_load") (result v128)
    (v128.load (i32.const 65521)))
  (func (export "trap_memory_out_of_bounds_offset") (result v128)
    (v128.load offset=4294967295 (i32.const 0)))
  (func (export "trap_memory_out_of_bounds_store")
    (v128.store (i32.const -1) (v128.const i64x2 0 0)))
  (func (export "trap_memory_out_of_bounds_store_lane")
    (v128.store64_lane 1 (i32.const 65529) (v128.const i64x2 0 0)))
  (func (export "trap_memory_out_of_bounds_load_zero") (result v128)
    (v128.load32_zero (i32.const 65533)))
)
