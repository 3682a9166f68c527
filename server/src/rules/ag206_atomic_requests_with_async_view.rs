//! AG206 atomic-requests-with-async-view: the project's settings set `ATOMIC_REQUESTS` on a
//! database alias and an async view is not excluded with `@transaction.non_atomic_requests`
//! (RULES.md §AG206): Django raises `RuntimeError` for that view on every request.
//!
//! Which functions are views (precision first: an async function that is not known to be a
//! view is silent):
//! - the view argument of `path(…)` / `re_path(…)` (`django.urls`) in a URLconf: a function
//!   of this file or of a project module, resolved by [`PyModel::callee_facts`]; the finding is
//!   at that argument, with the `def` as related location;
//! - a module-level class deriving a Django class-based view whose HTTP handlers
//!   (`get`, `post`, …) are all `async def` (Django's `view_is_async`): the finding is at the
//!   class name; adrf's `APIView` / generic views likewise, and adrf view sets with an `async def` method
//!   of their own (adrf's `view_is_async` looks at every method; inherited ones are not
//!   read: silent); plain DRF views are sync: silent;
//! - a module-level `async def` decorated with a django-ninja operation (`@<r>.get(…)`, `post`,
//!   `put`, `patch`, `delete`, `api_operation`) where `<r>` is a `NinjaAPI(…)` / `Router(…)`
//!   ([`PyModel::is_ninja_router`], also from another project module): ninja serves it from an
//!   async view function of its own that never carries `_non_atomic_requests`
//!   (django-ninja#686), so the exclusion cannot work there: always reported, no fix;
//! - a module-level `async def` under adrf's `@api_view(…)`: the view is what `api_view`
//!   returns, so only a `non_atomic_requests` above it excludes; the fix goes above the
//!   outermost decorator.
//!
//! A function view stays async only through decorators Django makes async-aware
//! ([`DJANGO_KIND_KEEPING`] from their version on) and `non_atomic_requests`; any other
//! decorator makes its kind unknown: silent. Exclusion is per alias: `non_atomic_requests`
//! (bare or `()`) excludes `default`, `(using="x")` / `("x")` excludes `x`; a view is
//! reported when some alias of [`Settings::atomic_requests`](crate::settings::Settings) is not
//! excluded. For a class only `dispatch` counts (as Django copies `dispatch`'s attributes onto
//! the view function): `@method_decorator(non_atomic_requests, name="dispatch")` on the class
//! or `@method_decorator(non_atomic_requests)` on its own `dispatch`.
//!
//! Invariant: the fix (unsafe) only inserts one decorator line (and the imports it needs), in
//! this file, above a `def` or `class` of this file. Any decorator not named here makes a
//! ninja operation or adrf function view unknown: silent.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{imports, python as pyfix, Applicability, Edit, Fix};
use crate::semantic::bridges::DJANGO_KIND_KEEPING;
use crate::semantic::PyModel;
use crate::settings::Settings;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct AtomicRequestsWithAsyncView;

static META: RuleMeta = RuleMeta {
    code: "AG206",
    name: "atomic-requests-with-async-view",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["path", "re_path", "View", "async"]],
    summary: "Async view under `ATOMIC_REQUESTS` without `non_atomic_requests`",
    doc: r#"## AG206 atomic-requests-with-async-view

**What it catches.** The project's settings module sets `ATOMIC_REQUESTS = True` on a
`DATABASES` alias, and an async view is not excluded with `@transaction.non_atomic_requests`
for that alias. Views are the targets of `path(…)` / `re_path(…)` in your URLconfs
(functions of any project module; reported at the `path` argument) and class-based views
whose HTTP handlers are all `async def` (reported at the class), adrf `APIView`s and view
sets (any async method of their own makes adrf serve the whole view set async), adrf `@api_view` functions, and django-ninja operations
(`@router.get(…)` on a `NinjaAPI` / `Router`, also created in another module).

**Why it is wrong.** Django cannot wrap an async view in a transaction: every request to it
raises `RuntimeError: You cannot use ATOMIC_REQUESTS with async views.`

