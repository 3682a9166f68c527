//! AG208 task-dispatch-in-atomic: a background task dispatched inside a Django
//! `transaction.atomic` block or `@transaction.atomic` function, before COMMIT (RULES.md
//! §AG208).
//!
//! A dispatch is `<task>.delay(…)` / `<task>.apply_async(…)` (Celery imported, or the task
//! imported from a `tasks` module), `<app>.send_task(…)` (Celery imported), or Django 6
//! `<task>.enqueue(…)` (`django.tasks` imported). "Inside" stops at a `lambda`/nested `def`,
//! so `transaction.on_commit(lambda: task.delay(x))` is silent. The fix (safe) wraps the
//! dispatch in `transaction.on_commit(functools.partial(…))`; it is offered only for a
//! dispatch whose result is not used (a statement of its own).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::Version;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::transactions::AtomicApi;
use crate::semantic::{PyModel, ScopeKind};
use crate::syntax::{Lang, QueryId};

pub struct TaskDispatchInAtomic;

/// The first Celery with `Task.delay_on_commit` (`celery/contrib/django/task.py`).
const CELERY_ON_COMMIT: Version = Version(5, 4, 0);

static META: RuleMeta = RuleMeta {
    code: "AG208",
    name: "task-dispatch-in-atomic",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["atomic"], &["delay", "apply_async", "send_task", "enqueue"]],
    summary: "Task dispatched inside a transaction, before COMMIT",
    doc: r#"## AG208 task-dispatch-in-atomic

**What it catches.** Inside `with transaction.atomic():` or an `@transaction.atomic` function
(also `@method_decorator(transaction.atomic)` on a method, and every method of a class-based
view whose `dispatch` is atomic: `@method_decorator(transaction.atomic, name="dispatch")` on
the class or `@method_decorator(transaction.atomic)` on its `dispatch`):
Celery `task.delay(…)`, `task.apply_async(…)`, `app.send_task(…)`, and Django 6
`task.enqueue(…)`.

**Why it is wrong.** The message reaches the broker before the transaction commits. A worker
can run the task first and not find the rows (`DoesNotExist`), or act on rows that are then
rolled back.

**Example.**
```python
with transaction.atomic():
    order = Order.objects.create(total=10)
    send_receipt.delay(order.pk)                     # AG208
```

**Fix (safe).** Dispatch on commit:
```python
with transaction.atomic():
    order = Order.objects.create(total=10)
    transaction.on_commit(functools.partial(send_receipt.delay, order.pk))
```
`import functools` is added when missing. With Celery ≥ 5.4 `send_receipt.delay_on_commit(order.pk)`
does the same. No fix when the result (`AsyncResult`) is used: `on_commit` returns nothing.

**Stays silent on** dispatch through `transaction.on_commit(…)` (a `lambda` or `partial`
there runs at commit), `delay_on_commit`, dispatch outside any atomic block, and a view's
`setup` / `__init__` (they run before an atomic `dispatch`). Also silent in tests (methods of a
`…TestCase`, `test…` functions of pytest / unittest files): `TestCase` never commits, and a
test of "not before commit" dispatches there on purpose.
"#,
};

