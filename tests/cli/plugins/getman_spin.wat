;; getman_spin.wat - plugin_get_manifest never returns.
(module
  (memory (export "memory") 1)
  (func (export "plugin_get_manifest") (result i64)
    (loop $l (br $l))
    (i64.const 0)))
