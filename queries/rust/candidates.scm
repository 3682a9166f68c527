; Candidates for the Rust rules (AG5xx), matched once per file by `semantic::rust::RustModel`.
; The rule code decides what each receiver or path is.

; Pattern 0. Method calls `<receiver>.<method>(<args>)` (also `<receiver>.<method>::<T>(…)`);
; `semantic::rust::method_parts` splits the callee.
(call_expression
  function: [(field_expression) (generic_function)]
  arguments: (arguments) @args) @call

; Pattern 1. Calls of a path or a plain name: `PgConnection::establish(…)`,
; `futures::executor::block_on(…)`, `tokio::task::block_in_place(…)`.
(call_expression
  function: [(scoped_identifier) (identifier)] @path
  arguments: (arguments) @args) @call

; Pattern 2. `let [mut] name [: T] = value;`: transaction bindings (AG510, AG511).
(let_declaration
  pattern: (identifier) @name
  value: (_) @value) @let
