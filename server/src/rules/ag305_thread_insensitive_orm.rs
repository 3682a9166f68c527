//! AG305 thread-insensitive-orm: a function that does Django database work handed to a thread
//! that is not Django's thread-sensitive one (RULES.md §AG305): `sync_to_async(f,
//! thread_sensitive=False)`, `sync_to_async(f, executor=…)`, `asyncio.to_thread(f, …)`,
//! `<loop>.run_in_executor(<executor>, f, …)`, and `@sync_to_async(thread_sensitive=False)` on
//! a `def`.
//!
//! The callable (`f`, or the `f` of `functools.partial(f, …)`) is resolved by
//! [`PyModel::callee_facts`]: a `def` of this file or a project function imported by name or
//! through its module; its `db_work` (the one transitive walk of the project model) decides.
//! Lambdas, methods, library callables and anything unresolved are unknown: silent, as are
//! callees with no database work (CPU-only work belongs on any thread).
//!
//! Invariant: the fix only ever deletes the offending keyword arguments of a
//! `sync_to_async(…)` call (unsafe: the work is serialised onto the thread-sensitive thread);
//! `to_thread` / `run_in_executor` get no fix.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::outside::FnFacts;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct ThreadInsensitiveOrm;

static META: RuleMeta = RuleMeta {
    code: "AG305",
    name: "thread-insensitive-orm",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["thread_sensitive", "executor", "to_thread", "run_in_executor"]],
    summary: "Django database work run on an arbitrary thread",
    doc: r#"## AG305 thread-insensitive-orm

**What it catches.** A sync function of your project that runs Django queries (directly or
through the project functions it calls) handed to a thread other than Django's
thread-sensitive one: `sync_to_async(f, thread_sensitive=False)`, `sync_to_async(f,
executor=…)`, `@sync_to_async(thread_sensitive=False)` on a `def`, `asyncio.to_thread(f, …)`,
`loop.run_in_executor(executor, f, …)` (also through `functools.partial(f, …)`).

**Why it is wrong.** Django connections are per thread. Each pool thread opens its own
connection, and nothing closes it at the end of the request (`request_finished` runs
`close_old_connections` only on the request's thread): connections leak or go stale, and
the work is not in the request's transaction. The default `sync_to_async(f)`
(`thread_sensitive=True`) runs all of a request's sync work on one thread.

**Example.**
```python
def list_books():
    return list(Book.objects.all())

async def view(request):
    books = await sync_to_async(list_books, thread_sensitive=False)()  # AG305
    books = await asyncio.to_thread(list_books)                        # AG305
    books = await sync_to_async(list_books)()                          # fixed
```

**Fix** (unsafe: the work is serialised onto the thread-sensitive thread): delete
`thread_sensitive=False` / `executor=…` from the `sync_to_async(…)` call. For `to_thread` and
`run_in_executor` no fix: use `await sync_to_async(f)(…)`, or Channels'
`database_sync_to_async` (it closes stale connections around the call).

**Stays silent on** functions with no database work (CPU-bound work belongs on any thread),
`database_sync_to_async`, the default `sync_to_async(f)`, lambdas, methods, library
callables and callables it cannot resolve; `loop.run_in_executor(pool, f)` inside `with
ThreadPoolExecutor() as pool:` (the pool's threads, and their connections, end with the block).

**Suppress** with `# awaitguard: ignore[AG305]` or `# noqa: AG305` on the line.
"#,
};

const SYNC_TO_ASYNC: &[&str] = &["asgiref.sync.sync_to_async"];

impl Rule for ThreadInsensitiveOrm {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else { return };
            let positional = positional(args);
            let (target, how, bad_kwargs) = if py.resolves_to(func, SYNC_TO_ASYNC) {
                let bad = bad_kwargs(py, args);
                if bad.is_empty() {
                    return;
                }
                match positional.first() {
                    Some(&t) => (t, "sync_to_async", bad),
                    // `@sync_to_async(thread_sensitive=False)` above a `def`.
                    None => {
                        if let Some(f) = decorated_def(py, call) {
                            // `@sync_to_async(thread_sensitive=False)` → `@sync_to_async` when
                            // nothing else is passed.
                            let fix = if positional.is_empty() && bad.len() == kwargs(args) {
                                Some(Fix {
                                    title: FIX_TITLE.to_string(),
                                    applicability: Applicability::Unsafe,
                                    edits: vec![Edit::replace(call.byte_range(), py.node_text(func).to_string())],
                                })
                            } else {
                                fix_for(py, args, &bad)
                            };
                            report(py, out, call, &f, "sync_to_async", fix);
                        }
                        return;
                    }
                }
            } else if py.resolves_to(func, &["asyncio.to_thread"]) {
                let Some(&t) = positional.first() else { return };
                (t, "asyncio.to_thread", vec![])
            } else if func.kind() == "attribute"
                && func.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "run_in_executor")
            {
                let Some(&t) = positional.get(1) else { return };
                if positional.first().is_some_and(|&pool| pool_scoped_to_with(py, call, pool)) {
                    return;
                }
                (t, "run_in_executor", vec![])
            } else {
                return;
            };
            let target = unwrap_partial(py, target);
            if !matches!(target.kind(), "identifier" | "attribute") {
                return;
            }
            let Some(facts) = py.callee_facts(target) else { return };
            let fix = if bad_kwargs.is_empty() { None } else { fix_for(py, args, &bad_kwargs) };
            report(py, out, call, &facts, how, fix);
        });
    }
}

