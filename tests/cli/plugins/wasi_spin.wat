;; wasi_spin.wat - a WASI command that never ends (exec --timeout / --fuel).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l (br $l))))
