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
//!
//! A call in the block of a sync helper that dispatches (a `def` of this file or a project
//! function of another module, followed through the helpers it calls with the walk the
//! project model uses for database work, [`crate::semantic::summary::dispatch_work`]) is
//! reported at the call, with the chain to the dispatch as related locations. A helper of
//! this file that is itself atomic is not reported at its calls (its dispatch is, inside it).
//! Only short chains: the helper dispatches itself or through one more helper (deeper chains
//! run through conditions the walk does not see); one report per atomic block and dispatch
//! site (the first call that reaches it).
//! The dispatch test is [`PyModel::task_dispatch`], shared with the summaries.
//!
//! The request transaction: under `ATOMIC_REQUESTS` (any alias of
//! [`Settings::atomic_requests`](crate::settings::Settings)), the sync views of this file
//! ([`request_views`]: only shapes known to be views) are regions like an `@atomic` function,
//! their callee [`REQUEST`]; an atomic block inside a view is smaller, so it is the region
//! named there. A helper called in a view that is itself atomic (a decorator of its facts) is
//! not reported at the call. Invariant: no view, no request region — unknown stays silent; the
//! view words join the rule's triggers only when the settings set `ATOMIC_REQUESTS`
//! ([`REQUEST_VIEW_TRIGGERS`] through `Rule::request_triggers`, [`crate::analysis::triggers`]).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::Version;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::transactions::AtomicApi;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct TaskDispatchInAtomic;

/// The first Celery with `Task.delay_on_commit` (`celery/contrib/django/task.py`).
const CELERY_ON_COMMIT: Version = Version(5, 4, 0);

