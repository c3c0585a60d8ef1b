;; simd.wat - a plugin computing with SIMD: writes "ABCDEFGHIJKLMNOP", the
;; 16 bytes of "@@@@..." plus the lane numbers 1..16 added by i8x16.add.
(module
  (import "wasmplug" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory 1)
  (func (export "run") (result i32)
    (v128.store (i32.const 0)
      (i8x16.add (i8x16.splat (i32.const 0x40))
                 (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)))
    (drop (call $output_write (i32.const 0) (i32.const 16)))
    (i32.const 0)))
