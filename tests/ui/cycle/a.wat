(component
  (import "acme:cycle/b@0.1.0" (instance $b (export "f" (func))))
  (alias export $b "f" (func $f))
  (instance $i (export "f" (func $f)))
  (export "acme:cycle/a@0.1.0" (instance $i)))
