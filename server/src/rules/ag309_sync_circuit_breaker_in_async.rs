//! AG309 sync-circuit-breaker-in-async: dorm's circuit breaker entered with a plain `with`
//! in async code (RULES.md §AG309, §3.6c).
//!
//! The breaker is resolved through the imports and bindings ([`crate::semantic::async_cms`]):
//! a `circuit_breaker(…)` / `CircuitBreaker(…)` call, a name bound to one in this file, or a
//! module-level breaker of another project module. Fix (safe): `async with <b>.aprotect():`,
//! offered only when the `with` has this one item (the other items of a multi-item `with` may
//! not be async context managers).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::transactions::with_items;
use crate::syntax::Lang;

pub struct SyncCircuitBreakerInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG309",
    name: "sync-circuit-breaker-in-async",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"], &["with"]],
    summary: "dorm's circuit breaker entered with a sync `with` in async code counts cancellations as failures",
    doc: r#"## AG309 sync-circuit-breaker-in-async

**What it catches.** In async code, `with breaker:` or `with circuit_breaker("x"):` where the
breaker is dorm's (`dorm.contrib.circuit_breaker.circuit_breaker(…)` or `CircuitBreaker(…)`),
created here or in another module of the project (`from .db import payments_breaker`).

**Why it is wrong.** The breaker's sync `__exit__` counts every exception except its own
`CircuitOpenError` as a failure, `asyncio.CancelledError` included: requests cancelled by a
client disconnect or a timeout trip the breaker and cut off a healthy database. Its async
form, `aprotect()`, is made for async code.

**Example.**
```python
breaker = circuit_breaker("payments", failure_threshold=5)

async def charge(order):
    with breaker:                          # AG309
        await Payment.objects.acreate(order=order)
```

**Fix (safe).**
```python
async def charge(order):
    async with breaker.aprotect():
        await Payment.objects.acreate(order=order)
```
No fix when the `with` has other items too (they may not be async context managers).

**Stays silent on** `async with breaker.aprotect()`, `with breaker:` in sync or offloaded
code, and objects that do not resolve to a dorm breaker (parameters, other libraries'
breakers).
"#,
};

impl Rule for SyncCircuitBreakerInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_with(false, |with| {
            let ctx = py.context_at(with.start_byte());
            if !ctx.is_async() || py.in_offload_args(with.start_byte()) {
                return;
            }
            let items = with_items(with);
            for item in &items {
                if !py.is_breaker(item.value) {
                    continue;
                }
                let text = short(py.node_text(item.value), 40);
                let message = format!("`with {text}:` in async code counts a cancelled request as a breaker failure");
                let mut fixes = vec![];
                if items.len() == 1 && ctx.await_ok() {
                    fixes.push(Fix {
                        title: format!("Use `async with {text}.aprotect():`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::insert(with.start_byte(), "async "), Edit::insert(item.value.end_byte(), ".aprotect()")],
                    });
                }
                out.push(Finding::new(&META, item.value.byte_range(), message, fixes));
            }
        });
    }
}
