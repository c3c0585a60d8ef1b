;; hostile_command.wat - a WASI command whose stdout and stderr try to drive
;; the terminal (tests/cli/test-terminal.sh): an OSC title, a screen clear,
;; a carriage return, an 8-bit CSI and a byte that is not UTF-8, the 8-bit
;; CSI split between two writes.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "cmd\1b]0;pwned\07\1b[2J\0dover\ff\c2")
  (data (i32.const 200) "\9b31m tail\n")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $write (i32.const 1) (i32.const 100) (i32.const 24))
    (call $write (i32.const 1) (i32.const 200) (i32.const 10))
    (call $write (i32.const 2) (i32.const 100) (i32.const 24))
    (call $write (i32.const 2) (i32.const 200) (i32.const 10))))
