; `<obj>.user` reads: the candidates for AG105 (request.user in async code).
((attribute
  object: (_) @object
  attribute: (identifier) @attr) @attribute
 (#eq? @attr "user"))
