-- awaitguard for Neovim >= 0.11: options, fix-all (on demand and on save), restart, and
-- live settings changes. The LSP config itself is lsp/awaitguard.lua (runtime file).
--
--   require('awaitguard').setup({ ignore = { 'AG101' }, fix_all_on_save = true })

local S = require('awaitguard.settings')

local M = {}

M.name = 'awaitguard'
M.fix_all_kind = 'source.fixAll.awaitguard'
M.fix_all_command = 'awaitguard.applyFixAll'

--- Options of `setup()`; `nil` means "leave the LSP config / server default alone".
M.defaults = {
  path = nil, -- server binary (default: `awaitguard` on $PATH); the command is { path, 'lsp' }
  cmd = nil, -- the full command, instead of `path`
  filetypes = nil, -- default { 'python', 'rust' } and AG307's configuration files (see lua/awaitguard/files.lua)
  root_markers = nil, -- default { 'pyproject.toml', 'setup.cfg', 'manage.py', 'Cargo.toml', '.git' }
  enable = nil, -- false: the server reports and fixes nothing
  select = nil, -- list of rule codes/prefixes/names to run
  ignore = nil, -- list of rule codes/prefixes/names to skip
  severity = nil, -- { AG101 = 'warning' }: 'error' | 'warning' | 'info' | 'hint'
  django_version = nil, -- '4.2'
  settings = nil, -- raw server settings, under the options above
  fix_all_on_save = false, -- apply `source.fixAll.awaitguard` before each :write
  autostart = true, -- call vim.lsp.enable('awaitguard')
  timeout_ms = 2000, -- for the synchronous fix-all request
  on_attach = nil,
  capabilities = nil,
}

M.options = vim.deepcopy(M.defaults)

local function notify(msg, level)
  vim.notify('awaitguard: ' .. msg, level or vim.log.levels.INFO)
end

--- The awaitguard clients (all, or those attached to `bufnr`).
---@param bufnr? integer
---@return vim.lsp.Client[]
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
end

--- The settings the LSP config currently carries (wire form).
---@return table
function M.current_settings()
  local ok, cfg = pcall(function()
    return vim.lsp.config[M.name]
  end)
  local s = ok and cfg and cfg.settings and cfg.settings.awaitguard or nil
  local from_init = ok and cfg and S.extract(cfg.init_options) or nil
  return S.merge(s, from_init)
end

--- Writes the settings into the LSP config, replacing (not deep-merging) the old ones, so
--- new clients and restarts use them.
local function store_settings(settings, extra)
  vim.lsp.config(M.name, { settings = { awaitguard = vim.NIL }, init_options = vim.NIL })
  local cfg = vim.tbl_extend('force', extra or {}, {
    settings = { awaitguard = vim.deepcopy(settings) },
    init_options = { settings = vim.deepcopy(settings) },
  })
  vim.lsp.config(M.name, cfg)
end

--- Re-requests pull diagnostics for every buffer of `client` (no-op in push mode: there
--- the server republishes by itself).
---@param client vim.lsp.Client
function M.refresh_diagnostics(client)
  if client:is_stopped() or not client:supports_method('textDocument/diagnostic') then
    return
  end
  for bufnr in pairs(client.attached_buffers) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      client:request(
        'textDocument/diagnostic',
        { textDocument = vim.lsp.util.make_text_document_params(bufnr) },
        nil,
        bufnr
      )
    end
  end
end

--- Handler for the server's `workspace/diagnostic/refresh` request (Neovim 0.11 has none).
function M.on_diagnostic_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    vim.schedule(function()
      M.refresh_diagnostics(client)
    end)
  end
  return vim.NIL
end

local function handles_refresh(client)
  return vim.tbl_get(client.capabilities or {}, 'workspace', 'diagnostics', 'refreshSupport') == true
    and (client.handlers or {})['workspace/diagnostic/refresh'] ~= nil
end

