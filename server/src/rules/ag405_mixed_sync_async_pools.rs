//! AG405 mixed-sync-async-pools: dorm sync and async calls on the same database alias inside
//! one async function (RULES.md §AG405).
//!
//! A call counts when its receiver resolves to a dorm manager, queryset, related manager or
//! model instance ([`crate::semantic::PyModel::value`], file dialect dorm): sync when it is a
//! method with an `a*` twin and is not awaited, async when it is an awaited `a*` twin. The
//! alias is the literal text of `.using(…)` in the receiver chain (or `using=` on an instance
//! method), `default` without one; two different texts are two aliases. One finding per
//! (function, alias), at its first sync call, with the first async call as related location.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::dorm;
use crate::fix::python::is_awaited;
use crate::semantic::instances::{Dialect, Value};
use crate::semantic::outside::Loc;
use crate::semantic::{Context, PyModel};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct MixedSyncAsyncPools;

static META: RuleMeta = RuleMeta {
    code: "AG405",
    name: "mixed-sync-async-pools",
    lang: Lang::Python,
    severity: Severity::Info,
    fix: FixAvailability::None,
    triggers: &[&["async"], &["dorm"]],
    summary: "dorm sync and async calls on the same database alias inside one async function",
    doc: r#"## AG405 mixed-sync-async-pools

**What it catches.** An async function that makes both sync dorm calls (`count()`, `get()`,
`save()` …) and awaited async ones (`acount()`, `acreate()`, `asave()` …) on the same
database alias (`.using("x")`, or the default one).

**Why it matters.** dorm keeps separate sync and async connections and pools per alias. The
two halves of such a function run on different connections: they do not see each other's
uncommitted work, a transaction opened on one does not cover the other, and the function
holds two connections at once. dorm's docs advise against mixing the styles on one alias
within a request. (The sync calls also block the loop: AG101.)

**Example.**
```python
async def report():
    n = Book.objects.count()                 # AG405 (and AG101)
    await Book.objects.acreate(title="x")
```

**Fix.** None automatic: convert the function to one style (here `await
Book.objects.acount()`).

**Stays silent on** functions that use one style only, calls on different aliases, sync
calls in offloaded code, and code that is not dorm's.
"#,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pool {
    Sync,
    Async,
}

impl Rule for MixedSyncAsyncPools {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        if py.dialect() != Dialect::Dorm {
            return;
        }
        // (function scope, alias, pool, call, receiver.method text)
        let mut calls: Vec<(usize, String, Pool, Node, String)> = vec![];
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver"))
            else {
                return;
            };
            let Context::Async { func, .. } = py.context_at(call.start_byte()) else { return };
            if py.in_offload_args(call.start_byte()) {
                return;
            }
            let m = py.node_text(method);
            let value = py.value(receiver);
            let instance = value == Value::Instance;
            if !(value.is_orm() || instance) {
                return;
            }
            let awaited = is_awaited(call);
            let pool = if awaited && is_async_twin(m, instance) {
                Pool::Async
            } else if !awaited && is_sync_with_twin(m, instance) {
                Pool::Sync
            } else {
                return;
            };
            let alias = if instance { kw_using(py, call) } else { chain_using(py, receiver) };
            let Some(alias) = alias else { return };
            let what = format!("{}.{m}()", short(py.node_text(receiver), 32));
            calls.push((func, alias, pool, call, what));
        });
        let mut done: Vec<(usize, String)> = vec![];
        for (func, alias, pool, call, what) in &calls {
            if *pool != Pool::Sync || done.contains(&(*func, alias.clone())) {
                continue;
            }
            let Some((_, _, _, acall, awhat)) =
                calls.iter().find(|(f, a, p, ..)| f == func && a == alias && *p == Pool::Async)
            else {
                continue;
            };
            done.push((*func, alias.clone()));
            let shown = short(alias, 24);
            let message = format!("`{what}` uses dorm's sync pool of `{shown}` beside async calls on that alias");
            let related = vec![Loc { path: Default::default(), range: acall.byte_range(), what: format!("await {awhat}") }];
            out.push(Finding { related, ..Finding::new(&META, call.byte_range(), message, vec![]) });
        }
    }
}

fn is_sync_with_twin(m: &str, instance: bool) -> bool {
    if instance {
        dorm::INSTANCE_METHODS.contains(&m)
    } else {
        // `iterator()` and `get_queryset()` are lazy: no query at the call.
        dorm::async_name(m).is_some() && !matches!(m, "save" | "refresh_from_db" | "iterator" | "get_queryset")
    }
}

fn is_async_twin(m: &str, instance: bool) -> bool {
    let Some(sync) = m.strip_prefix('a') else { return false };
    dorm::async_name(sync).is_some_and(|(_, a)| a == m) && is_sync_with_twin(sync, instance)
}

/// The alias of a receiver chain: the text of the argument of its `.using(…)`, `default`
/// without one; `None` when `.using()` has no plain single argument.
fn chain_using(py: &PyModel, receiver: Node) -> Option<String> {
    let mut n = receiver;
    for _ in 0..64 {
        if n.kind() != "call" {
            break;
        }
        let func = n.child_by_field_name("function")?;
        if func.kind() != "attribute" {
            break;
        }
        if func.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "using") {
            let args = n.child_by_field_name("arguments")?;
            let mut c = args.walk();
            let list: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "comment").collect();
            return match list.as_slice() {
                [one] if one.kind() != "keyword_argument" => Some(alias_text(py, *one)),
                _ => None,
            };
        }
        n = func.child_by_field_name("object")?;
    }
    Some("default".into())
}

/// The alias of an instance method call: its `using=` argument, `default` without one.
fn kw_using(py: &PyModel, call: Node) -> Option<String> {
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    let kw = args.named_children(&mut c).find(|a| {
        a.kind() == "keyword_argument" && a.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "using")
    });
    match kw {
        Some(k) => Some(alias_text(py, k.child_by_field_name("value")?)),
        None => Some("default".into()),
    }
}

/// A string literal's content (`"replica"` → `replica`), else the expression's text.
fn alias_text(py: &PyModel, n: Node) -> String {
    let t = py.node_text(n);
    if n.kind() == "string" {
        t.trim_matches(|c| c == '"' || c == '\'').to_string()
    } else {
        t.to_string()
    }
}