/// `with ThreadPoolExecutor() as pool:` around `loop.run_in_executor(pool, f)`: the pool is
/// shut down when the block ends, its threads end, and the connections they opened go with
/// them (a connection per call, but no leaked or stale one — koku's Kafka listener).
fn pool_scoped_to_with(py: &PyModel, call: Node, pool: Node) -> bool {
    if pool.kind() != "identifier" {
        return false;
    }
    let name = py.node_text(pool);
    let mut cur = call.parent();
    while let Some(n) = cur {
        match n.kind() {
            "function_definition" | "lambda" | "class_definition" => return false,
            "with_statement" => {
                let mut c = n.walk();
                let clauses: Vec<Node> = n.named_children(&mut c).filter(|x| x.kind() == "with_clause").collect();
                for clause in clauses {
                    let mut c2 = clause.walk();
                    for item in clause.named_children(&mut c2).filter(|x| x.kind() == "with_item") {
                        let Some(v) = item.child_by_field_name("value").filter(|v| v.kind() == "as_pattern") else { continue };
                        let (Some(ctor), Some(alias)) = (v.named_child(0), v.child_by_field_name("alias")) else { continue };
                        if py.node_text(alias) != name || ctor.kind() != "call" {
                            continue;
                        }
                        return ctor.child_by_field_name("function").is_some_and(|f| {
                            py.resolves_to(f, &["concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor"])
                        });
                    }
                }
            }
            _ => {}
        }
        cur = n.parent();
    }
    false
}

fn report(py: &PyModel, out: &mut Vec<Finding>, call: Node, facts: &FnFacts, how: &str, fix: Option<Fix>) {
    if facts.is_async || facts.db_work.is_empty() {
        return;
    }
    let Some(db) = facts.db_work.last() else { return };
    let _ = py;
    // The finding's range shows which offloader it is.
    let _ = how;
    let message =
        format!("`{}()` runs `{}` off Django's thread-sensitive thread", short(&facts.name, 30), short(&db.what, 36));
    let mut f = Finding::new(&META, call.byte_range(), message, fix.into_iter().collect());
    f.related = facts.db_work.clone();
    out.push(f);
}

const FIX_TITLE: &str = "Remove the argument that runs it off the thread-sensitive thread";

fn kwargs(args: Node) -> usize {
    let mut c = args.walk();
    let n = args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument").count();
    n
}

fn positional(args: Node) -> Vec<Node> {
    let mut c = args.walk();
    args.named_children(&mut c).filter(|a| !matches!(a.kind(), "keyword_argument" | "comment")).collect()
}

/// The keyword arguments of a `sync_to_async(…)` call that move the work off the
/// thread-sensitive thread: `thread_sensitive=False`, `executor=<not None>`.
fn bad_kwargs<'t>(py: &PyModel<'t>, args: Node<'t>) -> Vec<Node<'t>> {
    let mut c = args.walk();
    args.named_children(&mut c)
        .filter(|a| a.kind() == "keyword_argument")
        .filter(|a| {
            let name = a.child_by_field_name("name").map(|n| py.node_text(n));
            let value = a.child_by_field_name("value").map(|v| py.node_text(v));
            matches!((name, value), (Some("thread_sensitive"), Some("False")))
                || (name == Some("executor") && value != Some("None"))
        })
        .collect()
}

/// Deletes `bad` from the argument list (with the comma before it, or after it when it is
/// first). `None` when the list holds a comment (the deletion could swallow it).
fn fix_for(py: &PyModel, args: Node, bad: &[Node]) -> Option<Fix> {
    let mut c = args.walk();
    let kids: Vec<Node> = args.named_children(&mut c).collect();
    if kids.iter().any(|k| k.kind() == "comment") {
        return None;
    }
    let mut edits = vec![];
    let keep: Vec<Node> = kids.iter().copied().filter(|k| !bad.iter().any(|b| b.id() == k.id())).collect();
    // Rebuild the list's inside from the kept arguments: simple and exact on one line.
    if py.node_text(args).contains('\n') {
        return None;
    }
    let inner: Vec<&str> = keep.iter().map(|k| py.node_text(*k)).collect();
    edits.push(Edit::replace(args.start_byte() + 1..args.end_byte() - 1, inner.join(", ")));
    Some(Fix {
        title: FIX_TITLE.to_string(),
        applicability: Applicability::Unsafe,
        edits,
    })
}

/// `functools.partial(f, …)` / `partial(f, …)` → `f`.
fn unwrap_partial<'t>(py: &PyModel<'t>, mut n: Node<'t>) -> Node<'t> {
    while n.kind() == "call"
        && n.child_by_field_name("function")
            .is_some_and(|f| py.resolves_to(f, &["functools.partial"]))
    {
        match n.child_by_field_name("arguments").and_then(|a| positional(a).first().copied()) {
            Some(t) => n = t,
            None => break,
        }
    }
    n
}

/// The facts of the `def` that `call` (a `sync_to_async(…)` decorator) decorates.
fn decorated_def(py: &PyModel, call: Node) -> Option<FnFacts> {
    let dec = call.parent().filter(|p| p.kind() == "decorator")?;
    let def = dec.parent().filter(|p| p.kind() == "decorated_definition")?.child_by_field_name("definition")?;
    if def.kind() != "function_definition" {
        return None;
    }
    let mut f = py.local_fn_memo(def)?;
    // Its own decorator is what offloads it: the walk skips offloaded bodies, so look inside.
    f.offloaded = false;
    let db_work = py.local_db_work(&f);
    Some(FnFacts { name: f.name, is_async: f.is_async, db_work, ..Default::default() })
}
