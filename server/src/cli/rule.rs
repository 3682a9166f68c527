//! `awaitguard rule CODE` prints a rule's documentation (the same markdown the server shows
//! on hover); `awaitguard rule --all` lists every rule.

use super::Format;
use crate::rules::{self, RULES};
use clap::Args;
use serde_json::json;

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
    if args.all || args.rule.is_none() {
        match args.format {
            Format::Json => {
                let v: Vec<_> = RULES.iter().map(|r| meta_json(r.meta())).collect();
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            Format::Text => {
                for r in RULES {
                    let m = r.meta();
                    let fix = match m.fix {
                        rules::FixAvailability::None => "no fix",
                        rules::FixAvailability::Sometimes => "fix sometimes",
                        rules::FixAvailability::Always => "fix",
                    };
                    println!("{:<6} {:<28} {:<8} {:<14} {}", m.code, m.name, m.severity.as_str(), fix, m.summary);
                }
            }
        }
        return 0;
    }
    let code = args.rule.unwrap_or_default();
    match rules::by_code(&code) {
        Some(r) => {
            match args.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&meta_json(r.meta())).unwrap_or_default()),
                Format::Text => print!("{}", r.meta().doc),
            }
            0
        }
        None => {
            eprintln!("error: unknown rule `{code}` (see `awaitguard rule --all`)");
            2
        }
    }
}
