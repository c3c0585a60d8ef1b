;; chaos.wat - the plugin of the threaded chaos test (test_chaos.c): calls
;; whose results can be checked (echo, spin), one that always traps, and
;; init/dispose hooks that touch the instance's state.
(module
  (import "wasmplug" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "wasmplug" "output_write" (func $out (param i32 i32) (result i32)))
  (memory 1)
  (global $state (mut i32) (i32.const 0))
  (data (i32.const 0) "done")
  (func (export "wasmplug_init") (result i32)
    (global.set $state (i32.const 1))
    (i32.const 0))
  (func (export "wasmplug_dispose") (result i32)
    (global.set $state (i32.const 0))
    (i32.const 0))
  ;; The input back as output (at most 4096 bytes), only when initialized.
  (func (export "echo") (result i32)
    (local $n i32)
    (if (i32.eqz (global.get $state)) (then unreachable))
    (local.set $n (call $in (i32.const 1024) (i32.const 4096) (i32.const 0)))
    (drop (call $out (i32.const 1024) (local.get $n)))
    (i32.const 0))
  ;; A loop of 200,000 iterations (long enough to be cancelled or killed
  ;; while it runs), then "done".
  (func (export "spin") (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))
    (drop (call $out (i32.const 0) (i32.const 4)))
    (i32.const 0))
  (func (export "trap") (result i32)
    unreachable))
