//! AG105 request-user-in-async: reading `request.user` in async code (RULES.md §AG105).
//! Resolving the lazy user queries the database when the session holds one.
//!
//! `request` must be a parameter of the enclosing function (or `self.request` in a class
//! deriving from a Django class-based view); writes (`request.user = u`) stay silent.
//!
//! Invariant: one report per resolution. A read is reported only when nothing before it in
//! the function can have resolved or replaced the user: an earlier read that dominates it
//! (the first one raises or resolves), an assignment, a login, a middleware that reads it.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django_api::V5_0;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::bridges::SYNC_TO_ASYNC;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct RequestUserInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG105",
    name: "request-user-in-async",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "`request.user` read in async code",
    doc: r#"## AG105 request-user-in-async

**What it catches.** Reading `request.user` (or any attribute of it) in an async view, an
async class-based-view handler (`self.request.user`) or an async middleware.

**Why it is wrong.** `request.user` is a lazy object; when the session holds a user,
resolving it queries the database → `SynchronousOnlyOperation`. Anonymous requests do not
query, so tests that never log in do not see it.

**Example.**
```python
async def profile(request):
    if not request.user.is_authenticated:       # AG105
        return HttpResponseForbidden()
```

**Fix** (Django 5.0+): `(await request.auser())`, e.g.
`if not (await request.auser()).is_authenticated:`; `auser()` caches the user on the request.
Hoisting `user = await request.auser()` to the top of the function reads better; do it by
hand (not when the function logs in or out: the user changes mid-function). Below 5.0: no
fix (`await sync_to_async(lambda: request.user.is_authenticated)()` by hand). In a file using
django-ninja (or REST framework outside its views): no fix.

**Stays silent on** sync views, sync `def`s nested in an async function (sync context),
`await request.auser()`, writes (`request.user = user`),
offloaded code, and the bare `request.user` handed to an offloaded callable
(`await sync_to_async(f)(request.user)`: passing the lazy object on does not resolve it, `f`
resolves it in the worker thread; `sync_to_async(f)(request.user.pk)` is still reported); Django REST framework and adrf views (a class deriving from a
`rest_framework` / `adrf` view, or `@api_view`: the view resolved the user in `initial()`
before the handler runs); reads after `request.user = …` or after `login` / `alogin` /
`logout` / `alogout(request, …)` earlier in the function (they assign `request.user`).
views when the project's settings module lists `LoginRequiredMiddleware` in `MIDDLEWARE`
(its `process_view` resolved the user in a thread first; not views marked
`@login_not_required`, nor middleware code). Still reported: reads after `await request.auser()` (it caches in `request._acached_user`,
which the lazy `request.user` does not read) and in views under `@login_required` /
`@permission_required` / `@user_passes_test` (from Django 5.1 their async wrapper calls
`auser()` only).
Also silent on: a read after an earlier read of the same `request.user` that runs whenever
it runs (the first read raises or resolves the user: it alone is reported); a read after
`await request.auser()` when `request.user = …` is assigned on some path before it (the
function replaces the lazy user where `auser()` found one: the remaining path is anonymous);
`self.request.user` in a class that is not a Django class-based view (`self.request` was
stored by the project, after the view resolved the user) or in a class that assigns
`request.user` itself (its own authentication, in another method); views when `MIDDLEWARE`
holds, after `AuthenticationMiddleware`, a sync third-party middleware that reads the user
before every view (django-pghistory's `HistoryMiddleware`): it resolved the user in a thread.
Also silent in the inner function of a decorator that returns a REST framework
`Response(…)` itself (`if request.user.is_authenticated: return Response(status=403)`): it
works only below `@api_view` or on an `APIView` handler (a `Response` leaving a REST framework
view has no renderer), so its `request` is the DRF `Request`, already authenticated.
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG105]` or `# noqa: AG105` on the line.
"#,
};

