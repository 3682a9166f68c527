-- Runs one test case in headless Neovim: `AG_TEST_CASE=name nvim --headless -u NONE -c 'luafile runner.lua'`.
-- Exits 0 when the case returns, 1 on any error (never hangs on a Lua error).
local here = assert(os.getenv('AG_TEST_HERE'), 'AG_TEST_HERE not set')
local case = assert(os.getenv('AG_TEST_CASE'), 'AG_TEST_CASE not set')

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local function lsp_log_tail()
  local ok, name = pcall(vim.lsp.log.get_filename)
  if not ok then
    return
  end
  local f = io.open(name, 'r')
  if not f then
    return
  end
  local lines = vim.split(f:read('*a'), '\n')
  f:close()
  out('--- lsp.log (tail)')
  for i = math.max(1, #lines - 25), #lines do
    out(lines[i]:sub(1, 400))
  end
end

local ok, err = xpcall(function()
  vim.opt.runtimepath:prepend(vim.fs.dirname(here)) -- editors/neovim
  package.path = here .. '/?.lua;' .. package.path
  vim.cmd('filetype on')
  vim.cmd.runtime('plugin/awaitguard.lua') -- what a plugin manager / `-u` config would load
  vim.lsp.log.set_level(vim.log.levels.DEBUG) -- a temp file; its tail is shown on failure
  local H = require('helpers')
  vim.notify = function(msg, level)
    table.insert(H.notes, msg)
    out(('notify[%s]: %s'):format(tostring(level), msg))
  end
  dofile(here .. '/cases/' .. case .. '.lua')
end, function(e)
  return debug.traceback(tostring(e), 2)
end)

if ok then
  out('\nPASS ' .. case)
  vim.cmd('qall!')
else
  out('\nFAIL ' .. case .. ': ' .. tostring(err))
  pcall(lsp_log_tail)
  vim.cmd('cquit 1')
end
