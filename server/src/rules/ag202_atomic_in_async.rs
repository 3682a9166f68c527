//! AG202 atomic-in-async: `with transaction.atomic():` lexically inside an `async def`, not
//! offloaded (RULES.md §AG202, §3.3). A sync `def` nested in the async one is sync context.
//!
//! The most misleading of the transaction bugs: the pattern is recommended in blog posts and
//! project docs, and with `DJANGO_ALLOW_ASYNC_UNSAFE` it even "works" while guarding nothing.
//! The message therefore states both failure modes. Django: X1 (unsafe) where correct. dorm:
//! `async with aatomic()` (safe; unsafe when the block still holds sync ORM calls).

use super::ag201_async_with_sync_atomic::dorm_rename;
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{extract, Applicability, Edit, Fix};
use crate::semantic::transactions::{with_items, AtomicApi};
use crate::semantic::PyModel;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct AtomicInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG202",
    name: "atomic-in-async",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`with transaction.atomic()` in async code does not guard the awaited queries",
    doc: r#"## AG202 atomic-in-async

**What it catches.** `with transaction.atomic(…):` (or `with atomic(…):`) inside an
`async def` that is not run through `sync_to_async` (a sync `def` nested in the async
function is sync context: where it runs is decided by its caller, so it stays silent).

**Why it is wrong.** The transaction does not guard the awaited queries.
- **Django**, always: entering the block raises `SynchronousOnlyOperation` (`Atomic.__enter__`
  asks the connection for its autocommit state, and `ensure_connection()` is
  `@async_unsafe`).
- **Django with `DJANGO_ALLOW_ASYNC_UNSAFE` set** (as some test settings do): the block opens a
  transaction on the *event-loop thread's* connection, but every awaited `a*` query
  (`aget`, `acreate`, `asave`, …) runs the sync method in a `sync_to_async` worker thread, on
  *that thread's own* connection (Django connections are per thread). The writes are not in
  the transaction: when the block raises they are not rolled back.
- **dorm**: no error at all. `atomic()` holds the sync connection; the `a*` calls use the
  separate async connection, so they are not covered either.

Django has no async transaction in any version (no `aatomic`, no async savepoints): "write
that piece as a single synchronous function and call it using `sync_to_async`" (Django docs,
*Asynchronous support*).

**Example.**
```python
async def transfer(src_id, dst_id, amount):
    with transaction.atomic():                                   # AG202
        await Account.objects.filter(pk=src_id).aupdate(balance=F("balance") - amount)
        await Account.objects.filter(pk=dst_id).aupdate(balance=F("balance") + amount)
```

**Fix (Django, unsafe: review).** The correct pattern: a sync function decorated
`@transaction.atomic`, with the sync ORM calls, awaited through `sync_to_async`:
```python
@transaction.atomic
def _transfer_atomic(src_id, dst_id, amount):
    Account.objects.filter(pk=src_id).update(balance=F("balance") - amount)
    Account.objects.filter(pk=dst_id).update(balance=F("balance") + amount)


async def transfer(src_id, dst_id, amount):
    await sync_to_async(_transfer_atomic)(src_id, dst_id, amount)
```
The block's free variables become parameters; the names it assigns and the code after it
reads become return values (`order = await sync_to_async(_f)(data)`). No fix is offered when
the block awaits anything other than an ORM call or a `sync_to_async` wrapper, or when
`return`, `break`, `continue` or `yield` would leave it; move the work by hand then.

**Fix (dorm, safe).** `async with transaction.aatomic(…):` (unsafe when the block still holds
sync ORM calls: convert them too).

**Stays silent on** `with transaction.atomic()` in sync code and in functions run through
`sync_to_async` / `database_sync_to_async` (the correct pattern), dorm's `async with
aatomic()`, and context managers that do not resolve to an `atomic` import.
"#,
};

impl Rule for AtomicInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_with(false, |with| {
            let ctx = py.context_at(with.start_byte());
            if !ctx.is_async() {
                return;
            }
            let items = with_items(with);
            for item in &items {
                let Some(u) = py.atomic_use(item.value) else { continue };
                let callee = short(py.node_text(u.callee), 40);
                let mut fixes = vec![];
                let message = match u.api {
                    AtomicApi::DormAsync => continue,
                    AtomicApi::Django => format!("`with {callee}()` in async code does not guard the awaited queries"),
                    AtomicApi::Dorm => {
                        format!("`with {callee}()` in async code does not guard the awaited queries (dorm's `atomic` is sync)")
                    }
                };
                // Why there is no fix is in the rule doc, not the message (issue 22).
                if !ctx.await_ok() {
                    // `await` cannot go here: no fix.
                } else if u.api == AtomicApi::Django {
                    if let Ok(f) = extract::x1_for_with(py, with, u.callee, u.args) {
                        fixes.push(f);
                    }
                } else if items.len() == 1 && !item.has_alias {
                    if let Some(mut edits) = dorm_rename(py, u.callee) {
                        edits.push(Edit::insert(with.start_byte(), "async "));
                        let applicability =
                            if has_sync_orm_call(py, with) { Applicability::Unsafe } else { Applicability::Safe };
                        fixes.push(Fix { title: "Use `async with aatomic()`".into(), applicability, edits });
                    }
                }
                out.push(Finding::new(&META, item.value.byte_range(), message, fixes));
            }
        });
    }
}

/// True when the `with` body calls a sync ORM-looking method (`get`, `create`, `save` …)
/// without `await`: after the switch to `aatomic` those would still use the sync connection.
fn has_sync_orm_call(py: &PyModel, with: Node) -> bool {
    let Some(body) = with.child_by_field_name("body") else { return false };
    let mut cursor = body.walk();
    loop {
        let n = cursor.node();
        if n.kind() == "call" {
            let m = n
                .child_by_field_name("function")
                .filter(|f| f.kind() == "attribute")
                .and_then(|f| f.child_by_field_name("attribute"))
                .map(|a| py.node_text(a));
            if m.is_some_and(|m| {
                matches!(m, "save" | "delete" | "refresh_from_db") || crate::dialects::django::queryset_terminal(m).is_some()
            }) {
                return true;
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == body.id() {
                return false;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}
