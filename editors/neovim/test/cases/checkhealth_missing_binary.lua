-- :checkhealth awaitguard reports an ERROR when the server binary is missing.
local H = require('helpers')
require('awaitguard').setup({ path = H.dir .. '/no/such/awaitguard', autostart = false })
local report = H.checkhealth('awaitguard')
H.truthy(report:find('ERROR.*not found or not executable'), 'missing binary reported:\n' .. report)
H.truthy(report:find('WARNING not enabled'), 'not-enabled reported:\n' .. report)
