-- Settings for the awaitguard server: one canonical shape for every channel.
--
-- The server reads `enable`, `select`, `ignore`, `severity` and `djangoVersion` from
-- `initializationOptions`, from `workspace/configuration` (section `awaitguard`) and from
-- `workspace/didChangeConfiguration`. Every message replaces the previous settings as a
-- whole, so we always send the full object, with `null` for "not set" (an empty Lua table
-- would be encoded as `[]`, which the server rejects for `severity`).

local M = {}

--- Keys the server knows, in wire spelling.
M.keys = { 'enable', 'select', 'ignore', 'severity', 'djangoVersion' }

local severity_names = { 'error', 'warning', 'info', 'hint' } -- vim.diagnostic.severity order

local function is_set(v)
  return v ~= nil and v ~= vim.NIL
end

--- The awaitguard section inside what a user or client wrote, like the server does:
--- `{settings = {...}}`, `{awaitguard = {...}}` or the flat object. `nil` when none.
---@param v any
---@return table?
function M.extract(v)
  if type(v) ~= 'table' then
    return nil
  end
  if type(v.settings) == 'table' then
    return M.extract(v.settings) or v.settings
  end
  if type(v.awaitguard) == 'table' then
    return v.awaitguard
  end
  for k in pairs(v) do
    if vim.tbl_contains(M.keys, k) or k == 'django_version' then
      return v
    end
  end
  return nil
end

local function list(v)
  if type(v) == 'string' then
    v = vim.split(v, ',', { trimempty = true })
  end
  if type(v) ~= 'table' or vim.tbl_isempty(v) then
    return vim.NIL
  end
  local out = {}
  for _, x in ipairs(v) do
    out[#out + 1] = vim.trim(tostring(x))
  end
  return out
end

--- The wire form: every known key present, `vim.NIL` for unset; unknown keys kept.
---@param s table? user settings (wire or snake_case spelling)
---@return table
function M.wire(s)
  s = s or {}
  local out = {}
  for k, v in pairs(s) do
    if not vim.tbl_contains(M.keys, k) and k ~= 'django_version' then
      out[k] = v
    end
  end
  out.enable = s.enable ~= false
  out.select = list(s.select)
  out.ignore = list(s.ignore)
  local sev = vim.NIL
  if type(s.severity) == 'table' and not vim.tbl_isempty(s.severity) then
    sev = {}
    for code, level in pairs(s.severity) do
      if type(level) == 'number' then
        level = severity_names[level] or tostring(level)
      end
      sev[code] = level
    end
  end
  out.severity = sev
  local dv = s.djangoVersion
  if not is_set(dv) then
    dv = s.django_version
  end
  out.djangoVersion = (type(dv) == 'string' and dv ~= '') and dv or vim.NIL
  return out
end

--- Drops unset (nil / vim.NIL) values, so merging does not let "unset" override "set".
local function strip(s)
  local out = {}
  for k, v in pairs(s or {}) do
    if is_set(v) then
      out[k] = v
    end
  end
  return out
end

--- The keys that are set (for display).
M.compact = strip

--- Merges settings: later arguments win, unset values never override set ones.
---@param ... table?
---@return table wire form
function M.merge(...)
  local acc = {}
  for i = 1, select('#', ...) do
    local s = select(i, ...)
    if type(s) == 'table' then
      for k, v in pairs(strip(s)) do
        if k == 'django_version' then
          k = 'djangoVersion'
        end
        acc[k] = v
      end
    end
  end
  return M.wire(acc)
end

--- Problems with a settings table (as the server would see them); empty when fine.
---@param s table
---@return string[]
function M.validate(s)
  local problems = {}
  if is_set(s.enable) and type(s.enable) ~= 'boolean' then
    problems[#problems + 1] = '`enable` must be true or false'
  end
  for _, k in ipairs({ 'select', 'ignore' }) do
    local v = s[k]
    if is_set(v) and type(v) ~= 'string' and not (type(v) == 'table' and vim.islist(v)) then
      problems[#problems + 1] = ('`%s` must be a list of rule codes'):format(k)
    end
  end
  if is_set(s.severity) then
    if type(s.severity) ~= 'table' then
      problems[#problems + 1] = '`severity` must be a table of code = level'
    else
      for code, level in pairs(s.severity) do
        if type(level) == 'number' then
          level = severity_names[level]
        end
        if not vim.tbl_contains(severity_names, level) then
          problems[#problems + 1] = ('`severity.%s` must be one of %s'):format(
            tostring(code),
            table.concat(severity_names, ', ')
          )
        end
      end
    end
  end
  if is_set(s.djangoVersion) and type(s.djangoVersion) ~= 'string' then
    problems[#problems + 1] = '`djangoVersion` must be a string such as "4.2"'
  end
  return problems
end

--- `before_init` of the LSP config: reconcile `settings.awaitguard` and `init_options` so
--- both channels carry the same full settings (defaults < settings < init_options).
---@param params lsp.InitializeParams
---@param config vim.lsp.ClientConfig
function M.before_init(params, config)
  local from_init = M.extract(params.initializationOptions)
  -- `client.settings` is `config.settings`: mutate it in place so the client answers
  -- `workspace/configuration` with the merged values.
  local settings = config.settings
  if type(settings) ~= 'table' then
    return -- no table shared with the client; the server gets init_options only
  end
  -- Keys written flat into `settings` (a common mix-up) count too, below the section.
  local flat = { django_version = settings.django_version }
  for _, k in ipairs(M.keys) do
    flat[k] = settings[k]
  end
  local merged = M.merge(flat, settings.awaitguard, from_init)
  settings.awaitguard = merged
  local init = {}
  if type(params.initializationOptions) == 'table' then
    for k, v in pairs(params.initializationOptions) do
      if k ~= 'settings' and k ~= 'awaitguard' and not vim.tbl_contains(M.keys, k) then
        init[k] = v
      end
    end
  end
  init.settings = merged
  params.initializationOptions = init
end

return M
