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

/// [`Rule::possible`] is sound: whenever it says the settings rule a rule out, the rule finds
/// nothing. Each fixture runs its own rule under its own settings and under variants with one
/// settings fact taken away; every variant the rule calls impossible must be silent, and some
/// of those must come from fixtures that have findings under their own settings.
#[test]
fn a_rule_the_settings_rule_out_is_silent() {
    use awaitguard::settings::CacheKind;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = vec![];
    sources(&root.join("fixtures"), &mut files);
    let (mut silenced, mut checked) = (0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lang = Lang::from_path(path).unwrap();
        let code = path.file_stem().unwrap().to_str().unwrap().split(['_', '.']).next().unwrap();
        let Some(rule) = awaitguard::rules::by_code(code) else { continue };
        let own = common::fixture_settings(path, &text);
        let tree = syntax::parse(lang, &text, None);
        let index = LineIndex::new(&text);
        let fires = !analyze_all(&text, lang, &tree, &index, &own).findings.is_empty();
        let variants: Vec<Box<dyn Fn(&mut Settings)>> = vec![
            Box::new(|_| {}),
            Box::new(|s| s.atomic_requests = Default::default()),
            Box::new(|s| s.session_kind = CacheKind::Unknown),
            Box::new(|s| s.session_kind = CacheKind::NoIo),
            Box::new(|s| s.sqlx_versions = None),
        ];
        for change in &variants {
            let mut settings = common::fixture_settings(path, &text);
            change(&mut settings);
            if rule.possible(&settings) {
                continue;
            }
            let a = analyze_all(&text, lang, &tree, &index, &settings);
            assert!(a.findings.is_empty(), "{}: {code} fires under settings it calls impossible", path.display());
            checked += 1;
            silenced += usize::from(fires);
        }
    }
    assert!(checked > 0 && silenced > 0, "checked {checked}, silenced {silenced}");
}

#[test]
fn knock_out_renames_whole_identifiers_only() {
    assert_eq!(knock_out("async def f(): import asyncio  # async", &["async"]), "Qsync def f(): import asyncio  # Qsync");
}
