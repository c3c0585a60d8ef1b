;; hostile_node.wat - a workflow node whose text tries to drive the terminal
;; or break the run's JSON (tests/cli/test-terminal.sh): `fail` sets an
;; error message with an escape sequence and a newline that starts a forged
;; line; `nul` answers bytes that are not JSON and hold NUL characters (the
;; state keeps them as a string with "\u0000").
(module
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "wasmplug" "error_set" (func $error_set (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "bad\1b]0;pwned\07\0a[fake] line")
  (data (i32.const 100) "{\22k\22:1}\00\00\1b[2J")
  (func (export "fail") (result i32)
    (call $error_set (i32.const 0) (i32.const 25))
    (i32.const 1))
  (func (export "nul") (result i32)
    (drop (call $output_write (i32.const 100) (i32.const 13)))
    (i32.const 0)))
