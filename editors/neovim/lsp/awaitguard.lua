-- awaitguard language server: the Neovim >= 0.11 config (`:h lsp-config`).
--
-- Put editors/neovim on the runtimepath, then `vim.lsp.enable('awaitguard')`.
-- Override anything with `vim.lsp.config('awaitguard', {...})` or `require('awaitguard').setup{...}`.
--
-- Settings may be given as `settings = { awaitguard = {...} }` (answered to the server's
-- `workspace/configuration` and sent with `workspace/didChangeConfiguration`) or as
-- `init_options = { settings = {...} }`; `before_init` merges the two so the server sees
-- the same values on every channel (init_options wins where both set a key).

---@type vim.lsp.Config
return {
  cmd = { 'awaitguard', 'lsp' },
  -- Python and Rust, and the filetypes of the configuration files AG307 reads (`.env`,
  -- Dockerfile, compose, pytest config): of those, only buffers with such a file name are
  -- attached (`root_dir` in lua/awaitguard/files.lua declines the others).
  filetypes = { 'python', 'rust', 'sh', 'dotenv', 'dockerfile', 'yaml', 'dosini', 'toml', 'cfg' },
  root_markers = { 'pyproject.toml', 'setup.cfg', 'manage.py', 'Cargo.toml', '.git' },
  root_dir = function(bufnr, on_dir)
    require('awaitguard.files').root_dir(bufnr, on_dir)
  end,
  settings = {
    awaitguard = {
      enable = true, -- false: no diagnostics, no fixes
      -- select = { 'AG1' },             -- only these rules (codes, prefixes, names, 'ALL')
      -- ignore = { 'AG101' },           -- skip these rules
      -- severity = { AG101 = 'warning' }, -- 'error' | 'warning' | 'info' | 'hint'
      -- djangoVersion = '4.2',          -- default: config file, lock/requirements, newest
    },
  },
  -- Pull diagnostics (Neovim's default with this server) need `workspace/diagnostic/refresh`
  -- so a settings change shows without an edit; Neovim itself does not handle it yet.
  capabilities = {
    workspace = { diagnostics = { refreshSupport = true } },
  },
  handlers = {
    ['workspace/diagnostic/refresh'] = function(err, result, ctx)
      return require('awaitguard').on_diagnostic_refresh(err, result, ctx)
    end,
  },
  before_init = function(params, config)
    require('awaitguard.settings').before_init(params, config)
  end,
}
