;; globals.wat - defined and imported globals of every type, mutable and
;; immutable, initializers from imported globals, exported globals, and
;; reference-typed globals.
(module
  (import "host" "global_i32" (global $imp_i32 i32))
  (import "host" "global_mut_i64" (global $imp_i64 (mut i64)))
  (import "host" "global_f64" (global $imp_f64 f64))
  (global $a i32 (i32.const -7))
  (global $b (mut i64) (i64.const 0x100000000))
  (global $c (mut f32) (f32.const 1.5))
  (global $d f64 (f64.const -0.25))
  (global $from_import i32 (global.get $imp_i32))
  (global $from_import_f64 (mut f64) (global.get $imp_f64))
  (global $fref (mut funcref) (ref.func $f))
  (global $eref (mut externref) (ref.null extern))
  (global (export "exported_i32") i32 (i32.const 1234))
  (global $counter (export "counter") (mut i32) (i32.const 0))

  (func $f (result i32) (i32.const 5))
  (type $v_i (func (result i32)))
  (table 1 funcref)

  (func (export "test_defined") (result i32)
    (i32.and
      (i32.and (i32.eq (global.get $a) (i32.const -7))
               (i64.eq (global.get $b) (i64.const 0x100000000)))
      (i32.and (f32.eq (global.get $c) (f32.const 1.5))
               (f64.eq (global.get $d) (f64.const -0.25)))))
  (func (export "test_set") (result i32)
    (global.set $b (i64.add (global.get $b) (i64.const 1)))
    (global.set $c (f32.neg (global.get $c)))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.and
      (i32.and (i64.eq (global.get $b) (i64.const 0x100000001))
               (f32.eq (global.get $c) (f32.const -1.5)))
      (i32.eq (global.get $counter) (i32.const 1))))
  (func (export "test_imported") (result i32)
    (i32.and
      (i32.and (i32.eq (global.get $imp_i32) (i32.const 42))
               (f64.eq (global.get $imp_f64) (f64.const 2.5)))
      (i32.and (i32.eq (global.get $from_import) (i32.const 42))
               (f64.eq (global.get $from_import_f64) (f64.const 2.5)))))
  (func (export "test_imported_mutable") (result i32)
    ;; the host's global is shared: the change is visible through the import
    (global.set $imp_i64 (i64.mul (global.get $imp_i64) (i64.const 3)))
    (i64.eq (global.get $imp_i64) (i64.const 300)))
  (func (export "test_ref_globals") (result i32)
    (local i32)
    (table.set 0 (i32.const 0) (global.get $fref))
    (local.set 0 (i32.eq (call_indirect (type $v_i) (i32.const 0)) (i32.const 5)))
    (global.set $fref (ref.null func))
    (i32.and (local.get 0)
      (i32.and (ref.is_null (global.get $fref)) (ref.is_null (global.get $eref)))))
)
