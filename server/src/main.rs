//! The `awaitguard` binary: `lsp`, `check`, `rule`. See `cli` for the commands.

use clap::Parser;

fn main() {
    let cli = awaitguard::cli::Cli::parse();
    std::process::exit(awaitguard::cli::run(cli));
}
