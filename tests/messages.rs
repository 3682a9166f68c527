//! Every finding's message is one short sentence naming the problem (issue 22), as ruff's are:
//! the fix belongs in the fix title and the explanation in the rule's doc (`awaitguard rule
//! CODE`, hover). The messages are read from the real binary's JSON output over every fixture
//! and fixture project, with every rule selected, so rules added later are held to it too.
//!
//! The form: no line break, no trailing period (ruff's convention), no sentence break (`. ` or
//! `; ` outside code spans), at most [`MAX_LEN`] characters, starting with a capital letter
//! or a code span.

mod common;

use common::cli::run;
use serde_json::Value;
use std::path::Path;

const MAX_LEN: usize = 120;

/// The text of `m` outside backtick code spans (code may hold any punctuation).
fn prose(m: &str) -> String {
    m.split('`').step_by(2).collect::<Vec<_>>().join("`…`")
}

fn problems(m: &str) -> Vec<&'static str> {
    let mut why = vec![];
    let p = prose(m);
    if m.contains('\n') || m.contains('\r') {
        why.push("has a line break");
    }
    if m.ends_with('.') || m.ends_with(' ') {
        why.push("ends with a period or a space");
    }
    if p.contains(". ") || p.contains("; ") || p.contains(": ") {
        why.push("has more than one sentence or clause (`. `, `; ` or `: ` outside code)");
    }
    if m.chars().count() > MAX_LEN {
        why.push("is longer than the bound");
    }
    if !m.starts_with('`') && !m.chars().next().is_some_and(|c| c.is_uppercase()) {
        why.push("does not start with a capital letter or a code span");
    }
    why
}

#[test]
fn every_message_is_one_short_sentence() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let o = run(&root, &["check", "--isolated", "--select", "ALL", "--output-format", "json", "fixtures", "projects"]);
    let findings: Vec<Value> = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", o.stderr));
    let mut codes = std::collections::BTreeSet::new();
    let mut bad = vec![];
    for f in &findings {
        let code = f["code"].as_str().unwrap();
        let m = f["message"].as_str().unwrap();
        codes.insert(code.to_string());
        let why = problems(m);
        if !why.is_empty() {
            bad.push(format!("{code} {m:?}: {}", why.join(", ")));
        }
    }
    bad.sort();
    bad.dedup();
    // The fixtures exercise every rule: a rule without findings here would escape the check.
    for rule in ["AG101", "AG102", "AG202", "AG301", "AG501", "AG510", "AG511", "AG900"] {
        assert!(codes.contains(rule), "no {rule} finding over the fixtures; codes seen: {codes:?}");
    }
    assert!(bad.is_empty(), "{} messages are not one short sentence:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn the_form_check_rejects_paragraphs() {
    assert!(problems("`qs.count()` runs a query synchronously in async code").is_empty());
    assert!(!problems("A query. Use `x`").is_empty());
    assert!(!problems("A query; use `x`").is_empty());
    assert!(!problems("A query\nover two lines").is_empty());
    assert!(!problems("A query.").is_empty());
    assert!(!problems(&"a".repeat(130)).is_empty());
    assert!(problems("Use `a; b. c: d`").is_empty(), "punctuation inside code spans is allowed");
}
