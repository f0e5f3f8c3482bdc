(component
  (import "acme:host/math@0.1.0" (instance (export "double" (func (param "x" u32) (result u32))))))
