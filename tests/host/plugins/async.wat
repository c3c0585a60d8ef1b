;; async.wat - the plugin of the async-call tests (test_async.c): "echo"
;; answers its input; "forever" loops until it is cancelled or killed.
(module
  (import "wasmplug" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "wasmplug" "output_write" (func $out (param i32 i32) (result i32)))
  (memory 1)
  (func (export "echo") (result i32)
    (local $n i32)
    (local.set $n (call $in (i32.const 0) (i32.const 4096) (i32.const 0)))
    (drop (call $out (i32.const 0) (local.get $n)))
    (i32.const 0))
  (func (export "forever") (result i32)
    (loop $l (br $l))
    (i32.const 0)))
