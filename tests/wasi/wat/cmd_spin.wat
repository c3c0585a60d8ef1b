;; cmd_spin.wat - a WASI command that never ends (stopped by fuel in the tests).
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))
