//! Rules: one file per rule (metadata + check + fix), the registry of codes, and what a rule
//! sees of a file ([`Ctx`]). The pipeline that runs them is [`crate::analysis`].
//!
//! Invariants:
//! - A rule reads only its [`Ctx`]: the file's text and tree, its semantic model, the
//!   settings and (through the model) the project model; so a finding is a pure function of
//!   those.
//! - Rules see bytes and trees, never LSP types or a terminal.
//! - Candidates come from the queries in `queries/` ([`crate::syntax::QueryId`]); rule code
//!   decides. One traversal per file finds the matches of every query; rules share them.
//! - A rule runs only on a file where its [`RuleMeta::triggers`] occur: without them it cannot
//!   fire (`tests/triggers.rs` proves it for every rule over every fixture).
//! - Work is bounded on any tree: no query match starts below [`MAX_MATCH_DEPTH`], so absurd
//!   nesting costs linear time, not quadratic.

mod ag101_sync_orm_call;
mod ag102_sync_queryset_evaluation;
mod ag103_sync_instance_method;
mod ag104_lazy_relation_access;
mod ag105_request_user_in_async;
mod ag106_request_session_in_async;
mod ag107_sync_framework_helper;
mod ag108_sync_helper_called_from_async;
mod ag109_nonexistent_async_method;
mod ag110_await_on_queryset;
mod orm_fix;
mod ag201_async_with_sync_atomic;
mod ag202_atomic_in_async;
mod ag203_atomic_decorator_on_coroutine;
mod ag204_homemade_async_atomic;
mod ag205_select_for_update_outside_atomic;
mod ag207_transaction_api_in_async;
mod ag206_atomic_requests_with_async_view;
mod ag208_task_dispatch_in_atomic;
mod ag209_on_commit_called_not_passed;
mod ag210_on_commit_late_binding;
mod ag301_async_to_sync_in_loop;
mod ag302_sync_to_async_on_coroutine;
mod ag303_sync_to_async_not_called;
mod ag304_sync_to_async_eager_argument;
mod ag306_blocking_task_dispatch_in_async;
mod ag308_async_to_sync_in_task;
mod ag305_thread_insensitive_orm;
pub mod ag307_async_unsafe_escape;
mod ag309_sync_circuit_breaker_in_async;
mod ag405_mixed_sync_async_pools;
mod ag401_sync_session_in_async;
mod ag402_async_call_not_awaited;
mod ag403_query_on_async_session;
mod ag404_uncommitted_async_session;
mod sqla_calls;
mod ag501_blocking_db_call_in_async;
mod ag502_nested_block_on;
mod ag503_block_in_place_current_thread;
mod ag510_transaction_not_committed;
mod ag511_query_bypasses_transaction;
mod ag512_sqlx_mut_transaction;
mod ag513_cancel_unsafe_transaction;
mod ag514_transaction_end_not_awaited;
pub(crate) mod ag900_unused_suppression;
mod rust_util;

use crate::semantic::outside::Loc;
use crate::settings::Settings;
use crate::fix::Fix;
use crate::semantic::{PyModel, RustModel};
use crate::syntax::{combined, Lang, QueryId};
use crate::text::LineIndex;
use serde::Serialize;
use std::ops::Range;
use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, QueryCursor, Tree};

pub use crate::settings::Severity;

