;; memory.wat - loads and stores of every width (sign/zero extension,
;; little-endian, unaligned, static offsets), memory.size / memory.grow
;; (limits, zeroed new pages) and out-of-bounds traps, including a store
;; that straddles the end (must not write anything) and offset + address
;; beyond 4 GiB. Exports run in order: the grow tests come last.
(module
  (memory 1 4)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\f0\f1\f2\f3\f4\f5\f6\f7")
  (data (i32.const 100) "hello")

  (func $size_bytes (result i32) (i32.mul (memory.size) (i32.const 65536)))

  (func (export "test_load_widths") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (i32.load (i32.const 0)) (i32.const 0x04030201))
                 (i64.eq (i64.load (i32.const 8)) (i64.const 0xf7f6f5f4f3f2f1f0)))
        (i32.and (i32.eq (i32.load8_s (i32.const 8)) (i32.const -16))
                 (i32.eq (i32.load8_u (i32.const 8)) (i32.const 0xf0))))
      (i32.and
        (i32.and (i32.eq (i32.load16_s (i32.const 8)) (i32.const 0xfffff1f0))
                 (i32.eq (i32.load16_u (i32.const 8)) (i32.const 0xf1f0)))
        (i32.and
          (i32.and (i64.eq (i64.load8_s (i32.const 9)) (i64.const -15))
                   (i64.eq (i64.load16_u (i32.const 10)) (i64.const 0xf3f2)))
          (i32.and (i64.eq (i64.load32_s (i32.const 12)) (i64.const 0xfffffffff7f6f5f4))
                   (i64.eq (i64.load32_u (i32.const 12)) (i64.const 0xf7f6f5f4)))))))
  (func (export "test_unaligned_and_offsets") (result i32)
    (local i32)
    (local.set 0 (i32.const 1))
    (i32.and
      (i32.and (i32.eq (i32.load (local.get 0)) (i32.const 0x05040302))
               (i32.eq (i32.load offset=3 align=1 (local.get 0)) (i32.const 0x08070605)))
      (i32.eq (i32.load8_u offset=104 (i32.const 0)) (i32.const 0x6f))))
  (func (export "test_store_widths") (result i32)
    (i32.store (i32.const 200) (i32.const 0xdeadbeef))
    (i32.store8 (i32.const 204) (i32.const 0x1ff))
    (i32.store16 (i32.const 206) (i32.const 0x12345))
    (i64.store (i32.const 208) (i64.const 0x0123456789abcdef))
    (i64.store8 (i32.const 216) (i64.const 0xab))
    (i64.store16 (i32.const 218) (i64.const 0xcdef))
    (i64.store32 offset=20 (i32.const 200) (i64.const 0x1122334455667788))
    (i32.and
      (i32.and
        (i32.and (i32.eq (i32.load8_u (i32.const 200)) (i32.const 0xef))
                 (i32.eq (i32.load8_u (i32.const 204)) (i32.const 0xff)))
        (i32.and (i32.eq (i32.load16_u (i32.const 206)) (i32.const 0x2345))
                 (i32.eq (i32.load (i32.const 212)) (i32.const 0x01234567))))
      (i32.and
        (i32.and (i32.eq (i32.load8_u (i32.const 216)) (i32.const 0xab))
                 (i32.eq (i32.load16_u (i32.const 218)) (i32.const 0xcdef)))
        (i32.eq (i32.load (i32.const 220)) (i32.const 0x55667788)))))
  (func (export "test_float_memory") (result i32)
    (f32.store (i32.const 300) (f32.const -1.5))
    (f64.store offset=8 (i32.const 300) (f64.const 0x1.8p1))
    (i32.and
      (i32.and (f32.eq (f32.load (i32.const 300)) (f32.const -1.5))
               (i32.eq (i32.load (i32.const 300)) (i32.const 0xbfc00000)))
      (f64.eq (f64.load (i32.const 308)) (f64.const 3))))
  (func (export "test_nan_bits_preserved") (result i32)
    (f32.store (i32.const 320) (f32.const nan:0x200001))
    (f64.store (i32.const 328) (f64.const -nan:0x8000000000001))
    (i32.and
      (i32.eq (i32.load (i32.const 320)) (i32.const 0x7fa00001))
      (i64.eq (i64.load (i32.const 328)) (i64.const 0xfff8000000000001))))
  (func (export "test_last_byte") (result i32)
    (i32.store8 (i32.sub (call $size_bytes) (i32.const 1)) (i32.const 0x5a))
    (i32.and
      (i32.eq (i32.load8_u (i32.sub (call $size_bytes) (i32.const 1))) (i32.const 0x5a))
      (i32.eq (i32.load offset=65532 (i32.const 0)) (i32.const 0x5a000000))))

  (func (export "trap_memory_out_of_bounds_load") (result i32)
    (i32.load (i32.sub (call $size_bytes) (i32.const 3))))
  (func (export "trap_memory_out_of_bounds_load8") (result i32)
    (i32.load8_u (call $size_bytes)))
  (func (export "trap_memory_out_of_bounds_i64_offset") (result i64)
    (i64.load offset=65529 (i32.const 0)))
  (func (export "trap_memory_out_of_bounds_negative") (result i32)
    (i32.load (i32.const -1)))
  (func (export "trap_memory_out_of_bounds_offset_overflow") (result i32)
    (i32.load offset=0xffffffff (i32.const 1)))
  (func (export "trap_memory_out_of_bounds_huge_f64") (result f64)
    (f64.load offset=0x80000000 (i32.const 0x80000000)))
  (func (export "trap_memory_out_of_bounds_store_straddles") 
    (i64.store (i32.sub (call $size_bytes) (i32.const 4)) (i64.const -1)))
  (func (export "test_straddling_store_wrote_nothing") (result i32)
    (i32.eq (i32.load (i32.sub (call $size_bytes) (i32.const 4))) (i32.const 0x5a000000)))
  (func (export "trap_memory_out_of_bounds_store8") 
    (i32.store8 (i32.const 0x10000) (i32.const 1)))

  (func (export "test_size_and_grow") (result i32)
    (local i32)
    (local.set 0 (i32.const 1))
    ;; 1 page -> grow by 0 (returns 1) -> grow by 2 (returns 1) -> 3 pages
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.size) (i32.const 1))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.grow (i32.const 0)) (i32.const 1))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.grow (i32.const 2)) (i32.const 1))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.size) (i32.const 3))))
    ;; beyond the maximum (4): -1 and unchanged
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.grow (i32.const 2)) (i32.const -1))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.grow (i32.const -1)) (i32.const -1))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (memory.size) (i32.const 3))))
    ;; new pages are zero and usable; the old end no longer traps
    (local.set 0 (i32.and (local.get 0) (i64.eqz (i64.load (i32.const 0x10000)))))
    (local.set 0 (i32.and (local.get 0) (i64.eqz (i64.load (i32.const 0x2fff8)))))
    (i32.store (i32.const 0x2fffc) (i32.const 77))
    (local.set 0 (i32.and (local.get 0) (i32.eq (i32.load (i32.const 0x2fffc)) (i32.const 77))))
    ;; data kept
    (local.set 0 (i32.and (local.get 0) (i32.eq (i32.load8_u (i32.const 100)) (i32.const 0x68))))
    (local.get 0))
  (func (export "trap_memory_out_of_bounds_after_grow") (result i32)
    (i32.load (i32.const 0x30000)))
  (func (export "test_grow_to_max") (result i32)
    (i32.and
      (i32.and (i32.eq (memory.grow (i32.const 1)) (i32.const 3))
               (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (i32.eqz (i32.load (i32.const 0x3fffc)))))
  (func (export "trap_memory_out_of_bounds_at_max") (result i32)
    (i32.load8_u (i32.const 0x40000)))
)
