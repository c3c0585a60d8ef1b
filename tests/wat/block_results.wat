;; block_results.wat - a block's or if's single result stored into a local
;; right after its end (the compiler renames the result slot to the local
;; when every path wrote the result just before its jump): branches from
;; nested blocks, br_table, if/else, local.tee, the local read inside the
;; block and on the stack across it, a loop, and paths it cannot rename
;; (br_if carrying the value, if without else).
(module
  ;; an interpreter step: every case computes the next pc from pc
  (func $step (param $pc i32) (param $op i32) (result i32)
    (local.set $pc
      (block $done (result i32)
        (block $c2
          (block $c1
            (block $c0
              (br_table $c0 $c1 $c2 (local.get $op)))
            (br $done (i32.add (local.get $pc) (i32.const 1))))
          (br $done (i32.mul (local.get $pc) (i32.const 2))))
        (i32.sub (local.get $pc) (i32.const 3))))
    (local.get $pc))
  ;; the result is the local itself on one path (a copy), computed on the other
  (func $copy_or_compute (param $x i32) (param $c i32) (result i32) (local $y i32)
    (local.set $y (i32.const 7))
    (local.set $x
      (if (result i32) (local.get $c)
        (then (local.get $y))
        (else (i32.add (local.get $x) (local.get $y)))))
    (local.get $x))
  ;; local.tee keeps the value on the stack as well
  (func $tee (param $x i32) (param $c i32) (result i32)
    (i32.add
      (local.tee $x
        (block (result i32)
          (br_if 0 (i32.const 100) (local.get $c))
          (drop)
          (i32.mul (local.get $x) (i32.const 3))))
      (local.get $x)))
  ;; the local is on the stack below the block: its old value must survive
  (func $referenced (param $x i32) (result i32)
    (i32.sub
      (local.get $x)
      (block (result i32)
        (local.set $x
          (block (result i32)
            (br 0 (i32.add (local.get $x) (i32.const 10)))))
        (local.get $x))))
  ;; the block's code reads the local after one path's result is computed
  (func $read_after (param $x i32) (param $c i32) (result i32) (local $r i32)
    (local.set $x
      (block (result i32)
        (if (local.get $c)
          (then (br 1 (i32.add (local.get $x) (i32.const 1)))))
        (i32.mul (local.get $x) (i32.const 5))))
    (local.get $x))
  ;; if without else: the false edge carries the param through
  (func $if_no_else (param $x i32) (param $c i32) (result i32)
    (local.set $x
      (local.get $x)
      (if (param i32) (result i32) (local.get $c)
        (then (i32.add (i32.const 1000)))))
    (local.get $x))
  ;; a loop around a block whose result becomes the loop's counter
  (func $loop (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (local.set $i
        (block (result i32)
          (br_if 0 (i32.add (local.get $i) (i32.const 1)) (i32.and (local.get $i) (i32.const 1)))
          (drop)
          (i32.add (local.get $i) (i32.const 3))))
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  ;; f64 and i64 results
  (func $wide (param $d f64) (param $x i64) (param $c i32) (result f64)
    (local.set $d
      (block (result f64)
        (br_if 0 (f64.mul (local.get $d) (f64.const 2)) (local.get $c))
        (drop)
        (f64.add (local.get $d) (f64.const 0.5))))
    (local.set $x
      (if (result i64) (local.get $c)
        (then (i64.shl (local.get $x) (i64.const 40)))
        (else (i64.sub (local.get $x) (i64.const 1)))))
    (f64.add (local.get $d) (f64.convert_i64_s (local.get $x))))

  (func (export "test_step") (result i32)
    (i32.and
      (i32.and (i32.eq (call $step (i32.const 10) (i32.const 0)) (i32.const 11))
               (i32.eq (call $step (i32.const 10) (i32.const 1)) (i32.const 20)))
      (i32.and (i32.eq (call $step (i32.const 10) (i32.const 2)) (i32.const 7))
               (i32.eq (call $step (i32.const 10) (i32.const 9)) (i32.const 7)))))
  (func (export "test_copy_or_compute") (result i32)
    (i32.and (i32.eq (call $copy_or_compute (i32.const 5) (i32.const 1)) (i32.const 7))
             (i32.eq (call $copy_or_compute (i32.const 5) (i32.const 0)) (i32.const 12))))
  (func (export "test_tee") (result i32)
    (i32.and (i32.eq (call $tee (i32.const 5) (i32.const 1)) (i32.const 200))
             (i32.eq (call $tee (i32.const 5) (i32.const 0)) (i32.const 30))))
  (func (export "test_referenced") (result i32)
    ;; 4 - (4 + 10) = -10
    (i32.eq (call $referenced (i32.const 4)) (i32.const -10)))
  (func (export "test_read_after") (result i32)
    (i32.and (i32.eq (call $read_after (i32.const 4) (i32.const 1)) (i32.const 5))
             (i32.eq (call $read_after (i32.const 4) (i32.const 0)) (i32.const 20))))
  (func (export "test_if_no_else") (result i32)
    (i32.and (i32.eq (call $if_no_else (i32.const 4) (i32.const 1)) (i32.const 1004))
             (i32.eq (call $if_no_else (i32.const 4) (i32.const 0)) (i32.const 4))))
  (func (export "test_loop") (result i32)
    ;; i: 0 -> 3 -> 4 -> 7 -> 8 -> 11; acc = 3 + 4 + 7 + 8 + 11 = 33
    (i32.eq (call $loop (i32.const 10)) (i32.const 33)))
  (func (export "test_wide") (result i32)
    (i32.and
      ;; 1.5 * 2 + (3 << 40)
      (f64.eq (call $wide (f64.const 1.5) (i64.const 3) (i32.const 1)) (f64.const 3298534883331))
      ;; 1.5 + 0.5 + (3 - 1)
      (f64.eq (call $wide (f64.const 1.5) (i64.const 3) (i32.const 0)) (f64.const 4))))
)
