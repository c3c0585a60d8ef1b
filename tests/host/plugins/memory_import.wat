;; memory_import.wat - imports a memory (plugins may import functions only).
(module
  (import "env" "memory" (memory 1)))
