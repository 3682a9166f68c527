-- Shared helpers for the headless Neovim tests.
local H = {}

H.dir = assert(os.getenv('AG_TEST_DIR'), 'AG_TEST_DIR not set') -- a fresh folder per test
H.cmd_override = os.getenv('AWAITGUARD_TEST_CMD') -- harness self-check: a missing/broken server
H.notes = {} -- vim.notify messages (see runner.lua)
H.exited = nil -- exit code of the last awaitguard client process

H.VIEWS = [[
from django.http import JsonResponse
from .models import Book

async def book_detail(request, pk):
    book = Book.objects.get(pk=pk)
    n = Book.objects.filter(a=1).count()
    return JsonResponse({"t": book.title, "n": n})
]]

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(('%s: expected %s, got %s'):format(what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or 'condition') .. ' is false', 2)
  end
  return v
end

--- Waits for `fn()` to be truthy; errors (failing the test) on timeout.
function H.wait(ms, fn, what)
  local last
  local ok = vim.wait(ms, function()
    last = fn()
    return last
  end, 10)
  if not ok then
    error(('timed out after %d ms waiting for %s'):format(ms, what), 2)
  end
  return last
end

function H.write(rel, text)
  local path = H.dir .. '/' .. rel
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  return path
end

function H.read(path)
  local f = assert(io.open(path, 'r'))
  local s = f:read('*a')
  f:close()
  return s
end

--- A Django project: proj/pyproject.toml and proj/app/views.py. Returns views.py's path.
function H.django_project()
  H.write('proj/pyproject.toml', '[project]\nname = "shop"\ndependencies = ["django>=5.0"]\n')
  return H.write('proj/app/views.py', H.VIEWS)
end

--- Test-only LSP config: the harness self-check's broken command, and an exit hook so a
--- dying server fails the test at once instead of at a timeout.
function H.configure(extra)
  local cfg = {
    on_exit = function(code)
      H.exited = code
    end,
  }
  if H.cmd_override then
    cfg.cmd = { H.cmd_override, 'lsp' }
  end
  vim.lsp.config('awaitguard', cfg)
  if extra then
    vim.lsp.config('awaitguard', extra)
  end
end

function H.open(path, ft)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype ~= ft then
    vim.bo[buf].filetype = ft
  end
  return buf
end

--- The initialized awaitguard client attached to `buf`; fails fast when the server binary
--- is missing or the server exits.
function H.client(buf, name)
  name = name or 'awaitguard'
  local cfg = vim.lsp.config[name]
  if cfg and type(cfg.cmd) == 'table' and vim.fn.executable(cfg.cmd[1]) == 0 then
    error('server binary is not executable: ' .. tostring(cfg.cmd[1]))
  end
  local client
  H.wait(10000, function()
    if H.exited ~= nil then
      return true
    end
    client = vim.lsp.get_clients({ bufnr = buf, name = name })[1]
    return client and client.initialized and vim.lsp.buf_is_attached(buf, client.id)
  end, name .. ' to attach')
  if H.exited ~= nil and not (client and client.initialized) then
    error(('the %s server exited with code %s before attaching'):format(name, tostring(H.exited)))
  end
  return client
end

--- awaitguard's diagnostics shown in `buf` (what the user sees), sorted by line.
function H.diags(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'awaitguard' then
      out[#out + 1] = d
    end
  end
  table.sort(out, function(a, b)
    return a.lnum < b.lnum
  end)
  return out
end

function H.wait_diags(buf, n, what)
  return H.wait(10000, function()
    local d = H.diags(buf)
    return #d == n and d
  end, ('%d diagnostic(s)%s'):format(n, what and (' ' .. what) or ''))
end

--- What the server reports now for `buf`: a direct pull (or, for a push client, what was
--- published after a short settle).
function H.server_diags(client, buf)
  if not client:supports_method('textDocument/diagnostic') then
    vim.wait(500)
    return H.diags(buf)
  end
  local res = client:request_sync(
    'textDocument/diagnostic',
    { textDocument = { uri = vim.uri_from_bufnr(buf) } },
    5000,
    buf
  )
  H.truthy(res and not res.err, 'textDocument/diagnostic answered without error: ' .. vim.inspect(res))
  H.eq('full', res.result.kind, 'report kind')
  return res.result.items
end

function H.line(buf, lnum1)
  return vim.api.nvim_buf_get_lines(buf, lnum1 - 1, lnum1, false)[1]
end

--- Wraps the `workspace/configuration` handler to count the server's requests.
function H.counting_configuration_handler(counter)
  return function(err, params, ctx, config)
    counter.n = counter.n + 1
    return vim.lsp.handlers['workspace/configuration'](err, params, ctx, config)
  end
end

--- Stops `client` and waits until Neovim has dropped it.
function H.stop(client)
  client:stop()
  H.wait(5000, function()
    return vim.lsp.get_client_by_id(client.id) == nil
  end, 'client ' .. client.id .. ' to exit')
  H.exited = nil
end

--- The lines of the :checkhealth buffer for `name`.
function H.checkhealth(name)
  vim.cmd('checkhealth ' .. name)
  local buf = vim.api.nvim_get_current_buf()
  H.wait(10000, function()
    local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
    return text:find('awaitguard: clients', 1, true) or text:find('ERROR', 1, true)
  end, 'the health report')
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

return H
