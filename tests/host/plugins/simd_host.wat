;; simd_host.wat - a plugin passing v128 values to and from a typed host
;; function with the compact signature "(iV)Vi" (tests/host/test_simd.c).
(module
  (import "env" "vmix" (func $vmix (param i32 v128) (result v128 i32)))
  (memory (export "memory") 1)
  ;; (v) -> v * 2 per i32 lane + splat(the host's i32), via the host
  (func (export "mix") (param v128) (result v128)
    (local $k i32)
    (call $vmix (i32.const 3) (local.get 0))
    (local.set $k)
    (i32x4.add (i32x4.splat (local.get $k))))
  (func (export "dot") (param v128 v128) (result i32)
    (local $p v128)
    (local.set $p (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $p)) (i32x4.extract_lane 1 (local.get $p)))
             (i32.add (i32x4.extract_lane 2 (local.get $p)) (i32x4.extract_lane 3 (local.get $p)))))
)
