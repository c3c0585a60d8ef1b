;; http_client.wat - a plugin that sends its input, as the raw bytes of
;; wasmplug.http_request (docs/ABI.md), and outputs the import's return
;; value (4 bytes, little endian) followed by the whole result, read back
;; in 1000-byte chunks with result_read after offering only 16 bytes.
;; plugin_handle_event does the same through the compatibility ABI.
(module
  (import "wasmplug" "input_len" (func $input_len (result i32)))
  (import "wasmplug" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "wasmplug" "result_read" (func $result_read (param i32 i32 i32) (result i32)))
  (import "wasmplug" "http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 64)

  ;; request bytes at 0x10000, result at 0x200000
  (func (export "fetch") (result i32)
    (local $n i32) (local $off i32) (local $k i32)
    (local.set $n (call $input_len))
    (drop (call $input_read (i32.const 0x10000) (local.get $n) (i32.const 0)))
    (i32.store (i32.const 0x100)
      (call $http (i32.const 0x10000) (local.get $n) (i32.const 0x200000) (i32.const 16)))
    (drop (call $output_write (i32.const 0x100) (i32.const 4)))
    (block $done
      (loop $more
        (local.set $k (call $result_read (i32.const 0x200000) (i32.const 1000) (local.get $off)))
        (br_if $done (i32.le_s (local.get $k) (i32.const 0)))
        (drop (call $output_write (i32.const 0x200000) (local.get $k)))
        (local.set $off (i32.add (local.get $off) (local.get $k)))
        (br $more)))
    (i32.const 0))

  ;; compatibility ABI: one fixed input region, the result returned packed
  (func (export "alloc") (param i32) (result i32) (i32.const 0x300000))
  (func (export "dealloc") (param i32 i32))
  (func (export "plugin_handle_event") (param $p i32) (param $l i32) (result i64)
    (local $r i32)
    (local.set $r
      (call $http (local.get $p) (local.get $l) (i32.const 0x200000) (i32.const 0x100000)))
    (if (i32.lt_s (local.get $r) (i32.const 0))
      (then (local.set $r
        (call $result_read (i32.const 0x200000) (i32.const 0x100000) (i32.const 0)))))
    (i64.or (i64.shl (i64.const 0x200000) (i64.const 32)) (i64.extend_i32_u (local.get $r)))))
