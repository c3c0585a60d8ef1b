;; bad_abi_type.wat - imports wasmplug.input_len with the wrong type.
(module
  (import "wasmplug" "input_len" (func (param i32) (result i32)))
  (func (export "f") (result i32) (i32.const 0)))
