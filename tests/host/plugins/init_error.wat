;; init_error.wat - wasmplug_init reports an error (returns 2 with a message).
(module
  (import "wasmplug" "error_set" (func $err (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "no config given")
  (func (export "wasmplug_init") (result i32)
    (call $err (i32.const 0) (i32.const 15))
    (i32.const 2))
  (func (export "f") (result i32) (i32.const 0)))
