//! AG209 on-commit-called-not-passed: `transaction.on_commit(<call>)` where the call does not
//! return a callable (RULES.md §AG209).
//!
//! Invariants:
//! - `on_commit` resolves through the imports to `django.db.transaction.on_commit`.
//! - The argument (the first positional one) is reported only when it is known not to return
//!   a callable: a task dispatch ([`PyModel::task_dispatch`]: `.delay(…)`, `.apply_async(…)`,
//!   `send_task(…)`, `.enqueue(…)`), or a call of an undecorated module-level sync `def` of
//!   this file whose body returns no value (no `return <expr>`, no `yield`). Anything else
//!   (a factory, an imported function, `partial(…)`) is unknown, so silent. The `def`'s body
//!   is recorded in [`PyModel::read_bodies`] (sparse and incremental analyses depend on it).
//! - The fix (safe) is `functools.partial(f, <args>)`, or `f` when the call has no arguments;
//!   the `functools` import is added when the name is free. No fix when the arguments are a
//!   bare generator expression (`f(x for x in y)` cannot become a `partial` argument as is).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::bridges::Callable;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct OnCommitCalledNotPassed;

pub(crate) const ON_COMMIT: &[&str] = &["django.db.transaction.on_commit"];

static META: RuleMeta = RuleMeta {
    code: "AG209",
    name: "on-commit-called-not-passed",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["on_commit"]],
    summary: "`on_commit` given the result of a call instead of a callable",
    doc: r#"## AG209 on-commit-called-not-passed

**What it catches.** `transaction.on_commit(<call>)` where the call returns no callable: a
task dispatch (`task.delay(…)`, `task.apply_async(…)`, `app.send_task(…)`, Django 6
`task.enqueue(…)`), or a function of the same file that returns nothing.

**Why it is wrong.** The argument is evaluated first: the task is dispatched (or the function
runs) immediately, before COMMIT, and then `on_commit` raises
`TypeError: on_commit()'s callback must be a callable.`

**Example.**
```python
with transaction.atomic():
    order = Order.objects.create(total=10)
    transaction.on_commit(send_receipt.delay(order.pk))         # AG209
```

**Fix (safe).** Pass a callable that makes the call at commit:
```python
    transaction.on_commit(functools.partial(send_receipt.delay, order.pk))
```
`import functools` is added when missing; a call with no arguments becomes the function
itself (`on_commit(notify)`). The arguments are still evaluated at registration, as before.

**Stays silent on** a name, a `lambda`, `partial(…)` / `functools.partial(…)`, factory calls
that return a function (`on_commit(make_callback(obj))`), calls of functions whose result is
unknown (imported, or returning a value), and the keyword arguments of `on_commit`
(`using=`, `robust=`).
"#,
};

impl Rule for OnCommitCalledNotPassed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(func), Some(args)) = (caps.get("function"), caps.get("args")) else { return };
            if !py.resolves_to(func, ON_COMMIT) {
                return;
            }
            let Some(arg) = first_positional(args) else { return };
            if arg.kind() != "call" {
                return;
            }
            let Some(inner) = arg.child_by_field_name("function") else { return };
            let dispatch = py.task_dispatch(arg).is_some();
            if !dispatch && !returns_nothing(py, inner, cx) {
                return;
            }
            let inner_text = short(py.node_text(inner), 40);
            let message = if dispatch {
                format!("`{inner_text}(…)` dispatches now and passes its result to `on_commit` (TypeError)")
            } else {
                format!("`{inner_text}(…)` runs now and passes `None` to `on_commit` (TypeError)")
            };
            let fixes = partial_edits(py, arg)
                .map(|(edits, partial)| {
                    let title = match partial {
                        Some(p) => format!("Pass a callable: `{p}({inner_text}, …)`"),
                        None => format!("Pass the function itself: `{inner_text}`"),
                    };
                    vec![Fix { title, applicability: Applicability::Safe, edits }]
                })
                .unwrap_or_default();
            out.push(Finding::new(&META, arg.byte_range(), message, fixes));
        });
    }
}

/// The first positional argument of an argument list (not a keyword, `*a` or `**kw`).
fn first_positional(args: Node) -> Option<Node> {
    let mut c = args.walk();
    let first = args.named_children(&mut c).find(|a| a.kind() != "comment");
    first.filter(|a| !matches!(a.kind(), "keyword_argument" | "list_splat" | "dictionary_splat"))
}

/// The callee `inner` is an undecorated module-level sync `def` of this file whose body
/// returns no value.
fn returns_nothing(py: &PyModel, inner: Node, cx: &Ctx) -> bool {
    if inner.kind() != "identifier" || py.import_of(py.node_text(inner)).is_some() {
        return false;
    }
    let Callable::SyncDef(def) = py.callable(inner, cx.settings.django_version) else { return false };
    if py.module_def_named(py.node_text(inner)) != Some(def) || py.decorated_parent(def).is_some() {
        return false;
    }
    let Some(body) = def.child_by_field_name("body") else { return false };
    // Read: a sparse parse that blanked this body must not be trusted (the analysis falls
    // back to the full parse), and an edit of it re-analyses the call.
    py.read_bodies.borrow_mut().push(def.byte_range());
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" | "class_definition" | "lambda" | "decorated_definition" => continue,
            "yield" => return false,
            "return_statement" if n.named_child_count() > 0 => {
                // `return None` returns nothing either.
                if n.named_child(0).is_none_or(|v| v.kind() != "none") {
                    return false;
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    true
}

/// Edits replacing the call `arg` by `functools.partial(f, <args>)` (or `f`), with the import;
/// and the `partial` name used (`None`: the function itself).
fn partial_edits(py: &PyModel, arg: Node) -> Option<(Vec<Edit>, Option<String>)> {
    let func = arg.child_by_field_name("function")?;
    let args = arg.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list")?;
    let mut c = args.walk();
    if args.named_children(&mut c).any(|a| a.kind() == "comment") {
        return None;
    }
    let f = py.node_text(func);
    let inner = py.node_text(args);
    let inner = inner[1..inner.len() - 1].trim().trim_end_matches(',').trim_end();
    let mut edits = vec![];
    let mut used = None;
    let text = if inner.is_empty() {
        f.to_string()
    } else {
        let partial = match py.imports.iter().find(|(_, p)| p.as_str() == "functools" || p.as_str() == "functools.partial") {
            Some((l, p)) if p == "functools" => format!("{l}.partial"),
            Some((l, _)) => l.clone(),
            None if !py.imports.contains_key("functools") && py.binding("functools", arg.start_byte()).is_none() => {
                edits.extend(crate::fix::imports::ensure_module_import(py, "functools"));
                "functools.partial".into()
            }
            None => return None,
        };
        let text = format!("{partial}({f}, {inner})");
        used = Some(partial);
        text
    };
    edits.push(Edit::replace(arg.byte_range(), text));
    Some((edits, used))
}
