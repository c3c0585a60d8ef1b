;; wasi.wat - uses WASI before it exists: fd_write gets ENOSYS (52),
;; proc_exit ends the call.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "write") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "exit") (result i32)
    (call $exit (i32.const 3))
    (i32.const 0)))