/// Identifiers without which a rule cannot fire: a conjunction (every group) of alternatives
/// (one identifier of the group). See [`crate::analysis::triggers`].
pub type Triggers = &'static [&'static [&'static str]];

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
    pub triggers: Triggers,
    /// One line.
    pub summary: &'static str,
    /// Markdown: what it catches, why it is wrong, example, fix.
    pub doc: &'static str,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>);
    /// False when `settings` alone rule the rule out on every file (AG206 without
    /// `ATOMIC_REQUESTS`): like absent triggers, the pre-filter and the sparse parse then
    /// ignore it ([`crate::analysis::triggers`]). Must imply `check` finds nothing
    /// (`tests/triggers.rs` checks it on every fixture).
    fn possible(&self, _settings: &Settings) -> bool {
        true
    }
    /// Words that join every group of [`RuleMeta::triggers`] when the project's settings turn
    /// on the request transaction (`ATOMIC_REQUESTS`): the rule also reports in views, whose
    /// module need not hold its other triggers ([`crate::analysis::triggers`]).
    fn request_triggers(&self) -> &'static [&'static [&'static str]] {
        &[]
    }
}

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &ag101_sync_orm_call::SyncOrmCall,
    &ag102_sync_queryset_evaluation::SyncQuerysetEvaluation,
    &ag103_sync_instance_method::SyncInstanceMethod,
    &ag104_lazy_relation_access::LazyRelationAccess,
    &ag105_request_user_in_async::RequestUserInAsync,
    &ag106_request_session_in_async::RequestSessionInAsync,
    &ag107_sync_framework_helper::SyncFrameworkHelper,
    &ag108_sync_helper_called_from_async::SyncHelperCalledFromAsync,
    &ag109_nonexistent_async_method::NonexistentAsyncMethod,
    &ag110_await_on_queryset::AwaitOnQueryset,
    &ag201_async_with_sync_atomic::AsyncWithSyncAtomic,
    &ag202_atomic_in_async::AtomicInAsync,
    &ag203_atomic_decorator_on_coroutine::AtomicDecoratorOnCoroutine,
    &ag204_homemade_async_atomic::HomemadeAsyncAtomic,
    &ag205_select_for_update_outside_atomic::SelectForUpdateOutsideAtomic,
    &ag207_transaction_api_in_async::TransactionApiInAsync,
    &ag206_atomic_requests_with_async_view::AtomicRequestsWithAsyncView,
    &ag208_task_dispatch_in_atomic::TaskDispatchInAtomic,
    &ag209_on_commit_called_not_passed::OnCommitCalledNotPassed,
    &ag210_on_commit_late_binding::OnCommitLateBinding,
    &ag301_async_to_sync_in_loop::AsyncToSyncInLoop,
    &ag302_sync_to_async_on_coroutine::SyncToAsyncOnCoroutine,
    &ag303_sync_to_async_not_called::SyncToAsyncNotCalled,
    &ag304_sync_to_async_eager_argument::SyncToAsyncEagerArgument,
    &ag306_blocking_task_dispatch_in_async::BlockingTaskDispatchInAsync,
    &ag308_async_to_sync_in_task::AsyncToSyncInTask,
    &ag305_thread_insensitive_orm::ThreadInsensitiveOrm,
    &ag307_async_unsafe_escape::AsyncUnsafeEscape,
    &ag309_sync_circuit_breaker_in_async::SyncCircuitBreakerInAsync,
    &ag405_mixed_sync_async_pools::MixedSyncAsyncPools,
    &ag401_sync_session_in_async::SyncSessionInAsync,
    &ag402_async_call_not_awaited::AsyncCallNotAwaited,
    &ag403_query_on_async_session::QueryOnAsyncSession,
    &ag404_uncommitted_async_session::UncommittedAsyncSession,
    &ag501_blocking_db_call_in_async::BlockingDbCallInAsync,
    &ag502_nested_block_on::NestedBlockOn,
    &ag503_block_in_place_current_thread::BlockInPlaceCurrentThread,
    &ag510_transaction_not_committed::TransactionNotCommitted,
    &ag511_query_bypasses_transaction::QueryBypassesTransaction,
    &ag512_sqlx_mut_transaction::SqlxMutTransaction,
    &ag513_cancel_unsafe_transaction::CancelUnsafeTransaction,
    &ag514_transaction_end_not_awaited::TransactionEndNotAwaited,
    &ag900_unused_suppression::UnusedSuppression,
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
    /// Places in other files (or elsewhere in this one) the finding rests on: the database
    /// call inside a helper, the declaration of a pool alias … (LSP `relatedInformation`,
    /// SARIF `relatedLocations`, `note:` lines in text output).
    pub related: Vec<Loc>,
}

impl Finding {
    /// A finding of the rule described by `meta`, at its default severity.
    pub fn new(meta: &'static RuleMeta, range: Range<usize>, message: String, fixes: Vec<Fix>) -> Finding {
        Finding { code: meta.code, name: meta.name, range, severity: meta.severity, message, fixes, related: vec![] }
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
    /// Focused analysis ([`crate::analysis::incremental`]): the queries only look at this byte
    /// range.
    focus: Option<Range<usize>>,
}

impl<'a, 't> Ctx<'a, 't> {
    /// The context of one file for the rules; `focus` restricts the queries to a range.
    pub(crate) fn new(
        src: &'t str,
        tree: &'t Tree,
        index: &'a LineIndex,
        settings: &'a Settings,
        py: Option<&'a PyModel<'t>>,
        rs: Option<&'a RustModel<'t>>,
        focus: Option<Range<usize>>,
    ) -> Self {
        Ctx { src, tree, index, settings, py, rs, matches: std::cell::OnceCell::new(), focus }
    }
}

impl<'a, 't> Ctx<'a, 't> {
    /// The Python model, when the file imports Django (the rules about Django's request,
    /// session and framework helpers look at nothing else).
    pub fn django(&self) -> Option<&'a PyModel<'t>> {
        self.py.filter(|py| py.imports_django)
    }

    /// Calls `f` with each match's captures by name of query `id` over the whole tree, in
    /// the order of the query cursor. Matches rooted deeper than [`MAX_MATCH_DEPTH`] are not
    /// looked for.
    pub fn for_each_match(&self, id: QueryId, f: impl FnMut(&Captures<'t>)) {
        self.matches.get_or_init(|| self.run_queries(id.lang()))[id as usize].iter().for_each(f);
    }

    /// Calls `f` with each Python `with` statement ([`QueryId::PyWithStatements`], in query
    /// order) that is an `async with` when `is_async`, or a plain `with` otherwise.
    pub fn for_each_with(&self, is_async: bool, mut f: impl FnMut(Node<'t>)) {
        self.for_each_match(QueryId::PyWithStatements, |caps| {
            if let Some(with) = caps.get("with").filter(|w| crate::semantic::transactions::has_async_token(*w) == is_async) {
                f(with);
            }
        });
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

pub use crate::text::short;