impl Rule for RequestUserInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.django() else { return };
        let foreign_request = py.imports.values().any(|p| {
            let top = p.split('.').next().unwrap_or("");
            matches!(top, "rest_framework" | "ninja" | "adrf")
        });
        cx.for_each_match(QueryId::PyUserAttribute, |caps| {
            let (Some(attr), Some(obj)) = (caps.get("attribute"), caps.get("object")) else { return };
            if !is_request(py, obj) || is_write(attr) || handed_to_offloaded_call(py, attr) {
                return;
            }
            if rest_framework_view(py, attr)
                || drf_response_decorator(py, attr)
                || set_before(py, obj, attr)
                || read_before(py, obj, attr)
                || auser_then_assigned(py, obj, attr)
                || class_sets_user(py, attr)
            {
                return;
            }
            if cx.settings.user_resolving_middleware && in_view_behind_login_middleware_or_any(py, attr) {
                return;
            }
            if cx.settings.login_required_middleware && in_view_behind_login_middleware(py, attr) {
                return;
            }
            let ctx = py.context_at(attr.start_byte());
            if !ctx.is_async() || py.in_offload_args(attr.start_byte()) {
                return;
            }
            let req = py.node_text(obj);
            let mut message = format!("`{req}.user` may query the database in async code");
            let mut fixes = vec![];
            if foreign_request {
                message.push_str(" (a REST framework request)");
            } else if cx.settings.django_version < V5_0 {
                message.push_str(&format!(" (`{req}.auser()` needs Django 5.0)"));
            } else {
                if ctx.await_ok() {
                    let text = format!("await {req}.auser()");
                    let text = if pyfix::needs_parens(attr) { format!("({text})") } else { text };
                    fixes.push(Fix {
                        title: format!("Replace with `await {req}.auser()`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(attr.byte_range(), text)],
                    });
                }
            }
            out.push(Finding::new(&META, attr.byte_range(), message, fixes));
        });
    }
}

/// The bare `request.user` is an argument of a call to an offloaded callable
/// (`await sync_to_async(f)(request.user)`, `database_sync_to_async(f)(user=request.user)`):
/// passing the lazy object on does not resolve it; `f` resolves it in the worker thread.
/// `sync_to_async(f)(request.user.pk)` still reads an attribute on the loop: reported.
fn handed_to_offloaded_call(py: &PyModel, attr: Node) -> bool {
    let mut arg = attr;
    if let Some(kw) = arg.parent().filter(|p| p.kind() == "keyword_argument") {
        if kw.child_by_field_name("value").is_none_or(|v| v.id() != attr.id()) {
            return false;
        }
        arg = kw;
    }
    let Some(args) = arg.parent().filter(|p| p.kind() == "argument_list") else { return false };
    let Some(call) = args.parent().filter(|p| p.kind() == "call") else { return false };
    let Some(callee) = call.child_by_field_name("function").filter(|f| f.kind() == "call") else { return false };
    callee.child_by_field_name("function").is_some_and(|bridge| py.resolves_to(bridge, SYNC_TO_ASYNC))
}

/// `request` bound as a parameter, or `self.request` in a Django class-based view.
fn is_request(py: &PyModel, obj: Node) -> bool {
    match obj.kind() {
        "identifier" => {
            py.node_text(obj) == "request"
                && py.binding("request", obj.start_byte()).is_some_and(|b| b.value.is_none() && b.pos == 0)
        }
        "attribute" => py.node_text(obj) == "self.request" && in_django_view_class(py, obj),
        _ => false,
    }
}

/// The innermost class around `at` derives (directly or through project classes) from a
/// Django class-based view (`django.views.View`, `django.views.generic.*`, the auth views):
/// there `self.request` is the request `dispatch` got. In any other class `self.request` was
/// stored by the project, after whatever resolved the user: unknown, so silent.
fn in_django_view_class(py: &PyModel, at: Node) -> bool {
    let mut cur = at.parent();
    while let Some(n) = cur {
        if n.kind() == "class_definition" {
            let Some(name) = n.child_by_field_name("name").map(|x| py.node_text(x)) else { return false };
            return py
                .class_lib_bases(name, 0)
                .iter()
                .any(|b| b.starts_with("django.") && b.split('.').any(|c| c == "views" || c == "generic"));
        }
        cur = n.parent();
    }
    false
}

