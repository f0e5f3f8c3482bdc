(component
  (import "acme:text/format@0.1.0" (instance
    (export "greet" (func (param "greeting" string) (param "name" string) (result string)))))
  (core module $m (func (export "run")))
  (core instance $i (instantiate $m))
  (func $run (canon lift (core func $i "run")))
  (export "run" (func $run)))
