;; wasi_plugin.wat - an ABI v1 plugin that uses WASI, for `run`'s WASI
;; grants: hello (writes to stdout and stderr; output "ok", or "errno N"
;; when WASI is not linked), env (output: its environment, one per line),
;; readfile (output: the first 200 bytes of x.txt in its first preopened
;; directory, or "errno N").
(module
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "plugin stdout\n")
  (data (i32.const 120) "plugin stderr\n")
  (data (i32.const 140) "ok")
  (data (i32.const 150) "errno ")
  (data (i32.const 160) "x.txt")

  ;; output "errno N" (N < 100)
  (func $errno (param $e i32) (result i32)
    (i32.store8 (i32.const 156) (i32.add (i32.const 48) (i32.div_u (local.get $e) (i32.const 10))))
    (i32.store8 (i32.const 157) (i32.add (i32.const 48) (i32.rem_u (local.get $e) (i32.const 10))))
    (drop (call $output_write (i32.const 150) (i32.const 8)))
    (i32.const 0))

  (func (export "hello") (result i32)
    (local $e i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 14))
    (local.set $e (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (local.get $e) (then (return (call $errno (local.get $e)))))
    (i32.store (i32.const 0) (i32.const 120))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $output_write (i32.const 140) (i32.const 2)))
    (i32.const 0))

  (func (export "env") (result i32)
    (local $i i32) (local $len i32) (local $e i32)
    (local.set $e (call $sizes (i32.const 0) (i32.const 4)))
    (if (local.get $e) (then (return (call $errno (local.get $e)))))
    (local.set $len (i32.load (i32.const 4)))
    (drop (call $environ_get (i32.const 256) (i32.const 4096)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eqz (i32.load8_u (i32.add (i32.const 4096) (local.get $i))))
          (then (i32.store8 (i32.add (i32.const 4096) (local.get $i)) (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (drop (call $output_write (i32.const 4096) (local.get $len)))
    (i32.const 0))

  (func (export "readfile") (result i32)
    (local $e i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 160) (i32.const 5)
                    (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)))
    (if (local.get $e) (then (return (call $errno (local.get $e)))))
    (i32.store (i32.const 16) (i32.const 8192))
    (i32.store (i32.const 20) (i32.const 200))
    (local.set $e (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 24)))
    (if (local.get $e) (then (return (call $errno (local.get $e)))))
    (drop (call $output_write (i32.const 8192) (i32.load (i32.const 24))))
    (i32.const 0)))
