-- :AwaitguardRestart replaces the client; diagnostics come back from the new one.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
local old = H.client(buf)
H.wait_diags(buf, 2, 'before the restart')
vim.cmd('AwaitguardRestart')
H.truthy(old:is_stopped(), 'old client stopped')
local new = H.wait(10000, function()
  local c = vim.lsp.get_clients({ bufnr = buf, name = 'awaitguard' })[1]
  return c and c.id ~= old.id and c.initialized and c
end, 'a new client')
H.eq(1, #vim.lsp.get_clients({ name = 'awaitguard' }), 'exactly one client')
H.wait(10000, function()
  local ns = vim.lsp.diagnostic.get_namespace(new.id, true)
  return #vim.diagnostic.get(buf, { namespace = ns }) == 2
end, 'diagnostics from the new client')
