//! The analysis pipeline shared by the server and the CLI: which rules run on a file
//! ([`triggers`]), the semantic model they read, running them, suppressions, findings a
//! test provokes on purpose ([`intent`]), the focused
//! per-keystroke re-analysis ([`incremental`]) and the fix-all loop.
//!
//! Invariants:
//! - A finding is a pure function of (file text, settings, project model): [`analyze`] reads
//!   nothing else.
//! - A panicking rule costs only its own findings for that file: [`analyze_rules`] catches it
//!   and reports it in [`Analysis::errors`].
//! - A rule runs only on a file where its [`RuleMeta::triggers`] occur: without them it cannot
//!   fire (`tests/triggers.rs` proves it for every rule over every fixture).
//! - Depends on `rules`, `semantic`, `syntax`, `settings`; nothing below it depends on it.

pub mod incremental;
pub mod sparse;
pub mod intent;
pub mod suppression;
pub mod triggers;

use crate::rules::{Ctx, Finding, Rule, RuleMeta, RULES};
use crate::semantic::outside::Outside;
use crate::semantic::{PyModel, RustModel};
use crate::settings::Settings;
use crate::syntax::Lang;
use crate::text::LineIndex;
use std::ops::Range;

/// AG900: computed here, after the other rules ([`suppression::unused`]).
const UNUSED_SUPPRESSION: &str = "AG900";
use tree_sitter::Tree;

/// The result of analysing one file.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Internal errors (a rule that panicked), one line each.
    pub errors: Vec<String>,
    /// Functions of this file whose bodies the analysis summarised (a helper's return value
    /// asked for), in `def` order. The sparse parse must not have blanked them; focused
    /// re-analysis carries them over ([`incremental`]).
    pub consulted: Vec<crate::semantic::summary::LocalFn>,
    /// Function bodies whose syntax was read for other functions' sake (custom queryset
    /// methods), as `def` ranges: like `consulted`, an edit there may change findings
    /// elsewhere, and the sparse parse must not blank them.
    pub read_bodies: Vec<Range<usize>>,
}

/// Analyses one file. Pure: same inputs, same findings. Runs only the enabled rules whose
/// triggers occur in `src` ([`triggers::Found`]); the findings are those of [`analyze_all`].
pub fn analyze(src: &str, lang: Lang, tree: &Tree, index: &LineIndex, settings: &Settings) -> Analysis {
    analyze_with(src, lang, tree, index, settings, None)
}

/// [`analyze`] with the rest of the project: names defined in other files are resolved
/// through `outside` ([`crate::project::FileView`]).
pub fn analyze_with(
    src: &str,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
) -> Analysis {
    let found = triggers::Found::scan(src, lang, settings);
    analyze_rules(src, lang, tree, index, settings, outside, |m| found.holds(m, settings), &[], &mut |_| Focus::Whole)
        .unwrap_or_default()
}

/// [`analyze`] of a Python `text` on its sparse parse ([`crate::analysis::sparse`]), for
/// `check`: the rules read the original text, the tree is that of the masked text (same
/// length, same bytes outside the masked bodies, which the parser skips). When a finding, a
/// fix, or a function the rules consulted reaches into masked ranges, the analysis is run
/// again with the units holding those ranges kept whole (each round keeps more, so at most
/// [`SPARSE_ROUNDS`] rounds). `None` (parse the original instead) when nothing can be masked,
/// when the masked text does not parse cleanly, or when the last round still reaches into a
/// masked range. Equal to [`analyze`] whenever the original text parses without error
/// (checked by the fuzz target `analyze_fix`, the proptests, every fixture and
/// `bench/run.sh` on real corpora).
pub fn analyze_sparse(text: &str, settings: &Settings, index: &LineIndex, outside: Option<&dyn Outside>) -> Option<Analysis> {
    use crate::analysis::sparse;
    // AG900 must see every comment: a masked body hides them.
    if settings.is_enabled(UNUSED_SUPPRESSION) {
        return None;
    }
    let (mut hot, cross_scope) = triggers::hot_positions(text, Lang::Python, settings);
    let events = sparse::event_positions(text);
    for _ in 0..SPARSE_ROUNDS {
        let masked = sparse::mask(text, &hot, &events, &cross_scope)?;
        let tree = crate::syntax::parse_ranges(Lang::Python, &masked.text, &masked.included(index))?;
        if tree.root_node().has_error() {
            return None;
        }
        let analysis = analyze_with(text, Lang::Python, &tree, index, settings, outside);
        let reached: Vec<usize> = masked
            .ranges
            .iter()
            .filter(|m| {
                let touches = |r: &Range<usize>| r.start < m.end && m.start < r.end;
                analysis.findings.iter().any(|f| touches(&f.range) || f.fixes.iter().flat_map(|x| &x.edits).any(|e| touches(&e.range)))
                    || analysis.consulted.iter().any(|f| touches(&f.def_range))
                    || analysis.read_bodies.iter().any(touches)
            })
            .map(|m| m.start)
            .collect();
        if reached.is_empty() {
            return Some(analysis);
        }
        // A position inside a unit keeps the unit whole ([`sparse::mask`]'s hot positions).
        hot.extend(reached);
        hot.sort_unstable();
        hot.dedup();
    }
    None
}

