;; Imports wasi:cli/environment@0.2.12 with `get-arguments` returning a number (WASI's
;; returns a list of strings) and exports wasi:cli/run@0.2.12.
(component
  (import "wasi:cli/environment@0.2.12" (instance
    (export "get-arguments" (func (result u32)))))
  (core module $m
    (func (export "run") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run-instance (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $run-instance)))
