;; wasi_exit3.wat - a WASI command that exits with status 3 (exec reports
;; the module's own exit status).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.const 3))))