/// How many sparse parses [`analyze_sparse`] tries before the full parse.
const SPARSE_ROUNDS: usize = 3;

/// [`analyze`] running every enabled rule, triggers or not: the reference the trigger
/// pre-filter is tested against.
pub fn analyze_all(src: &str, lang: Lang, tree: &Tree, index: &LineIndex, settings: &Settings) -> Analysis {
    analyze_all_with(src, lang, tree, index, settings, None)
}

/// [`analyze_all`] with the rest of the project (see [`analyze_with`]).
pub fn analyze_all_with(
    src: &str,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
) -> Analysis {
    analyze_rules(src, lang, tree, index, settings, outside, |_| true, &[], &mut |_| Focus::Whole).unwrap_or_default()
}

/// What [`analyze_rules`] does once the Python model is built.
pub(crate) enum Focus {
    /// Run the rules on the whole file.
    Whole,
    /// Run the rules with the queries (and [`PyModel::focus`]) restricted to this range.
    Range(Range<usize>),
    /// Stop: the caller falls back to another analysis.
    Abort,
}

/// The enabled rules of `lang` whose triggers hold, in code order.
pub(crate) fn rules_for(lang: Lang, settings: &Settings, triggered: impl Fn(&RuleMeta) -> bool) -> Vec<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .filter(|r| r.meta().lang == lang && triggers::live(*r, settings) && triggered(r.meta()))
        .collect()
}

/// The analysis proper. The Python model skips the function bodies in `skip`
/// ([`PyModel::build_skipping`]); `plan` sees it (before any rule runs) and decides how much
/// of the file the rules look at; `None` only when it answered [`Focus::Abort`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyze_rules(
    src: &str,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
    triggered: impl Fn(&RuleMeta) -> bool,
    skip: &[crate::semantic::python::Skip],
    plan: &mut dyn FnMut(&PyModel) -> Focus,
) -> Option<Analysis> {
    let mut out = Analysis::default();
    let rules = rules_for(lang, settings, triggered);
    // AG900 is a Python rule in the registry; on Rust files the pipeline runs it here, on
    // every file with a directive (as the pre-filter, [`triggers::may_fire`], lets through).
    let rust_unused = lang == Lang::Rust && settings.is_enabled(UNUSED_SUPPRESSION) && suppression::mentions_directive(src);
    if rules.is_empty() && !rust_unused {
        return Some(out);
    }
    let py = match lang {
        Lang::Python => {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| PyModel::build_skipping(src, tree, index, skip))) {
                Ok(m) => Some(m),
                Err(p) => {
                    out.errors.push(format!("semantic model panicked: {}", panic_message(&p)));
                    return Some(out);
                }
            }
        }
        Lang::Rust => None,
    };
    let mut py = py;
    if let Some(m) = py.as_mut() {
        m.outside = outside;
    }
    let focus = match py.as_mut().map(|m| (plan(m), m)) {
        Some((Focus::Abort, _)) => return None,
        // AG900 judges every suppression of the file: no focused run with it.
        Some((Focus::Range(_), _)) if settings.is_enabled(UNUSED_SUPPRESSION) => return None,
        Some((Focus::Range(r), m)) => {
            m.focus = Some(r.clone());
            Some(r)
        }
        _ => None,
    };
    let rs = match lang {
        Lang::Rust => {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut m = RustModel::build(src, tree, index);
                m.outside = outside;
                m.resolve_wrappers();
                m
            })) {
                Ok(m) => Some(m),
                Err(p) => {
                    out.errors.push(format!("semantic model panicked: {}", panic_message(&p)));
                    return Some(out);
                }
            }
        }
        Lang::Python => None,
    };
    let cx = Ctx::new(src, tree, index, settings, py.as_ref(), rs.as_ref(), focus);
    for rule in &rules {
        let mut found = Vec::new();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if test_panic_rule() == Some(rule.meta().code) {
                panic!("test panic requested by AWAITGUARD_TEST_PANIC");
            }
            rule.check(&cx, &mut found)
        }));
        match res {
            Ok(()) => out.findings.extend(found),
            Err(p) => out.errors.push(format!("rule {} panicked: {}", rule.meta().code, panic_message(&p))),
        }
    }
    if let Some(m) = &py {
        out.consulted = m.local_fns.borrow().values().cloned().collect();
        out.consulted.sort_by_key(|f| f.def_range.start);
        out.read_bodies = m.read_bodies.borrow().clone();
        out.read_bodies.sort_by_key(|r| r.start);
        out.read_bodies.dedup();
    }
    let comments = py.as_ref().map(|m| &m.comments).or(rs.as_ref().map(|m| &m.comments));
    // AG900 needs what each suppression removed (whole-file analyses only, see below).
    let unused_on = rust_unused || (lang == Lang::Python && rules.iter().any(|r| r.meta().code == UNUSED_SUPPRESSION));
    let mut used: Vec<(usize, &'static str, &'static str)> = vec![];
    out.findings.retain(|f| {
        let hide = suppression::is_suppressed(src, index, tree, comments, f);
        if hide && unused_on {
            let first = index.line_of(f.range.start);
            used.push((suppression::comment_line(src, index, tree, first).unwrap_or(first), f.code, f.name));
        }
        !hide
    });
    if let (true, Some(c)) = (unused_on, comments) {
        out.findings.extend(suppression::unused(src, lang, c, &used, settings));
    }
    if lang == Lang::Python {
        out.findings.retain(|f| !intent::intended(src, tree, f));
    }
    drop_fixes_on_broken_code(tree, &mut out.findings);
    for f in &mut out.findings {
        f.severity = settings.effective_severity(f.code, f.severity);
    }
    out.findings.sort_by(|a, b| (a.range.start, a.range.end, a.code).cmp(&(b.range.start, b.range.end, b.code)));
    out.findings.dedup();
    Some(out)
}

