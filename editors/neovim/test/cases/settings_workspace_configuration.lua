-- Settings through `settings` (workspace/configuration + didChangeConfiguration): honoured
-- from the start; a change announced with a null payload makes the server re-request
-- workspace/configuration; a change with the payload applies directly. No restart.
local H = require('helpers')
local views = H.django_project()
local asked = { n = 0 }
H.configure({
  settings = { awaitguard = { ignore = { 'AG101' } } },
  handlers = { ['workspace/configuration'] = H.counting_configuration_handler(asked) },
})
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
local client = H.client(buf)
H.wait(5000, function()
  return asked.n >= 1
end, 'the server to ask workspace/configuration')
H.eq({}, H.server_diags(client, buf), 'AG101 ignored via settings')
H.eq(0, #H.diags(buf), 'nothing shown')

-- didChangeConfiguration with null: the server asks again and gets the new value.
local before = asked.n
client.settings.awaitguard.ignore = vim.NIL
client:notify('workspace/didChangeConfiguration', { settings = vim.NIL })
H.wait(5000, function()
  return asked.n > before
end, 'the server to re-request workspace/configuration')
H.wait_diags(buf, 2, 'after un-ignoring AG101 through workspace/configuration')

-- didChangeConfiguration with the payload.
client.settings.awaitguard.ignore = { 'AG101' }
client.settings.awaitguard.severity = { AG101 = 'hint' }
client:notify('workspace/didChangeConfiguration', { settings = client.settings })
H.wait_diags(buf, 0, 'after ignoring AG101 through didChangeConfiguration')
client.settings.awaitguard.ignore = vim.NIL
client:notify('workspace/didChangeConfiguration', { settings = client.settings })
local d = H.wait_diags(buf, 2, 'after un-ignoring AG101 again')
H.eq(vim.diagnostic.severity.HINT, d[1].severity, 'severity from settings')
H.eq(client.id, H.client(buf).id, 'same client (no restart)')