/// The enclosing function, before `at`, reads `<req>.user` in a statement that runs whenever
/// the read at `at` runs (outside any nested `def`/`lambda`, not as a write): that first read
/// resolves the lazy user (or raises), so this one runs no query.
fn read_before(py: &PyModel, obj: Node, at: Node) -> bool {
    let req = py.node_text(obj);
    earlier_in_function(at, |n| {
        n.kind() == "attribute"
            && n.id() != at.id()
            && !is_write(n)
            && n.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "user")
            && n.child_by_field_name("object").is_some_and(|o| py.node_text(o) == req)
            && !py.in_offload_args(n.start_byte())
            && dominates(n, at)
    })
}

/// Before `at`, the function awaits `<req>.auser()` and assigns `<req>.user = …` on some path
/// (`if not (await request.auser()).is_authenticated: … else: request.user = await
/// request.auser()`): where `auser()` found a user it replaced the lazy one; on the other
/// paths the session is loaded and holds none, so the lazy user is anonymous: no query.
fn auser_then_assigned(py: &PyModel, obj: Node, at: Node) -> bool {
    let req = py.node_text(obj);
    let auser = earlier_in_function(at, |n| {
        n.kind() == "call"
            && n.child_by_field_name("function").is_some_and(|f| {
                f.kind() == "attribute"
                    && f.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "auser")
                    && f.child_by_field_name("object").is_some_and(|o| py.node_text(o) == req)
            })
            && n.parent().is_some_and(|p| p.kind() == "await")
    });
    auser && earlier_in_function(at, |n| is_user_assignment(py, n, req))
}

/// `n` is `<req>.user = …`.
fn is_user_assignment(py: &PyModel, n: Node, req: &str) -> bool {
    n.kind() == "assignment"
        && n.child_by_field_name("left").is_some_and(|l| {
            l.kind() == "attribute"
                && l.child_by_field_name("object").is_some_and(|o| py.node_text(o) == req)
                && l.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "user")
        })
}

