;; link_other.wat - imports a non-WASI function: a WASI-only link must fail.
(module
  (import "env" "thing" (func))
  (memory (export "memory") 1)
  (func (export "_start")))
