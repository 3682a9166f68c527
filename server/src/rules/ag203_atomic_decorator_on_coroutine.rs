//! AG203 atomic-decorator-on-coroutine: `@transaction.atomic` / `@atomic(…)` on an
//! `async def` (RULES.md §AG203, §3.3).
//!
//! Django: the decorator is removed and X1 moves the body into a sync `@atomic` function
//! (unsafe) where correct. dorm: `@atomic` → `@aatomic` (safe). `@non_atomic_requests` and
//! dorm's `@aatomic` are silent. Tortoise's `@atomic` without parentheses (resolved through
//! the imports to `tortoise.transactions.atomic`) → `@atomic()` (safe).

use super::ag201_async_with_sync_atomic::dorm_rename;
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{extract, Applicability, Edit, Fix};
use crate::semantic::async_orms::TORTOISE_ATOMIC;
use tree_sitter::Node;
use crate::semantic::transactions::{has_async_token, AtomicApi};
use crate::syntax::{Lang, QueryId};

pub struct AtomicDecoratorOnCoroutine;

static META: RuleMeta = RuleMeta {
    code: "AG203",
    name: "atomic-decorator-on-coroutine",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`@transaction.atomic` on an `async def` guards only the creation of the coroutine",
    doc: r#"## AG203 atomic-decorator-on-coroutine

**What it catches.** `@transaction.atomic`, `@transaction.atomic(…)` or `@atomic` (Django or
dorm) on an `async def`; Tortoise's `@atomic` written without parentheses.

**Why it is wrong.** `Atomic` is a `ContextDecorator`: it returns a *sync* wrapper that enters
and leaves the transaction around the call that *creates* the coroutine, never around its
body.
- Called on an event loop, the wrapper raises `SynchronousOnlyOperation`.
- With `DJANGO_ALLOW_ASYNC_UNSAFE` set, the body runs with no transaction at all.
- Used as a view, Django sees a sync callable and fails with "The view … didn't return an
  HttpResponse object. It returned an unawaited coroutine instead."
- dorm's `atomic` likewise builds a sync wrapper: the body is unprotected.
- Tortoise's `atomic` is a decorator factory: `@atomic` passes the function as the connection
  name and returns the inner decorator, so every call raises `TypeError: … missing 1 required
  positional argument: 'func'`.

**Example.**
```python
@transaction.atomic                      # AG203
async def place_order(user_id):
    await Order.objects.acreate(user_id=user_id)
```

**Fix (Django, unsafe: review).** Remove the decorator and move the body into a sync
`@transaction.atomic` function awaited through `sync_to_async`:
```python
@transaction.atomic
def _place_order_atomic(user_id):
    Order.objects.create(user_id=user_id)


async def place_order(user_id):
    await sync_to_async(_place_order_atomic)(user_id)
```
No fix when the body awaits anything other than an ORM call or a `sync_to_async` wrapper.

**Fix (dorm, safe).** `@atomic` → `@aatomic`.

**Fix (Tortoise, safe).** `@atomic` → `@atomic()`.

**Stays silent on** `@transaction.atomic` on a sync `def` (awaited through `sync_to_async`:
the correct pattern), `@transaction.non_atomic_requests` on an async view (it only sets an
attribute), dorm's `@aatomic`, and Tortoise's `@atomic()` / `@atomic("conn")`.
"#,
};

impl Rule for AtomicDecoratorOnCoroutine {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyDecoratedFunctions, |caps| {
            let (Some(dec), Some(def)) = (caps.get("decorator"), caps.get("def")) else { return };
            if !has_async_token(def) {
                return;
            }
            let Some(expr) = dec.named_child(0) else { return };
            if let Some(f) = tortoise_bare_atomic(py, expr) {
                return out.push(f);
            }
            let Some(u) = py.atomic_use(expr) else { return };
            let callee = short(py.node_text(u.callee), 40);
            let mut fixes = vec![];
            let message = match u.api {
                AtomicApi::DormAsync => return,
                AtomicApi::Django => {
                    // Why there is no fix is in the rule doc, not the message (issue 22).
                    if let Ok(f) = extract::x1_for_body(py, def, dec, u.callee, u.args) {
                        fixes.push(f);
                    }
                    format!("`@{callee}` on an `async def` does not put its body in a transaction")
                }
                AtomicApi::Dorm => {
                    if let Some(edits) = dorm_rename(py, u.callee) {
                        fixes.push(Fix { title: "Use dorm's `@aatomic`".into(), applicability: Applicability::Safe, edits });
                    }
                    format!("`@{callee}` on an `async def` does not put its body in a transaction (dorm's `atomic` is sync)")
                }
            };
            out.push(Finding::new(&META, dec.byte_range(), message, fixes));
        });
    }
}

/// Tortoise's `@atomic` written without parentheses: `atomic(func)` returns the inner
/// `wrapper`, and calling the function then raises `TypeError` (a missing `func` argument).
/// Fix `@atomic()` (safe).
fn tortoise_bare_atomic<'t>(py: &crate::semantic::PyModel<'t>, expr: Node<'t>) -> Option<Finding> {
    if !matches!(expr.kind(), "identifier" | "attribute") || !py.resolves_to(expr, TORTOISE_ATOMIC) {
        return None;
    }
    let text = short(py.node_text(expr), 40);
    let message = format!("`@{text}` without parentheses makes the function raise TypeError when called");
    let edits = vec![Edit::insert(expr.end_byte(), "()")];
    let fixes = vec![Fix { title: format!("Call it: `@{text}()`"), applicability: Applicability::Safe, edits }];
    Some(Finding::new(&META, expr.byte_range(), message, fixes))
}
