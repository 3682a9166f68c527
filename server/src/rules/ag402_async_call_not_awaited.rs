//! AG402 async-call-not-awaited: a coroutine method of an `AsyncSession`, `AsyncConnection` or
//! `AsyncEngine` called in async code and neither awaited nor handed to something that awaits
//! it (RULES.md §AG402, §3.7). SQLAlchemy and SQLModel; Tortoise coroutines and query objects,
//! Piccolo queries (kinds from [`crate::semantic::async_orms`]) and Piccolo's `run_sync()` in
//! async code (a warning: it blocks the loop).
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
//! - Tortoise: a call fires when its value is thrown away, read as if it were the row (a field,
//!   an index, unpacking, a truth or `is None` test), or assigned to a name read only that way
//!   later in its function. A further queryset method, a slice, `sql()`, passing, returning,
//!   awaiting: silent. Piccolo: only a query as an expression statement (or its `.run()`).
//! - `run_sync()` fires on a Piccolo query in async code; its fix (`await <query>`) is offered
//!   only without arguments to `run_sync`.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::python::await_edits;
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::async_orms::TortoiseValue;
use crate::semantic::sqla::SqlaKind;
use crate::semantic::PyModel;
use super::sqla_calls::for_each_session_call;
use crate::syntax::{Lang, QueryId};
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
    // SQLAlchemy kinds need an import of `sqlalchemy` / `sqlmodel` in this file (semantic::sqla);
    // Tortoise models and Piccolo tables may come from another module (semantic::async_orms).
    triggers: &[&["async"]],
    summary: "A coroutine or async query (SQLAlchemy `AsyncSession`, Tortoise, Piccolo) called without `await`",
    doc: r#"## AG402 async-call-not-awaited

**What it catches.** In async code, a coroutine method of a SQLAlchemy `AsyncSession`
(`execute`, `scalars`, `scalar`, `get`, `flush`, `commit`, `rollback`, `refresh`, `delete`,
`merge`, `close`, `stream` …; SQLModel's `exec`), of an `AsyncConnection` or `AsyncEngine.dispose`
called without `await`, whose coroutine is thrown away (`session.commit()` as a statement) or
used as if it were the result (`session.execute(q).scalars()`).

Tortoise ORM: a coroutine (`Model.create`, `get_or_create`, `update_or_create`, `in_bulk`;
`obj.save()`, `delete()`, `fetch_related()`, `refresh_from_db()`) or a query object
(`Model.get(…)`, `get_or_none`, `first`, `filter(…)` chains, `exists()`, `count()`,
`update()`, `delete()`, `bulk_create`) thrown away, or used as if it were the result: a field
read (`User.get(id=1).name`), an index, unpacking (`obj, created = …`), `if user:` /
`user is None`, also through a name assigned the call and used only that way.

Piccolo: a query (`Band.insert(…)`, `Band.update(…).where(…)`, `Band.delete()…`,
`band.save()`, `band.remove()`) as a statement with no `await` and no `.run()`, or its
`.run()` not awaited; and `query.run_sync()` in async code (**warning**).

**Why it is wrong.** The coroutine never runs: `RuntimeWarning: coroutine
'AsyncSession.delete' was never awaited`, and the row is not deleted, the transaction not
committed. Used as a result it fails with `AttributeError: 'coroutine' object has no
attribute …`. `AsyncSession.delete` is the usual trap: on a sync `Session` it is a plain
method. A Tortoise query object is not a coroutine: forgetting its `await` gives no warning
at all, only a `QuerySet` where a row was expected (always true, never `None`). A Piccolo
query that is neither awaited nor run does nothing, silently. Piccolo's `run_sync()` inside a
running loop runs the query on a fresh loop in a worker thread and blocks the caller until it
ends.

**Example.**
```python
async def remove(session: AsyncSession, user):
    session.delete(user)        # AG402
    await session.commit()
```

**Fix (safe).** `await session.delete(user)`; `(await session.execute(q)).scalars()` before a
trailer; `await Band.select()` for `Band.select().run_sync()` (offered only when `run_sync`
has no arguments). No fix where `await` is not allowed (a nested `def`, a `lambda`).

**Stays silent on** coroutines and queries passed to `asyncio.gather` / `create_task` /
`wait_for` (or to any other call: a paginator, `Prefetch(…, queryset=…)`, a pydantic
`from_queryset`), returned, or stored and awaited later; a Tortoise queryset kept lazy and
refined (`qs = User.filter(…)` then `await qs.count()`, `qs[:10]`, `qs.sql()`); `async for`
over a queryset; Piccolo's `run_sync()` in sync code; the sync methods of `AsyncSession`
(`add`, `add_all`, `expunge`, `expire`, `begin()` used as `async with`); receivers whose kind
is unknown (a model class that does not resolve to Tortoise's `Model` or Piccolo's `Table`
through the imports, here or in another project module).

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
    // Any other read (awaited, passed, returned, rebound …) is not ours to judge.
    every_later_read(py, name, from, |n| {
        n.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript")) && crate::fix::python::needs_parens(n)
    })
}

