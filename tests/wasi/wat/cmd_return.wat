;; cmd_return.wat - a WASI command whose _start returns (exit code 0).
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $yield))))
