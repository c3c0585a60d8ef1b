;; control.wat - block, loop, if/else, br, br_if, br_table, return,
;; unreachable, nop/drop/select, and multi-value: blocks, loops and ifs with
;; parameters and several results, functions returning several values.
(module
  (func $classify (param i32) (result i32)
    ;; br_table: 0 -> 10, 1 -> 11, 2 -> 12, anything else -> 99
    (block $default
      (block $c2
        (block $c1
          (block $c0
            (br_table $c0 $c1 $c2 $default (local.get 0)))
          (return (i32.const 10)))
        (return (i32.const 11)))
      (return (i32.const 12)))
    (i32.const 99))
  (func $br_table_value (param i32) (result i32)
    ;; br_table carrying a value out of the selected block
    (block $b (result i32)
      (drop (block $a (result i32)
        (br_table $a $b $a (i32.const 7) (local.get 0))))
      (i32.const 5)))
  (func $fact (param i32) (result i64)
    (local i64)
    (local.set 1 (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get 0) (i32.const 1)))
        (local.set 1 (i64.mul (local.get 1) (i64.extend_i32_u (local.get 0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (local.get 1))
  (func $sign (param i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
      (then (i32.const -1))
      (else (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 0))))))
  (func $early_return (param i32) (result i32)
    (block
      (br_if 0 (local.get 0))
      (return (i32.const 1)))
    (i32.const 2))
  (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func $divmod (param i32 i32) (result i32 i32)
    (i32.div_u (local.get 0) (local.get 1))
    (i32.rem_u (local.get 0) (local.get 1)))

  (func (export "test_br_table") (result i32)
    (i32.and
      (i32.and
        (i32.and (i32.eq (call $classify (i32.const 0)) (i32.const 10))
                 (i32.eq (call $classify (i32.const 1)) (i32.const 11)))
        (i32.and (i32.eq (call $classify (i32.const 2)) (i32.const 12))
                 (i32.eq (call $classify (i32.const 3)) (i32.const 99))))
      (i32.and
        (i32.eq (call $classify (i32.const -1)) (i32.const 99))
        (i32.and (i32.eq (call $br_table_value (i32.const 0)) (i32.const 5))
                 (i32.and (i32.eq (call $br_table_value (i32.const 1)) (i32.const 7))
                          (i32.eq (call $br_table_value (i32.const 1000)) (i32.const 5)))))))
  (func (export "test_loop") (result i32)
    (i32.and
      (i64.eq (call $fact (i32.const 20)) (i64.const 2432902008176640000))
      (i64.eq (call $fact (i32.const 0)) (i64.const 1))))
  (func (export "test_if_else") (result i32)
    (i32.and
      (i32.and (i32.eq (call $sign (i32.const -5)) (i32.const -1))
               (i32.eq (call $sign (i32.const 5)) (i32.const 1)))
      (i32.eqz (call $sign (i32.const 0)))))
  (func (export "test_if_without_else") (result i32)
    (local i32)
    (if (i32.const 0) (then (local.set 0 (i32.const 5))))
    (if (i32.const 1) (then (local.set 0 (i32.add (local.get 0) (i32.const 1)))))
    (i32.eq (local.get 0) (i32.const 1)))
  (func (export "test_return") (result i32)
    (i32.and (i32.eq (call $early_return (i32.const 0)) (i32.const 1))
             (i32.eq (call $early_return (i32.const 1)) (i32.const 2))))
  (func (export "test_br_out_of_nested") (result i32)
    (block $out (result i32)
      (block
        (loop
          (block
            (drop (br_if $out (i32.const 1) (i32.const 1)))
            (br 2))))
      (i32.const 0)))
  (func (export "test_br_if_value_not_taken") (result i32)
    (block (result i32)
      (drop (br_if 0 (i32.const 0) (i32.const 0)))
      (i32.const 1)))
  (func (export "test_nop_drop_select") (result i32)
    (nop)
    (drop (i64.const 5))
    (i32.and
      (i32.eq (select (result i32) (i32.const 3) (i32.const 4) (i32.const 1)) (i32.const 3))
      (f64.eq (select (f64.const 1) (f64.const 2) (i32.const 0)) (f64.const 2))))
  (func (export "test_multi_value_call") (result i32)
    (local i32 i32)
    (call $swap (i32.const 1) (i32.const 2))
    (local.set 1)
    (local.set 0)
    (i32.and
      (i32.and (i32.eq (local.get 0) (i32.const 2)) (i32.eq (local.get 1) (i32.const 1)))
      (i32.eq (i32.sub (call $divmod (i32.const 17) (i32.const 5))) (i32.const 1))))
  (func (export "test_multi_value_block") (result i32)
    (i32.const 10)
    (i32.const 3)
    (block (param i32 i32) (result i32 i32)
      (i32.add)
      (i32.const 2))
    (i32.mul)
    (i32.const 26)
    (i32.eq))
  (func (export "test_multi_value_if") (result i32)
    (i32.const 7)
    (i32.const 1)
    (if (param i32) (result i32 i64)
      (then (i64.const 100))
      (else (drop) (i32.const 0) (i64.const 0)))
    (i64.eq (i64.const 100))
    (i32.and (i32.eq (i32.const 7) (i32.const 7)))
    (i32.and))
  (func (export "test_loop_params") (result i32)
    ;; sum 1..10 with the accumulator and counter as loop parameters
    (i32.const 0) (i32.const 10)
    (loop $l (param i32 i32) (result i32)
      (call $swap) ;; counter acc
      (call $step)
      (br_if $l (i32.ne (call $peek) (i32.const 0)))
      (drop))
    (i32.eq (i32.const 55)))
  (global $scratch (mut i32) (i32.const 0))
  (func $step (param i32 i32) (result i32 i32)
    ;; (counter, acc) -> (acc + counter, counter - 1); remembers counter - 1
    (global.set $scratch (i32.sub (local.get 0) (i32.const 1)))
    (i32.add (local.get 1) (local.get 0))
    (global.get $scratch))
  (func $peek (result i32) (global.get $scratch))
  (func (export "test_block_result_from_br") (result i32)
    (block (result i32 i32) (br 0 (i32.const 4) (i32.const 5)) (i32.const 0) (i32.const 0))
    (i32.sub)
    (i32.eq (i32.const -1)))

  (func (export "trap_unreachable") (unreachable))
  (func (export "trap_unreachable_in_block") (result i32)
    (block (result i32) (loop (drop (br_if 1 (i32.const 1) (unreachable)))) (i32.const 0)))
)
