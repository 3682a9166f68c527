; `with` / `async with` statements: candidates for the transaction rules (AG201, AG202).
; The rule code resolves each item's callee through the imports.
(with_statement
  (with_clause) @clause
  body: (block) @body) @with
