;; copies.wat - moves between locals in a row (COPY2 of ops.h fuses two
;; COPYs): their order matters when one reads what another wrote, a label
;; between two moves keeps them apart, and the rotations of a loop's back
;; edge (as in hash rounds) keep every value.
(module
  ;; b = a, then c = b: c sees the new b
  (func $chain (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local.set $b (local.get $a))
    (local.set $c (local.get $b))
    (i32.add (i32.mul (local.get $c) (i32.const 100)) (local.get $b)))
  ;; swap through a temporary: three moves
  (func $swap (param $a i32) (param $b i32) (result i32) (local $t i32)
    (local.set $t (local.get $a))
    (local.set $a (local.get $b))
    (local.set $b (local.get $t))
    (i32.sub (i32.mul (local.get $a) (i32.const 10)) (local.get $b)))
  ;; a move, then a block end reached by a branch, then a move: the branch
  ;; skips the first move only
  (func $label_between (param $skip i32) (result i32) (local $x i32) (local $y i32)
    (local.set $x (i32.const 1))
    (local.set $y (i32.const 2))
    (block
      (br_if 0 (local.get $skip))
      (local.set $x (local.get $y)))
    (local.set $y (local.get $x))
    (i32.add (i32.mul (local.get $x) (i32.const 10)) (local.get $y)))
  ;; rotate eight values n times (a sha-256 round's moves), mixing one in
  (func $rotate (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32) (local $t i32)
    (local.set $a (i32.const 1)) (local.set $b (i32.const 2))
    (local.set $c (i32.const 3)) (local.set $d (i32.const 4))
    (local.set $e (i32.const 5)) (local.set $f (i32.const 6))
    (local.set $g (i32.const 7)) (local.set $h (i32.const 8))
    (loop $l
      (local.set $t (i32.add (local.get $h) (i32.mul (local.get $a) (i32.const 3))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (local.get $d))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (local.get $t))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ;; a digest of the eight, position-sensitive
    (i32.add
      (i32.add (i32.add (local.get $a) (i32.mul (local.get $b) (i32.const 7)))
               (i32.add (i32.mul (local.get $c) (i32.const 49)) (i32.mul (local.get $d) (i32.const 343))))
      (i32.add (i32.add (i32.mul (local.get $e) (i32.const 2401)) (i32.mul (local.get $f) (i32.const 16807)))
               (i32.add (i32.mul (local.get $g) (i32.const 117649)) (i32.mul (local.get $h) (i32.const 823543))))))
  ;; the same rotation written out once in plain arithmetic (no moves in a
  ;; row): a reference for $rotate
  (func $rotate_ref (param $n i32) (result i32) (local $i i32)
    (local $v i32) (local $w i32)
    ;; values live in memory-free form: a..h = r[0..7] in a rolling window
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $r4 i32) (local $r5 i32) (local $r6 i32) (local $r7 i32)
    (local.set $r0 (i32.const 1)) (local.set $r1 (i32.const 2))
    (local.set $r2 (i32.const 3)) (local.set $r3 (i32.const 4))
    (local.set $r4 (i32.const 5)) (local.set $r5 (i32.const 6))
    (local.set $r6 (i32.const 7)) (local.set $r7 (i32.const 8))
    (loop $l
      (local.set $v (i32.add (local.get $r7) (i32.mul (local.get $r0) (i32.const 3))))
      ;; shift by arithmetic on a 0 factor between each move, so no two
      ;; moves are adjacent
      (local.set $r7 (i32.add (local.get $r6) (local.get $w)))
      (local.set $r6 (i32.add (local.get $r5) (local.get $w)))
      (local.set $r5 (i32.add (local.get $r4) (local.get $w)))
      (local.set $r4 (i32.add (local.get $r3) (local.get $w)))
      (local.set $r3 (i32.add (local.get $r2) (local.get $w)))
      (local.set $r2 (i32.add (local.get $r1) (local.get $w)))
      (local.set $r1 (i32.add (local.get $r0) (local.get $w)))
      (local.set $r0 (local.get $v))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i32.add
      (i32.add (i32.add (local.get $r0) (i32.mul (local.get $r1) (i32.const 7)))
               (i32.add (i32.mul (local.get $r2) (i32.const 49)) (i32.mul (local.get $r3) (i32.const 343))))
      (i32.add (i32.add (i32.mul (local.get $r4) (i32.const 2401)) (i32.mul (local.get $r5) (i32.const 16807)))
               (i32.add (i32.mul (local.get $r6) (i32.const 117649)) (i32.mul (local.get $r7) (i32.const 823543))))))

  (func (export "test_chain") (result i32)
    (i32.eq (call $chain (i32.const 7) (i32.const 1) (i32.const 2)) (i32.const 707)))
  (func (export "test_swap") (result i32)
    (i32.eq (call $swap (i32.const 3) (i32.const 5)) (i32.const 47)))
  (func (export "test_label_between") (result i32)
    (i32.and (i32.eq (call $label_between (i32.const 0)) (i32.const 22))
             (i32.eq (call $label_between (i32.const 1)) (i32.const 11))))
  (func (export "test_rotate") (result i32)
    (i32.and
      (i32.eq (call $rotate (i32.const 1)) (call $rotate_ref (i32.const 1)))
      (i32.and (i32.eq (call $rotate (i32.const 13)) (call $rotate_ref (i32.const 13)))
               (i32.eq (call $rotate (i32.const 1000)) (call $rotate_ref (i32.const 1000))))))
  ;; the expected value itself, so the two functions cannot agree on a
  ;; wrong answer: after one round a = 8 + 3, the others shift by one
  (func (export "test_rotate_one") (result i32)
    (i32.eq (call $rotate (i32.const 1))
            (i32.add
              (i32.add (i32.add (i32.const 11) (i32.mul (i32.const 1) (i32.const 7)))
                       (i32.add (i32.mul (i32.const 2) (i32.const 49)) (i32.mul (i32.const 3) (i32.const 343))))
              (i32.add (i32.add (i32.mul (i32.const 4) (i32.const 2401)) (i32.mul (i32.const 5) (i32.const 16807)))
                       (i32.add (i32.mul (i32.const 6) (i32.const 117649)) (i32.mul (i32.const 7) (i32.const 823543)))))))
)
