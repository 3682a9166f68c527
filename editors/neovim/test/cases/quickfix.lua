-- The preferred quick fix (vim.lsp.buf.code_action, as a user runs it) rewrites the call and
-- its diagnostic clears; the other finding stays.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
local client = H.client(buf)
H.wait_diags(buf, 2)
-- the offered actions
vim.api.nvim_win_set_cursor(0, { 5, 11 })
local d = H.diags(buf)[1]
local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
params.context = { diagnostics = { d.user_data.lsp } }
local res = client:request_sync('textDocument/codeAction', params, 5000, buf)
H.truthy(res and not res.err, 'codeAction answered')
local titles = {}
for _, a in ipairs(res.result) do
  titles[#titles + 1] = a.title
end
H.truthy(vim.tbl_contains(titles, 'Disable AG101 for this line'), 'disable action in ' .. vim.inspect(titles))
local preferred = vim.tbl_filter(function(a)
  return a.isPreferred
end, res.result)
H.eq(1, #preferred, 'one preferred action')
H.truthy(preferred[1].title:find('^Replace with `await Book%.objects%.aget'), 'title: ' .. preferred[1].title)
H.eq('quickfix', preferred[1].kind, 'kind')
-- apply it the way a user would
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a)
    return a.isPreferred
  end,
})
H.wait(10000, function()
  return H.line(buf, 5) == '    book = await Book.objects.aget(pk=pk)'
end, 'the quick fix to rewrite line 5')
local left = H.wait_diags(buf, 1, 'after the quick fix')
H.eq(5, left[1].lnum, 'the remaining finding is on line 6')
H.eq('    n = Book.objects.filter(a=1).count()', H.line(buf, 6), 'line 6 untouched')
