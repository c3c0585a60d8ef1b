;; wasi.wat - WASI without any configuration: fd_write works (output is
;; captured), a bad pointer gets EFAULT (21) instead of a trap, opening a
;; file finds no preopen (EBADF, 8), proc_exit ends the call.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  ;; iovec at 0: {ptr=16, len=3}; nwritten at 8
  (data (i32.const 0) "\10\00\00\00\03\00\00\00")
  (func (export "write") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "written") (result i32) (i32.load (i32.const 8)))
  (func (export "write_bad") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0xFFFFFFF0) (i32.const 1) (i32.const 8)))
  (func (export "open") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 2) (i32.const 0)
                     (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 8)))
  (func (export "exit") (result i32)
    (call $exit (i32.const 3))
    (i32.const 0)))
