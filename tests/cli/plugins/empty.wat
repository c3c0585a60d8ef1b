;; empty.wat - the smallest ABI v1 plugin: one call that does nothing (the
;; cold-start measurement).
(module
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory 1)
  (func (export "run") (result i32) (i32.const 0)))
