//! AG201 async-with-sync-atomic: `async with` on a sync-only transaction manager: Django's
//! `transaction.atomic(…)` or dorm's `atomic(…)` (RULES.md §AG201, §3.3, §3.6b).
//!
//! The callee is resolved through the imports ([`crate::semantic::transactions`]); dorm's
//! real `async with aatomic()` is silent. Django: X1 (unsafe) when it is correct, else no fix.
//! dorm: `atomic` → `aatomic` (safe). Reverse forms: Tortoise's `in_transaction()` and a
//! Piccolo engine's `transaction()` under a plain `with` ([`crate::semantic::async_orms`]) →
//! `async with` (safe, only where `await` is legal and every item is async only).
//! Reverse forms (plain `with` on an async-only manager), SQLAlchemy and peewee
//! ([`reverse_sqla_peewee`]): `session.begin()` / `begin_nested()` on an `AsyncSession`, an
//! `AsyncSession` / `async_sessionmaker` product itself, `engine.begin()` / `connect()` on an
//! async engine, `conn.begin()` on an `AsyncConnection` (kinds from [`crate::semantic::sqla`]:
//! the object has no `__enter__`); `db.atomic()` / `transaction()` / `savepoint()` on a
//! `playhouse.pwasyncio` database (its sync `__enter__` raises `MissingGreenletBridge` there;
//! sync code run by `await db.run(fn)` uses it rightly). All in async context only (not
//! offloaded), as the rule's one trigger, `async`, requires. Fix `async with` (safe) only when every
//! item of the statement is such a manager and the innermost scope is `async def`.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::extract;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::transactions::{with_items, AtomicApi};
use crate::semantic::async_orms::AsyncOrm;
use crate::semantic::PyModel;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct AsyncWithSyncAtomic;

static META: RuleMeta = RuleMeta {
    code: "AG201",
    name: "async-with-sync-atomic",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`async with` on a transaction manager that is sync only",
    doc: r#"## AG201 async-with-sync-atomic

**What it catches.** `async with transaction.atomic(…):` (or `async with atomic(…):`) with
Django's `django.db.transaction.atomic`, or dorm's sync `atomic`. The reverse forms too: a
plain `with` in async code on a transaction that is async only, Tortoise's
`with in_transaction():` and Piccolo's `with DB.transaction():` (`DB` an engine made here,
`Table._meta.db`, or `DB` imported from `piccolo_conf`).

**Why it is wrong.** `Atomic` is a sync context manager: it has no `__aenter__`. Entering the
block raises
`TypeError: 'Atomic' object does not support the asynchronous context manager protocol`
(dorm: `'_AtomicContextManager' object does not support …`). No Django version has an async
transaction (no `aatomic`, no async savepoints).

**Example.**
```python
async def create_order(data):
    async with transaction.atomic():          # AG201: TypeError
        order = await Order.objects.acreate(**data)
        await Line.objects.abulk_create(lines_for(order))
```

**Fix (Django, unsafe: review).** Move the block into a sync function decorated with
`@transaction.atomic`, with the sync ORM calls, and await it through `sync_to_async`:
```python
@transaction.atomic
def _create_order_atomic(data):
    order = Order.objects.create(**data)
    Line.objects.bulk_create(lines_for(order))


async def create_order(data):
    await sync_to_async(_create_order_atomic)(data)
```
The block's free variables become parameters and the names it assigns that are used later
become return values. No fix is offered when the block awaits anything other than an ORM
call or a `sync_to_async` wrapper (other async I/O cannot move into sync code), or when
`return`, `break`, `continue` or `yield` would leave it.

**Fix (dorm, safe).** `async with transaction.aatomic(…):`, keeping `using` and `durable`.

**Fix (Tortoise, Piccolo, safe).** `async with in_transaction():` /
`async with DB.transaction():`; none outside an `async def` or when another item of the same
`with` is a sync manager. The reverse forms raise `TypeError` on entry (no `__enter__`).

**Reverse form (SQLAlchemy, peewee).** A plain `with` on a manager that is async only:
`with session.begin():` on an `AsyncSession`, `with AsyncSession(engine) as s:`,
`with async_session() as s:` (an `async_sessionmaker`), `with engine.begin() as conn:` /
`engine.connect()` on a `create_async_engine` engine, in async code: no `__enter__`,
`TypeError`. peewee:
`with db.atomic():` (or `transaction()`, `savepoint()`) on a `playhouse.pwasyncio` database in
async code: its sync `__enter__` serves code run through `await db.run(fn)`, and outside it
raises `MissingGreenletBridge`. **Fix (safe):** `async with …`, offered when every item of the statement is such a
manager and the enclosing function is an `async def`.

**Stays silent on** dorm's `async with aatomic()`, `with transaction.atomic()` in sync or
offloaded code, and context managers that do not resolve to an `atomic` import; Tortoise's
`async with in_transaction()`, Piccolo's `async with DB.transaction()`, and a `transaction()`
method of an object that is not a Piccolo engine.
"#,
};

impl Rule for AsyncWithSyncAtomic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_with(true, |with| {
            for item in with_items(with) {
                let Some(u) = py.atomic_use(item.value) else { continue };
                let callee = short(py.node_text(u.callee), 40);
                let (message, fixes) = match u.api {
                    AtomicApi::DormAsync => continue,
                    AtomicApi::Django => {
                        let message =
                            format!("`async with {callee}()` raises TypeError (Django has no async transaction)");
                        // Why there is no fix is in the rule doc, not the message (issue 22).
                        let fixes = extract::x1_for_with(py, with, u.callee, u.args).map(|f| vec![f]).unwrap_or_default();
                        (message, fixes)
                    }
                    AtomicApi::Dorm => {
                        let message = format!("`async with {callee}()` raises TypeError (dorm's `atomic` is sync)");
                        (message, dorm_fix(py, u.callee).into_iter().collect())
                    }
                };
                out.push(Finding::new(&META, item.value.byte_range(), message, fixes));
            }
        });
        cx.for_each_with(false, |with| reverse_async_only(py, with, out));
        reverse_sqla_peewee(cx, py, out);
    }
}

