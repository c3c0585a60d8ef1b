;; init_hold.wat - wasmplug_init ends in a host function (env.hold) that the
;; test holds until it has cancelled the init: the interrupt arrives after
;; the last check of the init code, which then succeeds. The interrupt must
;; not be left pending for the next call (test_threads.c).
(module
  (import "env" "hold" (func $hold (result i32)))
  (import "wasmplug" "output_write" (func $out (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "hello")
  (func (export "wasmplug_init") (result i32)
    (drop (call $hold))
    (i32.const 0))
  (func (export "hello") (result i32)
    (drop (call $out (i32.const 0) (i32.const 5)))
    (i32.const 0)))
