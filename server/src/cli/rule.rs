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
    /// Output format (`--output-format` is an alias).
    #[arg(long, alias = "output-format", value_enum, default_value_t = Format::Text)]
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
                // Aligned columns, with the fix wording of README's rule table.
                let rows: Vec<[String; 6]> = RULES
                    .iter()
                    .map(|r| {
                        let m = r.meta();
                        [
                            m.code.to_string(),
                            m.name.to_string(),
                            format!("{:?}", m.lang),
                            m.severity.as_str().to_string(),
                            fix_wording(m.fix).to_string(),
                            m.summary.to_string(),
                        ]
                    })
                    .collect();
                let header = ["code", "name", "language", "severity", "fix", "what it catches"].map(String::from);
                let mut widths = [0usize; 5];
                for row in std::iter::once(&header).chain(&rows) {
                    for (w, cell) in widths.iter_mut().zip(row) {
                        *w = (*w).max(cell.chars().count());
                    }
                }
                for row in std::iter::once(&header).chain(&rows) {
                    let mut line = String::new();
                    for (w, cell) in widths.iter().zip(row) {
                        let _ = write!(line, "{cell:<w$}  ");
                    }
                    line.push_str(&row[5]);
                    let _ = writeln!(out, "{}", line.trim_end());
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

/// How README's rule table says whether a rule has a fix (`scripts/update-readme-rules.py`).
pub fn fix_wording(f: rules::FixAvailability) -> &'static str {
    match f {
        rules::FixAvailability::None => "none",
        rules::FixAvailability::Sometimes => "when safe",
        rules::FixAvailability::Always => "yes",
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
