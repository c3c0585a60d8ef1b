;; add_pairs.wat - i32.adds in a row (I32_ADD2 of ops.h fuses two): a chain
;; where the second reads the first's sum, independent sums into locals, three
;; in a row, a label between two adds, wrap-around, and the second sum
;; retargeted by local.set / carried by a branch.
(module
  ;; ((a + b) + c) + d: each add reads the previous sum
  (func $chain (param i32 i32 i32 i32) (result i32)
    (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2)) (local.get 3)))
  ;; two independent sums into locals, as address arithmetic does
  (func $pair (param $i i32) (param $a i32) (param $b i32) (result i32) (local $x i32) (local $y i32)
    (local.set $x (i32.add (local.get $i) (local.get $a)))
    (local.set $y (i32.add (local.get $i) (local.get $b)))
    (i32.sub (i32.mul (local.get $x) (i32.const 1000)) (local.get $y)))
  ;; the second add writes a local the first one read
  (func $overlap (param $a i32) (param $b i32) (result i32) (local $t i32)
    (local.set $t (i32.add (local.get $a) (local.get $b)))
    (local.set $a (i32.add (local.get $t) (local.get $a)))
    (i32.add (i32.mul (local.get $a) (i32.const 100)) (local.get $t)))
  ;; a label between two adds: the branch skips the first
  (func $label_between (param $skip i32) (param $a i32) (result i32) (local $x i32)
    (local.set $x (i32.const 5))
    (block
      (br_if 0 (local.get $skip))
      (local.set $x (i32.add (local.get $a) (local.get $a))))
    (local.set $x (i32.add (local.get $x) (local.get $a)))
    (local.get $x))
  ;; the second sum is the value a branch carries out of a block
  (func $carried (param $a i32) (param $b i32) (result i32) (local $x i32)
    (block (result i32)
      (local.set $x (i32.add (local.get $a) (local.get $b)))
      (br 0 (i32.add (local.get $x) (local.get $b)))))

  (func (export "test_chain") (result i32)
    (i32.and (i32.eq (call $chain (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)) (i32.const 10))
             (i32.eq (call $chain (i32.const -1) (i32.const 1) (i32.const 0x7fffffff) (i32.const 1))
                     (i32.const 0x80000000))))
  (func (export "test_pair") (result i32)
    ;; x = 10 + 3, y = 10 + 7: 13000 - 17
    (i32.eq (call $pair (i32.const 10) (i32.const 3) (i32.const 7)) (i32.const 12983)))
  (func (export "test_overlap") (result i32)
    ;; t = 2 + 5 = 7, a = 7 + 2 = 9: 900 + 7
    (i32.eq (call $overlap (i32.const 2) (i32.const 5)) (i32.const 907)))
  (func (export "test_label_between") (result i32)
    (i32.and (i32.eq (call $label_between (i32.const 0) (i32.const 4)) (i32.const 12))
             (i32.eq (call $label_between (i32.const 1) (i32.const 4)) (i32.const 9))))
  (func (export "test_carried") (result i32)
    (i32.eq (call $carried (i32.const 3) (i32.const 4)) (i32.const 11)))
  (func (export "test_wrap") (result i32)
    (i32.eq (call $pair (i32.const 0xffffffff) (i32.const 2) (i32.const 1)) (i32.const 1000)))
)
