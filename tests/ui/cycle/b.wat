(component
  (import "acme:cycle/a@0.1.0" (instance $a (export "f" (func))))
  (alias export $a "f" (func $f))
  (instance $i (export "f" (func $f)))
  (export "acme:cycle/b@0.1.0" (instance $i)))
