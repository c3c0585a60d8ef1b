;; unknown_import.wat - imports a host function nobody registered.
(module
  (import "env" "nope" (func (result i32)))
  (func (export "f") (result i32) (i32.const 0)))
