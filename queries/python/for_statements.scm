; `for` / `async for` statements with their iterable: candidates for AG205.
(for_statement
  right: (_) @iter) @for
