;; micro.wat - the module of the call micro-benchmarks (bench/micro.c).
(module
  (import "bench" "nop" (func $nop))
  (import "bench" "input_len" (func $input_len (result i32)))
  (import "bench" "input_read" (func $input_read (param i32 i32)))
  (import "bench" "output_write" (func $output_write (param i32 i32)))
  (memory (export "memory") 1)

  ;; typed empty calls host -> wasm
  (func (export "empty"))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))

  ;; wasm -> host: n calls of an empty host function, and the bare loop
  (func (export "call_host") (param $n i32)
    (loop $l
      (call $nop)
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l)))
  (func (export "loop_only") (param $n i32)
    (loop $l
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l)))

  ;; a bytes-ABI call: read the input through the host, write it back out
  (func (export "echo") (result i32)
    (local $len i32)
    (local.set $len (call $input_len))
    (call $input_read (i32.const 1024) (local.get $len))
    (call $output_write (i32.const 1024) (local.get $len))
    (i32.const 0)))
