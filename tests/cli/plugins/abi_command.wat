;; abi_command.wat - the command ABI's exports (docs/ABI.md "Command
;; plugins") doing nothing: inspect and validate name its ABI.
(module
  (memory (export "memory") 1)
  ;; One buffer at 1024 for every allocation (inputs here are small).
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "dealloc") (param i32 i32))
  (func (export "initialize") (param i32 i32) (result i32) (i32.const 0))
  (func (export "handle_command") (param i32 i32) (result i32) (i32.const 0))
  (func (export "shutdown") (result i32) (i32.const 0)))
