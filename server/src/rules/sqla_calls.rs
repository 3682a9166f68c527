//! The receiver plumbing AG401 and AG402 share: every `<receiver>.<method>(…)` call in async
//! context whose method one of the rules wants and whose receiver has a SQLAlchemy kind
//! ([`crate::semantic::sqla`]).
//!
//! Invariants:
//! - The method filter runs before the receiver's kind is asked (the kind walks bindings and
//!   may ask the project model).
//! - Only calls in async context (RULES.md §0.4) are handed on; unknown receivers never are.

use super::Ctx;
use crate::semantic::sqla::SqlaKind;
use crate::semantic::Context;
use crate::syntax::QueryId;
use tree_sitter::Node;

/// One method call on a receiver of known SQLAlchemy kind, in async context.
pub(super) struct SessionCall<'t> {
    pub call: Node<'t>,
    pub recv: Node<'t>,
    pub method: &'t str,
    pub kind: SqlaKind,
    pub ctx: Context,
}

/// Calls `f` with each call in async context whose method passes `wanted` and whose receiver
/// has a known kind, in query order.
pub(super) fn for_each_session_call<'t>(cx: &Ctx<'_, 't>, wanted: impl Fn(&str) -> bool, mut f: impl FnMut(SessionCall<'t>)) {
    let Some(py) = cx.py else { return };
    cx.for_each_match(QueryId::PyMethodCalls, |caps| {
        let (Some(call), Some(recv), Some(m)) = (caps.get("call"), caps.get("receiver"), caps.get("method")) else {
            return;
        };
        let method = py.node_text(m);
        if !wanted(method) {
            return;
        }
        let ctx = py.context_at(call.start_byte());
        if !ctx.is_async() {
            return;
        }
        let Some(kind) = py.sqla_kind(recv) else { return };
        f(SessionCall { call, recv, method, kind, ctx });
    });
}