--- Sends settings to the running clients (`workspace/didChangeConfiguration` with the
--- full section; the same values answer later `workspace/configuration` requests).
---@param settings table wire form
function M.apply_settings(settings)
  for _, client in ipairs(M.clients()) do
    if type(client.settings) ~= 'table' then
      client.settings = {}
    end
    client.settings.awaitguard = vim.deepcopy(settings)
    client:notify('workspace/didChangeConfiguration', { settings = client.settings })
    if not handles_refresh(client) then
      -- The server applies the notification before it reads the next message.
      M.refresh_diagnostics(client)
    end
  end
end

--- Changes some settings (wire or snake_case keys) and applies them without restart.
--- A value of `vim.NIL` or `{}` unsets the key.
---
---   require('awaitguard').update_settings({ ignore = { 'AG101' } })
---@param partial table
---@return table the new settings (wire form)
function M.update_settings(partial)
  local cur = M.current_settings()
  local next_s = {}
  for k, v in pairs(cur) do
    if v ~= vim.NIL then
      next_s[k] = v
    end
  end
  for k, v in pairs(partial or {}) do
    if k == 'django_version' then
      k = 'djangoVersion'
    end
    next_s[k] = (v ~= vim.NIL) and v or nil
  end
  local settings = S.wire(next_s)
  local problems = S.validate(settings)
  if #problems > 0 then
    notify('invalid settings: ' .. table.concat(problems, '; '), vim.log.levels.ERROR)
  end
  store_settings(settings)
  M.apply_settings(settings)
  return settings
end

