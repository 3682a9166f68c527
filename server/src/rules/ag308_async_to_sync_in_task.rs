//! AG308 async-to-sync-in-task: `async_to_sync(…)` in the body of a Celery task (RULES.md
//! §AG308). Advice (info), no fix.
//!
//! Invariants:
//! - `async_to_sync` resolves through the imports (`asgiref.sync.async_to_sync`).
//! - A Celery task is a `def` decorated with `@shared_task` / `@<x>.task` (called or not)
//!   in a file that imports Celery, where the decorator is not a `def`/`class` of this file
//!   (a project's own dispatcher). The innermost `def` around the call must be the task
//!   (a nested `def` may run elsewhere); `lambda`s in between are looked through.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::semantic::bridges::ASYNC_TO_SYNC;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct AsyncToSyncInTask;

static META: RuleMeta = RuleMeta {
    code: "AG308",
    name: "async-to-sync-in-task",
    lang: Lang::Python,
    severity: Severity::Info,
    fix: FixAvailability::None,
    triggers: &[&["async_to_sync"], &["task", "shared_task"]],
    summary: "`async_to_sync` inside a Celery task",
    doc: r#"## AG308 async-to-sync-in-task

**What it catches.** `async_to_sync(…)` in the body of a Celery task (`@shared_task`,
`@app.task`), typically `async_to_sync(channel_layer.group_send)(…)` to push a message from a
worker.

**Why it matters (advice).** It works in a prefork worker: there is no running event loop in
that thread, so `async_to_sync` starts one. It raises `RuntimeError` only under a worker pool
that runs tasks in a thread with a running loop. The common failure is a loop-bound client
reused across the loops `async_to_sync` creates call after call: a module-level channel layer
or async database client then fails with "Event loop is closed" or "attached to a different
loop" (channels_redis #312, #332).

**Example.**
```python
@shared_task
def push(msg):
    async_to_sync(channel_layer.group_send)("feed", {"type": "feed.msg", "msg": msg})   # AG308
```

**What to do.** Nothing, when the awaited code creates its clients per call (the channel layer
from `get_channel_layer()` inside the task is fine in a prefork worker). Otherwise make one
`async_to_sync` call per task that runs all the async work, create loop-bound clients inside
it, and do not run such tasks under a pool with its own event loop.

**Stays silent on** `async_to_sync` outside task bodies (AG301 covers async code), in a `def`
nested in a task, and in tasks of a dispatcher the project defines itself.
"#,
};

impl Rule for AsyncToSyncInTask {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        if !py.imports_celery() {
            return;
        }
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func)) = (caps.get("call"), caps.get("function")) else { return };
            if !py.resolves_to(func, ASYNC_TO_SYNC) {
                return;
            }
            let Some(def) = enclosing_def(call) else { return };
            let Some(task) = celery_task_name(py, def) else { return };
            let arg = call.child_by_field_name("arguments").and_then(|a| py.sole_positional(a));
            let what = arg.map(|a| short(py.node_text(a), 40)).unwrap_or_else(|| "…".into());
            let message = format!("`async_to_sync({what})` in Celery task `{}` runs a new event loop per call", short(&task, 30));
            out.push(Finding::new(&META, call.byte_range(), message, vec![]));
        });
    }
}

/// The innermost `function_definition` around `n` (through `lambda`s).
fn enclosing_def(n: Node) -> Option<Node> {
    let mut p = n.parent();
    while let Some(x) = p {
        if x.kind() == "function_definition" {
            return Some(x);
        }
        p = x.parent();
    }
    None
}

/// The name of `def` when it is a Celery task (see the module docs).
fn celery_task_name(py: &PyModel, def: Node) -> Option<String> {
    let header = py.local_fn_header(def);
    if header.is_async || header.task_decorators.is_empty() {
        return None;
    }
    let celery = header.task_decorators.iter().all(|d| {
        let head = d.split('.').next().unwrap_or(d);
        let last = d.rsplit('.').next().unwrap_or(d);
        (last == "shared_task" || (last == "task" && d.contains('.'))) && py.module_def_named(head).is_none() && !py.defines_class(head)
    });
    celery.then(|| header.name)
}