**Example.**
```python
# settings.py: DATABASES["default"]["ATOMIC_REQUESTS"] = True
async def ping(request):                      # bad: path("ping/", ping)
    return JsonResponse({"ok": True})

@transaction.non_atomic_requests              # fixed
async def ping(request):
    return JsonResponse({"ok": True})
```

**Fix** (unsafe: the view loses per-request atomicity; move the writes that need it into a
sync `@transaction.atomic` function called with `sync_to_async`): add
`@transaction.non_atomic_requests` right above the `def` when the view is in the same file;
for a class-based view `@method_decorator(transaction.non_atomic_requests, name="dispatch")`
above the class. For another alias than `default`, `non_atomic_requests(using="alias")`. For adrf's
`@api_view` the decorator goes above `@api_view` (it must mark the view `api_view` returns).
No fix for django-ninja: ninja serves every operation from a view function of its own and
Django never sees `non_atomic_requests` on the operation (django-ninja#686, #1767), so the
decorator does not help; turn `ATOMIC_REQUESTS` off and use `transaction.atomic` in the sync
code that needs it, or make the operation sync.

**Stays silent on** projects whose settings module was not read or sets no
`ATOMIC_REQUESTS` to a literal `True`; async functions that are not views; views excluded for
every atomic alias; function views behind a decorator it does not know (their kind is
unknown); plain Django REST framework views (sync); ninja operations whose router is a
parameter or an attribute of an unknown object, or behind a decorator it does not know.

**Suppress** with `# awaitguard: ignore[AG206]` or `# noqa: AG206` on the line.
"#,
};

const PATH_FUNCS: &[&str] = &["django.urls.path", "django.urls.re_path"];
const HANDLERS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "trace"];

impl Rule for AtomicRequestsWithAsyncView {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn possible(&self, settings: &Settings) -> bool {
        !settings.atomic_requests.is_empty()
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let atomic = &cx.settings.atomic_requests;
        if !self.possible(cx.settings) {
            return;
        }
        // A module of ninja operations may import nothing from Django (its router comes from
        // another module): the URLconf and class checks need Django's imports, 3. does not.
        if py.imports_django {
            self.urlconf_and_classes(cx, py, out);
        }
        ninja_and_adrf_functions(py, atomic, out);
    }
}

