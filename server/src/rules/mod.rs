//! Rules: one file per rule (metadata + check + fix), the registry, and the analysis entry
//! point shared by the server and the CLI.
//!
//! Invariants:
//! - A finding is a pure function of (file text, settings): [`analyze`] reads nothing else.
//! - Rules see bytes and trees, never LSP types or a terminal.
//! - A panicking rule costs only its own findings for that file: [`analyze`] catches it and
//!   reports it in [`Analysis::errors`].
//! - Candidates come from the queries in `queries/` ([`crate::syntax::QueryId`]); rule code
//!   decides. One traversal per file finds the matches of every query; rules share them.
//! - A rule runs only on a file where its [`RuleMeta::triggers`] occur: without them it cannot
//!   fire (`tests/triggers.rs` proves it for every rule over every fixture).
//! - Work is bounded on any tree: no query match starts below [`MAX_MATCH_DEPTH`], so absurd
//!   nesting costs linear time, not quadratic.

mod ag101_sync_orm_call;
mod ag102_sync_queryset_evaluation;
mod ag103_sync_instance_method;
mod ag105_request_user_in_async;
mod ag107_sync_framework_helper;
mod ag109_nonexistent_async_method;
mod ag110_await_on_queryset;
mod orm_fix;
mod ag201_async_with_sync_atomic;
mod ag202_atomic_in_async;
mod ag203_atomic_decorator_on_coroutine;
mod ag205_select_for_update_outside_atomic;
mod ag208_task_dispatch_in_atomic;
mod ag301_async_to_sync_in_loop;
mod ag302_sync_to_async_on_coroutine;
mod ag303_sync_to_async_not_called;
mod ag304_sync_to_async_eager_argument;
mod ag501_blocking_db_call_in_async;
mod ag502_nested_block_on;
mod ag503_block_in_place_current_thread;
mod ag510_transaction_not_committed;
mod ag511_query_bypasses_transaction;
pub mod incremental;
mod rust_util;
pub mod suppression;
pub mod triggers;

use crate::config::Settings;
use crate::fix::Fix;
use crate::semantic::{PyModel, RustModel};
use crate::syntax::{combined, Lang, QueryId};
use crate::text::LineIndex;
use serde::Serialize;
use std::ops::Range;
use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, QueryCursor, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "info" | "information" => Some(Severity::Info),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// What kind of fix a rule can offer at best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// A rule's metadata: the single source for docs, hover, `awaitguard rule`, SARIF.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub lang: Lang,
    pub severity: Severity,
    pub fix: FixAvailability,
    /// Identifiers without which the rule cannot fire, as a conjunction of alternatives (every
    /// group needs one present as a whole identifier, anywhere in the file). Files where no
    /// enabled rule's triggers hold are not parsed ([`triggers`]); list every name the rule's
    /// code can act on.
    pub triggers: triggers::Triggers,
    /// One line.
    pub summary: &'static str,
    /// Markdown: what it catches, why it is wrong, example, fix.
    pub doc: &'static str,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>);
}

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &ag101_sync_orm_call::SyncOrmCall,
    &ag102_sync_queryset_evaluation::SyncQuerysetEvaluation,
    &ag103_sync_instance_method::SyncInstanceMethod,
    &ag105_request_user_in_async::RequestUserInAsync,
    &ag107_sync_framework_helper::SyncFrameworkHelper,
    &ag109_nonexistent_async_method::NonexistentAsyncMethod,
    &ag110_await_on_queryset::AwaitOnQueryset,
    &ag201_async_with_sync_atomic::AsyncWithSyncAtomic,
    &ag202_atomic_in_async::AtomicInAsync,
    &ag203_atomic_decorator_on_coroutine::AtomicDecoratorOnCoroutine,
    &ag205_select_for_update_outside_atomic::SelectForUpdateOutsideAtomic,
    &ag208_task_dispatch_in_atomic::TaskDispatchInAtomic,
    &ag301_async_to_sync_in_loop::AsyncToSyncInLoop,
    &ag302_sync_to_async_on_coroutine::SyncToAsyncOnCoroutine,
    &ag303_sync_to_async_not_called::SyncToAsyncNotCalled,
    &ag304_sync_to_async_eager_argument::SyncToAsyncEagerArgument,
    &ag501_blocking_db_call_in_async::BlockingDbCallInAsync,
    &ag502_nested_block_on::NestedBlockOn,
    &ag503_block_in_place_current_thread::BlockInPlaceCurrentThread,
    &ag510_transaction_not_committed::TransactionNotCommitted,
    &ag511_query_bypasses_transaction::QueryBypassesTransaction,
];

