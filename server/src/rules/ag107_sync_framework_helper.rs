//! AG107 sync-framework-helper: a Django helper that queries (or blocks) and has an async
//! twin, called in async code (RULES.md §AG107, §3.1d): shortcuts, auth functions, password
//! checks, user-manager and permission methods, `prefetch_related_objects`, signals, cache,
//! pagination, Django 6 tasks (only from Django 6.0: `django.tasks` does not exist before).
//!
//! Names must resolve to the Django API through the file's imports (a project's own
//! `authenticate` or `cache` stays silent); user methods need a receiver known to be a user.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django::Twin;
use crate::dialects::django_api::{self as api, Helper};
use crate::dialects::Version;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::instances::{strip_parens, Value};
use crate::semantic::PyModel;
use crate::settings::{CacheKind, Settings};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct SyncFrameworkHelper;

static META: RuleMeta = RuleMeta {
    code: "AG107",
    name: "sync-framework-helper",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Synchronous Django helper (auth, shortcuts, cache, signals …) in async code",
    doc: r#"## AG107 sync-framework-helper

**What it catches.** In async code, a Django helper that queries or blocks and has an async
twin:

| sync | async | Django |
|---|---|---|
| `get_object_or_404`, `get_list_or_404` | `aget_object_or_404`, `aget_list_or_404` | 5.0 |
| `authenticate`, `login`, `logout`, `get_user`, `update_session_auth_hash` | `a…` | 5.0 |
| `check_password` (hashers, and on a user) | `acheck_password` | 5.0 |
| `prefetch_related_objects` | `aprefetch_related_objects` | 5.0 |
| `signal.send`, `send_robust` | `asend`, `asend_robust` | 5.0 |
| `user.has_perm` / `has_perms` / `has_module_perms` / `get_*_permissions` | `a…` | 5.2 |
| `User.objects.create_user` / `create_superuser` / `get_by_natural_key` | `a…` | 5.2 |
| `cache.get` / `set` / `delete` … | `aget` / `aset` / `adelete` … | 4.0 |
| `Paginator(qs, n).page(p)` | `await AsyncPaginator(qs, n).apage(p)` (**unsafe**: the page is an `AsyncPage`) | 6.0 |
| `task.enqueue(…)`, `task.get_result(id)` (`django.tasks`) | `await task.aenqueue(…)`, `await task.aget_result(id)` | 6.0 |
| `result.refresh()` (a task's `TaskResult`) | `await result.arefresh()` | 6.0 |
| test client `login` / `force_login` / `logout` (`self.client`, `AsyncClient()`, pytest-django's `async_client`) | `alogin` / `aforce_login` / `alogout` | 5.0 |
| `@login_required`, `@permission_required`, `@user_passes_test` on an `async def` | accepted from Django 5.1: reported below it, no fix | 5.1 |

**Why it is wrong.** These helpers query the database: `SynchronousOnlyOperation`. A cache
call queries only with the database backend (`DatabaseCache`): it is reported (as an error)
only when the project's settings module says that alias uses it.

**Fix.** Rename, `await` (parenthesised before a trailer) and import the twin
(`from django.contrib.auth import aauthenticate`); a module-qualified call keeps its qualifier.
Below the twin's version: `await sync_to_async(authenticate)(…)`.

**Stays silent on** sync `def`s nested in an async function (sync context: a direct call is AG108's), names not imported from Django, `a*` calls, offloaded code, sync code;
cache calls unless the project's Django settings module (found through
`DJANGO_SETTINGS_MODULE` in `manage.py` / `asgi.py` / `wsgi.py` / pytest config, else
`settings.py` by convention) gives that alias `DatabaseCache`: locmem and dummy do no I/O,
redis / memcached / file caches block without querying (report them with
`blocking-cache-severity = "warning"` in the config), and settings that are not literals
(`env(…)`, under `if`) are unknown.
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.
Also silent on `Paginator(...)` over an in-memory collection (`Paginator([], 1).page(1)`, a
list, tuple or set literal or a name bound to one): `page()` slices it without a query.

**Suppress** with `# awaitguard: ignore[AG107]` or `# noqa: AG107` on the line.
"#,
};

/// What a call is, and how to rewrite it.
struct Plan<'t> {
    /// The callee text for messages (`authenticate`, `request.user.has_perm`).
    what: String,
    async_name: &'static str,
    since: Version,
    /// The node to rename (the identifier or the attribute's name).
    name_node: Node<'t>,
    /// `from <module> import <async_name>` needed (bare imported names).
    import: Option<&'static str>,
    severity: Severity,
    applicability: Applicability,
    /// Extra edits (Paginator → AsyncPaginator); `None` = no fix at all.
    extra: Option<Vec<Edit>>,
    /// A cache call: what its backend does.
    cache: Option<CacheKind>,
    /// A `django.tasks` call: it goes through the task backend (the database backend
    /// queries, the immediate one runs the task on the spot).
    task: bool,
}

impl Rule for SyncFrameworkHelper {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.django() else { return };
        let version = cx.settings.django_version;
        if version < api::V5_1 {
            auth_decorators(cx, py, version, out);
        }
        cx.for_each_match(QueryId::PyEvaluations, |caps| {
            let (Some(call), Some(func)) = (caps.get("builtin"), caps.get("fn")) else { return };
            let ctx = py.context_at(call.start_byte());
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) {
                return;
            }
            let Some(plan) = plan(py, func, version, cx.settings) else { return };
            let what = &plan.what;
            let mut message = format!("`{what}()` runs synchronously in async code");
            message.push_str(match plan.cache {
                Some(CacheKind::Database) => " and queries the database cache",
                Some(_) => " and blocks the event loop on cache I/O",
                None if plan.task => " and blocks on the task backend",
                None => " and queries the database",
            });
            let mut fixes = vec![];
            let has_twin = version >= plan.since;
            if !has_twin {
                message.push_str(&format!(" (`{}` needs Django {}.{})", plan.async_name, plan.since.0, plan.since.1));
            }
            if ctx.await_ok() {
                if !has_twin {
                    if let Some(edits) = pyfix::sync_to_async_call(py, call) {
                        fixes.push(Fix {
                            title: format!("Wrap in `await sync_to_async({what})(…)`"),
                            applicability: Applicability::Safe,
                            edits,
                        });
                    }
                } else if let Some(extra) = plan.extra {
                    let mut edits = pyfix::await_edits(call);
                    edits.push(Edit::replace(plan.name_node.byte_range(), plan.async_name));
                    edits.extend(extra);
                    if let Some(module) = plan.import {
                        edits.extend(pyfix::ensure_import(py, module, plan.async_name));
                    }
                    fixes.push(Fix {
                        title: format!("Replace with `await …{}(…)`", plan.async_name),
                        applicability: plan.applicability,
                        edits,
                    });
                }
            }
            out.push(Finding { severity: plan.severity, ..Finding::new(&META, call.byte_range(), message, fixes) });
        });
    }
}

