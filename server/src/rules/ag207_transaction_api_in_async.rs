//! AG207 transaction-api-in-async: Django's sync transaction API, a raw cursor, or Celery's
//! `delay_on_commit` called in async context (RULES.md §AG207).
//!
//! Invariants:
//! - A call is reported only when its callee resolves through the imports: `on_commit`,
//!   `savepoint`, `savepoint_commit`, `savepoint_rollback`, `set_rollback`, `get_autocommit`,
//!   `commit`, `rollback` of `django.db.transaction`; `.cursor()` on `django.db.connection`
//!   or on `django.db.connections[…]`; `.delay_on_commit(…)` on a Celery task
//!   ([`PyModel::celery_task`]). A parameter or local of the same name is not the import.
//! - Only in async context that `await` may reach ([`crate::semantic::python::Context`]): a
//!   `lambda` written in async code may run anywhere (a thread, a hook), so code inside one
//!   is silent; offloaded scopes and offloader arguments are sync.
//! - No fix: a one-line wrap is wrong for each of them (the doc says why); the remedy is the
//!   sync-extraction of RULES.md §X1, written by hand.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::semantic::python::{Context, ScopeKind};
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct TransactionApiInAsync;

/// The functions of `django.db.transaction` that touch the thread's connection.
const TRANSACTION_API: &[&str] =
    &["on_commit", "savepoint", "savepoint_commit", "savepoint_rollback", "set_rollback", "get_autocommit", "commit", "rollback"];

static META: RuleMeta = RuleMeta {
    code: "AG207",
    name: "transaction-api-in-async",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::None,
    triggers: &[&["async"], &["on_commit", "savepoint", "savepoint_commit", "savepoint_rollback", "set_rollback", "get_autocommit", "commit", "rollback", "cursor", "delay_on_commit"]],
    summary: "Django transaction API or raw cursor used in async code",
    doc: r#"## AG207 transaction-api-in-async

**What it catches.** In async code: `transaction.on_commit`, `savepoint`, `savepoint_commit`,
`savepoint_rollback`, `set_rollback`, `get_autocommit`, `commit`, `rollback` (from
`django.db.transaction`); `connection.cursor()` / `connections[alias].cursor()` (from
`django.db`); and Celery's `task.delay_on_commit(…)`.

**Why it is wrong.** Each of them works on the calling thread's database connection and is
guarded by Django's async check: on the event loop they raise `SynchronousOnlyOperation`.
`delay_on_commit` calls `transaction.on_commit`, so it raises too. Django has no async
cursor and no async transaction API (6.1.3).

**Example.**
```python
async def book_count():
    with connection.cursor() as cur:                  # AG207
        cur.execute("SELECT count(*) FROM app_book")
        return cur.fetchone()[0]
```

**Fix (by hand).** Move the work into a sync function and await it through `sync_to_async`;
transaction hooks belong inside that function, next to the writes they follow:
```python
def _book_count():
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM app_book")
        return cur.fetchone()[0]

async def book_count():
    return await sync_to_async(_book_count)()
```
There is no one-line wrap. `sync_to_async(connection.cursor)()` hands the loop a cursor of a
connection made in another thread (`DatabaseError`: it can only be used in that thread), and
`await sync_to_async(transaction.on_commit)(cb)` registers the hook on the worker thread's
connection, outside any transaction there, so `cb` runs at once instead of after COMMIT.

**Stays silent on** these calls in sync code, in functions run through `sync_to_async` (or
another offloader), inside a `lambda`, and on names that are not Django's (a local `commit()`,
a psycopg connection's `cursor()`).
"#,
};

impl Rule for TransactionApiInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func)) = (caps.get("call"), caps.get("function")) else { return };
            let Some(what) = api_call(py, func) else { return };
            if !on_loop(py, call) {
                return;
            }
            let message = match what {
                Api::Cursor => format!("`{}()` opens a sync cursor in async code (SynchronousOnlyOperation)", short(py.node_text(func), 40)),
                Api::Transaction(name) => format!("`{}()` of Django's transaction API raises SynchronousOnlyOperation in async code", short_callee(py, func, name)),
                Api::DelayOnCommit => format!("`{}()` calls `transaction.on_commit` in async code (SynchronousOnlyOperation)", short(py.node_text(func), 40)),
            };
            out.push(Finding::new(&META, call.byte_range(), message, vec![]));
        });
    }
}

enum Api {
    Transaction(&'static str),
    Cursor,
    DelayOnCommit,
}

/// What Django / Celery API the callee `func` is, if any (see the module docs).
fn api_call(py: &PyModel, func: Node) -> Option<Api> {
    if let Some(path) = py.resolve_node(func) {
        if let Some(name) = path.strip_prefix("django.db.transaction.") {
            return TRANSACTION_API.iter().find(|n| **n == name).map(|n| Api::Transaction(n));
        }
    }
    if func.kind() != "attribute" {
        return None;
    }
    let method = py.node_text(func.child_by_field_name("attribute")?);
    let object = func.child_by_field_name("object")?;
    match method {
        "cursor" => {
            let conn = match object.kind() {
                "identifier" | "attribute" => py.resolve_node(object).is_some_and(|p| p == "django.db.connection"),
                "subscript" => object
                    .child_by_field_name("value")
                    .and_then(|v| py.resolve_node(v))
                    .is_some_and(|p| p == "django.db.connections"),
                _ => false,
            };
            conn.then_some(Api::Cursor)
        }
        "delay_on_commit" => py.celery_task(object).then_some(Api::DelayOnCommit),
        _ => None,
    }
}

/// The callee as written, short (`transaction.on_commit`, `on_commit`).
fn short_callee(py: &PyModel, func: Node, name: &str) -> String {
    let t = short(py.node_text(func), 40);
    if t.is_empty() { name.to_string() } else { t }
}

/// The call runs on the event loop: async context, not inside a `lambda` (it may run
/// anywhere), not an offloader's argument.
fn on_loop(py: &PyModel, call: Node) -> bool {
    match py.context_at(call.start_byte()) {
        Context::Async { blocker, .. } => blocker != Some(ScopeKind::Lambda) && !py.in_offload_args(call.start_byte()),
        Context::Sync => false,
    }
}
