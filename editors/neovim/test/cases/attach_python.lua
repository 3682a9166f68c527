-- vim.lsp.enable('awaitguard') with only the runtime config: attaches to a Python file in a
-- Django project, rooted at the pyproject.toml folder.
local H = require('helpers')
local views = H.django_project()
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(views, 'python')
H.eq('python', vim.bo[buf].filetype, 'filetype')
local client = H.client(buf)
H.eq('awaitguard', client.name, 'client name')
H.eq(vim.fs.normalize(H.dir .. '/proj'), client.root_dir, 'root_dir')
H.eq('awaitguard', client.server_info and client.server_info.name, 'server name')
H.eq('utf-16', client.offset_encoding, 'negotiated position encoding')
H.truthy(client.server_capabilities.codeActionProvider, 'codeActionProvider')
H.truthy(client.server_capabilities.hoverProvider, 'hoverProvider')
-- the default settings were reconciled onto both channels
H.eq(true, client.settings.awaitguard.enable, 'settings.awaitguard.enable')
-- only one client, also after opening a second Python file of the same project
local other = H.write('proj/app/urls.py', 'urlpatterns = []\n')
local buf2 = H.open(other, 'python')
H.client(buf2)
H.eq(1, #vim.lsp.get_clients({ name = 'awaitguard' }), 'number of clients')
