; `<obj>.data`, `<obj>.count`, `<obj>.num_pages` reads: AG108's attribute sinks (a DRF
; serializer's data, a Paginator's count).
((attribute
  object: (_) @object
  attribute: (identifier) @attr) @attribute
 (#any-of? @attr "data" "count" "num_pages"))
