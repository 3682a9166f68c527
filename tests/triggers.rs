//! The trigger pre-filter is sound: for every rule and every group of its triggers, a text
//! where no identifier of that group occurs gets no finding from the rule. Checked over every
//! fixture and the demo project by knocking each group out of the text (each occurrence
//! renamed, same length) and running the rule with no pre-filter ([`analyze_all`]). Since each
//! rule's own fixtures have true positives, this also proves they hold its triggers.

mod common;

use awaitguard::config::Settings;
use awaitguard::analysis::analyze_all;
use awaitguard::rules::RULES;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if Lang::from_path(&p).is_some() {
            out.push(p);
        }
    }
}

/// `text` with every whole-identifier occurrence of `tokens` renamed (first letter → `Q`).
fn knock_out(text: &str, tokens: &[&str]) -> String {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = text.as_bytes().to_vec();
    for t in tokens {
        let mut from = 0;
        while let Some(i) = text[from..].find(t).map(|i| i + from) {
            let end = i + t.len();
            if (i == 0 || !ident(text.as_bytes()[i - 1])) && text.as_bytes().get(end).is_none_or(|b| !ident(*b)) {
                out[i] = b'Q';
            }
            from = i + 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn a_rule_without_its_triggers_is_silent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = vec![];
    sources(&root.join("fixtures"), &mut files);
    sources(&root.join("demo"), &mut files);
    assert!(files.len() > 30, "fixtures found: {}", files.len());
    let mut checked = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lang = Lang::from_path(path).unwrap();
        let mut over = common::fixture_overrides(path, &text);
        for rule in RULES.iter().map(|r| r.meta()).filter(|m| m.lang == lang) {
            over.select = Some(vec![rule.code.to_string()]);
            let settings = Settings::resolve(None, &over, None).unwrap();
            for group in rule.triggers {
                let knocked = knock_out(&text, group);
                let tree = syntax::parse(lang, &knocked, None);
                let index = LineIndex::new(&knocked);
                let a = analyze_all(&knocked, lang, &tree, &index, &settings);
                assert!(
                    a.findings.is_empty(),
                    "{}: {} fires with none of {group:?} in the text: add its trigger ({:?})",
                    path.display(),
                    rule.code,
                    a.findings.iter().map(|f| &f.message).collect::<Vec<_>>()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn knock_out_renames_whole_identifiers_only() {
    assert_eq!(knock_out("async def f(): import asyncio  # async", &["async"]), "Qsync def f(): import asyncio  # Qsync");
}
