;; imports_exports.wat - host functions (values in and out, calls back into
;; host from nested wasm calls, a failing host function), an imported memory
;; the host also sees, an imported table, re-exported imports, and exports
;; of every kind.
(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (import "host" "log_i32" (func $log_i32 (param i32)))
  (import "host" "log" (func $log (param i32 i32)))
  (import "host" "calls" (func $calls (result i32)))
  (import "host" "fail" (func $fail))
  (import "host" "memory" (memory $mem 1 4))
  (import "host" "table" (table $tab 4 16 funcref))
  (export "add_again" (func $add))
  (export "mem" (memory $mem))
  (export "tab" (table $tab))
  (data (i32.const 16) "hello from wasm")
  (type $ii_i (func (param i32 i32) (result i32)))
  (elem (table $tab) (i32.const 1) func $add $twice)

  (func $twice (param i32 i32) (result i32)
    (call $add (call $add (local.get 0) (local.get 1)) (call $add (local.get 0) (local.get 1))))

  (func (export "test_host_add") (result i32)
    (i32.and
      (i32.eq (call $add (i32.const 40) (i32.const 2)) (i32.const 42))
      (i32.eq (call $add (i32.const 0x7fffffff) (i32.const 1)) (i32.const 0x80000000))))
  (func (export "test_host_nested") (result i32)
    (i32.eq (call $twice (i32.const 3) (i32.const 4)) (i32.const 14)))
  (func (export "test_host_log") (result i32)
    (local i32)
    (local.set 0 (call $calls))
    (call $log_i32 (i32.const 7))
    (call $log (i32.const 16) (i32.const 15))
    (i32.eq (call $calls) (i32.add (local.get 0) (i32.const 2))))
  (func (export "test_imported_memory") (result i32)
    (i32.and
      (i32.eq (i32.load8_u (i32.const 16)) (i32.const 0x68))
      (i32.eq (memory.size) (i32.const 1))))
  (func (export "test_host_through_table") (result i32)
    (i32.and
      (i32.eq (call_indirect $tab (type $ii_i) (i32.const 1) (i32.const 2) (i32.const 1)) (i32.const 3))
      (i32.eq (call_indirect $tab (type $ii_i) (i32.const 1) (i32.const 2) (i32.const 2)) (i32.const 6))))
  (func (export "test_imported_table") (result i32)
    (i32.and
      (i32.eq (table.size $tab) (i32.const 4))
      (ref.is_null (table.get $tab (i32.const 0)))))
  (func (export "trap_host_error") (call $fail))
  (func (export "trap_host_error_nested") (result i32)
    (call $fail)
    (i32.const 1))
  (func (export "test_usable_after_host_error") (result i32)
    (i32.eq (call $add (i32.const 1) (i32.const 1)) (i32.const 2)))
  (func (export "exported_func") (param i64) (result i64) (local.get 0))
  (global (export "exported_global") (mut f32) (f32.const 1))
)
