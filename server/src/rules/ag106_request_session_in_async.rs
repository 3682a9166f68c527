//! AG106 request-session-in-async: sync access to `request.session` in async code
//! (RULES.md §AG106). The session loads lazily on first access; under a database-backed
//! `SESSION_ENGINE` that load is a query.
//!
//! Candidates are `request.session` reads where `request` is a parameter of the enclosing
//! function, and `self.request.session` in a method of a class-based view (a module-level
//! class deriving a Django view or an adrf view, `self` its first parameter); the use around it decides: a sync `SessionBase` method call, `[k]` read, `[k] = v`,
//! `del [k]`, `k in` / `k not in`. Any other use (passing the session on, `.modified`,
//! `.session_key`, `.clear()`, `.save()`, which is AG108's sink) is silent.
//!
//! Invariants: silent unless the project's settings module was read and its `SESSION_ENGINE`
//! is known to do I/O ([`Settings::session_kind`](crate::settings::Settings)): unknown is
//! silent, `signed_cookies` is silent, blocking engines warn, database-backed ones are errors.
//! A fix is offered only from Django 5.1 (the first with the session's `a*` methods) and only
//! where `await` is legal.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::Version;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::PyModel;
use crate::settings::{CacheKind, Settings};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

/// The first Django with `SessionBase.aget` and the other async session methods.
const V5_1: Version = Version(5, 1, 0);

/// Sync `SessionBase` methods that load the session and have an `a*` twin in Django 5.1.
const METHODS: &[&str] = &[
    "get",
    "has_key",
    "pop",
    "setdefault",
    "update",
    "keys",
    "values",
    "items",
    "get_expiry_age",
    "get_expiry_date",
    "set_expiry",
    "get_expire_at_browser_close",
    "flush",
    "cycle_key",
    "set_test_cookie",
    "test_cookie_worked",
    "delete_test_cookie",
];

pub struct RequestSessionInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG106",
    name: "request-session-in-async",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"], &["session"]],
    summary: "Sync `request.session` access in async code",
    doc: r#"## AG106 request-session-in-async

**What it catches.** In an async view (or any async function taking `request`, or an async
method of a Django / adrf class-based view using `self.request.session`), sync access to
`request.session`: `request.session[k]`, `request.session[k] = v`, `del request.session[k]`,
`k in request.session`, and the sync session methods (`get`, `has_key`, `pop`, `setdefault`,
`update`, `keys`, `values`, `items`, `get_expiry_age`, `get_expiry_date`, `set_expiry`,
`get_expire_at_browser_close`, `flush`, `cycle_key`, `set_test_cookie`, `test_cookie_worked`,
`delete_test_cookie`).

**Why it is wrong.** The session is loaded on first access. With a database-backed
`SESSION_ENGINE` (`db`, the default, `cached_db`, or another engine) that load is a query:
`SynchronousOnlyOperation`. The `cache` engine (and `file`) blocks the event loop instead
(an error when every cache alias is a `DatabaseCache`).

**Example.**
```python
async def cart(request):
    items = request.session.get("cart", [])            # AG106
    items = await request.session.aget("cart", [])     # fixed
    request.session["seen"] = True                     # AG106
    await request.session.aset("seen", True)          # fixed
```

**Fix** (Django 5.1+, where `await` is allowed): `await request.session.a<method>(…)`, safe;
`[k] = v` (a plain assignment statement) → `await request.session.aset(k, v)`, safe;
`k in request.session` → `await request.session.ahas_key(k)`, safe; a `[k]` read →
`await request.session.aget(k)`, **unsafe** (`aget` returns `None` where `[k]` raised
`KeyError`). No fix for `del request.session[k]` (no async form), augmented assignment
(`+=`), and below Django 5.1.

**Severity** follows the project's settings module: error for database-backed engines,
warning for `cache` / `file`.

**Stays silent on** the `signed_cookies` engine (no I/O), a project whose settings module
was not found or whose `SESSION_ENGINE` is not a literal (unknown), `a*` session calls,
sync and offloaded code, `request.session.modified` / `.session_key` / `.clear()` (no load),
`request.session.save()` (AG108 reports it), `request` names that are not a parameter
of the function, and `self.request` outside Django / adrf view classes (Channels consumers
use `self.scope["session"]`).

Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG106]` or `# noqa: AG106` on the line.
"#,
};

