;; needs_log.wat - imports the CLI's host function host.log: loads only when
;; the manifest requests (and the operator does not deny) the permission.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "logged")
  (func (export "run") (result i32)
    (call $log (i32.const 0) (i32.const 6))
    (drop (call $output_write (i32.const 0) (i32.const 6)))
    (i32.const 0)))
