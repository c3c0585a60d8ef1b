;; memory_import_max.wat - imports a memory of 2 to 4 pages.
(module
  (import "env" "memory" (memory 2 4))
  (func (export "pages") (result i32) memory.size)
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))
