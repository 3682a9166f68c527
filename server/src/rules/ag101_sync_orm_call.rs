//! AG101 sync-orm-call: a Django manager/queryset method that runs a query, called without
//! `await` in async context (RULES.md §AG101).
//!
//! Fires only when the receiver resolves to a manager or a lazy queryset chain
//! ([`crate::semantic::receivers`]); `dict.get`, `cache.get`, `request.GET.get` never resolve.
//! Lazy builders (`filter`, `all` …) and `iterator()` are not terminals (AG102's business).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::dialects::{django_api, dorm, Version};
use crate::semantic::instances::{Dialect, Value};
use crate::semantic::peewee::PwCall;
use crate::semantic::PyModel;
use super::orm_fix::peewee_async_finding;
use tree_sitter::Node;
use crate::syntax::{Lang, QueryId};

pub struct SyncOrmCall;

static META: RuleMeta = RuleMeta {
    code: "AG101",
    name: "sync-orm-call",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Synchronous ORM query in async code",
    doc: r#"## AG101 sync-orm-call

**What it catches.** A Django manager or queryset method that runs a query (`get`, `create`,
`count`, `exists`, `first`, `update`, `delete`, `aggregate`, `bulk_create` …) called without
`await` inside an `async def`.

**Why it is wrong.** Every Django code path that touches a database connection is guarded by
`@async_unsafe`: called on a thread that runs an event loop it raises
`SynchronousOnlyOperation: You cannot call this from an async context - use a thread or
sync_to_async.` Tests that run views synchronously never see it; production does.

**Example.**
```python
async def book_detail(request, pk):
    book = Book.objects.get(pk=pk)                                   # AG101
    n = Book.objects.filter(author_id=book.author_id).count()        # AG101
```

**Fix.** Use the async twin Django provides since 4.1 (`aget`, `acount`, `acreate`, …):
```python
async def book_detail(request, pk):
    book = await Book.objects.aget(pk=pk)
    n = await Book.objects.filter(author_id=book.author_id).acount()
```
- A trailer after the call gets parentheses: `(await Book.objects.aget(pk=1)).title`.
- `Book.objects.delete()` becomes `await Book.objects.all().adelete()` (managers have no
  `delete`/`adelete`).
- Below Django 4.1 the fix is `await sync_to_async(Book.objects.get)(pk=1)`.
- No fix where `await` is illegal or changes meaning: in a lambda, a
  class body, or a generator expression. Move the query into the async function, or run the
  helper with `await sync_to_async(helper)()`.

**Related managers** (`book.tags`, `author.book_set`, a `related_name`): `book.tags.add(t)`
becomes `await book.tags.aadd(t)` (Django 4.2; `acreate`/`aget_or_create`/`aupdate_or_create`
need 4.1.4, before which the fix is the `sync_to_async` fallback).

**dorm** (`import dorm`): the same calls block the event loop silently (dorm's guard is
opt-in), reported as warnings with dorm's twins (`aget_or_none`, `aupsert`, …). dorm's
many-to-many manager has no `acount` (`await book.tags.all().acount()`), and its reverse-FK
manager has no `acreate` (no automatic fix: create through the child's manager).

**peewee on an async database.** A model bound to a `playhouse.pwasyncio` database
(`AsyncSqliteDatabase`, `AsyncPostgresqlDatabase`, `AsyncMySQLDatabase`) raises
`MissingGreenletBridge` on every sync query outside `await db.run(fn)` (error); on a
peewee-async database (`peewee_async.PooledPostgresqlDatabase` …) the sync query blocks the
loop (warning). Model calls (`User.get(…)`, `create`, `get_or_none`, `get_or_create`,
`bulk_create`, `bulk_update`) and query runs (`query.execute()`, `count()`, `exists()`,
`scalar()`, `first()`, `get()`) are reported. Fix (safe, same arguments) where the model has
the twin: pwasyncio's `AsyncModel` → `await User.aget(…)`, `acreate`, `aget_or_none`,
`aget_or_create`, `abulk_create`, `abulk_update`, `await query.aexecute()`; peewee-async's
`AioModel` → `await User.aio_get(…)`, `aio_create`, `aio_get_or_none`, `aio_get_or_create`,
`await query.aio_execute()`, `aio_scalar`, `aio_first`, `aio_count`, `aio_exists`. A
pwasyncio query iterated (`for p in Product.select():`) or evaluated otherwise goes through
the database (`await db.list(query)`,
`db.get(query)`, `db.count(query)`, `db.exists(query)`, `db.scalar(query)`): no automatic fix.
A peewee-async query iterated with a plain `for` is reported too (warning, no fix:
`for u in await User.select().aio_execute():`). A plain `peewee.Model` on such a database
has no twins: reported without a fix.

**Stays silent on** awaited `a*` calls, lazy querysets (`Book.objects.filter(…)` that is
never evaluated), code inside `sync_to_async(...)`/`asyncio.to_thread(...)` and the
functions handed to them, sync functions, and look-alikes on other receivers (`dict.get`,
`cache.get`, `request.GET.get`).
Also silent inside a sync `def` nested in an async function (a signal receiver, a GraphQL
resolver, a callback): its body is sync context whoever defines it, and where it runs is
decided by its caller; a direct call from the async code is reported there by AG108 (the same
holds for AG102, AG103, AG105 and AG107).
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG101]` or `# noqa: AG101` on the line.
"#,
};

