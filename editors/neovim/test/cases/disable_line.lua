-- "Disable AG101 for this line" appends the suppression comment; that line's diagnostic clears.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
H.client(buf)
H.wait_diags(buf, 2)
vim.api.nvim_win_set_cursor(0, { 6, 8 })
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a)
    return a.title == 'Disable AG101 for this line'
  end,
})
H.wait(10000, function()
  return H.line(buf, 6) == '    n = Book.objects.filter(a=1).count()  # awaitguard: ignore[AG101]'
end, 'the suppression comment on line 6')
local left = H.wait_diags(buf, 1, 'after disabling line 6')
H.eq(4, left[1].lnum, 'the remaining finding is on line 5')
