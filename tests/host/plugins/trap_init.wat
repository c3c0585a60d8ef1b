;; trap_init.wat - wasmplug_init divides by zero.
(module
  (func (export "wasmplug_init") (result i32)
    (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "f") (result i32) (i32.const 0)))