/// `@login_required`, `@permission_required(…)`, `@user_passes_test(…)` on an `async def`,
/// below Django 5.1 (which first accepts coroutine views there): reported, no fix.
fn auth_decorators(cx: &Ctx, py: &PyModel, version: Version, out: &mut Vec<Finding>) {
    cx.for_each_match(QueryId::PyDecoratedFunctions, |caps| {
        let (Some(dec), Some(def)) = (caps.get("decorator"), caps.get("def")) else { return };
        if def.child(0).is_none_or(|c| c.kind() != "async") {
            return;
        }
        let Some(expr) = dec.named_child(0) else { return };
        let callee = if expr.kind() == "call" { expr.child_by_field_name("function") } else { Some(expr) };
        let Some(callee) = callee else { return };
        let Some(path) = py.resolve_node(callee) else { return };
        let Some(name) = api::AUTH_DECORATORS.iter().find(|d| path == format!("django.contrib.auth.decorators.{d}")) else {
            return;
        };
        let message = format!(
            "`@{name}` makes a sync view of an `async def` before Django 5.1 (the project's Django is {}.{})",
            version.0, version.1
        );
        out.push(Finding::new(&META, dec.byte_range(), message, vec![]));
    });
}

fn helper_plan<'t>(h: &Helper, what: String, name_node: Node<'t>, bare: bool, version: Version) -> Plan<'t> {
    let module = if h.sync == "prefetch_related_objects" && version < api::V5_0_5 {
        "django.db.models.query"
    } else {
        h.modules[0]
    };
    Plan {
        what,
        async_name: h.async_name,
        since: h.since,
        name_node,
        import: bare.then_some(module),
        severity: Severity::Error,
        applicability: Applicability::Safe,
        extra: Some(vec![]),
        cache: None,
        task: false,
    }
}

fn twin_plan<'t>(t: &Twin, what: String, name_node: Node<'t>, severity: Severity) -> Plan<'t> {
    Plan {
        what,
        async_name: t.async_name,
        since: t.since,
        name_node,
        import: None,
        severity,
        applicability: Applicability::Safe,
        extra: Some(vec![]),
        cache: None,
        task: false,
    }
}

