; `<name>.<attr>` reads: AG104's candidates (a lazy relation or a deferred field of an
; instance).
(attribute
  object: (identifier) @object
  attribute: (identifier) @attr) @attribute
