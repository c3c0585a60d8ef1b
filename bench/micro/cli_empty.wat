;; cli_empty.wat - an empty plugin for the CLI start-up micro-benchmark:
;; `wasmplug exec` runs its empty _start, `wasmplug run ... noop` its bytes
;; function that returns 0 (success, no output).
(module
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "noop") (result i32) (i32.const 0)))
