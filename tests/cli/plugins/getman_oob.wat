;; getman_oob.wat - plugin_get_manifest names bytes outside its memory.
(module
  (memory (export "memory") 1)
  (func (export "plugin_get_manifest") (result i64)
    (i64.or (i64.shl (i64.const 65530) (i64.const 32)) (i64.const 100))))
