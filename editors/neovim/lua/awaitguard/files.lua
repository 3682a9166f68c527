-- Which buffers the awaitguard server is started for: Python and Rust buffers, and the
-- configuration files its rule AG307 (`DJANGO_ALLOW_ASYNC_UNSAFE`) reads. Those are told by
-- file name, as the server tells them: their filetypes (`sh`, `dockerfile`, `yaml`, `dosini`,
-- `toml` …) are shared with many files the server has nothing to say about.

local M = {}

--- Filetypes of AG307's configuration files: a buffer of one of these is attached only when
--- its name is such a file.
M.config_filetypes = { 'sh', 'dotenv', 'dockerfile', 'yaml', 'dosini', 'toml', 'cfg' }

--- The default root markers.
M.root_markers = { 'pyproject.toml', 'setup.cfg', 'manage.py', 'Cargo.toml', '.git' }

--- Whether the file at `path` is one AG307 reads (the server's `ConfigKind::of`): `.env*`
--- (not templates like `.env.example`, nor notebook ones), Dockerfiles, docker-compose files
--- and pytest config.
---@param path string
---@return boolean
function M.is_config_file(path)
  local name = vim.fs.basename(path or ''):lower()
  if name == '' or name:find('notebook', 1, true) or name:find('jupyter', 1, true) then
    return false
  end
  if name == '.env' or vim.startswith(name, '.env.') or vim.endswith(name, '.env') then
    for _, suffix in ipairs({ '.example', '.sample', '.template', '.dist' }) do
      if vim.endswith(name, suffix) then
        return false
      end
    end
    return true
  end
  if name == 'dockerfile' or vim.startswith(name, 'dockerfile.') or vim.endswith(name, '.dockerfile') then
    return true
  end
  if (vim.startswith(name, 'docker-compose') or vim.startswith(name, 'compose')) and (vim.endswith(name, '.yml') or vim.endswith(name, '.yaml')) then
    return true
  end
  return name == 'pytest.ini' or name == 'pyproject.toml' or name == 'setup.cfg' or name == 'tox.ini'
end

--- `root_dir` of the LSP config: declines a buffer of a configuration filetype that is not
--- one of AG307's files (the server is not started for it); otherwise the folder holding one
--- of the config's `root_markers` (nil: single-file mode).
---@param bufnr integer
---@param on_dir fun(root?: string)
function M.root_dir(bufnr, on_dir)
  local ft = vim.bo[bufnr].filetype
  if vim.tbl_contains(M.config_filetypes, ft) and not M.is_config_file(vim.api.nvim_buf_get_name(bufnr)) then
    return
  end
  local cfg = vim.lsp.config.awaitguard or {}
  on_dir(vim.fs.root(bufnr, cfg.root_markers or M.root_markers))
end

return M
