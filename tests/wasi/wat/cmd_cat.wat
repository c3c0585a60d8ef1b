;; cmd_cat.wat - a WASI command copying stdin to stdout (then "!" to stderr);
;; exits with the number of fd_read calls that returned data, capped at 100.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 32) "!")
  (func (export "_start") (local $n i32) (local $reads i32)
    (loop $copy
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 4096))
      (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (call $proc_exit (i32.const 99))))
      (local.set $n (i32.load (i32.const 8)))
      (if (local.get $n)
        (then
          (local.set $reads (i32.add (local.get $reads) (i32.const 1)))
          (i32.store (i32.const 4) (local.get $n))
          (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
          (br $copy))))
    (i32.store (i32.const 16) (i32.const 32))
    (i32.store (i32.const 20) (i32.const 1))
    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8)))
    (call $proc_exit (select (local.get $reads) (i32.const 100)
                             (i32.lt_u (local.get $reads) (i32.const 100))))))
