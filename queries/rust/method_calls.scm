; Method calls `<receiver>.<method>(<args>)` and `<receiver>.<method>::<T>(<args>)`: the
; candidates for the Rust database rules. Rule code decides what the receiver is.
(call_expression
  function: [
    (field_expression
      value: (_) @receiver
      field: (field_identifier) @method)
    (generic_function
      function: (field_expression
        value: (_) @receiver
        field: (field_identifier) @method))
  ]
  arguments: (arguments) @args) @call