impl Rule for TaskDispatchInAtomic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let regions = py.atomic_regions();
        if !regions.iter().any(|r| r.api == AtomicApi::Django) {
            return;
        }
        let celery = py.imports.values().any(|p| p == "celery" || p.starts_with("celery."));
        let django_tasks = py.imports.values().any(|p| p.starts_with("django.tasks"));
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver), Some(args)) =
                (caps.get("call"), caps.get("method"), caps.get("receiver"), caps.get("args"))
            else {
                return;
            };
            let m = py.node_text(method);
            // The task is a name imported (from a `tasks` module, or in a Celery file) or a
            // module-level function of a Celery file; never a parameter or a local.
            let root = py.node_text(receiver).split('.').next().unwrap_or("").trim();
            let is_task = || match py.import_of(root) {
                Some(p) => celery || p.split('.').any(|c| c == "tasks"),
                None => {
                    celery
                        && py.scopes.iter().any(|s| {
                            s.kind == ScopeKind::Function && s.parent == Some(0) && s.name.as_deref() == Some(root)
                        })
                }
            };
            let is_dispatch = match m {
                "delay" | "apply_async" => is_task(),
                "send_task" => celery && (py.import_of(root).is_some() || root.ends_with("app")),
                "enqueue" => django_tasks,
                _ => false,
            };
            if !is_dispatch || transaction_aware_here(py, root) {
                return;
            }
            let Some(region) = py.atomic_at(&regions, call.start_byte()).filter(|r| r.api == AtomicApi::Django) else {
                return;
            };
            let func = py.node_text(call.child_by_field_name("function").unwrap_or(call));
            let func_short = short(func, 40);
            let mut message = format!(
                "`{func_short}(…)` inside `{}` dispatches the task before COMMIT: a worker can run it first and miss \
                 the rows, or act on rows that are rolled back. Dispatch on commit: \
                 `transaction.on_commit(functools.partial({func_short}, …))`",
                region.callee
            );
            let on_commit_api = m == "delay" && cx.settings.celery_version.is_some_and(|v| v >= CELERY_ON_COMMIT);
            if m == "delay" {
                message.push_str(" (Celery ≥ 5.4: `delay_on_commit(…)`)");
            }
            let statement = call.parent().is_some_and(|p| p.kind() == "expression_statement");
            let mut fixes = vec![];
            if statement && on_commit_api {
                fixes.push(Fix {
                    title: format!("Use `{}.delay_on_commit(…)` (Celery ≥ 5.4)", short(py.node_text(receiver), 30)),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(method.byte_range(), "delay_on_commit")],
                });
            }
            if !statement {
                message.push_str(" (no automatic fix: the dispatch's result is used)");
            } else if let Some(edits) = on_commit_edits(py, &region.callee, call.byte_range(), func, args) {
                fixes.push(Fix {
                    title: "Dispatch on commit with `transaction.on_commit(functools.partial(…))`".into(),
                    applicability: Applicability::Safe,
                    edits,
                });
            }
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        });
    }
}

/// True when the task is a function of this file whose task decorator names a
/// transaction-aware base class (`@app.task(base=TransactionAwareTask)`, pretix's pattern):
/// such a task already dispatches on commit.
fn transaction_aware_here(py: &PyModel, task: &str) -> bool {
    let root = py.tree.root_node();
    let mut c = root.walk();
    let found = root.named_children(&mut c).filter(|n| n.kind() == "decorated_definition").any(|d| {
        let named = d.child_by_field_name("definition").and_then(|f| f.child_by_field_name("name")).is_some_and(|n| py.node_text(n) == task);
        let mut c2 = d.walk();
        let aware = d
            .named_children(&mut c2)
            .filter(|n| n.kind() == "decorator")
            .any(|dec| py.node_text(dec).contains("TransactionAware") || py.node_text(dec).contains("OnCommit"));
        named && aware
    });
    found
}

fn on_commit_edits(
    py: &PyModel,
    atomic_callee: &str,
    call: std::ops::Range<usize>,
    func: &str,
    args: tree_sitter::Node,
) -> Option<Vec<Edit>> {
    let mut edits = vec![];
    // `transaction.on_commit` spelled like the atomic in use.
    let on_commit = if let Some(prefix) = atomic_callee.strip_suffix(".atomic") {
        format!("{prefix}.on_commit")
    } else if let Some((l, _)) = py.imports.iter().find(|(_, p)| p.as_str() == "django.db.transaction.on_commit") {
        l.clone()
    } else if let Some((l, _)) = py.imports.iter().find(|(_, p)| p.as_str() == "django.db.transaction") {
        format!("{l}.on_commit")
    } else if !py.imports.contains_key("transaction") {
        edits.extend(pyfix::ensure_import(py, "django.db", "transaction"));
        "transaction.on_commit".into()
    } else {
        return None;
    };
    let inner = py.node_text(args);
    let inner = inner[1..inner.len() - 1].trim();
    let text = if inner.is_empty() {
        format!("{on_commit}({func})")
    } else {
        let partial = match py.imports.iter().find(|(_, p)| p.as_str() == "functools" || p.as_str() == "functools.partial") {
            Some((l, p)) if p == "functools" => format!("{l}.partial"),
            Some((l, _)) => l.clone(),
            None if !py.imports.contains_key("functools") => {
                if let Some(e) = crate::fix::imports::ensure_module_import(py, "functools") {
                    edits.insert(0, e);
                }
                "functools.partial".into()
            }
            None => return None,
        };
        format!("{on_commit}({partial}({func}, {inner}))")
    };
    edits.push(Edit::replace(call, text));
    Some(edits)
}
