;; http_get.wat - the HTTP benchmark's plugin: get() sends its input as a
;; wasmplug.http_request (docs/ABI.md) and outputs the response's status
;; line, reading no more of the result than the 64 bytes it offered.
(module
  (import "wasmplug" "input_len" (func $input_len (result i32)))
  (import "wasmplug" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "wasmplug" "http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "get") (result i32)
    (local $n i32) (local $r i32)
    (local.set $n (call $input_len))
    (drop (call $input_read (i32.const 1024) (local.get $n) (i32.const 0)))
    (local.set $r (call $http (i32.const 1024) (local.get $n) (i32.const 0) (i32.const 64)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (i32.sub (i32.const 0) (local.get $r)))))
    (drop (call $output_write (i32.const 0) (i32.const 4)))
    (i32.const 0)))
