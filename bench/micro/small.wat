;; small.wat - a minimal plugin for the instantiation micro-benchmarks:
;; a 1-page memory, a global, a table and a few functions.
(module
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $inc $get)
  (func $inc (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func $get (result i32) (global.get $counter))
  (func (export "run") (result i32) (call $inc) (call $get))
  (data (i32.const 16) "hello"))
