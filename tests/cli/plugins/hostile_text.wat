;; hostile_text.wat - a plugin whose names and text try to drive the
;; terminal (tests/cli/test-terminal.sh): export names with ESC sequences, a
;; newline and an 8-bit CSI (U+009B); log lines (host.log and the ABI's log)
;; and output with the same; a trap in a function whose name-section name
;; the test patches to hold an escape sequence and a newline (the same
;; number of bytes as the placeholder QQQQQQQQ... below).
(module
  (import "host" "log" (func $host_log (param i32 i32)))
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory 1)
  ;; "\1b]0;pwned\07" sets the window title; "\1b[2J" clears the screen.
  (data (i32.const 0) "log\1b]0;pwned\07\0a[fake] line\c2\9b31m")
  (data (i32.const 100) "out\1b[2J\0d\ff done")
  (func (export "run") (result i32)
    (call $host_log (i32.const 0) (i32.const 30))
    (call $log (i32.const 2) (i32.const 0) (i32.const 30))
    (drop (call $output_write (i32.const 100) (i32.const 14)))
    (i32.const 0))
  (func $QQQQQQQQQQQQQQQQ (export "crash\1b[31m\0aforged\c2\9b") (result i32)
    unreachable))
