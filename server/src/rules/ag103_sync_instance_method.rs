//! AG103 sync-instance-method: `obj.save()` / `delete()` / `refresh_from_db()` (and the
//! always-querying `get_next_by_*` / `get_previous_by_*`, and `full_clean` / `validate_unique`
//! when the model's fields make validation query) on a model instance in async code
//! (RULES.md §AG103, §3.1b).
//!
//! Fires only when the receiver resolves to a model instance
//! ([`crate::semantic::instances`]): `super().save()`, forms, files and unknown objects never do.

use super::orm_fix::{fallback, rename_await};
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::{django_api, dorm};
use crate::fix::Applicability;
use crate::semantic::instances::{Dialect, Value};
use crate::syntax::{Lang, QueryId};

pub struct SyncInstanceMethod;

static META: RuleMeta = RuleMeta {
    code: "AG103",
    name: "sync-instance-method",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Synchronous model-instance query (save/delete/refresh_from_db) in async code",
    doc: r#"## AG103 sync-instance-method

**What it catches.** `obj.save()`, `obj.delete()`, `obj.refresh_from_db()`,
`obj.get_next_by_<field>()` or `obj.get_previous_by_<field>()` on a model instance inside an
`async def`; also `obj.full_clean()` and `obj.validate_unique()` when the model's validation
queries: it has a unique field (`unique=True`, `primary_key=True`, a one-to-one) or declares
`unique_together` / `constraints`, or (`full_clean`) a foreign key, whose validation checks
that the row exists. A model with none of these validates without a query (silent), and so
does a model that is not known. An instance is recognised from the file: `await Book.objects.aget(…)`,
`Book(…)`, a loop variable over a queryset, `get_object_or_404(…)`, `self` in a model method.

**Why it is wrong.** Each runs a query on the event-loop thread: Django raises
`SynchronousOnlyOperation`; dorm blocks the loop.

**Example.**
```python
async def publish(pk):
    book = await Book.objects.aget(pk=pk)
    book.published = True
    book.save(update_fields=["published"])          # AG103
```

**Fix.** `await book.asave(update_fields=["published"])` (Django 4.2; arguments kept). Below
4.2: `await sync_to_async(book.save)(update_fields=["published"])`. `get_next_by_*` has no
async twin: `await sync_to_async(book.get_next_by_pub_date)()`; nor have `full_clean()` and
`validate_unique()`: `await sync_to_async(book.full_clean)()`. No fix in a lambda, a nested
sync `def`, a class body or a generator expression.

**peewee on an async database.** `obj.save()` and `obj.delete_instance()` on an instance
of a model bound to a `playhouse.pwasyncio` database raise `MissingGreenletBridge` (error);
on a peewee-async database they block the loop (warning). Fix (safe): `await obj.asave()` /
`await obj.adelete_instance()` for pwasyncio's `AsyncModel`, `await obj.aio_save()` /
`await obj.aio_delete_instance()` for peewee-async's `AioModel`; a plain `peewee.Model` has
no twin (no fix). An instance is a name bound to `Model.get(…)`, `create`, `get_or_none`,
`get_by_id` or their awaited twins, to `Model(…)`, the first name of `get_or_create`, or a
`for` target over the model's query.

**Stays silent on** sync `def`s nested in an async function (sync context: a direct call is AG108's), `await obj.asave()`, `super().save()` in a sync `save` override, offloaded
code, sync functions, and receivers not known to be model instances.
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG103]` or `# noqa: AG103` on the line.
"#,
};

