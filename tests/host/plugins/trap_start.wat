;; trap_start.wat - traps in its start function (at instantiation, in init).
(module
  (func $start unreachable)
  (start $start)
  (func (export "f") (result i32) (i32.const 0)))
