;; host.wat - stand-in for the "host" module the Rust and Zig plugins import,
;; for wabt's spectest-interp cross-check. Same arithmetic as the C host
;; functions in test_toolchains.c; log() cannot see the plugin's memory here,
;; so it does nothing (the driver checks the logged text itself).
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func (export "scale") (param f64) (result f64)
    local.get 0
    f64.const 2.5
    f64.mul)
  (func (export "log") (param i32 i32)))
