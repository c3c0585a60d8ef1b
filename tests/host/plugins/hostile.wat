;; hostile.wat - call-phase attacks, each of which the host must stop with
;; its own error: an infinite loop (timeout / fuel / cancel), a recursion
;; bomb (call depth), a memory.grow bomb (memory limit), an output bomb
;; (output size), out-of-bounds pointers to host functions and ABI imports,
;; and a plain trap deep in named functions (backtrace).
(module
  (import "wasmplug" "output_write" (func $out (param i32 i32) (result i32)))
  (import "wasmplug" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "env" "peek" (func $peek (param i32 i32) (result i32)))
  (import "env" "upper" (func $upper (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "loop") (result i32)
    (loop $l (br $l))
    (i32.const 0))
  (func $rec (export "recurse") (result i32)
    (i32.add (call $rec) (i32.const 1)))
  (func (export "grow") (result i32)
    (loop $l
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
        (then unreachable))
      (br $l))
    (i32.const 0))
  (func (export "outbomb") (result i32)
    (loop $l
      (drop (call $out (i32.const 0) (i32.const 65536)))
      (br $l))
    (i32.const 0))
  (func (export "badptr") (result i32)
    (call $peek (i32.const 0xFFFFFFF0) (i32.const 100)))
  (func (export "badout") (result i32)
    (call $out (i32.const 65000) (i32.const 1000)))
  (func (export "badin") (result i32)
    (call $in (i32.const 65530) (i32.const 100) (i32.const 0)))
  (func (export "badbytes") (result i32)
    (call $upper (i32.const 0) (i32.const 4) (i32.const 65530) (i32.const 100)))
  (func (export "peek_ok") (result i32)
    (call $peek (i32.const 0) (i32.const 16)))
  (func (export "trap") (result i32)
    (call $outer)
    (i32.const 0))
  (func $outer (call $inner))
  (func $inner (drop (i32.div_s (i32.const 1) (i32.const 0))))
  ;; global state survives successful calls only
  (func (export "calls") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (global.get $calls))
)
