;; env.wat - stand-in for the AssemblyScript env imports when wabt's
;; spectest-interp cross-checks the driver's expectations
;; (tests/toolchains/wabt-crosscheck.sh). abort() traps, as in the driver.
(module
  (func (export "abort") (param i32 i32 i32 i32)
    unreachable))
