//! AG105 request-user-in-async: reading `request.user` in async code (RULES.md §AG105).
//! Resolving the lazy user queries the database when the session holds one.
//!
//! `request` must be a parameter of the enclosing function (or `self.request` in a class-based
//! view); writes (`request.user = u`) stay silent.

use super::ag101_sync_orm_call::no_fix_reason;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django_api::V5_0;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
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
fix (`await sync_to_async(lambda: request.user.is_authenticated)()` by hand). With Django REST
framework or django-ninja requests (`request.user` has their own semantics): no fix.

**Stays silent on** sync views, `await request.auser()`, writes (`request.user = user`), and
offloaded code.
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
        let Some(py) = cx.py else { return };
        if !py.imports_django {
            return;
        }
        let foreign_request = py.imports.values().any(|p| {
            let top = p.split('.').next().unwrap_or("");
            matches!(top, "rest_framework" | "ninja" | "adrf")
        });
        cx.for_each_match(QueryId::PyUserAttribute, |caps| {
            let (Some(attr), Some(obj)) = (caps.get("attribute"), caps.get("object")) else { return };
            if !is_request(py, obj) || is_write(attr) {
                return;
            }
            let ctx = py.context_at(attr.start_byte());
            if !ctx.is_async() || py.in_offload_args(attr.start_byte()) {
                return;
            }
            let req = py.node_text(obj);
            let mut message = format!(
                "`{req}.user` in async code: resolving the user queries the database when the session holds one (SynchronousOnlyOperation). "
            );
            let mut fixes = vec![];
            if foreign_request {
                message.push_str("This file uses a REST framework request whose `user` has its own semantics: resolve the user in a sync function called through `sync_to_async`");
            } else if cx.settings.django_version < V5_0 {
                message.push_str(&format!(
                    "`{req}.auser()` needs Django 5.0 (configured {}): read it through `sync_to_async`",
                    cx.settings.django_version
                ));
            } else {
                message.push_str(&format!("Use `await {req}.auser()`"));
                if ctx.await_ok() {
                    let text = format!("await {req}.auser()");
                    let text = if pyfix::needs_parens(attr) { format!("({text})") } else { text };
                    fixes.push(Fix {
                        title: format!("Replace with `await {req}.auser()`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(attr.byte_range(), text)],
                    });
                } else {
                    message.push_str(no_fix_reason(ctx));
                }
            }
            out.push(Finding::new(&META, attr.byte_range(), message, fixes));
        });
    }
}

/// `request` bound as a parameter, or `self.request`.
fn is_request(py: &PyModel, obj: Node) -> bool {
    match obj.kind() {
        "identifier" => {
            py.node_text(obj) == "request"
                && py.binding("request", obj.start_byte()).is_some_and(|b| b.value.is_none() && b.pos == 0)
        }
        "attribute" => py.node_text(obj) == "self.request",
        _ => false,
    }
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