/// Tortoise `with in_transaction():`, Piccolo `with DB.transaction():` (reverse forms) in async
/// code: the manager has no `__enter__`. Fix `async with` (safe) where `await` is legal and
/// every item of the statement is such a manager.
fn reverse_async_only<'t>(py: &PyModel<'t>, with: Node<'t>, out: &mut Vec<Finding>) {
    // In async code only: sync code cannot use these managers at all (and fails on first run).
    let ctx = py.context_at(with.start_byte());
    if !ctx.is_async() {
        return;
    }
    let items = with_items(with);
    let orms: Vec<_> = items.iter().map(|i| py.async_only_transaction(i.value)).collect();
    let all = orms.iter().all(Option::is_some);
    for (item, orm) in items.iter().zip(orms) {
        let Some(orm) = orm else { continue };
        let text = short(py.node_text(item.value), 40);
        let lib = match orm {
            AsyncOrm::Tortoise => "Tortoise",
            AsyncOrm::Piccolo => "Piccolo",
        };
        let message = format!("`with {text}` raises TypeError because the {lib} transaction needs `async with`");
        let mut fixes = vec![];
        if all && ctx.await_ok() {
            let edits = vec![Edit::insert(with.start_byte(), "async ")];
            fixes.push(Fix { title: "Use `async with`".into(), applicability: Applicability::Safe, edits });
        }
        out.push(Finding::new(&META, item.value.byte_range(), message, fixes));
    }
}

/// What async-only manager a plain `with` item enters, for the reverse form: its name in the
/// message. `None`: a sync manager or unknown.
fn async_only_manager(py: &PyModel, value: Node) -> Option<&'static str> {
    use crate::semantic::peewee::PwDb;
    use crate::semantic::sqla::SqlaKind;
    if value.kind() != "call" {
        return None;
    }
    if let Some(f) = value.child_by_field_name("function").filter(|f| f.kind() == "attribute") {
        let obj = f.child_by_field_name("object")?;
        let m = py.node_text(f.child_by_field_name("attribute")?);
        match (py.sqla_kind(obj), m) {
            (Some(SqlaKind::Session { asyncio: true, .. }), "begin" | "begin_nested") => return Some("an AsyncSession"),
            (Some(SqlaKind::Connection { asyncio: true }), "begin" | "begin_nested") => return Some("an AsyncConnection"),
            (Some(SqlaKind::Engine { asyncio: true }), "begin" | "connect") => return Some("an async engine"),
            _ => {}
        }
        if matches!(m, "atomic" | "transaction" | "savepoint") && py.pw_with_db(value) == Some(PwDb::Pwasyncio) {
            return Some("a pwasyncio database");
        }
    }
    match py.sqla_kind(value) {
        Some(SqlaKind::Session { asyncio: true, .. }) => Some("an AsyncSession"),
        Some(SqlaKind::Connection { asyncio: true }) => Some("an AsyncConnection"),
        _ => None,
    }
}

/// The reverse forms for SQLAlchemy's asyncio extension and peewee's pwasyncio (module doc).
fn reverse_sqla_peewee(cx: &Ctx, py: &PyModel, out: &mut Vec<Finding>) {
    cx.for_each_with(false, |with| {
        let at = with.start_byte();
        if !py.context_at(at).is_async() || py.in_offload_args(at) {
            return;
        }
        let items = with_items(with);
        let found: Vec<_> = items.iter().map(|i| async_only_manager(py, i.value)).collect();
        let all_async = found.iter().all(Option::is_some);
        for (item, what) in items.iter().zip(found) {
            let Some(what) = what else { continue };
            // pwasyncio's managers have a sync `__enter__` for code run by `db.run(fn)`: outside
            // it, entering needs the greenlet bridge.
            let error = if what.contains("pwasyncio") { "MissingGreenletBridge" } else { "TypeError" };
            let message = format!("`with {}` on {what} raises {error}, use `async with`", short(py.node_text(item.value), 40));
            let mut fixes = vec![];
            if all_async && py.context_at(with.start_byte()).await_ok() {
                fixes.push(Fix {
                    title: "Use `async with`".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::insert(with.start_byte(), "async ")],
                });
            }
            out.push(Finding::new(&META, item.value.byte_range(), message, fixes));
        }
    });
}

/// dorm: `atomic` → `aatomic` (same module), adding the import for a bare name.
pub(crate) fn dorm_rename(py: &PyModel, callee: Node) -> Option<Vec<Edit>> {
    match callee.kind() {
        "attribute" => {
            let attr = callee.child_by_field_name("attribute")?;
            Some(vec![Edit::replace(attr.byte_range(), "aatomic")])
        }
        "identifier" => {
            let mut edits = vec![Edit::replace(callee.byte_range(), "aatomic")];
            if py.import_of("aatomic").is_some_and(|p| p != "dorm.transaction.aatomic") {
                return None;
            }
            edits.extend(pyfix::ensure_import(py, "dorm.transaction", "aatomic"));
            Some(edits)
        }
        _ => None,
    }
}

fn dorm_fix(py: &PyModel, callee: Node) -> Option<Fix> {
    Some(Fix {
        title: "Use dorm's `aatomic`".into(),
        applicability: Applicability::Safe,
        edits: dorm_rename(py, callee)?,
    })
}
