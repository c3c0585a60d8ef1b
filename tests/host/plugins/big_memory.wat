;; big_memory.wat - declares 100 pages, more than the tests' limit of 16.
(module
  (memory 100)
  (func (export "f") (result i32) (i32.const 0)))
