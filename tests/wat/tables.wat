;; tables.wat - reference types and table instructions: ref.null,
;; ref.is_null, ref.func, table.get/set/size/grow/fill/copy/init, elem.drop,
;; funcref and externref tables, typed select on references, and the table
;; bounds traps.
(module
  (type $v_i (func (result i32)))
  (table $f 3 10 funcref)
  (table $e 2 externref)
  (elem $seg funcref (ref.func $one) (ref.func $two) (ref.null func) (ref.func $three))
  (elem declare func $four)

  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $three (result i32) (i32.const 3))
  (func $four (result i32) (i32.const 4))
  (func $call (param i32) (result i32) (call_indirect $f (type $v_i) (local.get 0)))

  (func (export "test_null_and_is_null") (result i32)
    (i32.and
      (i32.and (ref.is_null (ref.null func)) (ref.is_null (ref.null extern)))
      (i32.and (i32.eqz (ref.is_null (ref.func $four)))
               (ref.is_null (table.get $e (i32.const 1))))))
  (func (export "test_get_set") (result i32)
    (table.set $f (i32.const 0) (ref.func $four))
    (i32.and
      (i32.eq (call $call (i32.const 0)) (i32.const 4))
      (i32.eqz (ref.is_null (table.get $f (i32.const 0))))))
  (func (export "test_size_grow") (result i32)
    (local i32)
    (local.set 0 (i32.eq (table.size $f) (i32.const 3)))
    (local.set 0 (i32.and (local.get 0)
      (i32.eq (table.grow $f (ref.func $two) (i32.const 2)) (i32.const 3))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (table.size $f) (i32.const 5))))
    (local.set 0 (i32.and (local.get 0) (i32.eq (call $call (i32.const 4)) (i32.const 2))))
    ;; past the maximum (10): -1, size unchanged
    (local.set 0 (i32.and (local.get 0)
      (i32.eq (table.grow $f (ref.null func) (i32.const 6)) (i32.const -1))))
    (local.set 0 (i32.and (local.get 0)
      (i32.eq (table.grow $f (ref.null func) (i32.const 0)) (i32.const 5))))
    (i32.and (local.get 0) (i32.eq (table.size $f) (i32.const 5))))
  (func (export "test_fill") (result i32)
    (table.fill $f (i32.const 1) (ref.func $three) (i32.const 2))
    (table.fill $f (i32.const 5) (ref.null func) (i32.const 0))
    (i32.and (i32.eq (call $call (i32.const 1)) (i32.const 3))
             (i32.eq (call $call (i32.const 2)) (i32.const 3))))
  (func (export "test_init_copy") (result i32)
    ;; $f is [four three three two two]: init 0..3 from $seg, then copy 0..3 up by one
    (table.init $f $seg (i32.const 0) (i32.const 0) (i32.const 4))
    (table.copy $f $f (i32.const 1) (i32.const 0) (i32.const 4))
    ;; now [one one two null three]
    (i32.and
      (i32.and (i32.eq (call $call (i32.const 0)) (i32.const 1))
               (i32.eq (call $call (i32.const 1)) (i32.const 1)))
      (i32.and (i32.eq (call $call (i32.const 2)) (i32.const 2))
               (i32.and (ref.is_null (table.get $f (i32.const 3)))
                        (i32.eq (call $call (i32.const 4)) (i32.const 3))))))
  (func (export "test_copy_backwards") (result i32)
    ;; overlapping copy towards lower indices: [one one two null three] ->
    ;; copy 1..4 to 0..3 -> [one two null three three]
    (table.copy $f $f (i32.const 0) (i32.const 1) (i32.const 4))
    (i32.and
      (i32.and (i32.eq (call $call (i32.const 1)) (i32.const 2))
               (ref.is_null (table.get $f (i32.const 2))))
      (i32.eq (call $call (i32.const 3)) (i32.const 3))))
  (func (export "test_elem_drop") (result i32)
    (elem.drop $seg)
    ;; a dropped segment has length 0: empty init at 0 still succeeds
    (table.init $f $seg (i32.const 0) (i32.const 0) (i32.const 0))
    (i32.const 1))
  (func (export "test_externref_table") (result i32)
    (table.set $e (i32.const 0) (table.get $e (i32.const 1)))
    (i32.and (ref.is_null (table.get $e (i32.const 0)))
             (i32.eq (table.grow $e (ref.null extern) (i32.const 3)) (i32.const 2))))
  (func (export "test_select_ref") (result i32)
    (ref.is_null (select (result funcref) (ref.null func) (ref.func $one) (i32.const 1))))

  (func (export "trap_table_out_of_bounds_get") (result funcref)
    (table.get $f (i32.const 5)))
  (func (export "trap_table_out_of_bounds_set")
    (table.set $f (i32.const -1) (ref.null func)))
  (func (export "trap_table_out_of_bounds_fill")
    (table.fill $f (i32.const 4) (ref.null func) (i32.const 2)))
  (func (export "trap_table_out_of_bounds_copy")
    (table.copy $f $f (i32.const 0) (i32.const 3) (i32.const 3)))
  (func (export "trap_table_out_of_bounds_init_dropped")
    (table.init $f $seg (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "trap_uninitialized_element_null")  (result i32)
    (call $call (i32.const 2)))
)
