;; ev_trivial.wat - the event bus benchmark's subscriber: an ABI v1 event
;; handler that accepts every event (or batch) and does nothing.
(module
  (memory (export "memory") 1)
  (func (export "on_event") (result i32)
    i32.const 0))