impl AtomicRequestsWithAsyncView {
    /// 1. URLconf entries and 2. async class-based views.
    fn urlconf_and_classes(&self, cx: &Ctx, py: &PyModel, out: &mut Vec<Finding>) {
        let atomic = &cx.settings.atomic_requests;
        let version = cx.settings.django_version;
        // 1. URLconf entries.
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(func), Some(args)) = (caps.get("function"), caps.get("args")) else { return };
            if !py.resolves_to(func, PATH_FUNCS) {
                return;
            }
            let mut c = args.walk();
            let positional: Vec<Node> =
                args.named_children(&mut c).filter(|a| !matches!(a.kind(), "keyword_argument" | "comment")).collect();
            let view = match positional.get(1) {
                Some(&v) => v,
                None => {
                    let mut c = args.walk();
                    let kw = args.named_children(&mut c).find(|a| {
                        a.kind() == "keyword_argument" && a.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "view")
                    });
                    match kw.and_then(|k| k.child_by_field_name("value")) {
                        Some(v) => v,
                        None => return,
                    }
                }
            };
            if !matches!(view.kind(), "identifier" | "attribute") {
                return;
            }
            // A `def` of this file: its header (`callee_facts` gives up on decorators it does
            // not know, `non_atomic_requests` among them); else the project model.
            let local = (view.kind() == "identifier"
                && py.import_of(py.node_text(view)).is_none()
                && py.binding(py.node_text(view), view.start_byte()).is_some_and(|b| b.value.is_none()))
            .then(|| py.module_def_named(py.node_text(view)))
            .flatten();
            let facts = match local {
                Some(def) => {
                    let h = py.local_fn_header(def);
                    crate::semantic::outside::FnFacts { is_async: h.is_async, decorators: h.decorators, ..Default::default() }
                }
                None => match py.callee_facts(view) {
                    Some(f) => f,
                    None => return,
                },
            };
            if !facts.is_async || !stays_async(&facts.decorators, version) {
                return;
            }
            let missing = not_excluded(atomic, &facts.decorators);
            let Some(alias) = missing.first() else { return };
            let name = short(py.node_text(view), 36);
            let message = format!("Async view `{name}` fails under `ATOMIC_REQUESTS` on `{}`", short(alias, 20));
            let mut fixes = vec![];
            if let Some(fix) = local.and_then(|def| decorator_fix(py, def, &missing, Anchor::Def)) {
                fixes.push(fix);
            }
            let mut f = Finding::new(&META, view.byte_range(), message, fixes);
            f.related = facts.loc.into_iter().collect();
            out.push(f);
        });
        // 2. Async class-based views.
        let root = py.tree.root_node();
        let mut c = root.walk();
        for top in root.named_children(&mut c) {
            let class = if top.kind() == "decorated_definition" { top.child_by_field_name("definition") } else { Some(top) };
            let Some(class) = class.filter(|n| n.kind() == "class_definition") else { continue };
            let Some(name_node) = class.child_by_field_name("name") else { continue };
            let name = py.node_text(name_node);
            let bases = py.class_lib_bases(name, 0);
            let django_view =
                bases.iter().any(|b| b.starts_with("django.") && b.split('.').any(|c| c == "views" || c == "generic"));
            // adrf's view sets route actions (`list`, `create` …); plain DRF is sync.
            let adrf_viewset = bases.iter().any(|b| b.starts_with("adrf.viewsets."));
            let adrf_view = adrf_viewset || bases.iter().any(|b| b.starts_with("adrf.views.") || b.starts_with("adrf.generics."));
            if !django_view && !adrf_view {
                continue;
            }
            let methods = methods(py, class);
            if adrf_viewset {
                // adrf's `view_is_async`: any async method of the view set (its own, here).
                if !methods.iter().any(|m| m.1 && !m.0.starts_with("__")) {
                    continue;
                }
            } else {
                let handlers: Vec<&(String, bool, Vec<String>)> =
                    methods.iter().filter(|m| HANDLERS.contains(&m.0.as_str())).collect();
                if handlers.is_empty() || !handlers.iter().all(|m| m.1) {
                    continue;
                }
            }
            // Attributes Django copies onto the view function come from `dispatch`.
            let mut decorators: Vec<String> = class_decorators(py, class)
                .into_iter()
                .filter(|d| d.contains("name=\"dispatch\"") || d.contains("name='dispatch'"))
                .collect();
            if let Some(d) = methods.iter().find(|m| m.0 == "dispatch") {
                decorators.extend(d.2.iter().cloned());
            }
            let missing = not_excluded(atomic, &decorators);
            let Some(alias) = missing.first() else { continue };
            let message = format!("Async class-based view `{}` fails under `ATOMIC_REQUESTS` on `{}`", short(name, 36), short(alias, 20));
            let fixes = decorator_fix(py, class, &missing, Anchor::Class).into_iter().collect();
            out.push(Finding::new(&META, name_node.byte_range(), message, fixes));
        }
    }
}

