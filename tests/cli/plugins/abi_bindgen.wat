;; abi_bindgen.wat - a module shaped as wasm-bindgen makes them (an import
;; from __wbindgen_placeholder__, the allocator export): inspect and
;; validate name its ABI.
(module
  (import "__wbindgen_placeholder__" "__wbindgen_describe" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "__wbindgen_malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "answer") (result i32) (i32.const 42)))