pub fn by_code(code: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().code.eq_ignore_ascii_case(code) || r.meta().name == code)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub range: Range<usize>,
    pub severity: Severity,
    pub message: String,
    pub fixes: Vec<Fix>,
}

impl Finding {
    /// A finding of the rule described by `meta`, at its default severity.
    pub fn new(meta: &'static RuleMeta, range: Range<usize>, message: String, fixes: Vec<Fix>) -> Finding {
        Finding { code: meta.code, name: meta.name, range, severity: meta.severity, message, fixes }
    }
}

/// Deepest tree level a query match may start at. tree-sitter's query cursor pays O(depth)
/// per node it visits, so a query over 10,000 nested brackets or `lambda:`s was quadratic
/// (22 s for one file, found by the torture tests); below this depth the cursor does not
/// descend. Real code sits far above it (a deeply nested expression in a method is ~100).
pub const MAX_MATCH_DEPTH: u32 = 1000;

/// What one rule needs to look at a file.
pub struct Ctx<'a, 't> {
    pub src: &'t str,
    pub tree: &'t Tree,
    pub index: &'a LineIndex,
    pub settings: &'a Settings,
    pub py: Option<&'a PyModel<'t>>,
    pub rs: Option<&'a RustModel<'t>>,
    /// Every query's matches (indexed by [`QueryId`]), computed by one traversal of the
    /// tree on first use and shared by the rules.
    matches: std::cell::OnceCell<Vec<Vec<Captures<'t>>>>,
    /// Focused analysis ([`incremental`]): the queries only look at this byte range.
    focus: Option<Range<usize>>,
}

impl<'a, 't> Ctx<'a, 't> {
    /// Calls `f` with each match's captures by name of query `id` over the whole tree, in
    /// the order of the query cursor. Matches rooted deeper than [`MAX_MATCH_DEPTH`] are not
    /// looked for.
    pub fn for_each_match(&self, id: QueryId, f: impl FnMut(&Captures<'t>)) {
        self.matches.get_or_init(|| self.run_queries(id.lang()))[id as usize].iter().for_each(f);
    }

    fn run_queries(&self, lang: Lang) -> Vec<Vec<Captures<'t>>> {
        let c = combined(lang);
        let names = c.query.capture_names();
        let mut out: Vec<Vec<Captures<'t>>> = QueryId::ALL.iter().map(|_| vec![]).collect();
        // A focused run looks at its function only (its tree has no error, so no wide run);
        // otherwise wide anonymous runs (error recovery only) are cut out: see `syntax::wide`.
        let ranges = match &self.focus {
            Some(_) => None,
            None => crate::syntax::wide::query_ranges(self.tree),
        };
        for range in ranges.map_or(vec![None], |r| r.into_iter().map(Some).collect()) {
            let mut cursor = QueryCursor::new();
            cursor.set_max_start_depth(Some(MAX_MATCH_DEPTH));
            if let Some(f) = &self.focus {
                cursor.set_byte_range(f.clone());
            }
            if let Some(r) = range {
                cursor.set_byte_range(r.clone());
                cursor.set_containing_byte_range(r);
            }
            let mut matches = cursor.matches(&c.query, self.tree.root_node(), self.src.as_bytes());
            while let Some(m) = matches.next() {
                let caps = Captures { list: m.captures().iter().map(|c| (names[c.index as usize], c.node)).collect() };
                out[c.owner[m.pattern_index] as usize].push(caps);
            }
        }
        out
    }
}

/// The captures of one query match.
pub struct Captures<'t> {
    list: Vec<(&'static str, Node<'t>)>,
}

impl<'t> Captures<'t> {
    pub fn get(&self, name: &str) -> Option<Node<'t>> {
        self.list.iter().find(|(n, _)| *n == name).map(|(_, node)| *node)
    }
}

/// The result of analysing one file.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Internal errors (a rule that panicked), one line each.
    pub errors: Vec<String>,
}

/// Analyses one file. Pure: same inputs, same findings. Runs only the enabled rules whose
/// triggers occur in `src` ([`triggers::Found`]); the findings are those of [`analyze_all`].
pub fn analyze(src: &str, lang: Lang, tree: &Tree, index: &LineIndex, settings: &Settings) -> Analysis {
    let found = triggers::Found::scan(src, lang);
    analyze_rules(src, lang, tree, index, settings, |m| found.holds(m), &[], &mut |_| Focus::Whole).unwrap_or_default()
}

