; `await <operand>`: candidates for AG303.
(await (_) @operand) @await
