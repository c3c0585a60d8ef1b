;; start_calls.wat - its start function already uses the ABI and a host
;; function with a pointer argument (before the host has the instance).
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (import "env" "peek" (func $peek (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 16) "started")
  (global $first (mut i32) (i32.const 0))
  (func $start
    (call $log (i32.const 2) (i32.const 16) (i32.const 7))
    (global.set $first (call $peek (i32.const 16) (i32.const 7))))
  (start $start)
  (func (export "first") (result i32) (global.get $first)))
