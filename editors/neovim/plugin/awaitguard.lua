-- Loaded at startup when editors/neovim is on the runtimepath (plugin managers do that):
-- defines :AwaitguardFixAll and :AwaitguardRestart, and reloads the server's settings when
-- a config file (pyproject.toml, awaitguard.toml, ...) is saved. The server starts with
-- vim.lsp.enable('awaitguard') or require('awaitguard').setup().
if vim.g.loaded_awaitguard or vim.fn.has('nvim-0.11') == 0 then
  return
end
vim.g.loaded_awaitguard = true
require('awaitguard').create_commands()
require('awaitguard').create_autocmds()
