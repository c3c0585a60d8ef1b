;; i32.wat - i32 arithmetic, bitwise, shifts, bit counting, comparisons and
;; the integer traps, on constants and through function parameters.
(module
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $sub (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
  (func $div_s (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $div_u (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func $rem_s (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func $rem_u (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func $shl (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
  (func $shr_s (param i32 i32) (result i32) (i32.shr_s (local.get 0) (local.get 1)))
  (func $shr_u (param i32 i32) (result i32) (i32.shr_u (local.get 0) (local.get 1)))
  (func $rotl (param i32 i32) (result i32) (i32.rotl (local.get 0) (local.get 1)))
  (func $rotr (param i32 i32) (result i32) (i32.rotr (local.get 0) (local.get 1)))

  (func (export "test_add") (result i32)
    (i32.and
      (i32.and (i32.eq (call $add (i32.const 1) (i32.const 2)) (i32.const 3))
               (i32.eq (call $add (i32.const 0x7fffffff) (i32.const 1)) (i32.const 0x80000000)))
      (i32.and (i32.eq (call $add (i32.const -1) (i32.const -1)) (i32.const -2))
               (i32.eq (i32.add (i32.const 0xffffffff) (i32.const 1)) (i32.const 0)))))
  (func (export "test_sub") (result i32)
    (i32.and
      (i32.eq (call $sub (i32.const 0) (i32.const 1)) (i32.const -1))
      (i32.eq (call $sub (i32.const 0x80000000) (i32.const 1)) (i32.const 0x7fffffff))))
  (func (export "test_mul") (result i32)
    (i32.and
      (i32.and (i32.eq (call $mul (i32.const 7) (i32.const -6)) (i32.const -42))
               (i32.eq (call $mul (i32.const 0x10000) (i32.const 0x10000)) (i32.const 0)))
      (i32.eq (call $mul (i32.const 0x01234567) (i32.const 0x76543210)) (i32.const 0x358e7470))))
  (func (export "test_div") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $div_s (i32.const -7) (i32.const 2)) (i32.const -3))
                 (i32.eq (call $div_u (i32.const -7) (i32.const 2)) (i32.const 0x7ffffffc)))
        (i32.and (i32.eq (call $div_s (i32.const 0x80000000) (i32.const 2)) (i32.const 0xc0000000))
                 (i32.eq (call $div_u (i32.const 0x80000000) (i32.const 2)) (i32.const 0x40000000))))
      (i32.eq (i32.div_s (i32.const 7) (i32.const -2)) (i32.const -3))))
  (func (export "test_rem") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $rem_s (i32.const -7) (i32.const 2)) (i32.const -1))
                 (i32.eq (call $rem_u (i32.const -7) (i32.const 2)) (i32.const 1)))
        (i32.and (i32.eq (call $rem_s (i32.const 0x80000000) (i32.const -1)) (i32.const 0))
                 (i32.eq (call $rem_s (i32.const 7) (i32.const -3)) (i32.const 1))))
      (i32.eq (call $rem_u (i32.const 0x80000000) (i32.const 3)) (i32.const 2))))
  (func (export "test_bitwise") (result i32)
    (i32.and
      (i32.and (i32.eq (i32.and (i32.const 0xff00ff00) (i32.const 0x0ff00ff0)) (i32.const 0x0f000f00))
               (i32.eq (i32.or (i32.const 0xff00ff00) (i32.const 0x0ff00ff0)) (i32.const 0xfff0fff0)))
      (i32.eq (i32.xor (i32.const 0xff00ff00) (i32.const 0x0ff00ff0)) (i32.const 0xf0f0f0f0))))
  (func (export "test_shifts") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $shl (i32.const 1) (i32.const 31)) (i32.const 0x80000000))
                 (i32.eq (call $shl (i32.const 1) (i32.const 32)) (i32.const 1)))
        (i32.and (i32.eq (call $shr_s (i32.const 0x80000000) (i32.const 31)) (i32.const -1))
                 (i32.eq (call $shr_u (i32.const 0x80000000) (i32.const 31)) (i32.const 1))))
      (i32.and
        (i32.and (i32.eq (call $shr_s (i32.const -8) (i32.const 33)) (i32.const -4))
                 (i32.eq (call $shr_u (i32.const -8) (i32.const -1)) (i32.const 1)))
        (i32.eq (call $shl (i32.const 3) (i32.const 0)) (i32.const 3)))))
  (func (export "test_rotates") (result i32)
    (i32.and
      (i32.and (i32.eq (call $rotl (i32.const 0x80000001) (i32.const 1)) (i32.const 3))
               (i32.eq (call $rotr (i32.const 0x80000001) (i32.const 1)) (i32.const 0xc0000000)))
      (i32.and (i32.eq (call $rotl (i32.const 0x12345678) (i32.const 36)) (i32.const 0x23456781))
               (i32.eq (call $rotr (i32.const 0x12345678) (i32.const 0)) (i32.const 0x12345678)))))
  (func (export "test_bitcount") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (i32.clz (i32.const 0)) (i32.const 32))
                 (i32.eq (i32.clz (i32.const 0x00800000)) (i32.const 8)))
        (i32.and (i32.eq (i32.ctz (i32.const 0)) (i32.const 32))
                 (i32.eq (i32.ctz (i32.const 0x00800000)) (i32.const 23))))
      (i32.and (i32.eq (i32.popcnt (i32.const -1)) (i32.const 32))
               (i32.eq (i32.popcnt (i32.const 0x01010101)) (i32.const 4)))))
  (func (export "test_compare") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.lt_s (i32.const -1) (i32.const 0))
                 (i32.eqz (i32.lt_u (i32.const -1) (i32.const 0))))
        (i32.and (i32.ge_u (i32.const -1) (i32.const 0))
                 (i32.and (i32.le_s (i32.const 5) (i32.const 5)) (i32.gt_s (i32.const 0) (i32.const 0x80000000)))))
      (i32.and
        (i32.and (i32.ne (i32.const 1) (i32.const 2)) (i32.eqz (i32.const 0)))
        (i32.and (i32.eqz (i32.eqz (i32.const 0x80000000)))
                 (i32.and (i32.gt_u (i32.const 0x80000000) (i32.const 1)) (i32.le_u (i32.const 1) (i32.const 1)))))))
  (func (export "test_select") (result i32)
    (local i32)
    (local.set 0 (i32.const 7))
    (i32.and
      (i32.eq (select (i32.const 1) (i32.const 2) (local.get 0)) (i32.const 1))
      (i32.eq (select (i32.const 1) (i32.const 2) (i32.const 0)) (i32.const 2))))
  (func (export "test_locals_tee") (result i32)
    (local i32 i32)
    (local.set 1 (i32.add (local.tee 0 (i32.const 20)) (i32.const 1)))
    (i32.and (i32.eq (local.get 0) (i32.const 20)) (i32.eq (local.get 1) (i32.const 21))))

  (func (export "trap_integer_divide_by_zero_div_s") (result i32)
    (call $div_s (i32.const 1) (i32.const 0)))
  (func (export "trap_integer_divide_by_zero_div_u") (result i32)
    (call $div_u (i32.const 1) (i32.const 0)))
  (func (export "trap_integer_divide_by_zero_rem_s") (result i32)
    (call $rem_s (i32.const 1) (i32.const 0)))
  (func (export "trap_integer_divide_by_zero_rem_u") (result i32)
    (call $rem_u (i32.const 1) (i32.const 0)))
  (func (export "trap_integer_divide_by_zero_const") (result i32)
    (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "trap_integer_overflow_div_s") (result i32)
    (call $div_s (i32.const 0x80000000) (i32.const -1)))
)
