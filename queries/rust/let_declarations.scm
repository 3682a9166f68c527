; `let [mut] name [: T] = value;`: transaction bindings for AG510 / AG511.
(let_declaration
  pattern: (identifier) @name
  value: (_) @value) @let