/// A node of the function enclosing `at`, ending before `at` and outside nested
/// `def`/`lambda`/`class`, for which `pred` holds.
fn earlier_in_function(at: Node, pred: impl Fn(Node) -> bool) -> bool {
    let Some(func) = enclosing_function(at) else { return false };
    let Some(body) = func.child_by_field_name("body") else { return false };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.start_byte() >= at.start_byte() || matches!(n.kind(), "function_definition" | "lambda" | "class_definition") {
            continue;
        }
        if n.end_byte() <= at.start_byte() && pred(n) {
            return true;
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}

/// `self.request.user` read in a class one of whose methods assigns `request.user = …` or
/// `self.request.user = …`: the class authenticates the request itself (codecov's
/// `request.user = await self.get_user(request)` in `get`, then `self.request.user` in a
/// helper `get` calls); which runs first is call order this rule does not follow: silent.
/// The class's range is recorded in [`PyModel::read_bodies`].
fn class_sets_user(py: &PyModel, at: Node) -> bool {
    if at.child_by_field_name("object").is_none_or(|o| py.node_text(o) != "self.request") {
        return false;
    }
    let mut cur = at.parent();
    while let Some(n) = cur {
        if n.kind() == "class_definition" {
            // The answer rests on every method of the class: an edit in any of them may change
            // it (focused re-analysis), and none of them may be blanked (sparse parse).
            py.read_bodies.borrow_mut().push(n.byte_range());
            let mut stack = vec![n];
            while let Some(x) = stack.pop() {
                if is_user_assignment(py, x, "request") || is_user_assignment(py, x, "self.request") {
                    return true;
                }
                let mut c = x.walk();
                stack.extend(x.named_children(&mut c));
            }
            return false;
        }
        cur = n.parent();
    }
    false
}

/// The read is in a Django REST framework (or adrf) view: a method of a class deriving from a
/// `rest_framework` / `adrf` class, or a function under `@api_view`. There `request` is a
/// DRF `Request` whose user the view's `initial()` has already resolved
/// (`perform_authentication`) before any handler runs: reading it runs no query.
fn rest_framework_view(py: &PyModel, at: Node) -> bool {
    let from_drf = |text: &str| {
        py.resolve_dotted(text.trim()).is_some_and(|p| p.starts_with("rest_framework.") || p.starts_with("adrf."))
    };
    let mut cur = at.parent();
    while let Some(n) = cur {
        match n.kind() {
            "function_definition" => {
                if let Some(p) = n.parent().filter(|p| p.kind() == "decorated_definition") {
                    let mut c = p.walk();
                    let api_view = p.named_children(&mut c).filter(|d| d.kind() == "decorator").any(|d| {
                        d.named_child(0).is_some_and(|e| {
                            let callee = if e.kind() == "call" { e.child_by_field_name("function") } else { Some(e) };
                            callee.is_some_and(|c| {
                                py.node_text(c).rsplit('.').next() == Some("api_view") && from_drf(py.node_text(c))
                            })
                        })
                    });
                    if api_view {
                        return true;
                    }
                }
            }
            "class_definition" => {
                let Some(bases) = n.child_by_field_name("superclasses") else { return false };
                let mut c = bases.walk();
                let drf = bases.named_children(&mut c).filter(|b| matches!(b.kind(), "identifier" | "attribute")).any(|b| from_drf(py.node_text(b)));
                return drf;
            }
            _ => {}
        }
        cur = n.parent();
    }
    false
}

/// The read is in the inner function of a decorator (a `def` nested in a function that
/// returns it) that itself builds a REST framework `Response(…)`: such a decorator works only
/// below `@api_view` or on an `APIView` handler — a `Response` that leaves a REST framework
/// view has no renderer, and Django fails rendering it — so the `request` it is handed is the
/// DRF `Request`, whose user the view's `initial()` resolved before the handler chain runs.
fn drf_response_decorator(py: &PyModel, at: Node) -> bool {
    let Some(inner) = enclosing_function(at) else { return false };
    let Some(name) = inner.child_by_field_name("name").map(|n| py.node_text(n)) else { return false };
    // The statement holding the `def` (or its decorated form) sits in the body of the outer function.
    let stmt = inner.parent().filter(|p| p.kind() == "decorated_definition").unwrap_or(inner);
    let Some(outer) = stmt.parent().filter(|b| b.kind() == "block").and_then(|b| b.parent()).filter(|f| f.kind() == "function_definition")
    else {
        return false;
    };
    let Some(outer_body) = outer.child_by_field_name("body") else { return false };
    let mut c = outer_body.walk();
    let returns_inner = outer_body.named_children(&mut c).any(|st| {
        st.kind() == "return_statement" && st.named_child(0).is_some_and(|e| e.kind() == "identifier" && py.node_text(e) == name)
    });
    if !returns_inner {
        return false;
    }
    let Some(body) = inner.child_by_field_name("body") else { return false };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if matches!(n.kind(), "function_definition" | "lambda" | "class_definition") {
            continue;
        }
        if n.kind() == "call" {
            let builds_response = n.child_by_field_name("function").is_some_and(|f| {
                matches!(f.kind(), "identifier" | "attribute")
                    && py.resolve_dotted(py.node_text(f)).is_some_and(|p| p == "rest_framework.response.Response")
            });
            if builds_response {
                return true;
            }
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}

/// A view (not middleware code) behind a middleware that resolves the user for every view
/// (no `@login_not_required` exemption: the third-party middleware reads it regardless).
fn in_view_behind_login_middleware_or_any(py: &PyModel, at: Node) -> bool {
    let mut cur = at.parent();
    let mut in_function = false;
    while let Some(n) = cur {
        let name = n.child_by_field_name("name").map(|x| py.node_text(x)).unwrap_or("");
        match n.kind() {
            "function_definition" => {
                in_function = true;
                if matches!(name, "__call__" | "__acall__") || name.starts_with("process_") {
                    return false;
                }
            }
            "class_definition" if name.contains("Middleware") => return false,
            _ => {}
        }
        cur = n.parent();
    }
    in_function
}

/// With `LoginRequiredMiddleware` in `MIDDLEWARE`, its sync `process_view` has read
/// `request.user.is_authenticated` (in a worker thread, filling the lazy user's cache) before
/// any view runs, unless the view is marked `@login_not_required`. Not for middleware code
/// (`__call__`, `__acall__`, `process_*`, a `…Middleware` class): it runs before
/// `process_view`.
fn in_view_behind_login_middleware(py: &PyModel, at: Node) -> bool {
    let decorated_not_required = |def_or_class: Node| {
        def_or_class.parent().filter(|p| p.kind() == "decorated_definition").is_some_and(|p| {
            let mut c = p.walk();
            let found = p.named_children(&mut c).any(|d| d.kind() == "decorator" && py.node_text(d).contains("login_not_required"));
            found
        })
    };
    let mut cur = at.parent();
    let mut in_function = false;
    while let Some(n) = cur {
        match n.kind() {
            "function_definition" => {
                in_function = true;
                let name = n.child_by_field_name("name").map(|x| py.node_text(x)).unwrap_or("");
                if matches!(name, "__call__" | "__acall__") || name.starts_with("process_") || decorated_not_required(n) {
                    return false;
                }
            }
            "class_definition" => {
                let name = n.child_by_field_name("name").map(|x| py.node_text(x)).unwrap_or("");
                if name.contains("Middleware") || decorated_not_required(n) {
                    return false;
                }
            }
            _ => {}
        }
        cur = n.parent();
    }
    in_function
}

/// Earlier in the same function, in a statement that runs before the read whenever the read
/// runs, `request.user` was set: `request.user = …` (also `= await …`), or Django's
/// `login` / `alogin` / `logout` / `alogout` (which assign `request.user`) on this request.
/// The read then returns that object: no query.
fn set_before(py: &PyModel, obj: Node, at: Node) -> bool {
    let req = py.node_text(obj);
    let Some(func) = enclosing_function(at) else { return false };
    let Some(body) = func.child_by_field_name("body") else { return false };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.start_byte() >= at.start_byte() {
            continue;
        }
        let sets = match n.kind() {
            "assignment" => n.child_by_field_name("left").is_some_and(|l| {
                l.kind() == "attribute"
                    && l.child_by_field_name("object").is_some_and(|o| py.node_text(o) == req)
                    && l.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "user")
            }),
            "call" => n.child_by_field_name("function").is_some_and(|f| {
                // `login(…)`, or `sync_to_async(login)(…)`.
                let f = match (f.kind(), f.child_by_field_name("function"), f.child_by_field_name("arguments")) {
                    ("call", Some(bridge), Some(args)) if py.resolves_to(bridge, SYNC_TO_ASYNC) => {
                        py.sole_positional(args).unwrap_or(f)
                    }
                    _ => f,
                };
                let path = py.resolve_dotted(py.node_text(f)).unwrap_or_default();
                let auth = ["login", "alogin", "logout", "alogout"]
                    .iter()
                    .any(|m| path == format!("django.contrib.auth.{m}"));
                let first = n.child_by_field_name("arguments").and_then(|a| {
                    let mut c = a.walk();
                    let first = a.named_children(&mut c).find(|x| x.kind() != "comment");
                    first
                });
                auth && first.is_some_and(|x| py.node_text(x) == req)
            }),
            "function_definition" | "lambda" | "class_definition" => continue,
            _ => false,
        };
        if sets && n.end_byte() <= at.start_byte() && dominates(n, at) {
            return true;
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}

/// The statement holding `n` sits in a block that also holds `at` (so it runs first).
fn dominates(n: Node, at: Node) -> bool {
    let mut stmt = n;
    while let Some(p) = stmt.parent() {
        if matches!(p.kind(), "block" | "module") {
            return p.start_byte() <= at.start_byte() && at.end_byte() <= p.end_byte();
        }
        stmt = p;
    }
    false
}

fn enclosing_function(n: Node) -> Option<Node> {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if p.kind() == "function_definition" {
            return Some(p);
        }
        cur = p.parent();
    }
    None
}

/// The attribute is an assignment or `del` target.
fn is_write(attr: Node) -> bool {
    let Some(p) = attr.parent() else { return false };
    match p.kind() {
        "assignment" | "augmented_assignment" => p.child_by_field_name("left").is_some_and(|l| l.id() == attr.id()),
        "delete_statement" => true,
        _ => false,
    }
}
