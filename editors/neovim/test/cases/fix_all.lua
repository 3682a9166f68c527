-- :AwaitguardFixAll (source.fixAll.awaitguard) fixes every finding; the server command
-- awaitguard.applyFixAll (workspace/applyEdit) does the same.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
local client = H.client(buf)
H.wait_diags(buf, 2)
local fixed5 = '    book = await Book.objects.aget(pk=pk)'
local fixed6 = '    n = await Book.objects.filter(a=1).acount()'
vim.cmd('AwaitguardFixAll')
H.eq(fixed5, H.line(buf, 5), 'line 5 after :AwaitguardFixAll')
H.eq(fixed6, H.line(buf, 6), 'line 6 after :AwaitguardFixAll')
H.wait_diags(buf, 0, 'after :AwaitguardFixAll')
vim.cmd('AwaitguardFixAll')
H.truthy(vim.tbl_contains(H.notes, 'awaitguard: nothing to fix'), 'second run says nothing to fix')

-- the server-side command
vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(H.VIEWS, '\n', { trimempty = true }))
H.wait_diags(buf, 2, 'after restoring the text')
client:exec_cmd({ title = 'fix all', command = 'awaitguard.applyFixAll', arguments = { vim.uri_from_bufnr(buf) } }, { bufnr = buf })
H.wait(10000, function()
  return H.line(buf, 5) == fixed5 and H.line(buf, 6) == fixed6
end, 'workspace/applyEdit from awaitguard.applyFixAll')
H.wait_diags(buf, 0, 'after awaitguard.applyFixAll')
