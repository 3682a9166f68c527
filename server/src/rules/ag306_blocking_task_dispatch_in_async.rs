//! AG306 blocking-task-dispatch-in-async: a Celery `.delay(…)` / `.apply_async(…)` on the
//! event loop (RULES.md §AG306).
//!
//! Invariants:
//! - Which receivers are Celery tasks is [`PyModel::celery_task`]: AG208's task test
//!   ([`PyModel::is_task_root`]: imported tasks, tasks of this file in a Celery file), minus the
//!   dispatchers a project writes itself (their `delay` is not known to publish to a broker).
//! - Only in async context `await` may reach; code in a `lambda`, an offloaded scope or an
//!   offloader's argument list is silent.
//! - The fix `await sync_to_async(task.delay)(…)` (safe: the same call, in a worker thread) is
//!   offered only where `await` is legal (Q1); the `sync_to_async` import is added.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{python as pyfix, Applicability, Fix};
use crate::semantic::{Context, ScopeKind};
use crate::syntax::{Lang, QueryId};

pub struct BlockingTaskDispatchInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG306",
    name: "blocking-task-dispatch-in-async",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"], &["delay", "apply_async"]],
    summary: "Celery task dispatched with blocking broker I/O on the event loop",
    doc: r#"## AG306 blocking-task-dispatch-in-async

**What it catches.** A Celery task's `.delay(…)` or `.apply_async(…)` called in async code
(an `async def`, an async view or consumer method). Tasks are those AG208 knows: imported from
a `tasks` module or in a file that imports Celery, or decorated in this file with
`@shared_task` / `@app.task`.

**Why it is wrong.** Publishing the message is blocking network I/O to the broker (connect,
send, wait for the confirm): the event loop, and every request it serves, waits meanwhile.
It does not raise by itself.

**Example.**
```python
async def signup(request):
    send_welcome.delay(42)                            # AG306
```

**Fix (safe).** Publish from a worker thread:
```python
async def signup(request):
    await sync_to_async(send_welcome.delay)(42)
```
The `sync_to_async` import is added. No fix inside a nested `def`, a class body or a generator
expression, where `await` cannot go. `delay_on_commit` in async code is AG207's (it raises);
Django 6 `task.enqueue(…)` is AG107's (`await task.aenqueue(…)`).

**Stays silent on** dispatch in sync code, in functions run through `sync_to_async`, inside a
`lambda`, and on `.delay` / `.apply_async` of objects that are not known Celery tasks: a
parameter or local, and tasks of a dispatcher the project defines itself (a task decorator
that is a project class or function not built on Celery).
"#,
};

impl Rule for BlockingTaskDispatchInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver")) else {
                return;
            };
            let m = py.node_text(method);
            if m != "delay" && m != "apply_async" {
                return;
            }
            let ctx = py.context_at(call.start_byte());
            let Context::Async { blocker, .. } = ctx else { return };
            if blocker == Some(ScopeKind::Lambda) || py.in_offload_args(call.start_byte()) {
                return;
            }
            if !py.celery_task(receiver) {
                return;
            }
            let func = call.child_by_field_name("function").unwrap_or(call);
            let func_short = short(py.node_text(func), 40);
            let message = format!("`{func_short}(…)` publishes to the broker with blocking I/O on the event loop");
            let mut fixes = vec![];
            if ctx.await_ok() && !pyfix::is_awaited(call) {
                if let Some(edits) = pyfix::sync_to_async_call(py, call) {
                    fixes.push(Fix {
                        title: format!("Publish from a thread with `await sync_to_async({func_short})(…)`"),
                        applicability: Applicability::Safe,
                        edits,
                    });
                }
            }
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        });
    }
}
