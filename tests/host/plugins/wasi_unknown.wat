;; wasi_unknown.wat - imports a function WASI preview 1 does not have: the
;; load fails naming it.
(module
  (import "wasi_snapshot_preview1" "sock_magic" (func (param i32) (result i32)))
  (func (export "f") (result i32) (i32.const 0)))
