;; start.wat - the start function runs once, at instantiation, after the
;; data and element segments, and may call host functions.
(module
  (import "host" "log_i32" (func $log_i32 (param i32)))
  (import "host" "calls" (func $calls (result i32)))
  (memory 1)
  (data (i32.const 0) "\05")
  (global $ran (mut i32) (i32.const 0))
  (global $calls_at_start (mut i32) (i32.const -1))
  (table 1 funcref)
  (elem (i32.const 0) $seven)
  (type $v_i (func (result i32)))
  (func $seven (result i32) (i32.const 7))
  (func $start
    (global.set $ran (i32.add (global.get $ran) (i32.const 1)))
    ;; segments are already in place when start runs
    (i32.store (i32.const 4) (i32.add (i32.load8_u (i32.const 0))
                                      (call_indirect (type $v_i) (i32.const 0))))
    (call $log_i32 (i32.const 1))
    (global.set $calls_at_start (call $calls)))
  (start $start)
  (func (export "test_start_ran_once") (result i32)
    (i32.eq (global.get $ran) (i32.const 1)))
  (func (export "test_start_saw_segments") (result i32)
    (i32.eq (i32.load (i32.const 4)) (i32.const 12)))
  (func (export "test_start_called_host") (result i32)
    (i32.and (i32.ge_s (global.get $calls_at_start) (i32.const 1))
             (i32.eq (call $calls) (global.get $calls_at_start))))
)
