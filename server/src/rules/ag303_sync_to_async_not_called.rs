//! AG303 sync-to-async-not-called: `await sync_to_async(f)` with no call (RULES.md §AG303).
//!
//! The fix adds `()` (safe), except when `f` resolves to a function of this file with required
//! parameters (the arguments cannot be guessed: no fix). When the argument is an eager ORM call
//! (AG304), the fix is AG304's single edit, which fixes both.

use super::ag304_sync_to_async_eager_argument::eager_fix;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::bridges::{required_params, Callable, SYNC_TO_ASYNC};
use crate::syntax::{Lang, QueryId};

pub struct SyncToAsyncNotCalled;

static META: RuleMeta = RuleMeta {
    code: "AG303",
    name: "sync-to-async-not-called",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["await"]],
    summary: "`await sync_to_async(f)` awaits the wrapper instead of calling it",
    doc: r#"## AG303 sync-to-async-not-called

**What it catches.** `await sync_to_async(f)` or `await database_sync_to_async(f)`: the
wrapper is awaited without being called.

**Why it is wrong.** The wrapper is not awaitable:
`TypeError: object SyncToAsync can't be used in 'await' expression`.

**Example.**
```python
async def view(request):
    n = await sync_to_async(count_books)      # AG303
```

**Fix (safe).** Call it: `n = await sync_to_async(count_books)()`. No fix when `count_books`
has required parameters: pass them by hand.

**Stays silent on** a wrapper stored and called later (`w = sync_to_async(f)`), and on
`await sync_to_async(f)(…)`.
"#,
};

impl Rule for SyncToAsyncNotCalled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyAwaits, |caps| {
            let (Some(aw), Some(op)) = (caps.get("await"), caps.get("operand")) else { return };
            if op.kind() != "call" {
                return;
            }
            let (Some(func), Some(args)) = (op.child_by_field_name("function"), op.child_by_field_name("arguments")) else {
                return;
            };
            if !py.resolves_to(func, SYNC_TO_ASYNC) {
                return;
            }
            let Some(f) = py.sole_positional(args) else { return };
            let f_text = py.node_text(f);
            let message = format!(
                "`await {}({f_text})` awaits the wrapper without calling it (TypeError)",
                py.node_text(func)
            );
            let mut fixes = vec![];
            if py.is_eager_orm_call(f) {
                fixes.extend(eager_fix(py, op, f));
            } else {
                match py.callable(f, cx.settings.django_version) {
                    // No fix: the arguments are unknown (the rule doc says so).
                    Callable::SyncDef(def) if required_params(py, def) > 0 => {}
                    _ => fixes.push(Fix {
                        title: "Call the wrapper: add `()`".into(),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::insert(op.end_byte(), "()")],
                    }),
                }
            }
            out.push(Finding::new(&META, aw.byte_range(), message, fixes));
        });
    }
}
