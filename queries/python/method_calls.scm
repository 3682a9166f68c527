; Method calls `<receiver>.<method>(<args>)`: the candidates for the ORM-call rules.
; The rule code decides what the receiver is (manager, queryset, instance, …).
(call
  function: (attribute
    object: (_) @receiver
    attribute: (identifier) @method)
  arguments: (argument_list) @args) @call
