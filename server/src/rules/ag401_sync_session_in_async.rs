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
//! - peewee: a plain (non-async) database, its bound models, their queries and instances
//!   ([`crate::semantic::peewee`]): a query-running call gets the unsafe fix
//!   `await asyncio.to_thread(<callee>, <args>)` (another thread, another connection) where
//!   `await` is legal; iterating a query and `with db.atomic()` get no fix. A database of
//!   unknown kind (a `DatabaseProxy`) and models bound to none are silent; so are pwasyncio /
//!   peewee-async databases (AG101 / AG103) and calls already awaited.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{python as pyfix, Applicability, Fix};
use crate::semantic::peewee::{PwCall, PwDb};
use crate::semantic::sqla::SqlaKind;
use super::sqla_calls::for_each_session_call;
use crate::semantic::transactions::with_items;
use crate::syntax::{Lang, QueryId};

pub struct SyncSessionInAsync;

const SESSION_IO: &[&str] =
    &["execute", "scalars", "scalar", "get", "query", "commit", "flush", "refresh", "delete", "merge", "exec"];
const CONN_IO: &[&str] = &["execute", "scalars", "scalar", "commit", "exec_driver_sql"];

static META: RuleMeta = RuleMeta {
    code: "AG401",
    name: "sync-session-in-async",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    // A peewee model may come from another module, with no peewee word in this file: the rule
    // fires only in async code, so `async` is its one trigger (listing the method names would
    // make every `.get(` hot for sparse parsing).
    triggers: &[&["async"]],
    summary: "A sync SQLAlchemy / SQLModel `Session` or engine, or a sync peewee database, doing I/O in async code",
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

**peewee.** The same holds for a plain peewee database (`SqliteDatabase`,
`PostgresqlDatabase`, `MySQLDatabase`, the pooled and extension variants,
`playhouse.db_url.connect`) and the models bound to it (`class Meta: database = db`, also
through a base model and across modules): `Model.get/get_or_none/create/get_or_create/…`,
a query run (`.execute()`, `.get()`, `.count()`, `.exists()`, `.scalar()`, `.first()`,
iteration), `obj.save()`, `obj.delete_instance()`, `db.execute_sql(…)` and
`with db.atomic():` in async code.
```python
async def rename(pk, name):
    user = User.get_by_id(pk)                      # AG401
    user.name = name
    user.save()                                    # AG401
```
**Fix (peewee, unsafe: review).** A single call moves into a worker thread:
`await asyncio.to_thread(user.save)`, `await asyncio.to_thread(User.get_by_id, pk)`. The
call then runs on another thread with its own connection, outside a transaction the
coroutine holds. Loops over a query and `with db.atomic():` blocks get no fix: move the
work into a sync function and await `asyncio.to_thread(fn)`, or use an async database
(`playhouse.pwasyncio`).

**Stays silent on** plain `def` functions, functions handed to `AsyncSession.run_sync`,
`AsyncSession` objects, receivers whose kind is unknown, and a parameter annotated `Session`
whose methods the function awaits (`await db.execute(…)`: the annotation is wrong, the
object is an `AsyncSession`); for peewee also code offloaded
with `asyncio.to_thread` / `run_in_executor`, a `DatabaseProxy` or any database it cannot
identify, models bound to no database, and pwasyncio / peewee-async databases (AG101, AG103).

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
        check_peewee(cx, py, out);
    }
}

/// The peewee half: a plain sync database, its models, queries and instances.
fn check_peewee(cx: &Ctx, py: &crate::semantic::PyModel, out: &mut Vec<Finding>) {
    let on_loop = |at: usize| py.context_at(at).is_async() && !py.in_offload_args(at);
    cx.for_each_match(QueryId::PyMethodCalls, |caps| {
        let (Some(call), Some(recv), Some(m)) = (caps.get("call"), caps.get("receiver"), caps.get("method")) else {
            return;
        };
        let method = py.node_text(m);
        if pyfix::is_awaited(call) || !on_loop(call.start_byte()) {
            return;
        }
        let Some(target) = py.pw_call(recv, method).filter(|t| t.db() == PwDb::Sync) else { return };
        let what = match target {
            PwCall::Db(_) => "database",
            PwCall::Model(_) => "model",
            PwCall::Query(_) => "query",
            PwCall::Instance(_) => "instance",
        };
        let recv_text = short(py.node_text(recv), 24);
        let message = format!("`{recv_text}.{method}()` on a sync peewee {what} blocks the event loop");
        let mut fixes = vec![];
        if py.context_at(call.start_byte()).await_ok() {
            if let Some(edits) = pyfix::to_thread_call(py, call) {
                let title = format!("Run it in a thread: `await asyncio.to_thread({recv_text}.{method}, …)`");
                fixes.push(Fix { title, applicability: Applicability::Unsafe, edits });
            }
        }
        out.push(Finding::new(&META, call.byte_range(), message, fixes));
    });
    // `for` statements and comprehension clauses (`[n.body for n in Note.select()]`).
    let mut loops: Vec<_> = py.loop_iters.values().filter(|l| !l.is_async).map(|l| l.iter).collect();
    loops.sort_by_key(|n| n.start_byte());
    for iter in loops {
        if !on_loop(iter.start_byte()) || !py.pw_query(iter).is_some_and(|m| m.db == PwDb::Sync) {
            continue;
        }
        let message = format!("Iterating `{}` runs a sync peewee query on the event loop", short(py.node_text(iter), 48));
        out.push(Finding::new(&META, iter.byte_range(), message, vec![]));
    }
    cx.for_each_with(false, |with| {
        if !on_loop(with.start_byte()) {
            return;
        }
        for item in with_items(with) {
            if py.pw_with_db(item.value) == Some(PwDb::Sync) {
                let message = format!("`with {}` on a sync peewee database blocks the event loop", short(py.node_text(item.value), 32));
                out.push(Finding::new(&META, item.value.byte_range(), message, vec![]));
            }
        }
    });
}
