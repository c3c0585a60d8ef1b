;; notify_only.wat - a plugin importing one service function (notify).
(module
  (import "wasmplug" "notify" (func $notify (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Done")
  (data (i32.const 16) "red \1b[31m\nnext")  ;; 15 bytes: a terminal escape and a newline
  (func (export "run") (result i32)
    (call $notify (i32.const 1) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)))
  (func (export "escape") (result i32)
    (call $notify (i32.const 3) (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 15))))
