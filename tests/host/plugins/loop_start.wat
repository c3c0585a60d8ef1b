;; loop_start.wat - a start function that never returns: the host runs start
;; functions under the call timeout, so init fails with ERR_TIMEOUT.
(module
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "f") (result i32) (i32.const 0)))
