-- Attaches to a Rust file in a Cargo project (root: the Cargo.toml folder); a clean file
-- has no diagnostics.
local H = require('helpers')
H.write('crate/Cargo.toml', '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n')
local main = H.write('crate/src/main.rs', 'fn main() {\n    println!("hi");\n}\n')
H.configure()
vim.lsp.enable('awaitguard')
local buf = H.open(main, 'rust')
H.eq('rust', vim.bo[buf].filetype, 'filetype')
local client = H.client(buf)
H.eq(vim.fs.normalize(H.dir .. '/crate'), client.root_dir, 'root_dir')
H.eq({}, H.server_diags(client, buf), 'diagnostics of a clean Rust file')