fn plan<'t>(py: &PyModel<'t>, func: Node<'t>, version: Version, settings: &Settings) -> Option<Plan<'t>> {
    match func.kind() {
        "identifier" => {
            let name = py.node_text(func);
            if py.binding(name, func.start_byte()).is_some() {
                return None;
            }
            let path = py.import_of(name)?;
            let h = api::FUNCTIONS.iter().find(|h| h.modules.iter().any(|m| path == format!("{m}.{}", h.sync)))?;
            Some(helper_plan(h, name.to_string(), func, true, version))
        }
        "attribute" => {
            let obj = func.child_by_field_name("object")?;
            let attr = func.child_by_field_name("attribute")?;
            let m = py.node_text(attr);
            let what = format!("{}.{m}", short(py.node_text(obj), 32));
            // auth.authenticate(…), hashers.check_password(…)
            if obj.kind() == "identifier" && py.binding(py.node_text(obj), obj.start_byte()).is_none() {
                if let Some(path) = py.import_of(py.node_text(obj)) {
                    if let Some(h) = api::FUNCTIONS.iter().find(|h| h.sync == m && h.modules.contains(&path)) {
                        return Some(helper_plan(h, what, attr, false, version));
                    }
                }
            }
            if let Some(t) = api::USER_METHODS.iter().find(|t| t.sync == m) {
                return is_user(py, obj).then(|| twin_plan(t, what, attr, Severity::Error));
            }
            if let Some(t) = api::USER_MANAGER_METHODS.iter().find(|t| t.sync == m) {
                return (py.value(obj) == Value::Manager).then(|| twin_plan(t, what, attr, Severity::Error));
            }
            if let Some(t) = api::SIGNAL_METHODS.iter().find(|t| t.sync == m) {
                return is_signal(py, obj).then(|| twin_plan(t, what, attr, Severity::Error));
            }
            if api::CACHE_METHODS.contains(&m) {
                let alias = cache_alias(py, obj)?;
                // Only the database cache queries. locmem / dummy do no I/O; redis, memcached
                // and file block without querying (reported only when opted in); unknown
                // settings: silent.
                let kind = settings.cache_kind(alias.as_deref());
                let severity = match (kind, settings.blocking_cache) {
                    (CacheKind::Database, _) => Severity::Error,
                    (CacheKind::Blocking, Some(sev)) => sev,
                    _ => return None,
                };
                let async_name = cache_async(m);
                let t = Twin { sync: "", async_name, since: api::CACHE_SINCE, queryset_only: false };
                return Some(Plan { cache: Some(kind), ..twin_plan(&t, what, attr, severity) });
            }
            if m == "page" {
                return paginator_plan(py, obj, attr, what);
            }
            if let Some(t) = api::TEST_CLIENT_METHODS.iter().find(|t| t.sync == m) {
                return is_test_client(py, obj).then(|| twin_plan(t, what, attr, Severity::Error));
            }
            // Django 6 tasks: `django.tasks` does not exist below 6.0.
            if version >= api::V6_0 {
                if let Some(t) = api::TASK_METHODS.iter().find(|t| t.sync == m) {
                    return is_django_task(py, obj).then(|| Plan { task: true, ..twin_plan(t, what, attr, Severity::Error) });
                }
                if let Some(t) = api::TASK_RESULT_METHODS.iter().find(|t| t.sync == m) {
                    return is_task_result(py, obj).then(|| Plan { task: true, ..twin_plan(t, what, attr, Severity::Error) });
                }
            }
            None
        }
        _ => None,
    }
}

fn cache_async(m: &str) -> &'static str {
    const NAMES: &[(&str, &str)] = &[
        ("get", "aget"), ("set", "aset"), ("add", "aadd"), ("get_or_set", "aget_or_set"), ("get_many", "aget_many"),
        ("set_many", "aset_many"), ("delete", "adelete"), ("delete_many", "adelete_many"), ("clear", "aclear"),
        ("touch", "atouch"), ("incr", "aincr"), ("decr", "adecr"), ("has_key", "ahas_key"),
        ("incr_version", "aincr_version"), ("decr_version", "adecr_version"), ("close", "aclose"),
    ];
    NAMES.iter().find(|(s, _)| *s == m).map(|(_, a)| *a).unwrap_or("aget")
}

