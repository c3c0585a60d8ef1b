;; wasi.wat - stand-in for the WASI imports of the C reactor plugin, for
;; wabt's spectest-interp cross-check. The cross-checked calls never write
;; to a file descriptor, so every function fails with EBADF (8), except
;; fd_close which succeeds.
(module
  (func (export "fd_write") (param i32 i32 i32 i32) (result i32) i32.const 8)
  (func (export "fd_fdstat_get") (param i32 i32) (result i32) i32.const 8)
  (func (export "fd_seek") (param i32 i64 i32 i32) (result i32) i32.const 8)
  (func (export "fd_close") (param i32) (result i32) i32.const 0))