static META: RuleMeta = RuleMeta {
    code: "AG208",
    name: "task-dispatch-in-atomic",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    // Needs only `atomic` (a helper called in the block may dispatch in another file); the
    // second group holds whenever the first does and keeps the dispatch names hot, so the
    // sparse parse keeps the statements that dispatch.
    triggers: &[&["atomic"], &["atomic", "delay", "apply_async", "send_task", "enqueue"]],
    summary: "Task dispatched inside a transaction, before COMMIT",
    doc: r#"## AG208 task-dispatch-in-atomic

**What it catches.** Inside `with transaction.atomic():` or an `@transaction.atomic` function
(also `@method_decorator(transaction.atomic)` on a method, and every method of a class-based
view whose `dispatch` is atomic: `@method_decorator(transaction.atomic, name="dispatch")` on
the class or `@method_decorator(transaction.atomic)` on its `dispatch`):
Celery `task.delay(…)`, `task.apply_async(…)`, `app.send_task(…)`, and Django 6
`task.enqueue(…)`. Also a call, inside the block, of a sync helper that dispatches: a `def`
of the same file or a function of another project module, directly or through the helpers it
calls, up to one helper deep (reported at the first such call in the block; the dispatch is
the related location; no automatic fix).

**The request transaction.** When the project's settings set `ATOMIC_REQUESTS` on a database
alias, Django runs every sync view inside `atomic` (until the response is returned), so the
same dispatches are reported in the body of a sync view and in the helpers it calls. Views are
only what is known to be one: a django-ninja operation (`@router.post(…)` on a `NinjaAPI` /
`Router`), a ninja-extra `@api_controller` method under `@route.post(…)` / `@http_post(…)`,
DRF's `@api_view` functions, the HTTP handlers of a Django class-based view or a DRF
`APIView` (`get`, `post`, …, `form_valid`), DRF view set actions (`list`, `create`, …,
`perform_create`, `@action` methods), and a `ModelAdmin`'s actions (`@admin.action` or named in
`actions = [...]`) and the views its `get_urls` adds (`path(…, self.admin_site.admin_view(self.send))`).

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
`setup` / `__init__` (they run before an atomic `dispatch`), and tasks whose decorator's
`base=` class defers dispatch to commit (its `apply_async`/`delay` calls `on_commit`, or it is
named `…TransactionAware…`/`…OnCommit…`), in this file or imported from another; and blocks
on a read replica (`atomic(using=<an alias naming a replica>)`: the block pins one replica
connection for consistent reads and commits nothing the task could miss); `apply_async(…, countdown=N)` with a literal `N` ≥ 60
(seconds), or `N` a parameter of the enclosing function whose default is such a literal
(`def sync_batch(offset=0, countdown=300)`, a self-rescheduling batch): the worker starts the task a minute after the dispatch, when a transaction is not
still open in practice (past common request timeouts), so it cannot miss the rows — only a
rollback would leave the task scheduled (`eta=` and computed countdowns are still reported);
and tasks of a dispatcher the project defines itself: a task imported from another module
whose decorator resolves to a project class without a Celery base, or to a project function
(a decorator named `…task`, like AWX's own `@task`, whose `apply_async` is not Celery's: unknown, so silent; `shared_task`
and `app.task` stay Celery). Also silent when every path from the dispatch to the end of the atomic block raises (a later
`raise` in an enclosing block, with no `return` / `break` / `continue` / `try` / other `with`
in between): the block always rolls back, so `on_commit` would drop the task and the dispatch
is meant to run now (a sign-up that e-mails the owner of an existing address, then raises).
Also silent on a helper whose dispatch of a task is bare on one path while the helper sends
the same task through `transaction.on_commit(…)` on another (`send_verification(user,
defer=True)`): the helper chose when each path dispatches.
Under `ATOMIC_REQUESTS` also silent on: projects whose settings were not read or set no
`ATOMIC_REQUESTS` to a literal `True`; views (or a class-based view whose `dispatch`) marked
`non_atomic_requests`; async views (Django refuses them under `ATOMIC_REQUESTS`: AG206);
functions not known to be views (helpers called from unknown places, Celery tasks, signal
receivers, management commands); a view that always raises after the dispatch; a helper called
in a view that is itself atomic (its dispatch is reported inside it); a helper whose dispatch
is followed, in the helper, by a `raise` on every path.
Also silent in a Celery task's own outermost transaction that writes nothing (an
`@atomic` task under `@shared_task` / `@app.task`, or an atomic block in one with no other
around it, whose calls are only dispatches, `on_commit`, logging, builtins and read-only query
methods such as `filter`, `values`, `count`): no row the worker reads can be uncommitted.
Also silent in tests (methods of a
`…TestCase`, `test…` functions of pytest / unittest files): `TestCase` never commits, and a
test of "not before commit" dispatches there on purpose.
"#,
};