impl Rule for SyncOrmCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver"))
            else {
                return;
            };
            let ctx = py.context_at(call.start_byte());
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) {
                return;
            }
            // peewee on an async database (pwasyncio, peewee-async): model and query calls.
            let pw = |t: PwCall| matches!(t, PwCall::Model(_) | PwCall::Query(_));
            if let Some(f) = peewee_async_finding(&META, py, call, receiver, method, pw) {
                out.push(f);
                return;
            }
            let dialect = py.dialect();
            let Some(twin) = plan(py, receiver, py.node_text(method), dialect) else { return };
            let add_all = twin.queryset_only;
            let recv = short(py.node_text(receiver), 32);
            let recv_fixed = if add_all { format!("{recv}.all()") } else { recv.clone() };
            let version = cx.settings.django_version;
            let has_twin = match dialect {
                Dialect::Django => version >= twin.since,
                Dialect::Dorm => twin.since != NO_TWIN,
            };
            let mut message = match dialect {
                Dialect::Django => format!(
                    "`{recv}.{}()` runs a query synchronously in async code",
                    twin.sync
                ),
                Dialect::Dorm => format!(
                    "`{recv}.{}()` runs a sync dorm query in async code",
                    twin.sync
                ),
            };
            let mut fixes = vec![];
            if dialect == Dialect::Dorm && !has_twin {
                message.push_str(&format!(" (dorm's reverse-FK manager has no `a{}`)", twin.sync));
            } else if ctx.await_ok() {
                let mut edits = vec![];
                if add_all {
                    edits.push(Edit::insert(receiver.end_byte(), ".all()"));
                }
                let title = if has_twin {
                    edits.extend(pyfix::await_edits(call));
                    edits.push(Edit::replace(method.byte_range(), twin.async_name));
                    format!("Replace with `await {recv_fixed}.{}(…)`", twin.async_name)
                } else {
                    message.push_str(&format!(" (`{}` needs Django {})", twin.async_name, fmt_since(twin.since)));
                    edits.extend(pyfix::sync_to_async_call(py, call).unwrap_or_default());
                    format!("Wrap in `await sync_to_async({recv_fixed}.{})(…)`", twin.sync)
                };
                fixes.push(Fix { title, applicability: Applicability::Safe, edits });
            } else {
            }
            out.push(Finding {
                severity: if dialect == Dialect::Dorm { Severity::Warning } else { META.severity },
                related: py.provenance(receiver),
                ..Finding::new(&META, call.byte_range(), message, fixes)
            });
        });
        peewee_iteration(py, out);
    }
}

