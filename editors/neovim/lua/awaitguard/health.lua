-- :checkhealth awaitguard

local M = {}

local function resolved_config()
  local ok, cfg = pcall(function()
    return vim.lsp.config.awaitguard
  end)
  return ok and cfg or nil
end

local function check_binary(h, cfg)
  local cmd = cfg.cmd
  if type(cmd) == 'function' then
    h.info('`cmd` is a function: the binary cannot be checked here')
    return
  end
  if type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then
    h.error('`cmd` must be a list such as { "awaitguard", "lsp" }, got ' .. vim.inspect(cmd))
    return
  end
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    h.error(('server binary `%s` not found or not executable'):format(cmd[1]), {
      'Install it: `cargo install --path .` in the awaitguard repository (or put target/debug on $PATH)',
      "Or point at it: require('awaitguard').setup({ path = '/path/to/awaitguard' })",
    })
    return
  end
  h.ok(('server binary: %s (command: %s)'):format(exe, table.concat(cmd, ' ')))
  local ok, res = pcall(function()
    return vim.system({ exe, '--version' }, { text = true }):wait(5000)
  end)
  if not ok then
    h.error('`' .. exe .. ' --version` could not run: ' .. tostring(res))
  elseif res.code ~= 0 then
    h.error(('`%s --version` exited with %s: %s'):format(exe, tostring(res.code), vim.trim(res.stderr or '')))
  else
    h.ok('version: ' .. vim.trim(res.stdout or ''))
  end
end

local function check_settings(h, label, s)
  local problems = require('awaitguard.settings').validate(s)
  if #problems == 0 then
    local shown = require('awaitguard.settings').compact(s)
    h.ok(label .. ': ' .. vim.inspect(shown, { newline = ' ', indent = '' }))
  else
    h.error(label .. ': ' .. table.concat(problems, '; '))
  end
end

function M.check()
  local h = vim.health
  local S = require('awaitguard.settings')

  h.start('awaitguard: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim ' .. tostring(vim.version()))
  else
    h.error('Neovim 0.11 or newer is required')
    return
  end

  h.start('awaitguard: configuration')
  local cfg = resolved_config()
  if not cfg then
    h.error('no LSP config `awaitguard`', { 'Put editors/neovim on the runtimepath (it has lsp/awaitguard.lua)' })
    return
  end
  h.ok('LSP config found (filetypes: ' .. table.concat(cfg.filetypes or {}, ', ') .. ')')
  if vim.lsp.is_enabled and not vim.lsp.is_enabled('awaitguard') then
    h.warn('not enabled', { "Call vim.lsp.enable('awaitguard') or require('awaitguard').setup()" })
  else
    h.ok('enabled')
  end
  local from_settings = cfg.settings and cfg.settings.awaitguard
  local from_init = S.extract(cfg.init_options)
  if from_settings then
    check_settings(h, 'settings.awaitguard', S.wire(from_settings))
  end
  if from_init then
    check_settings(h, 'init_options', S.wire(from_init))
  end
  if from_settings and from_init and not vim.deep_equal(S.wire(from_settings), S.wire(from_init)) then
    h.info('settings.awaitguard and init_options differ: at start the client sends both merged (init_options wins)')
  end

  h.start('awaitguard: server binary')
  check_binary(h, cfg)

  h.start('awaitguard: clients')
  local clients = vim.lsp.get_clients({ name = 'awaitguard' })
  if #clients == 0 then
    h.warn('no awaitguard client is running', { 'Open a Python or Rust file in a project' })
    return
  end
  for _, c in ipairs(clients) do
    local files = {}
    for b in pairs(c.attached_buffers) do
      files[#files + 1] = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(b), ':~:.')
    end
    table.sort(files)
    local info = c.server_info or {}
    local head = ('client %d (%s %s, root %s)'):format(
      c.id,
      info.name or 'awaitguard',
      info.version or '?',
      c.root_dir or 'none'
    )
    if #files > 0 then
      h.ok(head .. ' attached to: ' .. table.concat(files, ', '))
    else
      h.warn(head .. ' is attached to no buffer')
    end
    local pull = c:supports_method('textDocument/diagnostic')
    h.info(('position encoding %s; diagnostics %s'):format(
      c.offset_encoding,
      pull and 'pulled (textDocument/diagnostic)' or 'pushed (publishDiagnostics)'
    ))
    if c.settings and c.settings.awaitguard then
      check_settings(h, 'client settings', c.settings.awaitguard)
    end
  end
end

return M