impl Rule for TaskDispatchInAtomic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn request_triggers(&self) -> &'static [&'static [&'static str]] {
        REQUEST_VIEW_TRIGGERS
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let mut regions = py.atomic_regions();
        // The request transaction: sync views of this file under `ATOMIC_REQUESTS`. An atomic
        // region inside a view is smaller, so `atomic_at` names it first.
        let views = if cx.settings.atomic_requests.is_empty() { vec![] } else { request_views(py) };
        if !regions.iter().any(|r| r.api == AtomicApi::Django) && views.is_empty() {
            return;
        }
        regions.extend(views);
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver), Some(args)) =
                (caps.get("call"), caps.get("method"), caps.get("receiver"), caps.get("args"))
            else {
                return;
            };
            let m = py.node_text(method);
            // The cheap question first: most calls are outside every atomic block.
            let Some(region) = py.atomic_at(&regions, call.start_byte()).filter(|r| r.api == AtomicApi::Django && !r.on_replica())
            else {
                return;
            };
            let Some(root) = py.task_dispatch(call) else { return };
            if py.task_defers_to_commit(&root) || delayed_dispatch(py, m, args) {
                return;
            }
            if crate::semantic::transactions::raises_before_end(py.src, call, &region.body) {
                return;
            }
            if writes_nothing(py, &regions, region) {
                return;
            }
            let func = py.node_text(call.child_by_field_name("function").unwrap_or(call));
            // A long task name keeps its head rather than becoming a bare `…`.
            let func_short = match short(func, 40) {
                s if s == "…" => clip(func, 40),
                s => s,
            };
            let message = if region.callee == REQUEST {
                format!("`{func_short}(…)` in a view dispatches the task before the request's `{REQUEST}` COMMIT")
            } else {
                format!("`{func_short}(…)` inside `{}` dispatches the task before COMMIT", region.callee)
            };
            let on_commit_api = m == "delay" && cx.settings.celery_version.is_some_and(|v| v >= CELERY_ON_COMMIT);
            let statement = call.parent().is_some_and(|p| p.kind() == "expression_statement");
            let mut fixes = vec![];
            if statement && on_commit_api {
                fixes.push(Fix {
                    title: format!("Use `{}.delay_on_commit(…)` (Celery ≥ 5.4)", short(py.node_text(receiver), 30)),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(method.byte_range(), "delay_on_commit")],
                });
            }
            // Why there is no fix is in the rule doc, not the message (issue 22).
            if !statement {
            } else if let Some(edits) = on_commit_edits(py, &region.callee, call.byte_range(), func, args) {
                fixes.push(Fix {
                    title: "Dispatch on commit with `transaction.on_commit(functools.partial(…))`".into(),
                    applicability: Applicability::Safe,
                    edits,
                });
            }
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        });
        helper_dispatches(cx, py, &regions, out);
    }
}

/// Seconds of `countdown=` from which a dispatch counts as delayed: the worker starts the task
/// that long after the dispatch, and a transaction still open a minute after it dispatched is
/// past the request timeouts of common servers (gunicorn's default worker timeout is 30 s).
const DELAYED_COUNTDOWN_SECS: f64 = 60.0;

/// `apply_async(…, countdown=N)` with a literal `N` of at least [`DELAYED_COUNTDOWN_SECS`]
/// (or a parameter of the enclosing function with such a default, not rebound):
/// the worker cannot run the task before COMMIT (a rollback would still leave it scheduled,
/// which this rule does not report on its own). `eta=` and computed countdowns are unknown.
fn delayed_dispatch(py: &PyModel, method: &str, args: tree_sitter::Node) -> bool {
    if method != "apply_async" {
        return false;
    }
    let secs = |v: tree_sitter::Node| -> Option<f64> {
        matches!(v.kind(), "integer" | "float").then(|| py.node_text(v).replace('_', "").parse::<f64>().ok()).flatten()
    };
    let mut c = args.walk();
    let found = args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument").any(|kw| {
        let name = kw.child_by_field_name("name").map(|n| py.node_text(n));
        let Some(value) = kw.child_by_field_name("value") else { return false };
        let n = match value.kind() {
            "identifier" => parameter_default(py, value).and_then(secs),
            _ => secs(value),
        };
        name == Some("countdown") && n.is_some_and(|s| s >= DELAYED_COUNTDOWN_SECS)
    });
    found
}

/// The default of the enclosing function's parameter that the name `ident` reads, when the
/// function does not rebind it (`def sync_batch(offset=0, countdown=300)`: the function's
/// own statement of the delay; a caller passing another value is not followed).
fn parameter_default<'t>(py: &PyModel<'t>, ident: tree_sitter::Node<'t>) -> Option<tree_sitter::Node<'t>> {
    let name = py.node_text(ident);
    if py.binding(name, ident.start_byte()).is_none_or(|b| b.value.is_some()) {
        return None;
    }
    let mut n = ident.parent();
    while let Some(p) = n {
        if p.kind() == "lambda" {
            return None;
        }
        if p.kind() == "function_definition" {
            break;
        }
        n = p.parent();
    }
    let params = n?.child_by_field_name("parameters")?;
    let mut c = params.walk();
    let found = params.named_children(&mut c).find_map(|p| {
        let named = matches!(p.kind(), "default_parameter" | "typed_default_parameter")
            && p.child_by_field_name("name").is_some_and(|x| py.node_text(x) == name);
        if named {
            p.child_by_field_name("value")
        } else {
            None
        }
    });
    found
}

