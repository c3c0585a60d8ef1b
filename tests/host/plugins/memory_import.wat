;; memory_import.wat - imports its memory; the host gives every instance a
;; new one (17 pages unless the load options say otherwise).
(module
  (import "env" "memory" (memory 1))
  (func (export "pages") (result i32) memory.size)
  (func (export "poke") (param i32) (i32.store (i32.const 16) (local.get 0)))
  (func (export "peek") (result i32) (i32.load (i32.const 16)))
  (func (export "crash") unreachable))