/// `name` occurs in the function around `from` at or after `from`, and every such occurrence
/// satisfies `ok`.
fn every_later_read<'t>(py: &PyModel<'t>, name: &str, from: usize, mut ok: impl FnMut(Node<'t>) -> bool) -> bool {
    let scope = py.scope_at(from);
    let Some(def) = py.function_nodes.get(&scope) else { return false };
    let Some(body) = def.child_by_field_name("body") else { return false };
    let mut seen = false;
    let mut c = body.walk();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && n.start_byte() >= from && py.node_text(n) == name {
            if !ok(n) {
                return false;
            }
            seen = true;
        }
        stack.extend(n.named_children(&mut c));
    }
    seen
}

impl Rule for AsyncCallNotAwaited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(recv), Some(m)) = (caps.get("call"), caps.get("receiver"), caps.get("method")) else {
                return;
            };
            let method = py.node_text(m);
            if orm_methods(method) {
                async_orm_call(py, call, recv, method, out);
            }
        });
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

// --- Tortoise and Piccolo (RULES.md §AG402, §3.7) -------------------------------------------

/// Every method name a Tortoise or Piccolo finding can start at (a cheap first filter).
fn orm_methods(m: &str) -> bool {
    matches!(
        m,
        "run" | "run_sync" | "create" | "get_or_create" | "update_or_create" | "in_bulk" | "fetch_for_list" | "save"
            | "delete" | "fetch_related" | "refresh_from_db" | "filter" | "exclude" | "annotate" | "all"
            | "select_for_update" | "get" | "get_or_none" | "first" | "last" | "latest" | "earliest" | "exists" | "raw"
            | "bulk_create" | "bulk_update" | "order_by" | "limit" | "offset" | "distinct" | "group_by" | "only"
            | "select_related" | "force_index" | "use_index" | "prefetch_related" | "using_db" | "values"
            | "values_list" | "update" | "count" | "explain" | "select" | "objects" | "insert" | "create_table"
            | "alter" | "table_exists" | "indexes" | "create_index" | "drop_index" | "remove" | "refresh"
            | "get_related" | "get_m2m" | "add_m2m" | "remove_m2m" | "update_self" | "where" | "output" | "columns"
            | "returning" | "prefetch" | "lock_rows" | "on_conflict" | "add" | "callback" | "as_of" | "cascade"
            | "add_column" | "drop_column" | "rename_column" | "alter_column" | "rename_table" | "drop_table"
            | "set_null" | "set_default" | "set_length" | "set_digits" | "set_unique" | "set_column_type"
            | "set_schema" | "if_not_exists" | "only_default_columns" | "freeze"
    )
}

/// Attribute names a Tortoise query object answers without running (`qs.sql()`, a further
/// queryset method): reading one is not a misuse.
fn tortoise_member(attr: &str) -> bool {
    attr.starts_with('_')
        || orm_methods(attr)
        || matches!(attr, "sql" | "as_query" | "model" | "query" | "resolve_filters" | "send" | "throw" | "close")
}

