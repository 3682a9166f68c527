; A decorator on a function definition: candidates for AG203 and AG302.
(decorated_definition
  (decorator) @decorator
  definition: (function_definition) @def) @decorated
