(component
  (import "acme:kv/store@0.1.0" (instance (export "get" (func (param "key" string) (result string))))))