impl Rule for SyncInstanceMethod {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let dialect = py.dialect();
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver"))
            else {
                return;
            };
            // peewee on an async database (pwasyncio, peewee-async): `save`, `delete_instance`.
            let pw = |t: crate::semantic::peewee::PwCall| matches!(t, crate::semantic::peewee::PwCall::Instance(_));
            if let Some(f) = super::orm_fix::peewee_async_finding(&META, py, call, receiver, method, pw) {
                out.push(f);
                return;
            }
            let m = py.node_text(method);
            // (async twin, first version) — None: no twin, `sync_to_async` only.
            let twin = match dialect {
                Dialect::Django => match django_api::instance_method(m) {
                    Some(t) => Some((t.async_name, t.since <= cx.settings.django_version, t.since)),
                    None if m.starts_with("get_next_by_") || m.starts_with("get_previous_by_") => None,
                    // Validation queries only for unique fields, relations, constraints (below).
                    None if matches!(m, "full_clean" | "validate_unique") => None,
                    None => return,
                },
                Dialect::Dorm => match dorm::INSTANCE_METHODS.contains(&m).then(|| dorm::async_name(m)).flatten() {
                    Some((_, a)) => Some((a, true, crate::dialects::Version(0, 0, 0))),
                    None => return,
                },
            };
            let ctx = py.context_at(call.start_byte());
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) || py.value(receiver) != Value::Instance {
                return;
            }
            if dialect == Dialect::Django && matches!(m, "full_clean" | "validate_unique") && !validation_queries(cx, py, receiver, m) {
                return;
            }
            let recv = short(py.node_text(receiver), 32);
            let mut message = match dialect {
                Dialect::Django => format!("`{recv}.{m}()` runs a query synchronously in async code"),
                Dialect::Dorm => format!("`{recv}.{m}()` runs a sync dorm query in async code"),
            };
            let mut fixes = vec![];
            match twin {
                Some((async_name, true, _)) => {
                    if ctx.await_ok() {
                        let title = format!("Replace with `await {recv}.{async_name}(…)`");
                        fixes.push(rename_await(call, method, async_name, title, Applicability::Safe));
                    }
                }
                Some((async_name, false, since)) => {
                    message.push_str(&format!(" (`{async_name}` needs Django {}.{})", since.0, since.1));
                    if ctx.await_ok() {
                        fixes.push(fallback(py, call, format!("Wrap in `await sync_to_async({recv}.{m})(…)`")));
                    }
                }
                None => {
                    message.push_str(" (it has no async twin)");
                    if ctx.await_ok() {
                        fixes.push(fallback(py, call, format!("Wrap in `await sync_to_async({recv}.{m})(…)`")));
                    }
                }
            }
            out.push(Finding { severity: if dialect == Dialect::Dorm { Severity::Warning } else { META.severity }, ..Finding::new(&META, call.byte_range(), message, fixes) });
        });
    }
}

/// `<obj>.full_clean()` / `.validate_unique()` runs a query: the instance's model is known
/// and has a unique field (a one-to-one, `unique=True`, `primary_key=True`) or declares
/// `unique_together` / `constraints`; for `full_clean` also a foreign key (its validation
/// checks that the row exists). A model with none of these validates without a query;
/// an unknown model is silent.
fn validation_queries(cx: &Ctx, py: &crate::semantic::PyModel, receiver: tree_sitter::Node, m: &str) -> bool {
    use crate::semantic::relations::FieldKind;
    let auth_user = cx.settings.auth_user_model.as_deref().map(|u| u.rsplit('.').next().unwrap_or(u)).unwrap_or("User");
    let auth_label = cx.settings.auth_user_model.as_deref().and_then(|m| m.rsplit_once('.')).map(|(l, _)| l);
    // `obj = Model(…)`: the class called; else the query that produced `obj`.
    let ctor = (receiver.kind() == "identifier")
        .then(|| py.binding(py.node_text(receiver), receiver.start_byte()).and_then(|b| b.value))
        .flatten()
        .filter(|v| v.kind() == "call")
        .and_then(|v| v.child_by_field_name("function"))
        .filter(|f| f.kind() == "identifier");
    let info = match ctor {
        Some(f) => py.model_info(py.node_text(f), f.start_byte(), auth_user, auth_label),
        None => py.instance_producer(receiver).and_then(|p| py.producer_model_info(&p, auth_user, auth_label)),
    };
    let Some(info) = info else { return false };
    info.fields.iter().any(|f| f.unique || (m == "full_clean" && f.kind == FieldKind::ForeignKey))
}