impl Rule for RequestSessionInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn possible(&self, settings: &Settings) -> bool {
        !matches!(settings.session_kind, CacheKind::NoIo | CacheKind::Unknown)
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.django() else { return };
        let severity = match cx.settings.session_kind {
            CacheKind::Database => Severity::Error,
            CacheKind::Blocking => Severity::Warning,
            CacheKind::NoIo | CacheKind::Unknown => return,
        };
        let fixable = cx.settings.django_version >= V5_1;
        cx.for_each_match(QueryId::PyAttributeReads, |caps| {
            let (Some(read), Some(obj), Some(attr)) = (caps.get("attribute"), caps.get("object"), caps.get("attr")) else {
                return;
            };
            // `request.session`, or `self.request.session` (the match is `self.request`).
            let (session, obj) = match py.node_text(attr) {
                "session" => (read, obj),
                "request" if py.node_text(obj) == "self" => {
                    let Some(up) = read.parent().filter(|p| {
                        p.kind() == "attribute"
                            && p.child_by_field_name("object").is_some_and(|o| o.id() == read.id())
                            && p.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "session")
                    }) else {
                        return;
                    };
                    (up, read)
                }
                _ => return,
            };
            if !is_request_param(py, obj) {
                return;
            }
            let ctx = py.context_at(session.start_byte());
            if !ctx.is_async() || py.in_offload_args(session.start_byte()) {
                return;
            }
            let Some(access) = access(py, session) else { return };
            let s = py.node_text(session);
            let (node, message, fix) = match access {
                Access::Method { call, name, args } => (
                    call,
                    format!("`{s}.{name}()` loads the session on the event loop"),
                    Some((format!("await {s}.a{name}{args}"), Applicability::Safe, format!("Replace with `await {s}.a{name}(…)`"))),
                ),
                Access::Read { sub, key } => (
                    sub,
                    format!("`{s}[…]` loads the session on the event loop"),
                    Some((
                        format!("await {s}.aget({key})"),
                        Applicability::Unsafe,
                        format!("Replace with `await {s}.aget(…)` (returns None instead of raising KeyError)"),
                    )),
                ),
                Access::Assign { stmt, key, value } => (
                    stmt,
                    format!("`{s}[…] = …` loads the session on the event loop"),
                    Some((format!("await {s}.aset({key}, {value})"), Applicability::Safe, format!("Replace with `await {s}.aset(…)`"))),
                ),
                Access::NoFix { node, what } => (node, format!("`{what}` loads the session on the event loop"), None),
                Access::Contains { cmp, key, negated } => (
                    cmp,
                    format!("`… in {s}` loads the session on the event loop"),
                    Some((
                        format!("{}await {s}.ahas_key({key})", if negated { "not " } else { "" }),
                        Applicability::Safe,
                        format!("Replace with `await {s}.ahas_key(…)`"),
                    )),
                ),
            };
            let mut message = message;
            let mut fixes = vec![];
            if !fixable {
                message.push_str(" (its async form needs Django 5.1)");
            } else if let Some((text, applicability, title)) = fix {
                if ctx.await_ok() {
                    let text = if pyfix::needs_parens(node) { format!("({text})") } else { text };
                    fixes.push(Fix { title, applicability, edits: vec![Edit::replace(node.byte_range(), text)] });
                }
            }
            let mut f = Finding::new(&META, node.byte_range(), message, fixes);
            f.severity = severity;
            out.push(f);
        });
    }
}

