;; denied.wat - imports env.secret, which the tests never grant.
(module
  (import "env" "secret" (func $secret (result i32)))
  (func (export "f") (result i32) (call $secret)))
