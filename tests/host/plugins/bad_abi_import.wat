;; bad_abi_import.wat - imports a name that is not part of ABI v1.
(module
  (import "wasmplug" "frobnicate" (func (result i32)))
  (func (export "f") (result i32) (i32.const 0)))
