;; reload_b.wat - version B of the hot-reload tests (test_reload.c): "who"
;; answers "B"; a counter handed over by state_save / state_restore
;; ("count" answers it as 4 little-endian bytes); a dispose hook (it runs
;; when the version is replaced).
(module
  (import "wasmplug" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "wasmplug" "output_write" (func $out (param i32 i32) (result i32)))
  (memory 1)
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 0) "B")
  (func (export "wasmplug_init") (result i32) (i32.const 0))
  (func (export "wasmplug_dispose") (result i32) (i32.const 0))
  (func (export "who") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (drop (call $out (i32.const 0) (i32.const 1)))
    (i32.const 0))
  (func (export "count") (result i32)
    (i32.store (i32.const 16) (global.get $count))
    (drop (call $out (i32.const 16) (i32.const 4)))
    (i32.const 0))
  (func (export "state_save") (result i32)
    (i32.store (i32.const 16) (global.get $count))
    (drop (call $out (i32.const 16) (i32.const 4)))
    (i32.const 0))
  (func (export "state_restore") (result i32)
    (if (i32.ne (call $in (i32.const 16) (i32.const 4) (i32.const 0)) (i32.const 4))
      (then (return (i32.const 1))))
    (global.set $count (i32.load (i32.const 16)))
    (i32.const 0)))
