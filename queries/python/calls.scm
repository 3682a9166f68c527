; Every call `<function>(<args>)`: candidates for the bridge and task-dispatch rules.
(call
  function: (_) @function
  arguments: (argument_list) @args) @call
