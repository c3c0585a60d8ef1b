;; trap_initialize.wat - traps in the WASI reactor hook _initialize.
(module
  (func (export "_initialize") unreachable)
  (func (export "f") (result i32) (i32.const 0)))
