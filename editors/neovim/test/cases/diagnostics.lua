-- The sync ORM calls in an async view are reported: code AG101, severity Error, source
-- awaitguard, on the right lines, naming the async twin. Hover works on a finding.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
local client = H.client(buf)
local d = H.wait_diags(buf, 2, 'in views.py')
for _, x in ipairs(d) do
  H.eq('AG101', x.code, 'code')
  H.eq(vim.diagnostic.severity.ERROR, x.severity, 'severity')
  H.eq('awaitguard', x.source, 'source')
end
H.eq({ 4, 11 }, { d[1].lnum, d[1].col }, 'first finding position (0-based)')
H.eq({ 5, 8 }, { d[2].lnum, d[2].col }, 'second finding position (0-based)')
H.truthy(d[1].message:find('`Book.objects.get()`', 1, true), 'first message names the get call: ' .. d[1].message)
H.truthy(d[2].message:find('.count()`', 1, true), 'second message names the count call: ' .. d[2].message)
-- hover on the call
vim.api.nvim_win_set_cursor(0, { 5, 24 })
local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
local res = client:request_sync('textDocument/hover', params, 5000, buf)
H.truthy(res and not res.err and res.result, 'hover result')
local text = vim.inspect(res.result.contents)
H.truthy(text:find('AG101', 1, true) or text:find('aget', 1, true), 'hover mentions the rule: ' .. text)
