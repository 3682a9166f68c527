-- :checkhealth awaitguard is all OK with a working setup and an attached client.
local H = require('helpers')
local views = H.django_project()
require('awaitguard').setup({ ignore = { 'AG102' } })
H.configure()
local buf = H.open(views, 'python')
H.client(buf)
local report = H.checkhealth('awaitguard')
H.truthy(not report:find('ERROR', 1, true), 'no ERROR in:\n' .. report)
H.truthy(not report:find('WARNING', 1, true), 'no WARNING in:\n' .. report)
for _, want in ipairs({ 'OK server binary: ', 'OK version: awaitguard %d+%.%d+', 'OK client %d+ %(awaitguard', 'attached to: .*views%.py', 'OK enabled' }) do
  H.truthy(report:find(want), ('%q in:\n%s'):format(want, report))
end
