; Places where a value is evaluated synchronously: the candidates for AG102 (a queryset
; iterated, counted, tested, indexed or formatted). The rule decides what the value is.
(for_statement right: (_) @iter) @for
(for_in_clause right: (_) @iter) @clause
(call function: (_) @fn arguments: (argument_list) @args) @builtin
(not_operator argument: (_) @test) @not
(if_statement condition: (_) @test) @if
(elif_clause condition: (_) @test) @elif
(while_statement condition: (_) @test) @while
(boolean_operator left: (_) @operand) @bool
(boolean_operator right: (_) @operand) @bool
(comparison_operator) @cmp
(subscript value: (_) @value) @sub
(interpolation expression: (_) @fmt)
(await (_) @awaited) @await
