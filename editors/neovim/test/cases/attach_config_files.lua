-- AG307's configuration files get the server by file name whatever their filetype: a .env
-- (filetype sh) and a Dockerfile are attached and get the finding; a shell script and an
-- unrelated YAML file of the same filetypes are not attached.
local H = require('helpers')
H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local env = H.write('proj/.env', 'DEBUG=1\nDJANGO_ALLOW_ASYNC_UNSAFE=true\n')
local buf = H.open(env, 'sh')
local client = H.client(buf)
H.eq(vim.fs.normalize(H.dir .. '/proj'), client.root_dir, 'root_dir')
local d = H.wait_diags(buf, 1, 'in .env')
H.eq('AG307', d[1].code, 'code')
H.eq({ 1, 0 }, { d[1].lnum, d[1].col }, 'position (0-based)')
local docker = H.write('proj/Dockerfile', 'FROM python:3.12\nENV DJANGO_ALLOW_ASYNC_UNSAFE=1\n')
local dbuf = H.open(docker, 'dockerfile')
H.client(dbuf)
H.eq('AG307', H.wait_diags(dbuf, 1, 'in Dockerfile')[1].code, 'Dockerfile code')
H.eq(1, #vim.lsp.get_clients({ name = 'awaitguard' }), 'number of clients')
for _, f in ipairs({ { 'proj/run.sh', 'sh' }, { 'proj/values.yaml', 'yaml' } }) do
  local b = H.open(H.write(f[1], 'DJANGO_ALLOW_ASYNC_UNSAFE=1\n'), f[2])
  vim.wait(300)
  H.eq(0, #vim.lsp.get_clients({ name = 'awaitguard', bufnr = b }), f[1] .. ' not attached')
end
