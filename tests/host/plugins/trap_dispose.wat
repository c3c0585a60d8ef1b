;; trap_dispose.wat - wasmplug_dispose traps; calls work before that.
(module
  (func (export "wasmplug_dispose") (result i32) unreachable)
  (func (export "f") (result i32) (i32.const 0)))