/// [`analyze`] of a Python `text` on its sparse parse ([`crate::syntax::sparse`]), for
/// `check`: the rules read the original text, the tree is that of the masked text (same
/// length, same bytes outside the masked bodies, which the parser skips). `None` (parse the
/// original instead) when nothing can be masked, when the masked text does not parse cleanly,
/// or when a finding or a fix reaches into a masked body. Equal to [`analyze`] whenever the
/// original text parses without error (checked by the fuzz target `analyze_fix`, the
/// proptests, every fixture and `bench/run.sh` on real corpora).
pub fn analyze_sparse(text: &str, settings: &Settings, index: &LineIndex) -> Option<Analysis> {
    use crate::syntax::sparse;
    let (hot, cross_scope) = triggers::hot_positions(text, Lang::Python, settings);
    let masked = sparse::mask(text, &hot, &sparse::event_positions(text), &cross_scope)?;
    let tree = crate::syntax::parse_ranges(Lang::Python, &masked.text, &masked.included(index))?;
    if tree.root_node().has_error() {
        return None;
    }
    let analysis = analyze(text, Lang::Python, &tree, index, settings);
    let touches = |r: &Range<usize>| masked.ranges.iter().any(|m| r.start < m.end && m.start < r.end);
    let reaches = analysis
        .findings
        .iter()
        .any(|f| touches(&f.range) || f.fixes.iter().flat_map(|x| &x.edits).any(|e| touches(&e.range)));
    (!reaches).then_some(analysis)
}

/// [`analyze`] running every enabled rule, triggers or not: the reference the trigger
/// pre-filter is tested against.
pub fn analyze_all(src: &str, lang: Lang, tree: &Tree, index: &LineIndex, settings: &Settings) -> Analysis {
    analyze_rules(src, lang, tree, index, settings, |_| true, &[], &mut |_| Focus::Whole).unwrap_or_default()
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
        .filter(|r| r.meta().lang == lang && settings.is_enabled(r.meta().code) && triggered(r.meta()))
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
    triggered: impl Fn(&RuleMeta) -> bool,
    skip: &[crate::semantic::python::Skip],
    plan: &mut dyn FnMut(&PyModel) -> Focus,
) -> Option<Analysis> {
    let mut out = Analysis::default();
    let rules = rules_for(lang, settings, triggered);
    if rules.is_empty() {
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
    let focus = match py.as_mut().map(|m| (plan(m), m)) {
        Some((Focus::Abort, _)) => return None,
        Some((Focus::Range(r), m)) => {
            m.focus = Some(r.clone());
            Some(r)
        }
        _ => None,
    };
    let rs = match lang {
        Lang::Rust => {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| RustModel::build(src, tree, index))) {
                Ok(m) => Some(m),
                Err(p) => {
                    out.errors.push(format!("semantic model panicked: {}", panic_message(&p)));
                    return Some(out);
                }
            }
        }
        Lang::Python => None,
    };
    let cx = Ctx { src, tree, index, settings, py: py.as_ref(), rs: rs.as_ref(), matches: std::cell::OnceCell::new(), focus };
    for rule in rules {
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
    let comments = py.as_ref().map(|m| &m.comments).or(rs.as_ref().map(|m| &m.comments));
    out.findings.retain(|f| !suppression::is_suppressed(src, index, comments, f));
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

/// A short, single-line rendering of source text for messages: as is when it fits, else with
/// call arguments collapsed (`Book.objects.filter(…)`), else `…`.
pub fn short(text: &str, max: usize) -> String {
    let t = text.trim();
    let fits = |s: &str| !s.contains('\n') && s.chars().count() <= max;
    if fits(t) {
        return t.to_string();
    }
    let mut out = String::new();
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '(' | '[' | '{' => {
                if depth == 0 {
                    out.push(c);
                    out.push('…');
                }
                depth += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(c);
                }
            }
            _ if depth == 0 && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    if fits(&out) { out } else { "…".into() }
}

/// Applies fixes repeatedly (re-parsing and re-analysing each round, at most 16 rounds) until
/// no applicable fix is left. Only safe fixes unless `unsafe_too`. Returns the new text, or
/// `None` when nothing changed. A round whose result would not parse stops the loop and keeps
/// the last text that did (fixes never produce invalid code).
pub fn fix_all(src: &str, lang: Lang, settings: &Settings, unsafe_too: bool) -> Option<String> {
    let mut text = src.to_string();
    let started_clean = !crate::syntax::has_syntax_error(&crate::syntax::parse(lang, src, None));
    for _ in 0..16 {
        let tree = crate::syntax::parse(lang, &text, None);
        let index = LineIndex::new(&text);
        let analysis = analyze(&text, lang, &tree, &index, settings);
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
    (text != src).then_some(text)
}
