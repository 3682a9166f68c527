//! `awaitguard rule CODE` prints a rule's documentation (the same markdown the server shows
//! on hover); `awaitguard rule --all` lists every rule.

use super::Format;
use crate::rules::{self, RULES};
use clap::Args;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// A rule code (AG101) or name (sync-orm-call).
    pub rule: Option<String>,
    /// List every rule.
    #[arg(long, conflicts_with = "rule")]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn meta_json(m: &rules::RuleMeta) -> serde_json::Value {
    json!({
        "code": m.code, "name": m.name, "severity": m.severity.as_str(), "fix": m.fix,
        "summary": m.summary, "language": format!("{:?}", m.lang).to_lowercase(), "doc": m.doc,
    })
}

pub fn run(args: RuleArgs) -> i32 {
    let mut out = String::new();
    if args.all || args.rule.is_none() {
        match args.format {
            Format::Json => {
                let v: Vec<_> = RULES.iter().map(|r| meta_json(r.meta())).collect();
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            Format::Text => {
                for r in RULES {
                    let m = r.meta();
                    let fix = match m.fix {
                        rules::FixAvailability::None => "no fix",
                        rules::FixAvailability::Sometimes => "fix sometimes",
                        rules::FixAvailability::Always => "fix",
                    };
                    let _ = writeln!(out, "{:<6} {:<28} {:<8} {:<14} {}", m.code, m.name, m.severity.as_str(), fix, m.summary);
                }
            }
        }
        return emit(&out);
    }
    let code = args.rule.unwrap_or_default();
    match rules::by_code(&code) {
        Some(r) => {
            match args.format {
                Format::Json => {
                    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&meta_json(r.meta())).unwrap_or_default());
                }
                Format::Text => out.push_str(r.meta().doc),
            }
            emit(&out)
        }
        None => {
            eprintln!("error: unknown rule `{code}` (see `awaitguard rule --all`)");
            2
        }
    }
}

/// Writes `text` to stdout: 0, also when the reader has gone; 2 on any other write error.
fn emit(text: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            2
        }
    }
}
