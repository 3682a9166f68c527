; Calls of a path or a plain name: `PgConnection::establish(…)`, `futures::executor::block_on(…)`,
; `tokio::task::block_in_place(…)`, `block_on(…)`.
(call_expression
  function: [
    (scoped_identifier) @path
    (identifier) @path
    (generic_function function: [(scoped_identifier) (identifier)] @path)
  ]
  arguments: (arguments) @args) @call