/// A peewee query on an async database iterated with a plain `for` (statement or
/// comprehension) in async code: pwasyncio raises `MissingGreenletBridge` (error), peewee-async
/// blocks (warning). No fix: the rows come from `await db.list(query)` (pwasyncio) or
/// `await query.aio_execute()` (peewee-async), which changes the shape of the loop.
fn peewee_iteration(py: &PyModel, out: &mut Vec<Finding>) {
    use crate::semantic::peewee::PwDb;
    let mut loops: Vec<_> = py.loop_iters.values().filter(|l| !l.is_async).map(|l| l.iter).collect();
    loops.sort_by_key(|n| n.start_byte());
    for iter in loops {
        let at = iter.start_byte();
        if !py.context_at(at).is_async() || py.in_offload_args(at) {
            continue;
        }
        let (message, severity) = match py.pw_query(iter).map(|m| m.db) {
            Some(PwDb::Pwasyncio) => (
                format!("Iterating `{}` on a pwasyncio database raises MissingGreenletBridge", short(py.node_text(iter), 40)),
                Severity::Error,
            ),
            Some(PwDb::PeeweeAsync) => (
                format!("Iterating `{}` runs a sync query on a peewee-async database", short(py.node_text(iter), 40)),
                Severity::Warning,
            ),
            _ => continue,
        };
        out.push(Finding { severity, ..Finding::new(&META, iter.byte_range(), message, vec![]) });
    }
}

/// `since` of a dorm method that has no async twin on this receiver (fallback only).
const NO_TWIN: Version = Version(u16::MAX, 0, 0);

/// Names `dorm` gives its async twins.
fn dorm_twin(sync: &str) -> Option<django::Twin> {
    let (sync, async_name) = dorm::async_name(sync)?;
    Some(django::Twin { sync, async_name, since: Version(0, 0, 0), queryset_only: false })
}

/// What to do with `<receiver>.<method>(…)`: the twin to use (`queryset_only` = insert
/// `.all()` first), or `None` when this is not a query-running ORM call.
fn plan(py: &PyModel, receiver: Node, method: &str, dialect: Dialect) -> Option<django::Twin> {
    let mut value = py.value(receiver);
    if value == Value::Unknown && matches!(method, "add" | "set") && py.is_instance_attr(receiver) {
        // `obj.<attr>.add(x)` / `.set([…])` on a model instance: only related managers have these.
        value = Value::RelatedManager;
    }
    match (dialect, value) {
        (Dialect::Django, Value::Manager | Value::QuerySet) => {
            let t = *django::queryset_terminal(method)?;
            Some(django::Twin { queryset_only: t.queryset_only && value == Value::Manager, ..t })
        }
        (Dialect::Django, Value::RelatedManager) => django_api::related_terminal(method),
        (Dialect::Dorm, Value::Manager | Value::QuerySet) => {
            let ok = dorm::queryset_terminal(method)
                || (value == Value::Manager && dorm::MANAGER_TERMINALS.contains(&method));
            if ok { dorm_twin(method) } else { None }
        }
        (Dialect::Dorm, Value::RelatedManager) => {
            let m2m = py.is_m2m_attr(receiver);
            if method == "count" {
                // dorm's M2M manager has no `acount`; `all()` is lazy and its QuerySet has one.
                Some(django::Twin { queryset_only: true, ..dorm_twin(method)? })
            } else if method == "create" && !m2m {
                // The reverse-FK manager has no `acreate`.
                Some(django::Twin { since: NO_TWIN, ..dorm_twin(method)? })
            } else if (m2m && dorm::M2M_METHODS.contains(&method)) || dorm::REVERSE_FK_METHODS.contains(&method) {
                dorm_twin(method)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn fmt_since(v: crate::dialects::Version) -> String {
    if v.2 == 0 { format!("{}.{}", v.0, v.1) } else { v.to_string() }
}
