-- setup{ fix_all_on_save = true }: :write applies source.fixAll.awaitguard first.
local H = require('helpers')
local views = H.django_project()
H.configure()
require('awaitguard').setup({ fix_all_on_save = true })
H.configure() -- setup() rewrites the config; keep the test hooks
local buf = H.open(views, 'python')
H.client(buf)
H.wait_diags(buf, 2)
vim.cmd("silent write")
local disk = H.read(views)
H.truthy(disk:find('book = await Book.objects.aget(pk=pk)', 1, true), 'saved file has the aget fix:\n' .. disk)
H.truthy(disk:find('n = await Book.objects.filter(a=1).acount()', 1, true), 'saved file has the acount fix')
H.wait_diags(buf, 0, 'after saving')
-- turned off again: saving leaves findings alone
require('awaitguard').setup({ fix_all_on_save = false })
vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(H.VIEWS, '\n', { trimempty = true }))
vim.cmd("silent write")
H.truthy(H.read(views):find('book = Book.objects.get(pk=pk)', 1, true), 'no fix when fix_all_on_save = false')
