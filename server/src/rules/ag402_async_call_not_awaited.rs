//! AG402 async-call-not-awaited: a coroutine method of an `AsyncSession`, `AsyncConnection` or
//! `AsyncEngine` called in async code and neither awaited nor handed to something that awaits
//! it (RULES.md §AG402, §3.7). SQLAlchemy and SQLModel.
//!
//! Invariants:
//! - The receiver's kind comes from [`crate::semantic::sqla`]: unknown receivers are silent.
//! - Only the methods of the awaited list fire: the sync methods of `AsyncSession` (`add`,
//!   `add_all`, `expunge`, `expire`, `begin()` …) never get an `await`.
//! - A call fires only where its coroutine is certainly lost or misused: an expression
//!   statement, a trailer on the call (`s.execute(q).scalars()`), or a name assigned the call
//!   and then read through a trailer with no `await` of that name in the function. Returned,
//!   passed (`gather`, `create_task`, `wait_for` …), stored and awaited later: silent.
//! - The fix is `await` (Q3 parentheses before a trailer), offered only where `await` is legal.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::python::await_edits;
use crate::fix::{Applicability, Fix};
use crate::semantic::sqla::SqlaKind;
use crate::semantic::PyModel;
use super::sqla_calls::for_each_session_call;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct AsyncCallNotAwaited;

/// `AsyncSession` coroutine methods (sqlalchemy 2.1 `ext/asyncio/session.py`).
const SESSION_AWAITED: &[&str] = &[
    "execute", "scalar", "scalars", "get", "get_one", "stream", "stream_scalars", "flush", "commit", "rollback", "close",
    "refresh", "delete", "merge", "run_sync", "connection", "invalidate", "reset", "delete_all", "merge_all",
];
/// `AsyncConnection` coroutine methods.
const CONN_AWAITED: &[&str] = &[
    "execute", "scalar", "scalars", "stream", "stream_scalars", "commit", "rollback", "close", "run_sync",
    "exec_driver_sql", "invalidate", "start", "get_raw_connection",
];

static META: RuleMeta = RuleMeta {
    code: "AG402",
    name: "async-call-not-awaited",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    // Every kind comes from an import of `sqlalchemy` / `sqlmodel` in this file (semantic::sqla).
    triggers: &[&["async"], &["sqlalchemy", "sqlmodel"]],
    summary: "A coroutine method of an `AsyncSession` / `AsyncConnection` called without `await`",
    doc: r#"## AG402 async-call-not-awaited

**What it catches.** In async code, a coroutine method of a SQLAlchemy `AsyncSession`
(`execute`, `scalars`, `scalar`, `get`, `flush`, `commit`, `rollback`, `refresh`, `delete`,
`merge`, `close`, `stream` …; SQLModel's `exec`), of an `AsyncConnection` or `AsyncEngine.dispose`
called without `await`, whose coroutine is thrown away (`session.commit()` as a statement) or
used as if it were the result (`session.execute(q).scalars()`).

**Why it is wrong.** The coroutine never runs: `RuntimeWarning: coroutine
'AsyncSession.delete' was never awaited`, and the row is not deleted, the transaction not
committed. Used as a result it fails with `AttributeError: 'coroutine' object has no
attribute …`. `AsyncSession.delete` is the usual trap: on a sync `Session` it is a plain
method.

**Example.**
```python
async def remove(session: AsyncSession, user):
    session.delete(user)        # AG402
    await session.commit()
```

**Fix (safe).** `await session.delete(user)`; `(await session.execute(q)).scalars()` before a
trailer. No fix where `await` is not allowed (a nested `def`, a `lambda`).

**Stays silent on** coroutines passed to `asyncio.gather` / `create_task` / `wait_for`,
returned, or stored and awaited later; the sync methods of `AsyncSession` (`add`, `add_all`,
`expunge`, `expire`, `begin()` used as `async with`); receivers whose kind is unknown.

**Suppress** with `# awaitguard: ignore[AG402]` or `# noqa: AG402` on the line.
"#,
};

/// The coroutine methods of a receiver of kind `k`.
fn awaited(k: SqlaKind, method: &str) -> bool {
    match k {
        SqlaKind::Session { asyncio: true, sqlmodel, .. } => SESSION_AWAITED.contains(&method) || sqlmodel && method == "exec",
        SqlaKind::Connection { asyncio: true } => CONN_AWAITED.contains(&method),
        SqlaKind::Engine { asyncio: true } => method == "dispose",
        _ => false,
    }
}

/// True when the call's coroutine is lost or misused where it stands.
fn misused<'t>(py: &PyModel<'t>, call: Node<'t>) -> bool {
    let Some(parent) = call.parent() else { return false };
    match parent.kind() {
        "expression_statement" => true,
        "attribute" | "subscript" => crate::fix::python::needs_parens(call),
        "assignment" => {
            let Some(left) = parent.child_by_field_name("left").filter(|l| l.kind() == "identifier") else { return false };
            assigned_then_misused(py, py.node_text(left), parent.end_byte())
        }
        _ => false,
    }
}

/// `name` (assigned a coroutine at `from`) is read through a trailer later in its function and
/// never awaited nor read any other way there.
fn assigned_then_misused(py: &PyModel, name: &str, from: usize) -> bool {
    let scope = py.scope_at(from);
    let Some(def) = py.function_nodes.get(&scope) else { return false };
    let Some(body) = def.child_by_field_name("body") else { return false };
    let mut trailer = false;
    let mut c = body.walk();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && n.start_byte() >= from && py.node_text(n) == name {
            let Some(p) = n.parent() else { return false };
            let is_object = matches!(p.kind(), "attribute" | "subscript") && crate::fix::python::needs_parens(n);
            if is_object {
                trailer = true;
            } else {
                return false; // awaited, passed, returned, rebound …: not ours to judge
            }
        }
        stack.extend(n.named_children(&mut c));
    }
    trailer
}

impl Rule for AsyncCallNotAwaited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let wanted = |m: &str| SESSION_AWAITED.contains(&m) || CONN_AWAITED.contains(&m) || matches!(m, "exec" | "dispose");
        for_each_session_call(cx, wanted, |c| {
            if !awaited(c.kind, c.method) || !misused(py, c.call) {
                return;
            }
            let fixes = if c.ctx.await_ok() {
                vec![Fix { title: "Add `await`".into(), applicability: Applicability::Safe, edits: await_edits(c.call) }]
            } else {
                vec![]
            };
            let message =
                format!("`{}.{}()` is a coroutine that is never awaited, so it does not run", short(py.node_text(c.recv), 30), c.method);
            out.push(Finding::new(&META, c.call.byte_range(), message, fixes));
        });
    }
}