/// The dispatch as the message names it, at most 40 characters: the call with its arguments
/// elided, its leading module qualifiers dropped when too long
/// (`tasks.send_account_activation_link.delay(…)` → `send_account_activation_link.delay(…)`).
fn dispatch_label(what: &str) -> String {
    let mut t = what.trim();
    loop {
        let s = short(t, 40);
        let head = &t[..t.find('(').unwrap_or(t.len())];
        // Keep at least `task.method(…)`: drop a qualifier only while two dots remain.
        match head.find('.') {
            Some(dot) if s == "…" && head.matches('.').count() >= 2 => t = &t[dot + 1..],
            _ => return s,
        }
    }
}

/// Query methods that read (or build a lazy queryset) and write nothing.
const READ_ONLY: &[&str] = &[
    "filter", "exclude", "all", "values", "values_list", "order_by", "count", "exists", "get", "first", "last",
    "iterator", "select_related", "prefetch_related", "only", "defer", "annotate", "aggregate", "distinct",
    "select_for_update", "none", "using", "in_bulk", "latest", "earliest",
];
/// Plain functions that touch no database.
const PURE: &[&str] = &["len", "str", "int", "float", "bool", "list", "dict", "set", "tuple", "range", "enumerate", "sorted", "min", "max", "print", "isinstance"];