/// A finding whose code does not parse (its node holds an ERROR or MISSING node) keeps no
/// fix: an edit computed from error recovery's guess can miss its mark, and fix-all would then
/// apply it again on every round (`await sync_to_async(f(` gained `()` per round; found by
/// fuzzing). Trees without an error are left alone.
fn drop_fixes_on_broken_code(tree: &Tree, findings: &mut [Finding]) {
    let root = tree.root_node();
    if !root.has_error() {
        return;
    }
    for f in findings.iter_mut().filter(|f| !f.fixes.is_empty()) {
        if root.descendant_for_byte_range(f.range.start, f.range.end).is_none_or(|n| n.has_error()) {
            f.fixes.clear();
        }
    }
}

/// `AWAITGUARD_TEST_PANIC=AG101` makes that rule panic: how tests prove a panicking rule
/// costs only its own findings. Read once per process.
fn test_panic_rule() -> Option<&'static str> {
    static CODE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    CODE.get_or_init(|| std::env::var("AWAITGUARD_TEST_PANIC").ok()).as_deref()
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Applies fixes repeatedly (re-parsing and re-analysing each round, at most 16 rounds) until
/// no applicable fix is left. Only safe fixes unless `unsafe_too`. Returns the new text, or
/// `None` when nothing changed. A round whose result would not parse stops the loop and keeps
/// the last text that did (fixes never produce invalid code).
pub fn fix_all(src: &str, lang: Lang, settings: &Settings, unsafe_too: bool) -> Option<String> {
    fix_all_with(src, lang, settings, unsafe_too, None)
}

/// [`fix_all`] with the rest of the project (see [`analyze_with`]).
pub fn fix_all_with(src: &str, lang: Lang, settings: &Settings, unsafe_too: bool, outside: Option<&dyn Outside>) -> Option<String> {
    let mut text = src.to_string();
    let started_clean = !crate::syntax::has_syntax_error(&crate::syntax::parse(lang, src, None));
    for _ in 0..16 {
        let tree = crate::syntax::parse(lang, &text, None);
        let index = LineIndex::new(&text);
        let analysis = analyze_with(&text, lang, &tree, &index, settings, outside);
        let fixes = analysis.findings.iter().filter_map(|f| {
            f.fixes.iter().find(|x| unsafe_too || x.applicability == crate::fix::Applicability::Safe)
        });
        let edits = crate::fix::non_conflicting(fixes);
        if edits.is_empty() {
            break;
        }
        let Some(next) = crate::fix::apply(&text, &edits) else { break };
        if started_clean && crate::syntax::has_syntax_error(&crate::syntax::parse(lang, &next, None)) {
            break;
        }
        if next == text {
            break;
        }
        text = next;
    }
    // Imports whose last use the fixes replaced go too (only those).
    if lang == Lang::Python && text != src {
        if let Some(pruned) = crate::fix::imports::prune_made_unused(src, &text) {
            text = pruned;
        }
    }
    (text != src).then_some(text)
}
