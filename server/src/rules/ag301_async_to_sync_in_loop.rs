//! AG301 async-to-sync-in-loop: `async_to_sync(f)(…)` in async context (RULES.md §AG301,
//! §3.5).
//!
//! `async_to_sync` resolves through the imports (`asgiref.sync.async_to_sync`). The fix
//! `await f(…)` (safe, Q1/Q3) is offered only when `f` resolves to a coroutine function: an
//! `async def` of this file (`self.method` included) or a channel-layer method.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::bridges::{Callable, ASYNC_TO_SYNC};
use crate::syntax::{Lang, QueryId};

pub struct AsyncToSyncInLoop;

static META: RuleMeta = RuleMeta {
    code: "AG301",
    name: "async-to-sync-in-loop",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`async_to_sync` called on the event loop",
    doc: r#"## AG301 async-to-sync-in-loop

**What it catches.** `async_to_sync(f)(…)` inside an `async def` (or a sync helper nested in
one), typically `async_to_sync(self.channel_layer.group_send)(…)` in an async consumer.

**Why it is wrong.** asgiref refuses to block the loop it runs on:
`RuntimeError: You cannot use AsyncToSync in the same thread as an async event loop - just
await the async function directly.`

**Example.**
```python
class ChatConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data):
        async_to_sync(self.channel_layer.group_send)("chat", {"type": "chat.msg"})   # AG301
```

**Fix (safe).** Await the coroutine function directly:
```python
        await self.channel_layer.group_send("chat", {"type": "chat.msg"})
```
Offered only when `f` resolves to a coroutine function (an `async def` of this file, or a
channel-layer method); `async_to_sync(sync_fn)` only warns (the message says it wraps a plain
function), and its fix is to call it through `await sync_to_async(sync_fn)(…)`.

**Stays silent on** sync code and sync consumers, and functions run through
`sync_to_async` / `database_sync_to_async`.
"#,
};

impl Rule for AsyncToSyncInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(inner), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else {
                return;
            };
            if inner.kind() != "call" {
                return;
            }
            let (Some(a2s), Some(inner_args)) = (inner.child_by_field_name("function"), inner.child_by_field_name("arguments"))
            else {
                return;
            };
            if !py.resolves_to(a2s, ASYNC_TO_SYNC) {
                return;
            }
            let ctx = py.context_at(call.start_byte());
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) {
                return;
            }
            let f = py.sole_positional(inner_args);
            let f_text = f.map(|f| short(py.node_text(f), 40)).unwrap_or_else(|| "f".into());
            let resolved = f.map(|f| py.callable(f, cx.settings.django_version));
            // A plain `def` is not awaitable: `await f(…)` would be wrong advice (RULES.md
            // §AG301, "Fix not safe → none").
            let mut message = format!("`async_to_sync({f_text})(…)` raises RuntimeError on the event loop");
            if matches!(resolved, Some(Callable::SyncDef(_))) {
                message.push_str(" (it wraps a plain function)");
            }
            let mut fixes = vec![];
            // Why there is no fix is in the rule doc, not the message (issue 22).
            if !ctx.await_ok() {
                // `await` cannot go here.
            } else if let (Some(f), Some(Callable::AsyncDef(_))) = (f, resolved) {
                if !pyfix::is_awaited(call) {
                    let text = format!("await {}{}", py.node_text(f), py.node_text(args));
                    let text = if pyfix::needs_parens(call) { format!("({text})") } else { text };
                    fixes.push(Fix {
                        title: format!("Replace with `await {f_text}(…)`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(call.byte_range(), text)],
                    });
                }
            }
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        });
    }
}