/// 3. django-ninja operations and adrf `@api_view` functions (module-level `def`s).
fn ninja_and_adrf_functions(py: &PyModel, atomic: &[String], out: &mut Vec<Finding>) {
    {
        let root = py.tree.root_node();
        let mut c = root.walk();
        for top in root.named_children(&mut c).filter(|n| n.kind() == "decorated_definition") {
            let Some(def) = top.child_by_field_name("definition").filter(|d| d.kind() == "function_definition") else { continue };
            let Some(name_node) = def.child_by_field_name("name") else { continue };
            if !def.child(0).is_some_and(|c| c.kind() == "async") {
                continue;
            }
            let mut dc = top.walk();
            let decs: Vec<Node> =
                top.named_children(&mut dc).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).collect();
            let name = short(py.node_text(name_node), 36);
            if let Some(found) = ninja_operation(py, &decs, atomic) {
                let message = format!("Async django-ninja operation `{name}` fails under `ATOMIC_REQUESTS` on `{}`", short(&found, 20));
                out.push(Finding::new(&META, name_node.byte_range(), message, vec![]));
                continue;
            }
            // adrf: `api_view` builds the view, so only a `non_atomic_requests` above it counts.
            let Some(pos) = decs.iter().position(|d| is_adrf_api_view(py, *d)) else { continue };
            let (above, below) = (&decs[..pos], &decs[pos + 1..]);
            let known = |d: &Node| {
                let callee = if d.kind() == "call" { d.child_by_field_name("function") } else { Some(*d) };
                callee.is_some_and(|f| py.node_text(f).rsplit('.').next() == Some("non_atomic_requests"))
            };
            if !below.iter().chain(above.iter()).all(known) {
                continue;
            }
            let above_text: Vec<String> = above.iter().map(|d| py.node_text(*d).to_string()).collect();
            let missing = not_excluded(atomic, &above_text);
            let Some(alias) = missing.first() else { continue };
            let message = format!("Async adrf view `{name}` fails under `ATOMIC_REQUESTS` on `{}`", short(alias, 20));
            let fixes = decorator_fix(py, def, &missing, Anchor::Outermost).into_iter().collect();
            out.push(Finding::new(&META, name_node.byte_range(), message, fixes));
        }
    }
}

/// django-ninja's operation decorators on a `NinjaAPI` / `Router`.
const NINJA_OPS: &[&str] = &["get", "post", "put", "patch", "delete", "api_operation"];

/// `dec` (a decorator's expression) is adrf's `api_view(…)`.
fn is_adrf_api_view(py: &PyModel, dec: Node) -> bool {
    let callee = if dec.kind() == "call" { dec.child_by_field_name("function") } else { Some(dec) };
    callee.is_some_and(|f| py.resolves_to(f, &["adrf.decorators.api_view"]))
}

/// The function's decorators make it a django-ninja operation whose kind stays async (every
/// other decorator is an operation decorator or `non_atomic_requests`, which ninja ignores):
/// the first atomic alias (ninja's own view function never carries the exclusion).
fn ninja_operation(py: &PyModel, decs: &[Node], atomic: &[String]) -> Option<String> {
    let is_op = |d: &Node| {
        d.kind() == "call"
            && d.child_by_field_name("function").is_some_and(|f| {
                f.kind() == "attribute"
                    && f.child_by_field_name("attribute").is_some_and(|a| NINJA_OPS.contains(&py.node_text(a)))
                    && f.child_by_field_name("object").is_some_and(|o| py.is_ninja_router(o))
            })
    };
    if !decs.iter().any(is_op) {
        return None;
    }
    let others_known = decs.iter().filter(|d| !is_op(d)).all(|d| {
        let callee = if d.kind() == "call" { d.child_by_field_name("function") } else { Some(*d) };
        callee.is_some_and(|f| py.node_text(f).rsplit('.').next() == Some("non_atomic_requests"))
    });
    others_known.then(|| atomic.first().cloned()).flatten()
}

/// The methods of `class` (name, async, decorators as written).
fn methods(py: &PyModel, class: Node) -> Vec<(String, bool, Vec<String>)> {
    let Some(body) = class.child_by_field_name("body") else { return vec![] };
    let mut c = body.walk();
    body.named_children(&mut c)
        .filter_map(|n| {
            let (def, decs) = match n.kind() {
                "decorated_definition" => {
                    let def = n.child_by_field_name("definition")?;
                    let mut c = n.walk();
                    let decs = n
                        .named_children(&mut c)
                        .filter(|d| d.kind() == "decorator")
                        .map(|d| py.node_text(d).trim_start_matches('@').trim().to_string())
                        .collect();
                    (def, decs)
                }
                _ => (n, vec![]),
            };
            if def.kind() != "function_definition" {
                return None;
            }
            let name = py.node_text(def.child_by_field_name("name")?).to_string();
            Some((name, def.child(0).is_some_and(|c| c.kind() == "async"), decs))
        })
        .collect()
}

fn class_decorators(py: &PyModel, class: Node) -> Vec<String> {
    let Some(p) = class.parent().filter(|p| p.kind() == "decorated_definition") else { return vec![] };
    let mut c = p.walk();
    p.named_children(&mut c)
        .filter(|d| d.kind() == "decorator")
        .map(|d| py.node_text(d).trim_start_matches('@').trim().to_string())
        .collect()
}