/// The alias of a Django cache: `cache` imported from `django.core.cache` (`"default"`), or
/// `caches[alias]` (`None` inside when the alias is not a string literal); `None` when `obj`
/// is not a Django cache.
fn cache_alias(py: &PyModel, obj: Node) -> Option<Option<String>> {
    let obj = strip_parens(obj);
    match obj.kind() {
        "identifier" => (py.binding(py.node_text(obj), obj.start_byte()).is_none()
            && py.import_of(py.node_text(obj)) == Some("django.core.cache.cache"))
        .then(|| Some("default".to_string())),
        "subscript" => {
            let v = obj.child_by_field_name("value")?;
            let ok = v.kind() == "identifier"
                && py.binding(py.node_text(v), v.start_byte()).is_none()
                && py.import_of(py.node_text(v)) == Some("django.core.cache.caches");
            if !ok {
                return None;
            }
            let key = obj.child_by_field_name("subscript").map(|k| py.node_text(k)).unwrap_or("");
            let lit = key.len() >= 2
                && (key.starts_with('"') && key.ends_with('"') || key.starts_with('\'') && key.ends_with('\''))
                && !key[1..key.len() - 1].contains(['"', '\'', '\\']);
            Some(lit.then(|| key[1..key.len() - 1].to_string()))
        }
        _ => None,
    }
}

/// A Django signal: imported from a `django….signals` module, or bound to `Signal()`.
fn is_signal(py: &PyModel, obj: Node) -> bool {
    match obj.kind() {
        "identifier" => {
            let name = py.node_text(obj);
            match py.binding(name, obj.start_byte()) {
                Some(b) => b.value.is_some_and(|v| {
                    v.kind() == "call"
                        && v.child_by_field_name("function").is_some_and(|f| {
                            let callee = py.node_text(f);
                            callee == "Signal" && py.import_of("Signal") == Some("django.dispatch.Signal")
                                || callee == "django.dispatch.Signal"
                        })
                }),
                None => py.import_of(name).is_some_and(|p| p.starts_with("django.") && p.contains(".signals.")),
            }
        }
        "attribute" => obj.child_by_field_name("object").is_some_and(|o| {
            o.kind() == "identifier"
                && py.import_of(py.node_text(o)).is_some_and(|p| p.starts_with("django.") && p.ends_with("signals"))
        }),
        _ => false,
    }
}

/// `request.user`, `self.request.user`, or a name bound to `await request.auser()`,
/// `request.user`, `authenticate(…)` / `await aauthenticate(…)`.
fn is_user(py: &PyModel, obj: Node) -> bool {
    let t = py.node_text(obj);
    if t == "request.user" || t == "self.request.user" {
        return true;
    }
    if obj.kind() != "identifier" {
        return false;
    }
    let Some(v) = py.binding(t, obj.start_byte()).and_then(|b| b.value) else { return false };
    let vt = py.node_text(v);
    let vt = vt.trim_start_matches("await ").trim();
    vt == "request.user"
        || vt == "self.request.user"
        || vt == "request.auser()"
        || vt == "self.request.auser()"
        || (vt.starts_with("authenticate(") && py.import_of("authenticate") == Some("django.contrib.auth.authenticate"))
        || (vt.starts_with("aauthenticate(") && py.import_of("aauthenticate") == Some("django.contrib.auth.aauthenticate"))
}

/// A Django test client: `self.client` / `self.async_client` in a file importing
/// `django.test`, a name bound to `Client(…)` / `AsyncClient(…)` from `django.test`, or a
/// pytest-django fixture parameter (`async_client`, `admin_client`) in a file
/// importing pytest and Django.
fn is_test_client(py: &PyModel, obj: Node) -> bool {
    let text = py.node_text(obj);
    let imports_django_test = py.imports.values().any(|p| p == "django.test" || p.starts_with("django.test."));
    if matches!(text, "self.client" | "self.async_client") {
        return imports_django_test;
    }
    if obj.kind() != "identifier" {
        return false;
    }
    match py.binding(text, obj.start_byte()) {
        Some(b) => match b.value {
            Some(v) => {
                let v = if v.kind() == "await" { v.named_child(0).unwrap_or(v) } else { v };
                v.kind() == "call"
                    && v.child_by_field_name("function").is_some_and(|f| {
                        py.resolves_to(f, &["django.test.Client", "django.test.AsyncClient", "django.test.client.Client", "django.test.client.AsyncClient"])
                    })
            }
            None => {
                // Not a bare `client`: FastAPI / httpx test clients are named so too (taiga).
                matches!(text, "async_client" | "admin_client")
                    && py.import_of(text).is_none()
                    && py.imports.values().any(|p| p == "pytest" || p.starts_with("pytest."))
            }
        },
        None => false,
    }
}

