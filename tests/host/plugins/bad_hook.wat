;; bad_hook.wat - wasmplug_init with the wrong type.
(module
  (func (export "wasmplug_init") (param i32) (result i32) (local.get 0)))
