;; loop_init.wat - wasmplug_init never returns (stopped by the timeout).
(module
  (func (export "wasmplug_init") (result i32)
    (loop $l (br $l))
    (i32.const 0))
  (func (export "f") (result i32) (i32.const 0)))
