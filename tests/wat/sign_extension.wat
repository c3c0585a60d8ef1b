;; sign_extension.wat - the sign-extension operators (extend8/16/32_s).
(module
  (func $e8 (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func (export "test_i32_extend8_s") (result i32)
    (i32.and
      (i32.and (i32.eq (call $e8 (i32.const 0x7f)) (i32.const 127))
               (i32.eq (call $e8 (i32.const 0x80)) (i32.const -128)))
      (i32.eq (call $e8 (i32.const 0x12345680)) (i32.const -128))))
  (func (export "test_i32_extend16_s") (result i32)
    (i32.and
      (i32.eq (i32.extend16_s (i32.const 0x8000)) (i32.const -32768))
      (i32.eq (i32.extend16_s (i32.const 0xffff7fff)) (i32.const 32767))))
  (func (export "test_i64_extend") (result i32)
    (i32.and
      (i32.and (i64.eq (i64.extend8_s (i64.const 0xff)) (i64.const -1))
               (i64.eq (i64.extend16_s (i64.const 0x123458000)) (i64.const -32768)))
      (i32.and (i64.eq (i64.extend32_s (i64.const 0x80000000)) (i64.const 0xffffffff80000000))
               (i64.eq (i64.extend32_s (i64.const 0xffffffff7fffffff)) (i64.const 0x7fffffff)))))
)
