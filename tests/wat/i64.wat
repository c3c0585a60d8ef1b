;; i64.wat - i64 arithmetic, bitwise, shifts, bit counting, comparisons,
;; i32/i64 conversions between them and the i64 integer traps.
(module
  (func $add (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func $mul (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func $div_s (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func $div_u (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func $rem_s (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func $rem_u (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func $shl (param i64 i64) (result i64) (i64.shl (local.get 0) (local.get 1)))
  (func $shr_s (param i64 i64) (result i64) (i64.shr_s (local.get 0) (local.get 1)))
  (func $shr_u (param i64 i64) (result i64) (i64.shr_u (local.get 0) (local.get 1)))
  (func $rotl (param i64 i64) (result i64) (i64.rotl (local.get 0) (local.get 1)))
  (func $rotr (param i64 i64) (result i64) (i64.rotr (local.get 0) (local.get 1)))

  (func (export "test_add_sub") (result i32)
    (i32.and
      (i32.and (i64.eq (call $add (i64.const 0x7fffffffffffffff) (i64.const 1)) (i64.const 0x8000000000000000))
               (i64.eq (call $add (i64.const 0xffffffff) (i64.const 1)) (i64.const 0x100000000)))
      (i64.eq (i64.sub (i64.const 0) (i64.const 1)) (i64.const -1))))
  (func (export "test_mul") (result i32)
    (i32.and
      (i64.eq (call $mul (i64.const 0x0123456789abcdef) (i64.const 0xfedcba9876543210)) (i64.const 0x2236d88fe5618cf0))
      (i64.eq (call $mul (i64.const -3) (i64.const 7)) (i64.const -21))))
  (func (export "test_div_rem") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.eq (call $div_s (i64.const -7) (i64.const 2)) (i64.const -3))
                 (i64.eq (call $div_u (i64.const -7) (i64.const 2)) (i64.const 0x7ffffffffffffffc)))
        (i32.and (i64.eq (call $rem_s (i64.const -7) (i64.const 2)) (i64.const -1))
                 (i64.eq (call $rem_u (i64.const -7) (i64.const 2)) (i64.const 1))))
      (i32.and (i64.eq (call $rem_s (i64.const 0x8000000000000000) (i64.const -1)) (i64.const 0))
               (i64.eq (call $div_u (i64.const 0x8000000000000000) (i64.const 0x100000000)) (i64.const 0x80000000)))))
  (func (export "test_bitwise") (result i32)
    (i32.and
      (i32.and (i64.eq (i64.and (i64.const 0xff00ff00ff00ff00) (i64.const 0x0ff00ff00ff00ff0)) (i64.const 0x0f000f000f000f00))
               (i64.eq (i64.or (i64.const 0xff00000000000000) (i64.const 0xff)) (i64.const 0xff000000000000ff)))
      (i64.eq (i64.xor (i64.const -1) (i64.const 0x00000000ffffffff)) (i64.const 0xffffffff00000000))))
  (func (export "test_shifts") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.eq (call $shl (i64.const 1) (i64.const 63)) (i64.const 0x8000000000000000))
                 (i64.eq (call $shl (i64.const 1) (i64.const 64)) (i64.const 1)))
        (i32.and (i64.eq (call $shr_s (i64.const 0x8000000000000000) (i64.const 63)) (i64.const -1))
                 (i64.eq (call $shr_u (i64.const 0x8000000000000000) (i64.const 63)) (i64.const 1))))
      (i32.and (i64.eq (call $shl (i64.const 1) (i64.const 32)) (i64.const 0x100000000))
               (i64.eq (call $shr_u (i64.const -1) (i64.const 0xffffffffffffff81)) (i64.const 0x7fffffffffffffff)))))
  (func (export "test_rotates") (result i32)
    (i32.and
      (i64.eq (call $rotl (i64.const 0x0123456789abcdef) (i64.const 4)) (i64.const 0x123456789abcdef0))
      (i64.eq (call $rotr (i64.const 0x0123456789abcdef) (i64.const 68)) (i64.const 0xf0123456789abcde))))
  (func (export "test_bitcount") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.eq (i64.clz (i64.const 0)) (i64.const 64))
                 (i64.eq (i64.clz (i64.const 0x00000000ffffffff)) (i64.const 32)))
        (i32.and (i64.eq (i64.ctz (i64.const 0)) (i64.const 64))
                 (i64.eq (i64.ctz (i64.const 0x100000000)) (i64.const 32))))
      (i32.and (i64.eq (i64.popcnt (i64.const -1)) (i64.const 64))
               (i64.eq (i64.popcnt (i64.const 0x8000000000000001)) (i64.const 2)))))
  (func (export "test_compare") (result i32)
    (i32.and
      (i32.and
        (i32.and (i64.lt_s (i64.const -1) (i64.const 0)) (i64.gt_u (i64.const -1) (i64.const 0)))
        (i32.and (i64.le_s (i64.const 0x8000000000000000) (i64.const 0x7fffffffffffffff))
                 (i64.ge_u (i64.const 0x8000000000000000) (i64.const 0x7fffffffffffffff))))
      (i32.and
        (i32.and (i64.eqz (i64.const 0)) (i32.eqz (i64.eqz (i64.const 0x100000000))))
        (i32.and (i64.ne (i64.const 0x100000000) (i64.const 0))
                 (i32.and (i64.gt_s (i64.const 1) (i64.const -1)) (i64.lt_u (i64.const 1) (i64.const -1)))))))
  (func (export "test_wrap_extend") (result i32)
    (i32.and
      (i32.and
        (i32.eq (i32.wrap_i64 (i64.const 0x123456789)) (i32.const 0x23456789))
        (i64.eq (i64.extend_i32_s (i32.const -1)) (i64.const -1)))
      (i64.eq (i64.extend_i32_u (i32.const -1)) (i64.const 0xffffffff))))
  (func (export "test_select_i64") (result i32)
    (i64.eq (select (i64.const 0x100000000) (i64.const 2) (i32.const 5)) (i64.const 0x100000000)))

  (func (export "trap_integer_divide_by_zero_div_s") (result i64)
    (call $div_s (i64.const 1) (i64.const 0)))
  (func (export "trap_integer_divide_by_zero_div_u") (result i64)
    (call $div_u (i64.const 1) (i64.const 0)))
  (func (export "trap_integer_divide_by_zero_rem_s") (result i64)
    (call $rem_s (i64.const 1) (i64.const 0)))
  (func (export "trap_integer_divide_by_zero_rem_u") (result i64)
    (call $rem_u (i64.const 1) (i64.const 0)))
  (func (export "trap_integer_overflow_div_s") (result i64)
    (call $div_s (i64.const 0x8000000000000000) (i64.const -1)))
)