/// A `django.tasks` task: a module-level function of this file decorated with `@task` /
/// `@task(…)` from `django.tasks`, or a name imported from a `tasks` module in a file that
/// imports `django.tasks` itself.
fn is_django_task(py: &PyModel, obj: Node) -> bool {
    if obj.kind() != "identifier" {
        return false;
    }
    let name = py.node_text(obj);
    if py.binding(name, obj.start_byte()).is_some_and(|b| b.value.is_some()) {
        return false;
    }
    if let Some(path) = py.import_of(name) {
        return path.split('.').any(|c| c == "tasks") && py.imports.values().any(|p| p == "django.tasks" || p.starts_with("django.tasks."));
    }
    let Some(def) = py.module_def_named(name) else { return false };
    py.decorators_of(def).into_iter().any(|e| {
        let callee = if e.kind() == "call" { e.child_by_field_name("function") } else { Some(e) };
        callee.is_some_and(|c| py.resolves_to(c, &["django.tasks.task"]))
    })
}

/// A `TaskResult`: a name bound to `<task>.enqueue(…)` / `<task>.get_result(…)` (or the
/// awaited `a*` forms) of a `django.tasks` task.
fn is_task_result(py: &PyModel, obj: Node) -> bool {
    if obj.kind() != "identifier" {
        return false;
    }
    let Some(mut v) = py.binding(py.node_text(obj), obj.start_byte()).and_then(|b| b.value) else { return false };
    if v.kind() == "await" {
        let Some(inner) = v.named_child(0) else { return false };
        v = inner;
    }
    let Some(func) = (v.kind() == "call").then(|| v.child_by_field_name("function")).flatten() else { return false };
    let (Some(recv), Some(attr)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute")) else {
        return false;
    };
    matches!(py.node_text(attr), "enqueue" | "aenqueue" | "get_result" | "aget_result") && is_django_task(py, recv)
}

/// `Paginator([], 1)`, `Paginator(["a", "b"], 2)`, `Paginator(rows, n)` with `rows = [...]`:
/// the object list is an in-memory collection, so `page()` runs no query.
fn paginates_a_literal(py: &PyModel, ctor: Node) -> bool {
    let Some(args) = ctor.child_by_field_name("arguments") else { return false };
    let mut c = args.walk();
    let list = args.named_children(&mut c).find(|a| match a.kind() {
        "keyword_argument" => a.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "object_list"),
        "comment" => false,
        _ => true,
    });
    let Some(mut list) = list else { return false };
    if list.kind() == "keyword_argument" {
        let Some(v) = list.child_by_field_name("value") else { return false };
        list = v;
    }
    let literal = |n: Node| {
        matches!(
            strip_parens(n).kind(),
            "list" | "tuple" | "set" | "dictionary" | "list_comprehension" | "set_comprehension" | "string"
        )
    };
    if literal(list) {
        return true;
    }
    list.kind() == "identifier"
        && py.binding(py.node_text(list), list.start_byte()).and_then(|b| b.value).is_some_and(literal)
}

/// `Paginator(qs, n).page(p)` (fixable, unsafe) or `paginator.page(p)` with
/// `paginator = Paginator(…)` (reported, no fix).
fn paginator_plan<'t>(py: &PyModel<'t>, obj: Node<'t>, attr: Node<'t>, what: String) -> Option<Plan<'t>> {
    let is_ctor = |n: Node<'t>| -> Option<Node<'t>> {
        if n.kind() != "call" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        (f.kind() == "identifier"
            && py.node_text(f) == "Paginator"
            && py.import_of("Paginator") == Some("django.core.paginator.Paginator")
            && !paginates_a_literal(py, n))
        .then_some(f)
    };
    let base = Plan {
        what,
        async_name: "apage",
        since: api::V6_0,
        name_node: attr,
        import: None,
        severity: Severity::Error,
        applicability: Applicability::Unsafe,
        extra: None,
        cache: None,
        task: false,
    };
    if let Some(ctor) = is_ctor(strip_parens(obj)) {
        let mut extra = vec![Edit::replace(ctor.byte_range(), "AsyncPaginator")];
        extra.extend(pyfix::ensure_import(py, "django.core.paginator", "AsyncPaginator"));
        return Some(Plan { extra: Some(extra), ..base });
    }
    if obj.kind() == "identifier" {
        let v = py.binding(py.node_text(obj), obj.start_byte())?.value?;
        if is_ctor(v).is_some() {
            return Some(base);
        }
    }
    None
}
