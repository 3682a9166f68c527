//! AG308 async-to-sync-in-task: `async_to_sync(…)` in the body of a Celery task (RULES.md
//! §AG308). Advice (info), no fix.
//!
//! Invariants:
//! - `async_to_sync` resolves through the imports (`asgiref.sync.async_to_sync`).
//! - A Celery task is a `def` decorated with `@shared_task` / `@<x>.task` (called or not)
//!   in a file that imports Celery, where the decorator is not a `def`/`class` of this file
//!   (a project's own dispatcher). The innermost `def` around the call must be the task
//!   (a nested `def` may run elsewhere); `lambda`s in between are looked through.
//! - Only the risky shape is reported (measured: a finding per `async_to_sync(coroutine_fn)`
//!   was 92 info findings of working code in one project): the wrapped callable is a method of
//!   an object made once at module level (`channel_layer = get_channel_layer()`,
//!   `redis = Redis(…)`), which every call's new event loop then reuses. A function, an
//!   imported name, or an object made inside the task is silent.

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

**What it catches.** `async_to_sync(client.method)` in the body of a Celery task
(`@shared_task`, `@app.task`) where `client` is an object made once at module level, typically
`channel_layer = get_channel_layer()` and then `async_to_sync(channel_layer.group_send)(…)` to
push a message from a worker.

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

**Stays silent on** `async_to_sync` of a coroutine function or of an imported name (each call
gets its own loop and nothing outlives it), of an object made inside the task, outside task
bodies (AG301 covers async code), in a `def` nested in a task, and in tasks of a dispatcher
the project defines itself.
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
            let Some(arg) = call.child_by_field_name("arguments").and_then(|a| py.sole_positional(a)) else { return };
            let Some(client) = module_level_object(py, arg) else { return };
            let what = short(py.node_text(arg), 40);
            let _ = task;
            let message =
                format!("`async_to_sync({what})` in a Celery task reuses module-level `{}` across event loops", short(client, 24));
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

/// When `arg` is `<name>.<method>` (or deeper) and `<name>` is bound, where `arg` is, by a
/// module-level assignment of a call (an object made once at import), that name.
fn module_level_object<'t>(py: &PyModel<'t>, arg: Node<'t>) -> Option<&'t str> {
    if arg.kind() != "attribute" {
        return None;
    }
    let mut root = arg;
    while root.kind() == "attribute" {
        root = root.child_by_field_name("object")?;
    }
    if root.kind() != "identifier" {
        return None;
    }
    let name = py.node_text(root);
    let b = py.binding(name, root.start_byte())?;
    let value = b.value?;
    (py.scope_at(b.pos) == 0 && value.kind() == "call").then_some(name)
}
