;; reload_bad.wat - a version whose init fails (test_reload.c): a reload to
;; it must leave the running version serving.
(module
  (import "wasmplug" "error_set" (func $err (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "cannot start")
  (func (export "wasmplug_init") (result i32)
    (call $err (i32.const 0) (i32.const 12))
    (i32.const 3))
  (func (export "who") (result i32) (i32.const 0)))