/// The function keeps its `async` kind through its decorators: every one is
/// `non_atomic_requests` or a Django view decorator that supports async views at `version`.
fn stays_async(decorators: &[String], version: crate::dialects::Version) -> bool {
    decorators.iter().all(|d| {
        let callee = d.split('(').next().unwrap_or("").trim();
        let last = callee.rsplit('.').next().unwrap_or("");
        last == "non_atomic_requests" || DJANGO_KIND_KEEPING.iter().any(|(n, since)| *n == last && version >= *since)
    })
}

/// The atomic aliases that `decorators` do not exclude.
fn not_excluded(atomic: &[String], decorators: &[String]) -> Vec<String> {
    let mut excluded: Vec<String> = vec![];
    for d in decorators {
        let Some(pos) = d.find("non_atomic_requests") else { continue };
        let rest = d[pos + "non_atomic_requests".len()..].trim_start();
        // `non_atomic_requests` / `non_atomic_requests()` / inside `method_decorator(…)`.
        let args = rest.strip_prefix('(').and_then(|r| r.split(')').next()).unwrap_or("");
        let quoted: Vec<&str> = args.split(['"', '\'']).skip(1).step_by(2).collect();
        match quoted.first() {
            Some(a) if !d.starts_with("method_decorator") || !args.is_empty() => excluded.push(a.to_string()),
            _ => excluded.push("default".to_string()),
        }
    }
    atomic.iter().filter(|a| !excluded.contains(a)).cloned().collect()
}

/// Where the excluding decorator goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Right above a function's `def` (innermost).
    Def,
    /// Above a function's outermost decorator (adrf's `api_view` builds the view).
    Outermost,
    /// Above a class's decorators, as `method_decorator(…, name="dispatch")`.
    Class,
}

/// Inserts the excluding decorator right above `def` (innermost) or above the class's
/// decorators, with the imports it needs. `None` where `transaction` / `method_decorator`
/// name something else in this file.
fn decorator_fix(py: &PyModel, def: Node, aliases: &[String], anchor: Anchor) -> Option<Fix> {
    let class = anchor == Anchor::Class;
    if py.import_of("transaction").is_some_and(|p| p != "django.db.transaction")
        || (py.import_of("transaction").is_none() && py.word_taken("transaction"))
    {
        return None;
    }
    let mut arg = String::from("transaction.non_atomic_requests");
    let quoted: Vec<String> = aliases.iter().map(|a| format!("\"{a}\"")).collect();
    if aliases != ["default"] {
        arg = format!("transaction.non_atomic_requests(using=[{}])", quoted.join(", "));
        if aliases.len() == 1 {
            arg = format!("transaction.non_atomic_requests(using={})", quoted[0]);
        }
    }
    let line = if class {
        if py.import_of("method_decorator").is_some_and(|p| p != "django.utils.decorators.method_decorator")
            || (py.import_of("method_decorator").is_none() && py.word_taken("method_decorator"))
        {
            return None;
        }
        format!("@method_decorator({arg}, name=\"dispatch\")")
    } else {
        format!("@{arg}")
    };
    // Above the class's own decorators; right above a function's `def` (innermost).
    let anchor = match anchor {
        Anchor::Def => def,
        Anchor::Class | Anchor::Outermost => def.parent().filter(|p| p.kind() == "decorated_definition").unwrap_or(def),
    };
    let line_start = py.src[..anchor.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &py.src[line_start..anchor.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let nl = pyfix::line_ending(py.src);
    let mut edits = vec![Edit::insert(anchor.start_byte(), format!("{line}{nl}{indent}"))];
    if py.import_of("transaction").is_none() {
        edits.extend(imports::ensure_import(py, "django.db", "transaction"));
    }
    if class && py.import_of("method_decorator").is_none() {
        edits.extend(imports::ensure_import(py, "django.utils.decorators", "method_decorator"));
    }
    Some(Fix { title: format!("Add `{line}`"), applicability: Applicability::Unsafe, edits })
}
