//! AG401 sync-session-in-async: a sync SQLAlchemy / SQLModel `Session`, `sessionmaker`
//! product, `create_engine` engine or its connection doing I/O in async context (RULES.md
//! §AG401, §3.7). Fix none: the message names `create_async_engine` and `AsyncSession`.
//!
//! Invariants:
//! - The receiver's kind comes from [`crate::semantic::sqla`] (through
//!   [`super::sqla_calls`], shared with AG402); unknown receivers are silent, so are
//!   `AsyncSession` objects and parameters annotated `Session` whose methods are awaited.
//! - Only I/O methods fire (`execute`, `scalars`, `scalar`, `get`, `query`, `commit`, `flush`,
//!   `refresh`, `delete`, `merge`, `exec`; an engine's `connect` / `begin`); building a
//!   `Session(engine)` does no I/O.
//! - Async context only (RULES.md §0.4): a plain `def` (a FastAPI sync endpoint runs in a
//!   threadpool) and functions handed to `run_sync` are sync context and stay silent.
//! - peewee's sync `Database` (the other half of the rule) is not implemented yet.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::semantic::sqla::SqlaKind;
use super::sqla_calls::for_each_session_call;
use crate::syntax::Lang;

pub struct SyncSessionInAsync;

const SESSION_IO: &[&str] =
    &["execute", "scalars", "scalar", "get", "query", "commit", "flush", "refresh", "delete", "merge", "exec"];
const CONN_IO: &[&str] = &["execute", "scalars", "scalar", "commit", "exec_driver_sql"];

static META: RuleMeta = RuleMeta {
    code: "AG401",
    name: "sync-session-in-async",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::None,
    // Every kind comes from an import of `sqlalchemy` / `sqlmodel` in this file (semantic::sqla).
    triggers: &[&["async"], &["sqlalchemy", "sqlmodel"]],
    summary: "A sync SQLAlchemy / SQLModel `Session` or engine doing I/O in async code",
    doc: r#"## AG401 sync-session-in-async

**What it catches.** In async code, a sync SQLAlchemy or SQLModel database object doing I/O:
a `Session` (from `sqlalchemy.orm` or `sqlmodel`), a `sessionmaker()` product or a
`create_engine` engine and its connections calling `execute`, `scalars`, `scalar`, `get`,
`query`, `commit`, `flush`, `refresh`, `delete`, `merge`, `exec`, `connect` or `begin`.
The kind is known from a visible constructor (in this file, or a factory or engine a project
module assigns at module level), `with … as s`, a parameter annotation or a FastAPI
`Depends(dep)` whose `dep` in the same file yields the session.

**Why it is wrong.** The sync driver blocks the event loop for the length of every query:
nothing else runs meanwhile, silently.

**Example.**
```python
async def users():
    with Session(engine) as s:
        return s.scalars(select(User)).all()      # AG401
```

**Fix (manual).** Create the engine with `create_async_engine` and use an `AsyncSession`
(SQLModel: `sqlmodel.ext.asyncio.session.AsyncSession` and `await session.exec(…)`):
```python
async def users():
    async with AsyncSession(async_engine) as s:
        return (await s.scalars(select(User))).all()
```
Or make the endpoint a plain `def`: FastAPI runs it in a threadpool.

**Stays silent on** plain `def` functions, functions handed to `AsyncSession.run_sync`,
`AsyncSession` objects, receivers whose kind is unknown, and a parameter annotated `Session`
whose methods the function awaits (`await db.execute(…)`: the annotation is wrong, the
object is an `AsyncSession`).

**Suppress** with `# awaitguard: ignore[AG401]` or `# noqa: AG401` on the line.
"#,
};

impl Rule for SyncSessionInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let wanted = |m: &str| SESSION_IO.contains(&m) || matches!(m, "connect" | "begin" | "exec_driver_sql");
        for_each_session_call(cx, wanted, |c| {
            let method = c.method;
            let what = match c.kind {
                SqlaKind::Session { asyncio: false, .. } if SESSION_IO.contains(&method) => "`Session`",
                SqlaKind::Engine { asyncio: false } if matches!(method, "connect" | "begin") => "engine",
                SqlaKind::Connection { asyncio: false } if CONN_IO.contains(&method) => "connection",
                _ => return,
            };
            let message = format!(
                "`{}.{method}()` on a sync {what} blocks the event loop, use `create_async_engine` + `AsyncSession`",
                short(py.node_text(c.recv), 20)
            );
            out.push(Finding::new(&META, c.call.byte_range(), message, vec![]));
        });
    }
}
