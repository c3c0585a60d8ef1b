;; segments.wat - active data and element segments (constant and global
;; offsets, several segments, overlapping writes in order), passive and
;; declarative element segments, element expressions (ref.func, ref.null).
(module
  (import "host" "global_i32" (global $g i32)) ;; 42
  (memory 1)
  (data (i32.const 0) "abcd")
  (data (i32.const 2) "XY")          ;; later segments overwrite earlier ones
  (data (global.get $g) "\01\02")     ;; at 42
  (data (i32.const 65535) "z")        ;; the very last byte
  (data (i32.const 100) "")           ;; empty

  (type $v_i (func (result i32)))
  (table 10 funcref)
  (elem (i32.const 0) $f0 $f1)
  (elem (i32.const 10) func)          ;; empty, right at the end: fine
  (elem (i32.const 5) funcref (ref.func $f1) (ref.null func) (ref.func $f0))
  (elem $passive funcref (ref.func $f1))
  (elem declare func $f0)
  (func $f0 (result i32) (i32.const 100))
  (func $f1 (result i32) (i32.const 101))
  (func $call (param i32) (result i32) (call_indirect (type $v_i) (local.get 0)))

  (func (export "test_data") (result i32)
    (i32.and
      (i32.and (i32.eq (i32.load (i32.const 0)) (i32.const 0x59586261)) ;; "abXY"
               (i32.eq (i32.load16_u (i32.const 42)) (i32.const 0x0201)))
      (i32.and (i32.eq (i32.load8_u (i32.const 65535)) (i32.const 0x7a))
               (i32.eqz (i32.load8_u (i32.const 100))))))
  (func (export "test_elem") (result i32)
    (i32.and
      (i32.and (i32.eq (call $call (i32.const 0)) (i32.const 100))
               (i32.eq (call $call (i32.const 1)) (i32.const 101)))
      (i32.and
        (i32.and (i32.eq (call $call (i32.const 5)) (i32.const 101))
                 (ref.is_null (table.get 0 (i32.const 6))))
        (i32.and (i32.eq (call $call (i32.const 7)) (i32.const 100))
                 (ref.is_null (table.get 0 (i32.const 2)))))))
  (func (export "test_passive_elem") (result i32)
    (table.init $passive (i32.const 9) (i32.const 0) (i32.const 1))
    (i32.eq (call $call (i32.const 9)) (i32.const 101)))
  (func (export "test_declared_ref_func") (result i32)
    (i32.eqz (ref.is_null (ref.func $f0))))
)
