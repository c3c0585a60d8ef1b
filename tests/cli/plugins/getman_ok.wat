;; getman_ok.wat - a module describing itself: plugin_get_manifest answers a
;; manifest (address << 32 | length) in the permissions.resources /
;; capabilities layout with a bare host function name (tests/cli/test-messages.sh).
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "id: self-described\nversion: 2.1.0\npermissions:\n  host_functions: [get_file_content]\n  resources: {max_execution_time: 5s}\n  capabilities: {network: false}\n")
  (func (export "plugin_get_manifest") (result i64)
    (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 155)))
  (func (export "answer") (result i32) (i32.const 0)))
