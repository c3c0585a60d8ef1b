;; threads.wat - uses a shared memory and an atomic instruction (the threads
;; proposal): must be refused as an unsupported feature. Built with
;; --enable-threads (tests/cli/CMakeLists.txt).
(module
  (memory 1 1 shared)
  (func (export "run") (result i32)
    (i32.atomic.load (i32.const 0))))
