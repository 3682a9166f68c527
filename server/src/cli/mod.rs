//! The command line: `awaitguard check`, `awaitguard rule`. The only module that prints.
//!
//! Exit status of `check`: 0 no findings, 1 findings (or, with `--diff`, changes to make;
//! `--exit-zero` turns 1 into 0), 2 usage/config/IO error (files that cannot be read or decoded, and
//! files `--fix` could not write, are reported by path and skipped; the run goes on and
//! exits 2).

pub mod check;
pub mod fix;
pub mod render;
pub mod rule;
pub mod watch;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "awaitguard",
    version,
    about = "Finds sync database calls on an event loop and transactions that do not guard what they seem to (Django, Rust DB crates); fixes them.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the language server on stdio.
    Lsp {
        /// Accepted for editor clients that append it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Check files and folders (default: the current folder).
    Check(check::CheckArgs),
    /// Show a rule's documentation, or list every rule.
    Rule(rule::RuleArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Lsp { stdio: _ } => {
            crate::lsp::serve_stdio();
            0
        }
        Command::Check(args) if args.watch => watch::run(&args),
        Command::Check(args) => check::run(args),
        Command::Rule(args) => rule::run(args),
    }
}

/// Splits `--select AG101,AG102` style lists.
pub fn split_list(items: &[String]) -> Vec<String> {
    items.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

pub(crate) fn paths_or_cwd(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() }
}
