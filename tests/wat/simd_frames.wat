;; simd_frames.wat - v128 values in frames: a v128 takes two slots, so
;; params, locals, the operand stack, block results, branches, calls,
;; returns, select and globals must all place scalars and vectors right when
;; they are mixed.
(module
  (global $g (mut v128) (v128.const i32x4 1 2 3 4))
  (global $k v128 (v128.const i64x2 -1 7))
  (table 2 funcref)
  (elem (i32.const 0) $mix $swap)
  (type $mix_t (func (param i32 v128 i64 v128) (result v128 i64)))

  ;; (a, v, b, w) -> (v + w, a + b): params interleaved with vectors
  (func $mix (type $mix_t)
    (i32x4.add (local.get 1) (local.get 3))
    (i64.add (i64.extend_i32_u (local.get 0)) (local.get 2)))
  (func $swap (param i32 v128 i64 v128) (result v128 i64)
    (local.get 3) (local.get 2))
  (func $lane_sum (param v128) (result i32)
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get 0)) (i32x4.extract_lane 1 (local.get 0)))
             (i32.add (i32x4.extract_lane 2 (local.get 0)) (i32x4.extract_lane 3 (local.get 0)))))

  (func (export "test_call_mixed") (result i32)
    (local $r i64) (local $v v128)
    (call $mix (i32.const 5) (v128.const i32x4 1 2 3 4) (i64.const 10)
               (v128.const i32x4 10 20 30 40))
    (local.set $r)
    (local.set $v)
    (i32.and (i64.eq (local.get $r) (i64.const 15))
             (i32.eq (call $lane_sum (local.get $v)) (i32.const 110))))

  (func (export "test_call_indirect") (result i32)
    (local $r i64) (local $v v128)
    (call_indirect (type $mix_t) (i32.const 7) (v128.const i32x4 1 1 1 1) (i64.const 3)
                   (v128.const i32x4 2 2 2 2) (i32.const 1))
    (local.set $r)
    (local.set $v)
    (i32.and (i64.eq (local.get $r) (i64.const 3))
             (i32.eq (call $lane_sum (local.get $v)) (i32.const 8))))

  ;; locals: scalars between vectors keep their values
  (func (export "test_locals") (result i32)
    (local $a i32) (local $v v128) (local $b f64) (local $w v128) (local $c i32)
    (local.set $a (i32.const 11))
    (local.set $b (f64.const 2.5))
    (local.set $c (i32.const 13))
    (local.set $v (i32x4.splat (i32.const 3)))
    (local.set $w (local.tee $v (i32x4.mul (local.get $v) (local.get $v))))
    (i32.and
      (i32.and (i32.eq (local.get $a) (i32.const 11)) (i32.eq (local.get $c) (i32.const 13)))
      (i32.and (f64.eq (local.get $b) (f64.const 2.5))
               (i32.eq (call $lane_sum (i32x4.add (local.get $v) (local.get $w))) (i32.const 72)))))

  ;; declared v128 locals start as zero
  (func (export "test_zero_locals") (result i32)
    (local i32 v128 i64 v128)
    (v128.any_true (v128.or (local.get 1) (local.get 3)))
    (i32.eqz))

  ;; a local read twice, then overwritten, while the old value is on the stack
  (func (export "test_local_ref") (result i32)
    (local $v v128)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.get $v)
    (local.set $v (v128.const i32x4 100 100 100 100))
    (call $lane_sum)
    (i32.eq (i32.const 10)))

  ;; block, if and loop results and params of type v128, mixed with i32
  (func (export "test_blocks") (result i32)
    (local $i i32) (local $acc v128)
    (block (result v128 i32)
      (v128.const i32x4 1 1 1 1) (i32.const 9))
    (drop)
    (local.set $acc)
    (loop $l
      (local.set $acc (i32x4.add (local.get $acc) (v128.const i32x4 1 2 3 4)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
    (if (result v128) (i32.eq (local.get $i) (i32.const 10))
      (then (local.get $acc))
      (else (v128.const i32x4 0 0 0 0)))
    (call $lane_sum)
    (i32.eq (i32.const 104)))

  (func $pick (param i32) (result v128)
    (block $b2 (result v128)
      (block $b1 (result v128)
        (block $b0 (result v128)
          (v128.const i32x4 5 5 5 5)
          (br_table $b0 $b1 $b2 (local.get 0)))
        (return (i32x4.add (v128.const i32x4 100 0 0 0))))
      (return (i32x4.add (v128.const i32x4 200 0 0 0))))
    (i32x4.add (v128.const i32x4 300 0 0 0)))
  (func (export "test_br_table") (result i32)
    (i32.and
      (i32.and (i32.eq (call $lane_sum (call $pick (i32.const 0))) (i32.const 120))
               (i32.eq (call $lane_sum (call $pick (i32.const 1))) (i32.const 220)))
      (i32.eq (call $lane_sum (call $pick (i32.const 7))) (i32.const 320))))

  (func $loop_param (result v128)
    (local $n i32)
    (v128.const i32x4 0 0 0 0)
    (loop $l (param v128) (result v128)
      (i32x4.add (v128.const i32x4 1 0 0 2))
      (local.tee $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (i32.const 5)))))
  (func (export "test_loop_param") (result i32)
    (i32.eq (call $lane_sum (call $loop_param)) (i32.const 15)))

  (func (export "test_select") (result i32)
    (local $a v128) (local $b v128)
    (local.set $a (v128.const i32x4 1 2 3 4))
    (local.set $b (v128.const i32x4 5 6 7 8))
    (i32.and
      (i32.eq (call $lane_sum (select (local.get $a) (local.get $b) (i32.const 1))) (i32.const 10))
      (i32.eq (call $lane_sum (select (result v128) (local.get $a) (local.get $b) (i32.const 0)))
              (i32.const 26))))

  (func (export "test_globals") (result i32)
    (global.set $g (i32x4.add (global.get $g) (global.get $k)))
    (i32.and (i64.eq (i64x2.extract_lane 1 (global.get $g)) (i64.const 0x000000040000000a))
             (i32.eq (i32x4.extract_lane 0 (global.get $g)) (i32.const 0))))

  ;; several results, the vector ones from locals below their return slots
  (func $ret (param $x v128) (param $y i32) (result i32 v128 v128)
    (local.get $y) (local.get $x) (local.get $x))
  (func (export "test_return_order") (result i32)
    (local $a v128) (local $b v128) (local $n i32)
    (call $ret (v128.const i32x4 4 3 2 1) (i32.const 6))
    (local.set $b) (local.set $a) (local.set $n)
    (i32.and (i32.eq (local.get $n) (i32.const 6))
             (i32.eq (call $lane_sum (i32x4.add (local.get $a) (local.get $b))) (i32.const 20))))
)