/// The region is the outermost transaction of a Celery task (an atomic `def` under
/// `@shared_task` / `@app.task`, or an atomic block in one, with no other atomic region around
/// it) and every call in it is a dispatch, `on_commit`, a logging call, a builtin of [`PURE`]
/// or a [`READ_ONLY`] query method: the transaction writes nothing, so no task can run before
/// a COMMIT that changes what it reads (dandi-archive's `validate_draft_version_metadata`
/// reads pending versions and dispatches one validation per version). A project helper or any
/// other call may write: not silent.
fn writes_nothing(py: &PyModel, regions: &[crate::semantic::transactions::AtomicRegion], region: &crate::semantic::transactions::AtomicRegion) -> bool {
    if region.callee == REQUEST || regions.iter().any(|r| r.body != region.body && r.body.start <= region.body.start && region.body.end <= r.body.end) {
        return false;
    }
    let root = py.tree.root_node();
    let Some(body) = root.descendant_for_byte_range(region.body.start, region.body.end) else { return false };
    // The enclosing function: a Celery task entry point.
    let mut f = body.parent();
    while let Some(n) = f.filter(|n| n.kind() != "function_definition") {
        f = n.parent();
    }
    let Some(def) = f else { return false };
    let task = def.parent().filter(|d| d.kind() == "decorated_definition").is_some_and(|d| {
        let mut c = d.walk();
        let decs: Vec<Node> = d.named_children(&mut c).filter(|x| x.kind() == "decorator").filter_map(|x| x.named_child(0)).collect();
        decs.iter().any(|x| {
            let callee = dec_callee(*x).map(|c| py.node_text(c)).unwrap_or("");
            let last = callee.rsplit('.').next().unwrap_or("");
            last == "shared_task" || (last == "task" && callee.contains('.'))
        })
    });
    if !task {
        return false;
    }
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "call" => {
                let Some(func) = n.child_by_field_name("function") else { return false };
                let text = py.node_text(func);
                let last = text.rsplit('.').next().unwrap_or("");
                if last == "on_commit" {
                    // Its callback runs after COMMIT.
                    continue;
                }
                let known = py.task_dispatch(n).is_some()
                    || text.starts_with("logger.")
                    || text.starts_with("logging.")
                    || (func.kind() == "identifier" && PURE.contains(&text) && py.import_of(text).is_none())
                    || (func.kind() == "attribute" && READ_ONLY.contains(&last));
                if !known {
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

/// `s` cut to `n` characters, the last one `…` when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    s.chars().take(n - 1).chain(std::iter::once('…')).collect()
}

/// The `callee` of the regions [`request_views`] gives: the request transaction.
const REQUEST: &str = "ATOMIC_REQUESTS";

/// A decorator (as written) that makes its function atomic: `transaction.atomic`, `atomic`,
/// `transaction.atomic(using=…)`, `method_decorator(transaction.atomic…)`.
fn is_atomic_decorator(d: &str) -> bool {
    let callee = d.split('(').next().unwrap_or("").trim();
    callee.rsplit('.').next() == Some("atomic") || (callee.ends_with("method_decorator") && d.contains("atomic") && !d.contains("non_atomic"))
}

/// HTTP handlers of Django's class-based views and DRF's views (also `form_valid`, which
/// `post` calls in Django's editing views).
const CBV_HANDLERS: &[&str] = &["get", "post", "put", "patch", "delete", "form_valid"];
/// DRF view set actions and the `perform_*` hooks its generic views call inside them.
const DRF_ACTIONS: &[&str] = &[
    "list",
    "create",
    "retrieve",
    "update",
    "partial_update",
    "destroy",
    "perform_create",
    "perform_update",
    "perform_destroy",
];
/// django-ninja operation decorators (`@router.get(…)`) and ninja-extra's `route.<m>`.
const NINJA_OPS: &[&str] = &["get", "post", "put", "patch", "delete", "api_operation", "generic"];
/// ninja-extra's function decorators for controller methods.
const NINJA_EXTRA_OPS: &[&str] = &["http_get", "http_post", "http_put", "http_patch", "http_delete", "http_generic"];

/// The word lists one word of which a view [`request_views`] finds holds in its own `def` or decorators:
/// under `ATOMIC_REQUESTS` they join the rule's triggers
/// ([`crate::analysis::triggers`]), so a view module without `atomic` is read.
const REQUEST_VIEW_TRIGGERS: &[&[&str]] = &[CBV_HANDLERS, DRF_ACTIONS, NINJA_OPS, NINJA_EXTRA_OPS, &["api_view", "action"]];

/// The sync views of this file, each as a region of the request transaction Django opens
/// around it under `ATOMIC_REQUESTS` (`BaseHandler.make_view_atomic`), its callee
/// [`REQUEST`]. Only what is known to be a view: a module-level `def` under a django-ninja
/// operation (`@router.post(…)` on a `NinjaAPI` / `Router`) or DRF's `@api_view(…)`; the
/// handlers of a class deriving Django's class-based views (`get`, `post` …, `form_valid`) or
/// DRF's `APIView` / generic views / view sets (also their actions, `perform_*` hooks and
/// `@action` methods); the `route.<method>` / `http_<method>` methods of a ninja-extra
/// `@api_controller` class; a `ModelAdmin`'s actions and the methods its `get_urls` routes
/// ([`admin_entry_points`]). A view (or a class whose `dispatch`) carrying
/// `non_atomic_requests` is left out, whatever its alias (precision first); async views are
/// AG206's.
fn request_views(py: &PyModel) -> Vec<crate::semantic::transactions::AtomicRegion> {
    let mut out = vec![];
    let root = py.tree.root_node();
    let mut c = root.walk();
    let region = |def: Node| -> Option<crate::semantic::transactions::AtomicRegion> {
        let body = def.child_by_field_name("body")?;
        Some(crate::semantic::transactions::AtomicRegion {
            body: body.byte_range(),
            scope: py.scope_at(body.start_byte()),
            api: AtomicApi::Django,
            decorator: true,
            callee: REQUEST.to_string(),
            using: None,
        })
    };
    for top in root.named_children(&mut c) {
        let (def, decs) = split_decorated(top);
        let Some(def) = def else { continue };
        match def.kind() {
            "function_definition" if is_sync(def) && !excluded(py, &decs) => {
                let view = decs.iter().any(|d| ninja_op(py, *d) || api_view(py, *d));
                if view {
                    out.extend(region(def));
                }
            }
            "class_definition" => {
                let Some(name) = def.child_by_field_name("name") else { continue };
                if decs.iter().any(|d| py.node_text(*d).contains("non_atomic_requests")) {
                    continue;
                }
                let controller = decs.iter().any(|d| {
                    let callee = if d.kind() == "call" { d.child_by_field_name("function") } else { Some(*d) };
                    callee.is_some_and(|f| {
                        py.node_text(f).rsplit('.').next() == Some("api_controller")
                            && py.resolve_node(f).is_some_and(|p| p.starts_with("ninja_extra"))
                    })
                });
                let bases = py.class_lib_bases(py.node_text(name), 0);
                let django_view =
                    bases.iter().any(|b| b.starts_with("django.") && b.split('.').any(|c| c == "views" || c == "generic"));
                let drf_view = bases.iter().any(|b| {
                    b.starts_with("rest_framework.views.") || b.starts_with("rest_framework.generics.") || b.starts_with("rest_framework.viewsets.")
                });
                // Django admin: its actions and the views its `get_urls` adds run in the request.
                let admin = bases.iter().any(|b| {
                    let last = b.rsplit('.').next().unwrap_or("");
                    last == "ModelAdmin" || (b.starts_with("django.contrib.") && b.split('.').any(|c| c == "admin") && last.ends_with("Admin"))
                });
                if !controller && !django_view && !drf_view && !admin {
                    continue;
                }
                let Some(body) = def.child_by_field_name("body") else { continue };
                let mut bc = body.walk();
                let methods: Vec<(Option<Node>, Vec<Node>)> = body.named_children(&mut bc).map(split_decorated).collect();
                // `dispatch` excluded from the request transaction excludes every handler.
                let dispatch_excluded = methods.iter().any(|(m, decs)| {
                    m.and_then(|m| m.child_by_field_name("name")).is_some_and(|n| py.node_text(n) == "dispatch")
                        && decs.iter().any(|d| py.node_text(*d).contains("non_atomic_requests"))
                });
                if dispatch_excluded {
                    continue;
                }
                let admin_views = if admin { admin_entry_points(py, body) } else { vec![] };
                for (m, mdecs) in &methods {
                    let Some(m) = m.filter(|m| m.kind() == "function_definition" && is_sync(*m)) else { continue };
                    let Some(mname) = m.child_by_field_name("name").map(|n| py.node_text(n)) else { continue };
                    if excluded(py, mdecs) {
                        continue;
                    }
                    let is_view = (controller && mdecs.iter().any(|d| ninja_extra_op(py, *d)))
                        || ((django_view || drf_view) && CBV_HANDLERS.contains(&mname))
                        || (drf_view && (DRF_ACTIONS.contains(&mname) || mdecs.iter().any(|d| drf_action(py, *d))))
                        || (admin
                            && (admin_views.iter().any(|v| v == mname)
                                || mdecs.iter().any(|d| dec_callee(*d).is_some_and(|f| {
                                    py.resolves_to(f, &["django.contrib.admin.action", "django.contrib.admin.decorators.action"])
                                }))));
                    if is_view {
                        out.extend(region(m));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The methods of a `ModelAdmin` class body that Django serves as views: the names its
/// `actions = [...]` lists as strings, and the `self.<method>` its `get_urls` passes to
/// `path(…)` / `re_path(…)` (also through `self.admin_site.admin_view(…)`).
fn admin_entry_points(py: &PyModel, body: Node) -> Vec<String> {
    let mut out = vec![];
    let mut c = body.walk();
    for stmt in body.named_children(&mut c) {
        let (def, _) = split_decorated(stmt);
        let Some(def) = def else { continue };
        if def.kind() == "expression_statement" {
            let Some(a) = def.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let is_actions = a.child_by_field_name("left").is_some_and(|l| py.node_text(l) == "actions");
            let Some(r) = a.child_by_field_name("right").filter(|r| is_actions && matches!(r.kind(), "list" | "tuple")) else { continue };
            let mut rc = r.walk();
            for item in r.named_children(&mut rc).filter(|i| i.kind() == "string") {
                out.push(py.node_text(item).trim_matches(['"', '\'']).to_string());
            }
        } else if def.kind() == "function_definition"
            && def.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "get_urls")
        {
            let mut stack: Vec<Node> = def.child_by_field_name("body").into_iter().collect();
            while let Some(n) = stack.pop() {
                if n.kind() == "call"
                    && n.child_by_field_name("function").is_some_and(|f| py.resolves_to(f, &["django.urls.path", "django.urls.re_path"]))
                {
                    let mut inner: Vec<Node> = n.child_by_field_name("arguments").into_iter().collect();
                    while let Some(x) = inner.pop() {
                        if x.kind() == "attribute"
                            && x.child_by_field_name("object").is_some_and(|o| py.node_text(o) == "self")
                        {
                            if let Some(a) = x.child_by_field_name("attribute") {
                                out.push(py.node_text(a).to_string());
                            }
                        }
                        let mut xc = x.walk();
                        inner.extend(x.named_children(&mut xc));
                    }
                    continue;
                }
                let mut nc = n.walk();
                stack.extend(n.named_children(&mut nc));
            }
        }
    }
    out
}

/// A statement's definition and its decorators' expressions.
fn split_decorated(n: Node) -> (Option<Node>, Vec<Node>) {
    if n.kind() != "decorated_definition" {
        return (Some(n), vec![]);
    }
    let mut c = n.walk();
    let decs = n.named_children(&mut c).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).collect();
    (n.child_by_field_name("definition"), decs)
}

fn is_sync(def: Node) -> bool {
    def.child(0).is_some_and(|c| c.kind() != "async")
}

/// A decorator list that takes the view out of the request transaction (or out of sync code).
fn excluded(py: &PyModel, decs: &[Node]) -> bool {
    decs.iter().any(|d| {
        let t = py.node_text(*d);
        t.contains("non_atomic_requests") || t.contains("sync_to_async")
    })
}

/// The callee of a decorator expression (`x` of `@x` or `@x(…)`).
fn dec_callee(d: Node) -> Option<Node> {
    if d.kind() == "call" {
        d.child_by_field_name("function")
    } else {
        Some(d)
    }
}

/// `@<r>.get(…)` … on a django-ninja `NinjaAPI` / `Router`.
fn ninja_op(py: &PyModel, d: Node) -> bool {
    d.kind() == "call"
        && dec_callee(d).is_some_and(|f| {
            f.kind() == "attribute"
                && f.child_by_field_name("attribute").is_some_and(|a| NINJA_OPS.contains(&py.node_text(a)))
                && f.child_by_field_name("object").is_some_and(|o| py.is_ninja_router(o))
        })
}

/// ninja-extra's `@route.post(…)` / `@http_post(…)` (imported from `ninja_extra`).
fn ninja_extra_op(py: &PyModel, d: Node) -> bool {
    let Some(f) = dec_callee(d) else { return false };
    let from_extra = py.resolve_node(f).is_some_and(|p| p.starts_with("ninja_extra"));
    let text = py.node_text(f);
    let last = text.rsplit('.').next().unwrap_or("");
    from_extra && (NINJA_EXTRA_OPS.contains(&last) || (text.starts_with("route.") && NINJA_OPS.contains(&last)))
}

/// DRF's `@api_view(…)`.
fn api_view(py: &PyModel, d: Node) -> bool {
    dec_callee(d).is_some_and(|f| py.resolves_to(f, &["rest_framework.decorators.api_view"]))
}

/// DRF's `@action(…)` on a view set method.
fn drf_action(py: &PyModel, d: Node) -> bool {
    dec_callee(d).is_some_and(|f| py.resolves_to(f, &["rest_framework.decorators.action"]))
}

/// How many locations a helper's dispatch chain may have: the helper's own dispatch (1), or
/// one more helper's (2).
const MAX_CHAIN: usize = 2;

/// Calls, inside a Django atomic region, of a sync project helper (a `def` of this file, or
/// a function imported from another module) that dispatches a task, directly or through the
/// helpers it calls: reported at the call, the chain to the dispatch as related locations.
/// No fix: the dispatch is in the helper.
fn helper_dispatches(cx: &Ctx, py: &PyModel, regions: &[crate::semantic::transactions::AtomicRegion], out: &mut Vec<Finding>) {
    // One report per (atomic block, dispatch site): the first call that reaches it.
    let mut reported: Vec<(usize, std::path::PathBuf, usize)> = vec![];
    cx.for_each_match(QueryId::PyCalls, |caps| {
        let (Some(call), Some(func)) = (caps.get("call"), caps.get("function")) else { return };
        if !matches!(func.kind(), "identifier" | "attribute") {
            return;
        }
        // Whether the call is in an atomic block is the cheap question: asked first.
        let Some(region) = py.atomic_at(regions, call.start_byte()).filter(|r| r.api == AtomicApi::Django && !r.on_replica())
        else {
            return;
        };
        if py.task_dispatch(call).is_some() {
            return;
        }
        if crate::semantic::transactions::raises_before_end(py.src, call, &region.body) {
            return;
        }
        let Some(facts) = py.callee_facts(func) else { return };
        // The helper dispatches itself or through one more helper; deeper chains pass
        // through conditions this walk does not see (a webhook that failed, a retry …).
        if facts.is_async || facts.offloaded || facts.dispatch.is_empty() || facts.dispatch.len() > MAX_CHAIN {
            return;
        }
        // A helper of this file that is itself atomic: its dispatch is reported where it is.
        if func.kind() == "identifier" && py.import_of(py.node_text(func)).is_none() {
            if let Some(def) = py.module_def_named(py.node_text(func)) {
                if py.atomic_at(regions, def.child_by_field_name("body").map_or(def.start_byte(), |b| b.start_byte())).is_some() {
                    return;
                }
            }
        }
        // Under the request transaction, a helper that is itself atomic (here or in another
        // module): its dispatch is reported inside it.
        if region.callee == REQUEST && facts.decorators.iter().any(|d| is_atomic_decorator(d)) {
            return;
        }
        let Some(dispatch) = facts.dispatch.last() else { return };
        let key = (region.body.start, dispatch.path.clone(), dispatch.range.start);
        if reported.contains(&key) {
            return;
        }
        reported.push(key);
        // The helpers in between are the related locations; the explanation is in the rule doc.
        let message = if region.callee == REQUEST {
            // At most 120 characters: the helper's and the task's names without qualifiers.
            let head = |t: &str| t[..t.find('(').unwrap_or(t.len())].trim().to_string();
            let what = head(&dispatch.what);
            let parts: Vec<&str> = what.rsplit('.').take(2).collect();
            let label = clip(&format!("{}(…)", parts.into_iter().rev().collect::<Vec<_>>().join(".")), 34);
            let name = head(py.node_text(func));
            let name = if name.chars().count() > 21 { name.rsplit('.').next().unwrap_or(&name).to_string() } else { name };
            format!("`{}()` dispatches `{label}` before the request's `{REQUEST}` COMMIT", clip(&name, 21))
        } else {
            let name = short(py.node_text(func), 40);
            format!("`{name}()` dispatches `{}` inside `{}` before COMMIT", dispatch_label(&dispatch.what), region.callee)
        };
        let mut f = Finding::new(&META, call.byte_range(), message, vec![]);
        f.related = facts.dispatch.clone();
        out.push(f);
    });
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
