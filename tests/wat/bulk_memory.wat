;; bulk_memory.wat - memory.fill, memory.copy (overlapping, both
;; directions), memory.init from passive segments, data.drop, and their
;; bounds traps (nothing is written when an operation traps).
(module
  (memory 1)
  (data $p "abcdefgh")
  (data $q "XY")
  (data (i32.const 0x200) "0123456789")

  (func $str8 (param i32) (result i64) (i64.load (local.get 0)))

  (func (export "test_fill") (result i32)
    (memory.fill (i32.const 100) (i32.const 0x1ab) (i32.const 8))
    (memory.fill (i32.const 65536) (i32.const 1) (i32.const 0)) ;; empty at the end: fine
    (i32.and
      (i64.eq (i64.load (i32.const 100)) (i64.const 0xabababababababab))
      (i32.eqz (i32.load8_u (i32.const 108)))))
  (func (export "test_init") (result i32)
    (memory.init $p (i32.const 300) (i32.const 2) (i32.const 4)) ;; "cdef"
    (memory.init $q (i32.const 304) (i32.const 0) (i32.const 2)) ;; "XY"
    (i32.and
      (i32.eq (i32.load (i32.const 300)) (i32.const 0x66656463))
      (i32.eq (i32.load16_u (i32.const 304)) (i32.const 0x5958))))
  (func (export "test_copy_forward_overlap") (result i32)
    ;; copy "0123456789" at 0x200 two bytes up: "01" "0123456789"
    (memory.copy (i32.const 0x202) (i32.const 0x200) (i32.const 10))
    (i32.and
      (i64.eq (call $str8 (i32.const 0x200)) (i64.const 0x3534333231303130)) ;; "01012345"
      (i32.eq (i32.load16_u (i32.const 0x20a)) (i32.const 0x3938))))        ;; "89"
  (func (export "test_copy_backward_overlap") (result i32)
    ;; and back down: "0123456789" "89"
    (memory.copy (i32.const 0x200) (i32.const 0x202) (i32.const 10))
    (i64.eq (call $str8 (i32.const 0x200)) (i64.const 0x3736353433323130)))   ;; "01234567"
  (func (export "test_copy_zero_at_end") (result i32)
    (memory.copy (i32.const 65536) (i32.const 0) (i32.const 0))
    (memory.copy (i32.const 0) (i32.const 65536) (i32.const 0))
    (i32.const 1))
  (func (export "test_data_drop") (result i32)
    (data.drop $q)
    (data.drop $q) ;; dropping twice is fine
    (memory.init $q (i32.const 0) (i32.const 0) (i32.const 0)) ;; empty: fine
    (i32.const 1))

  (func (export "trap_memory_out_of_bounds_fill")
    (memory.fill (i32.const 65530) (i32.const 0xee) (i32.const 7)))
  (func (export "test_fill_trap_wrote_nothing") (result i32)
    (i32.eqz (i32.load8_u (i32.const 65530))))
  (func (export "trap_memory_out_of_bounds_fill_past_end")
    (memory.fill (i32.const 65537) (i32.const 0) (i32.const 0)))
  (func (export "trap_memory_out_of_bounds_copy_src")
    (memory.copy (i32.const 0) (i32.const 65535) (i32.const 2)))
  (func (export "trap_memory_out_of_bounds_copy_dst")
    (memory.copy (i32.const -1) (i32.const 0) (i32.const 2)))
  (func (export "trap_memory_out_of_bounds_init_dropped")
    (memory.init $q (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "trap_memory_out_of_bounds_init_segment")
    (memory.init $p (i32.const 0) (i32.const 4) (i32.const 5)))
  (func (export "trap_memory_out_of_bounds_init_memory")
    (memory.init $p (i32.const 65535) (i32.const 0) (i32.const 2)))
)
