;; at_limit.wat - a memory whose minimum is the host's limit (16 pages in
;; test_hostile.c). "boom" never asks to grow, so its trap is a plain trap;
;; "refused" has a memory.grow refused before its trap (the memory limit).
(module
  (memory 16)
  (func (export "boom") (result i32)
    unreachable)
  (func (export "refused") (result i32)
    (drop (memory.grow (i32.const 1)))
    unreachable))
