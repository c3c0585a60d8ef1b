;; simd.wat - uses a SIMD instruction: must be refused as an unsupported feature.
(module
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory 1)
  (func (export "run") (result i32)
    (v128.store (i32.const 0) (v128.const i32x4 1 2 3 4))
    (i32.const 0)))
