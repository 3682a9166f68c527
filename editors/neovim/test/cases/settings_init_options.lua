-- Settings through init_options: honoured by the server from the start (also for a bare
-- vim.lsp.start client that has no `settings` at all), and a change applies without restart.
local H = require('helpers')
local views = H.django_project()
H.configure()
local cmd = vim.lsp.config.awaitguard.cmd

-- 1. A bare client: the settings reach the server ONLY as initializationOptions (no
--    `settings`, so Neovim sends no didChangeConfiguration and answers null to
--    workspace/configuration).
local asked = { n = 0 }
local buf = H.open(views, 'python')
local bare_id = vim.lsp.start({
  name = 'awaitguard-bare',
  cmd = cmd,
  root_dir = H.dir .. '/proj',
  init_options = { settings = { ignore = { 'AG101' } } },
  on_exit = function(code)
    H.exited = code
  end,
  handlers = { ['workspace/configuration'] = H.counting_configuration_handler(asked) },
}, { bufnr = buf })
H.truthy(bare_id, 'the bare client started (cmd ' .. vim.inspect(cmd) .. ')')
local bare = H.client(buf, 'awaitguard-bare')
H.eq({}, bare.settings, 'bare client settings')
H.wait(5000, function()
  return asked.n >= 1
end, 'the server to ask workspace/configuration')
H.eq({}, H.server_diags(bare, buf), 'AG101 ignored via initializationOptions')
H.stop(bare)
vim.cmd('bwipeout!')

-- 2. The plugin's config with the user's init_options: the same values are mirrored into
--    `settings`, so workspace/configuration cannot undo them.
vim.lsp.config('awaitguard', { init_options = { settings = { ignore = { 'AG101' } } } })
vim.lsp.enable('awaitguard')
buf = H.open(views, 'python')
local client = H.client(buf)
H.eq({ 'AG101' }, client.settings.awaitguard.ignore, 'init_options mirrored into client.settings')
H.eq({}, H.server_diags(client, buf), 'AG101 ignored via init_options')
H.eq(0, #H.diags(buf), 'nothing shown')

-- 3. Live change, no restart.
require('awaitguard').update_settings({ ignore = {} })
local d = H.wait_diags(buf, 2, 'after un-ignoring AG101')
H.eq(vim.diagnostic.severity.ERROR, d[1].severity, 'default severity')
require('awaitguard').update_settings({ severity = { AG101 = 'warning' } })
H.wait(10000, function()
  local x = H.diags(buf)
  return #x == 2 and x[1].severity == vim.diagnostic.severity.WARN and x[2].severity == vim.diagnostic.severity.WARN
end, 'AG101 to become a warning')
H.eq(client.id, H.client(buf).id, 'same client (no restart)')
H.eq(1, #vim.lsp.get_clients({ name = 'awaitguard' }), 'one client')
