//! AG304 sync-to-async-eager-argument: `sync_to_async(X.objects.get(pk=1))`: the query runs
//! while the argument is evaluated, on the event loop (RULES.md §AG304, §3.5).
//!
//! Fires in async context when the argument is an ORM terminal call on a resolved manager or
//! queryset, or `obj.save()` / `obj.refresh_from_db()`. The fix (safe) passes the bound method
//! and moves the arguments to the wrapper's call: `sync_to_async(X.objects.get)(pk=1)`; it is
//! offered when the wrapper is called with no arguments, or awaited uncalled (one edit then
//! fixes AG303 as well).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::bridges::SYNC_TO_ASYNC;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct SyncToAsyncEagerArgument;

static META: RuleMeta = RuleMeta {
    code: "AG304",
    name: "sync-to-async-eager-argument",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`sync_to_async` given the result of a query instead of the callable",
    doc: r#"## AG304 sync-to-async-eager-argument

**What it catches.** `sync_to_async(<call>)` where the call runs a query:
`sync_to_async(Book.objects.get(pk=pk))`, `sync_to_async(obj.save())`.

**Why it is wrong.** Python evaluates the argument first, on the event-loop thread: the query
runs there and raises `SynchronousOnlyOperation` before anything is wrapped (and its result is
not a callable anyway).

**Example.**
```python
async def view(request, pk):
    book = await sync_to_async(Book.objects.get(pk=pk))()   # AG304
```

**Fix (safe).** Pass the callable and move the arguments to the call:
```python
    book = await sync_to_async(Book.objects.get)(pk=pk)
```
When the wrapper is also awaited without a call (AG303), the same edit fixes both.

**Stays silent on** bound methods (`sync_to_async(Book.objects.get)`), lambdas, `partial(…)`,
and factory calls that return a function (`sync_to_async(make_handler())`).
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.
"#,
};

impl Rule for SyncToAsyncEagerArgument {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else {
                return;
            };
            if !py.resolves_to(func, SYNC_TO_ASYNC) || !py.context_at(call.start_byte()).is_async() {
                return;
            }
            let Some(arg) = py.sole_positional(args) else { return };
            if !py.is_eager_orm_call(arg) {
                return;
            }
            out.push(Finding::new(
                &META,
                call.byte_range(),
                format!(
                    "`{}({})` runs the query on the event loop, before the wrapper",
                    py.node_text(func),
                    short(py.node_text(arg), 40)
                ),
                eager_fix(py, call, arg).into_iter().collect(),
            ));
        });
    }
}

/// `sync_to_async(f(args))()` / `await sync_to_async(f(args))` → `sync_to_async(f)(args)`.
pub(crate) fn eager_fix(py: &PyModel, wrapper: Node, arg: Node) -> Option<Fix> {
    let arg_args = arg.child_by_field_name("arguments")?;
    let moved = py.node_text(arg_args).to_string();
    let parent = wrapper.parent()?;
    let mut edits = vec![Edit::replace(arg_args.byte_range(), "")];
    if parent.kind() == "call" && parent.child_by_field_name("function").is_some_and(|f| f.id() == wrapper.id()) {
        let outer = parent.child_by_field_name("arguments")?;
        if outer.named_child_count() > 0 {
            return None;
        }
        edits.push(Edit::replace(outer.byte_range(), moved));
    } else if parent.kind() == "await" {
        edits.push(Edit::insert(wrapper.end_byte(), moved));
    } else {
        return None;
    }
    let callee = arg.child_by_field_name("function").map(|f| short(py.node_text(f), 40)).unwrap_or_default();
    Some(Fix {
        title: format!("Pass `{callee}` and call the wrapper with its arguments"),
        applicability: Applicability::Safe,
        edits,
    })
}