local function full_range(bufnr)
  local n = vim.api.nvim_buf_line_count(bufnr)
  local last = vim.api.nvim_buf_get_lines(bufnr, n - 1, n, false)[1] or ''
  return { start = { line = 0, character = 0 }, ['end'] = { line = n - 1, character = #last } }
end

--- Applies every safe fix in the buffer (`source.fixAll.awaitguard`), synchronously.
---@param bufnr? integer
---@param opts? { timeout_ms?: integer }
---@return boolean ok, integer|string applied edits or the error
function M.fix_all(bufnr, opts)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  opts = opts or {}
  local client = M.clients(bufnr)[1]
  if not client then
    return false, 'not attached to this buffer'
  end
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = full_range(bufnr),
    context = { only = { M.fix_all_kind }, diagnostics = {}, triggerKind = 1 },
  }
  local res, err =
    client:request_sync('textDocument/codeAction', params, opts.timeout_ms or M.options.timeout_ms, bufnr)
  if not res then
    return false, tostring(err)
  end
  if res.err then
    return false, res.err.message or vim.inspect(res.err)
  end
  local applied = 0
  for _, action in ipairs(res.result or {}) do
    if action.kind == M.fix_all_kind and action.edit then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
      applied = applied + 1
    end
  end
  return true, applied
end

--- Starts (or re-uses) a client for `bufnr` from the resolved LSP config.
---@param bufnr integer
function M.start(bufnr)
  local cfg = vim.lsp.config[M.name]
  if not cfg then
    notify('no LSP config named awaitguard (is editors/neovim on the runtimepath?)', vim.log.levels.ERROR)
    return
  end
  cfg = vim.deepcopy(cfg)
  if cfg.filetypes and not vim.tbl_contains(cfg.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  local function go(root)
    cfg.root_dir = root
    vim.lsp.start(cfg, { bufnr = bufnr, reuse_client = cfg.reuse_client })
  end
  if type(cfg.root_dir) == 'function' then
    cfg.root_dir(bufnr, function(root)
      vim.schedule(function()
        go(root)
      end)
    end)
  elseif cfg.root_dir then
    go(cfg.root_dir)
  else
    go(cfg.root_markers and vim.fs.root(bufnr, cfg.root_markers) or nil)
  end
end

--- Stops every awaitguard client and starts new ones for the buffers they served (and the
--- current buffer).
function M.restart()
  local bufs = { [vim.api.nvim_get_current_buf()] = true }
  local clients = M.clients()
  for _, c in ipairs(clients) do
    for b in pairs(c.attached_buffers) do
      bufs[b] = true
    end
    c:stop()
  end
  -- Wait until the old clients are gone (not just closing), or vim.lsp.start would re-use one.
  local function gone()
    for _, c in ipairs(clients) do
      if vim.lsp.get_client_by_id(c.id) then
        return false
      end
    end
    return true
  end
  local stopped = vim.wait(5000, gone, 20)
  if not stopped then
    for _, c in ipairs(clients) do
      c:stop(true)
    end
    vim.wait(2000, gone, 20)
  end
  for b in pairs(bufs) do
    if vim.api.nvim_buf_is_valid(b) and vim.bo[b].buftype == '' then
      M.start(b)
    end
  end
end

--- Defines :AwaitguardFixAll and :AwaitguardRestart (idempotent).
function M.create_commands()
  vim.api.nvim_create_user_command('AwaitguardFixAll', function()
    local ok, res = M.fix_all(0)
    if not ok then
      notify('fix-all failed: ' .. res, vim.log.levels.ERROR)
    elseif res == 0 then
      notify('nothing to fix')
    end
  end, { desc = 'awaitguard: apply every safe fix in this buffer' })
  vim.api.nvim_create_user_command('AwaitguardRestart', function()
    M.restart()
  end, { desc = 'awaitguard: restart the language server' })
end

--- File names whose saving changes the server's settings (see the server's file watcher).
M.config_files = { 'pyproject.toml', 'awaitguard.toml', '.awaitguard.toml', '*.lock', 'requirements*.txt' }

--- Tells the servers that a config file changed (`workspace/didChangeWatchedFiles`): Neovim
--- does not watch files for servers on Linux/BSD, so a saved config file is announced here.
---@param path string
function M.notify_config_changed(path)
  local change = { changes = { { uri = vim.uri_from_fname(path), type = 2 } } }
  for _, client in ipairs(M.clients()) do
    client:notify('workspace/didChangeWatchedFiles', change)
    if not handles_refresh(client) then
      M.refresh_diagnostics(client)
    end
  end
end

--- Autocommands: fix-all on save (when enabled) and config-file reloads (idempotent).
function M.create_autocmds()
  local group = vim.api.nvim_create_augroup('awaitguard', { clear = true })
  vim.api.nvim_create_autocmd('BufWritePost', {
    group = group,
    pattern = M.config_files,
    desc = 'awaitguard: reload settings from a saved config file',
    callback = function(args)
      M.notify_config_changed(vim.api.nvim_buf_get_name(args.buf))
    end,
  })
  vim.api.nvim_create_autocmd('BufWritePre', {
    group = group,
    desc = 'awaitguard: fix all on save',
    callback = function(args)
      if not M.options.fix_all_on_save or #M.clients(args.buf) == 0 then
        return
      end
      local ok, err = M.fix_all(args.buf)
      if not ok then
        notify('fix-all on save failed: ' .. err, vim.log.levels.WARN)
      end
    end,
  })
end

--- Configures and enables the server. Calling it again applies changed settings to the
--- running server without a restart.
---@param opts? table see M.defaults
function M.setup(opts)
  opts = opts or {}
  M.options = vim.tbl_extend('force', vim.deepcopy(M.defaults), opts)
  local o = M.options
  local raw = o.settings and (S.extract(o.settings) or o.settings) or nil
  local settings = S.merge(raw, {
    enable = o.enable,
    select = o.select,
    ignore = o.ignore,
    severity = o.severity,
    djangoVersion = o.django_version,
  })
  local problems = S.validate(settings)
  if #problems > 0 then
    notify('invalid settings: ' .. table.concat(problems, '; '), vim.log.levels.ERROR)
  end
  local extra = {}
  if o.cmd then
    extra.cmd = o.cmd
  elseif o.path then
    extra.cmd = { o.path, 'lsp' }
  end
  for _, k in ipairs({ 'filetypes', 'root_markers', 'on_attach', 'capabilities' }) do
    if o[k] ~= nil then
      extra[k] = o[k]
    end
  end
  store_settings(settings, extra)
  M.create_commands()
  M.create_autocmds()
  if o.autostart ~= false then
    vim.lsp.enable(M.name)
  end
  M.apply_settings(settings)
  return M
end

return M
