//! AG301 async-to-sync-in-loop: `async_to_sync(f)(…)` in async context (RULES.md §AG301,
//! §3.5).
//!
//! `async_to_sync` resolves through the imports (`asgiref.sync.async_to_sync`). The fix
//! `await f(…)` (safe, Q1/Q3) is offered only when `f` resolves to a coroutine function: an
//! `async def` of this file (`self.method` included) or a channel-layer method.
//!
//! Module-level sync helpers are followed (issue 16): async code that calls, without
//! offloading, a sync function of this file or of another project module whose body reaches
//! `async_to_sync(f)(…)` (directly or through the functions it calls) is reported at the
//! call, with the chain of call sites as `related` locations. The walk is the one AG108 uses
//! for database work ([`crate::semantic::summary::work`], [`Work::AsyncToSync`]), asked only
//! here, so other rules do not pay for it. No fix: offloading the helper is the caller's
//! choice.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::bridges::{Callable, ASYNC_TO_SYNC};
use crate::semantic::summary::Work;
use crate::semantic::python::in_stored_lambda;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

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

**Also caught (project model).** Async code calling a module-level sync helper — of this file
or of another project module — whose body calls `async_to_sync(…)(…)`, directly or through
the helpers it calls; reported at the call, the `async_to_sync` inside as related
information. No fix: run the helper with `await sync_to_async(helper)(…)`.

**Stays silent on** sync code and sync consumers, and functions run through
`sync_to_async` / `database_sync_to_async`; calls in a `lambda` stored in an attribute or
handed over as a keyword argument (`mock.side_effect = lambda d: merge(d)`): it runs where it
is called, which this code does not show.
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
                if let Some(f) = helper_call(py, cx, call, inner) {
                    out.push(f);
                }
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
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) || in_stored_lambda(call) {
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

/// A call, in async code and not offloaded, of a sync project helper that reaches
/// `async_to_sync(f)(…)`.
fn helper_call<'t>(py: &PyModel<'t>, cx: &Ctx, call: Node<'t>, func: Node<'t>) -> Option<Finding> {
    if !matches!(func.kind(), "identifier" | "attribute") {
        return None;
    }
    let ctx = py.context_at(call.start_byte());
    if !ctx.is_async() || py.in_offload_args(call.start_byte()) || pyfix::is_awaited(call) || in_stored_lambda(call) {
        return None;
    }
    if func.kind() == "identifier" && bound_in_enclosing_function(py, func) {
        return None;
    }
    let mut facts = py.callee_work(func, Work::AsyncToSync)?;
    if func.kind() == "identifier" && py.import_of(py.node_text(func)).is_none() {
        if let Callable::SyncDef(def) = py.callable(func, cx.settings.django_version) {
            // A sync `def` nested in an async one runs on the loop: the `async_to_sync` inside
            // it is reported where it is.
            if py.context_at(def.start_byte()).is_async() {
                return None;
            }
            // Only the helper's own decorator offloads a direct call of it.
            facts.offloaded = py.local_fn_memo(def).is_some_and(|f| f.offloaded);
        }
    }
    if facts.is_async || facts.offloaded || facts.a2s_work.is_empty() {
        return None;
    }
    let name = short(py.node_text(func), 40);
    let inner = facts.a2s_work.last()?;
    // The chain through intermediate helpers is in the related locations; the doc explains
    // the RuntimeError and the advice (`await sync_to_async(helper)(…)`).
    let message = format!("`{name}()` calls `{}` on the event loop", short(&inner.what, 48));
    let mut f = Finding::new(&META, call.byte_range(), message, vec![]);
    f.related = facts.a2s_work.clone();
    Some(f)
}

/// The name `func` is bound (a parameter, a local, a nested `def`) in the function the call
/// is in: not the module-level helper of the same name.
fn bound_in_enclosing_function(py: &PyModel, func: Node) -> bool {
    let Some(b) = py.binding(py.node_text(func), func.start_byte()) else { return false };
    let mut n = func.parent();
    while let Some(p) = n {
        if p.kind() == "function_definition" {
            if p.byte_range().contains(&b.pos) {
                return true;
            }
            // Parameters are bound at position 0: a parameter of this name?
            let Some(params) = p.child_by_field_name("parameters") else { return false };
            let mut c = params.walk();
            let name = py.node_text(func);
            return b.pos == 0
                && params.named_children(&mut c).any(|a| {
                    let id = if a.kind() == "identifier" { Some(a) } else { a.child_by_field_name("name").or_else(|| a.named_child(0)) };
                    id.is_some_and(|i| i.kind() == "identifier" && py.node_text(i) == name)
                });
        }
        n = p.parent();
    }
    false
}