/// How the code uses `request.session`.
enum Access<'t> {
    /// `request.session.<name><args>` for a method of [`METHODS`].
    Method { call: Node<'t>, name: &'t str, args: &'t str },
    /// `request.session[key]` read.
    Read { sub: Node<'t>, key: &'t str },
    /// The statement `request.session[key] = value`.
    Assign { stmt: Node<'t>, key: &'t str, value: &'t str },
    /// `key in request.session` / `key not in request.session`.
    Contains { cmp: Node<'t>, key: &'t str, negated: bool },
    /// A loading access with no async rewrite (`del …[k]`, `…[k] += v`).
    NoFix { node: Node<'t>, what: String },
}

fn access<'t>(py: &PyModel<'t>, session: Node<'t>) -> Option<Access<'t>> {
    let parent = session.parent()?;
    let is_field = |n: Node, field: &str| n.child_by_field_name(field).is_some_and(|c| c.id() == session.id());
    match parent.kind() {
        "attribute" if is_field(parent, "object") => {
            let name = py.node_text(parent.child_by_field_name("attribute")?);
            let call = parent.parent().filter(|c| c.kind() == "call" && c.child_by_field_name("function").is_some_and(|f| f.id() == parent.id()))?;
            let args = call.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list")?;
            METHODS.contains(&name).then(|| Access::Method { call, name, args: py.node_text(args) })
        }
        "subscript" if is_field(parent, "value") => {
            let key = parent.child_by_field_name("subscript")?;
            // One plain key (no slice, no tuple of keys).
            if parent.named_child_count() != 2 || matches!(key.kind(), "slice" | "tuple") {
                return None;
            }
            let key_text = py.node_text(key);
            let s = py.node_text(session);
            let up = parent.parent()?;
            match up.kind() {
                "assignment" if up.child_by_field_name("left").is_some_and(|l| l.id() == parent.id()) => {
                    let value = up.child_by_field_name("right")?;
                    let stmt = up.parent().filter(|p| p.kind() == "expression_statement" && p.named_child_count() == 1);
                    match stmt {
                        Some(_) if value.kind() != "assignment" && up.child_by_field_name("type").is_none() => {
                            Some(Access::Assign { stmt: up, key: key_text, value: py.node_text(value) })
                        }
                        _ => Some(Access::NoFix { node: parent, what: format!("{s}[…] = …") }),
                    }
                }
                "augmented_assignment" if up.child_by_field_name("left").is_some_and(|l| l.id() == parent.id()) => {
                    Some(Access::NoFix { node: parent, what: format!("{s}[…] op= …") })
                }
                "delete_statement" => Some(Access::NoFix { node: parent, what: format!("del {s}[…]") }),
                "expression_list" if up.parent().is_some_and(|p| p.kind() == "delete_statement") => {
                    Some(Access::NoFix { node: parent, what: format!("del {s}[…]") })
                }
                // Another assignment target (`a, request.session[k] = …`, `for … in`): no rewrite.
                "pattern_list" | "tuple_pattern" | "list_pattern" => Some(Access::NoFix { node: parent, what: format!("{s}[…] = …") }),
                _ => Some(Access::Read { sub: parent, key: key_text }),
            }
        }
        "comparison_operator" => {
            // Exactly `<key> in <session>` / `<key> not in <session>`, the session on the right.
            let mut c = parent.walk();
            let kids: Vec<Node> = parent.children(&mut c).collect();
            let ops: Vec<&str> = kids.iter().filter(|k| !k.is_named()).map(|k| k.kind()).collect();
            let named: Vec<Node> = kids.iter().copied().filter(|k| k.is_named()).collect();
            if named.len() != 2 || named[1].id() != session.id() || named[0].kind() == "comment" {
                return None;
            }
            let negated = match ops.as_slice() {
                ["in"] => false,
                ["not in"] | ["not", "in"] => true,
                _ => return None,
            };
            Some(Access::Contains { cmp: parent, key: py.node_text(named[0]), negated })
        }
        _ => None,
    }
}

/// `request` is a parameter of the function the read is in (not a name bound otherwise), or
/// `self.request` in a method of a class-based view ([`is_view_method`]).
fn is_request_param(py: &PyModel, obj: Node) -> bool {
    if obj.kind() == "attribute" {
        let (Some(base), Some(attr)) = (obj.child_by_field_name("object"), obj.child_by_field_name("attribute")) else {
            return false;
        };
        return base.kind() == "identifier"
            && py.node_text(base) == "self"
            && py.node_text(attr) == "request"
            && py.binding("self", base.start_byte()).is_some_and(|b| b.value.is_none() && b.pos == 0)
            && is_view_method(py, obj);
    }
    obj.kind() == "identifier"
        && py.node_text(obj) == "request"
        && py.binding("request", obj.start_byte()).is_some_and(|b| b.value.is_none() && b.pos == 0)
}

/// `n` is inside a method (directly in the class body) of a module-level class deriving a
/// Django class-based view or an adrf view (where `as_view` sets `self.request`). Channels
/// consumers, plain DRF views and other classes are silent.
fn is_view_method(py: &PyModel, n: Node) -> bool {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if matches!(p.kind(), "function_definition" | "lambda" | "class_definition") {
            break;
        }
        cur = p.parent();
    }
    let Some(def) = cur.filter(|d| d.kind() == "function_definition") else { return false };
    let holder = def.parent().filter(|p| p.kind() == "decorated_definition").unwrap_or(def);
    let Some(class) = holder.parent().filter(|b| b.kind() == "block").and_then(|b| b.parent()) else { return false };
    if class.kind() != "class_definition" {
        return false;
    }
    let Some(name) = class.child_by_field_name("name") else { return false };
    py.class_lib_bases(py.node_text(name), 0).iter().any(|b| {
        (b.starts_with("django.") && b.split('.').any(|c| c == "views" || c == "generic")) || b.starts_with("adrf.")
    })
}
