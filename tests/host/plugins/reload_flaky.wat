;; reload_flaky.wat - a version that initializes but whose "who" fails
;; (test_reload.c: the health gate rolls back from it).
(module
  (func (export "wasmplug_init") (result i32) (i32.const 0))
  (func (export "who") (result i32) (i32.const 7)))
