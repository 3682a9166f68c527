//! AG204 homemade-async-atomic: a class or helper that enters Django's sync `Atomic` through
//! `sync_to_async` to get an "async transaction" (RULES.md §AG204).
//!
//! Reported at the declaration (a module-level class whose `__aenter__` does it, or a
//! module-level function whose body does) and at each `async with` of such a class, whether
//! it is declared in this file or imported from another project module (the project model's
//! [`crate::semantic::outside::ClassFacts::homemade_atomic`]; the finding's related location
//! points at the declaration). Recognition is in [`crate::semantic::async_cms`]. No fix: the
//! message points to the sync-extraction pattern (X1).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::semantic::outside::Loc;
use crate::semantic::transactions::{has_async_token, with_items};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct HomemadeAsyncAtomic;

static META: RuleMeta = RuleMeta {
    code: "AG204",
    name: "homemade-async-atomic",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::None,
    triggers: &[&["__enter__", "async", "atomic"]],
    summary: "an async context manager that enters Django's sync `Atomic` through `sync_to_async`",
    doc: r#"## AG204 homemade-async-atomic

**What it catches.** A class whose `__aenter__` hands Django's `Atomic.__enter__` to
`sync_to_async` (typically `class AsyncAtomic(Atomic)`), a helper (`aatomic`,
`async_atomic` …) whose body does the same, and every `async with` of such a class, also
when the class is declared in another module of the project.

**Why it is wrong.** Django has no async transactions, and this does not make one. The
transaction lives on the connection of the thread-sensitive worker thread; it holds only
while every later `a*` call happens to land on that same thread, and then **every coroutine
sharing that worker joins the transaction**: an independent `acreate` of a concurrent task
(`asyncio.gather`) was rolled back with it. With `thread_sensitive=False` or a private
executor, `__enter__` runs on another thread and nothing is protected at all.

**Example.**
```python
from asgiref.sync import sync_to_async
from django.db.transaction import Atomic

class AsyncAtomic(Atomic):                        # AG204
    __aenter__ = sync_to_async(Atomic.__enter__)
    __aexit__ = sync_to_async(Atomic.__exit__)

async def place(data):
    async with AsyncAtomic(using=None, savepoint=True, durable=False):   # AG204
        await Order.objects.acreate(**data)
```

**Fix.** None automatic. Move the transactional work into a sync function decorated with
`@transaction.atomic`, with the sync ORM calls, and await it through `sync_to_async`:
```python
@transaction.atomic
def _place(data):
    Order.objects.create(**data)

async def place(data):
    await sync_to_async(_place)(data)
```

**Stays silent on** async context managers whose `__aenter__` does not enter a Django
`Atomic` through `sync_to_async`, and on classes it cannot resolve.
"#,
};

impl Rule for HomemadeAsyncAtomic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        // Declarations: module-level classes and functions.
        let root = cx.tree.root_node();
        let mut c = root.walk();
        let in_focus = |n: Node| py.focus.as_ref().is_none_or(|f| n.start_byte() < f.end && f.start < n.end_byte());
        for st in root.named_children(&mut c).filter(|n| in_focus(*n)) {
            let def = if st.kind() == "decorated_definition" { st.child_by_field_name("definition") } else { Some(st) };
            let Some(def) = def else { continue };
            let Some(name) = def.child_by_field_name("name") else { continue };
            let name_text = short(py.node_text(name), 24);
            match def.kind() {
                "class_definition" if py.homemade_atomic_class(def).is_some() => {
                    let message =
                        format!("`{name_text}.__aenter__` wraps Django's sync `Atomic` in `sync_to_async`, which makes no async transaction");
                    out.push(Finding::new(&META, name.byte_range(), message, vec![]));
                }
                "function_definition" if py.homemade_atomic_helper(def) => {
                    let message =
                        format!("`{name_text}()` wraps Django's sync `Atomic` in `sync_to_async`, which makes no async transaction");
                    out.push(Finding::new(&META, name.byte_range(), message, vec![]));
                }
                _ => {}
            }
        }
        // Uses: `async with <HomemadeClass>(…)`.
        cx.for_each_match(QueryId::PyWithStatements, |caps| {
            let Some(with) = caps.get("with") else { return };
            if !has_async_token(with) {
                return;
            }
            for item in with_items(with) {
                let Some(callee) = (item.value.kind() == "call").then(|| item.value.child_by_field_name("function")).flatten()
                else {
                    continue;
                };
                let Some(decl) = py.homemade_atomic_callee(callee) else { continue };
                let text = short(py.node_text(callee), 40);
                let message = format!("`async with {text}()` is a homemade async transaction that Django does not support");
                let related: Vec<Loc> = decl.into_iter().collect();
                out.push(Finding { related, ..Finding::new(&META, item.value.byte_range(), message, vec![]) });
            }
        });
    }
}