/// A Tortoise or Piccolo call whose query or coroutine is lost, or Piccolo's `run_sync()`.
fn async_orm_call<'t>(py: &PyModel<'t>, call: Node<'t>, recv: Node<'t>, method: &str, out: &mut Vec<Finding>) {
    let ctx = py.context_at(call.start_byte());
    if !ctx.is_async() || py.in_offload_args(call.start_byte()) {
        return;
    }
    let statement = call.parent().is_some_and(|p| p.kind() == "expression_statement");
    let text = short(py.node_text(recv), 30);
    if method == "run_sync" {
        if !py.piccolo_query(recv) {
            return;
        }
        let mut fixes = vec![];
        let no_args = call.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() == 0);
        if ctx.await_ok() && no_args {
            let edits = if crate::fix::python::needs_parens(call) {
                vec![Edit::insert(call.start_byte(), "(await "), Edit::replace(recv.end_byte()..call.end_byte(), ")")]
            } else {
                vec![Edit::insert(call.start_byte(), "await "), Edit::replace(recv.end_byte()..call.end_byte(), "")]
            };
            fixes.push(Fix { title: "Await the query instead of `run_sync()`".into(), applicability: Applicability::Safe, edits });
        }
        let message = format!("`{text}.run_sync()` blocks the event loop while the Piccolo query runs in a worker thread");
        out.push(Finding { severity: Severity::Warning, ..Finding::new(&META, call.byte_range(), message, fixes) });
        return;
    }
    let message = if method == "run" {
        if !statement || !py.piccolo_query(recv) {
            return;
        }
        format!("`{text}.run()` is a coroutine that is never awaited, so the Piccolo query does not run")
    } else if statement && py.piccolo_query(call) {
        format!("`{text}.{method}()` is a Piccolo query that is never awaited or run, so it does nothing")
    } else {
        let Some(value) = py.tortoise_value(call) else { return };
        if !tortoise_misused(py, call, value) {
            return;
        }
        match value {
            TortoiseValue::Coroutine { .. } => {
                format!("`{text}.{method}()` is a coroutine that is never awaited, so it does not run")
            }
            _ => format!("`{text}.{method}()` is a Tortoise query object that is never awaited, so no query runs"),
        }
    };
    let fixes = if ctx.await_ok() {
        vec![Fix { title: "Add `await`".into(), applicability: Applicability::Safe, edits: await_edits(call) }]
    } else {
        vec![]
    };
    out.push(Finding::new(&META, call.byte_range(), message, fixes));
}

/// How a read of a Tortoise value `v` (the node `n`) uses it: `Some(true)` as if it were the
/// result (a field read, an index, unpacking), `Some(false)` as a query (a further queryset
/// method, a slice), `None` any other way (awaited, passed, returned …: not ours to judge).
fn tortoise_use<'t>(py: &PyModel<'t>, n: Node<'t>, v: TortoiseValue) -> Option<bool> {
    let parent = n.parent()?;
    match parent.kind() {
        "attribute" if crate::fix::python::needs_parens(n) => {
            let attr = py.node_text(parent.child_by_field_name("attribute")?);
            let member = match v {
                TortoiseValue::Coroutine { .. } => attr.starts_with('_') || matches!(attr, "send" | "throw" | "close"),
                _ => tortoise_member(attr),
            };
            Some(!member)
        }
        "subscript" if crate::fix::python::needs_parens(n) => {
            let mut c = parent.walk();
            let slice = parent.children_by_field_name("subscript", &mut c).all(|s| s.kind() == "slice");
            Some(!(slice && v == TortoiseValue::QuerySet))
        }
        // A query object or coroutine is always true and never `None`: `if user:`, `not user`,
        // `user is None` test the row that was never fetched.
        "if_statement" | "elif_clause" | "while_statement"
            if parent.child_by_field_name("condition").is_some_and(|c| c.id() == n.id()) =>
        {
            Some(true)
        }
        // `a if <test> else b`
        "conditional_expression" if parent.named_child(1).is_some_and(|c| c.id() == n.id()) => Some(true),
        "not_operator" => Some(true),
        "comparison_operator" => {
            let text = py.node_text(parent);
            let is_none = parent.named_child_count() == 2
                && (text.ends_with(" is None") || text.ends_with(" is not None"))
                && parent.named_child(0).is_some_and(|l| l.id() == n.id());
            is_none.then_some(true)
        }
        _ => None,
    }
}

/// The Tortoise call's coroutine or query object is lost or used as if it were the result.
fn tortoise_misused<'t>(py: &PyModel<'t>, call: Node<'t>, v: TortoiseValue) -> bool {
    let Some(parent) = call.parent() else { return false };
    match parent.kind() {
        "expression_statement" => true,
        "attribute" | "subscript" => tortoise_use(py, call, v) == Some(true),
        "assignment" => {
            let Some(left) = parent.child_by_field_name("left") else { return false };
            if parent.child_by_field_name("right").is_none_or(|r| r.id() != call.id()) {
                return false;
            }
            match left.kind() {
                // `obj, created = User.get_or_create(…)`: unpacking the query object.
                "pattern_list" | "tuple_pattern" => true,
                "identifier" => tortoise_name_misused(py, py.node_text(left), parent.end_byte(), v),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `name` (assigned the Tortoise value `v` at `from`) is later read in its function only as if
/// it were the result, at least once.
fn tortoise_name_misused(py: &PyModel, name: &str, from: usize, v: TortoiseValue) -> bool {
    every_later_read(py, name, from, |n| tortoise_use(py, n, v) == Some(true))
}
