;; trap_call.wat - every call of "f" traps (out of bounds memory access).
(module
  (memory 1)
  (func (export "f") (result i32)
    (i32.load (i32.const 70000))))
