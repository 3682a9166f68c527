//! AG302 sync-to-async-on-coroutine: `sync_to_async(g)` where `g` is an `async def` of this
//! file, or `@sync_to_async` on an `async def` (RULES.md §AG302, §3.5).
//!
//! Silent unless the callable resolves (precision first). The fix drops the wrapper (safe):
//! `sync_to_async(g)(…)` → `g(…)` (both return an awaitable), and deletes the decorator line.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::bridges::{Callable, Kind, SYNC_TO_ASYNC};
use crate::semantic::transactions::has_async_token;
use crate::syntax::{Lang, QueryId};

pub struct SyncToAsyncOnCoroutine;

static META: RuleMeta = RuleMeta {
    code: "AG302",
    name: "sync-to-async-on-coroutine",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Always,
    // `async` for an `async def`; the bridge's name for `@sync_to_async` stacked on another
    // `@sync_to_async` (a file may hold no `async` word then).
    triggers: &[&["async", "sync_to_async", "database_sync_to_async"]],
    summary: "`sync_to_async` applied to a coroutine function",
    doc: r#"## AG302 sync-to-async-on-coroutine

**What it catches.** `sync_to_async(g)` or `database_sync_to_async(g)` where `g` is an
`async def` of this file; `@sync_to_async` on an `async def`. Decorator stacks are read
bottom-up, as Python applies them: `@async_to_sync` makes a sync callable, `@sync_to_async`
an async one, Django's view decorators that support async views (`@login_required` from 5.1,
`@require_POST`, `@csrf_exempt`, `@never_cache` … from 5.0) keep the kind and return a sync
wrapper before those versions.

**Why it is wrong.** asgiref refuses it when the wrapper is built:
`TypeError: sync_to_async can only be applied to sync functions.`

**Example.**
```python
async def fetch_rates():
    return {}

async def view(request):
    rates = await sync_to_async(fetch_rates)()     # AG302
```

**Fix (safe).** Await the coroutine function directly: `rates = await fetch_rates()`; remove
the decorator (what it wrapped is already a coroutine function, so the name keeps its kind).

**Stays silent on** `sync_to_async` of sync functions, bound methods, lambdas and partials,
and on callables that cannot be resolved in this file; `@sync_to_async` above a decorator
that makes the function sync (`@async_to_sync`, a Django view decorator before its async
support) or that is not known (a project's own decorator: its result's kind is unknown).
"#,
};

impl Rule for SyncToAsyncOnCoroutine {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else {
                return;
            };
            if !py.resolves_to(func, SYNC_TO_ASYNC) {
                return;
            }
            let Some(g) = py.sole_positional(args) else { return };
            if !matches!(py.callable(g, cx.settings.django_version), Callable::AsyncDef(Some(_))) {
                return;
            }
            let g_text = py.node_text(g);
            out.push(Finding::new(
                &META,
                call.byte_range(),
                format!(
                    "`{}({g_text})` raises TypeError (`{g_text}` is an `async def`)",
                    py.node_text(func)
                ),
                vec![Fix {
                    title: format!("Use `{g_text}` directly"),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(call.byte_range(), g_text)],
                }],
            ));
        });
        cx.for_each_match(QueryId::PyDecoratedFunctions, |caps| {
            let (Some(dec), Some(def)) = (caps.get("decorator"), caps.get("def")) else { return };
            let Some(expr) = dec.named_child(0) else { return };
            let callee = if expr.kind() == "call" { expr.child_by_field_name("function") } else { Some(expr) };
            if !callee.is_some_and(|c| py.resolves_to(c, SYNC_TO_ASYNC)) {
                return;
            }
            // What this decorator receives: the `def` with the decorators below it applied
            // (bottom-up). Only a coroutine function is an error; unknown stays silent.
            let decorators = py.decorators_of(def);
            let Some(i) = decorators.iter().position(|d| d.id() == expr.id()) else { return };
            let base = if has_async_token(def) { Kind::Async } else { Kind::Sync };
            if py.stack_kind(&decorators[i + 1..], base, cx.settings.django_version) != Kind::Async {
                return;
            }
            let src = py.src;
            let start = src[..dec.start_byte()].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let end = src[expr.end_byte()..].find('\n').map(|i| expr.end_byte() + i + 1).unwrap_or(src.len());
            if !src[start..dec.start_byte()].trim().is_empty() || !(src[expr.end_byte()..end].trim().is_empty() || src[expr.end_byte()..end].trim().starts_with('#')) {
                return;
            }
            out.push(Finding::new(
                &META,
                dec.byte_range(),
                format!(
                    "`@{}` on {} raises TypeError when the module loads",
                    py.node_text(expr),
                    if i + 1 == decorators.len() { "an `async def`" } else { "a coroutine function" }
                ),
                vec![Fix {
                    title: "Remove the decorator".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(start..end, "")],
                }],
            ));
        });
    }
}
