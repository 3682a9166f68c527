//! AG108's library sinks: Django and DRF calls that run queries on the caller's behalf, in
//! async context. Each is reported only where the class is known: a serializer or form class
//! declared in this file or the project whose bases (through project classes) reach DRF's /
//! adrf's `ModelSerializer` or Django's `ModelForm`; a `Paginator` or template context built
//! from an expression the model knows to be a queryset; `request.session`.

use super::super::{short, Ctx, Finding};
use super::{bridge_for, META};
use crate::dialects::Version;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::instances::{strip_parens, Value};
use crate::semantic::{Context, PyModel};
use crate::syntax::QueryId;
use tree_sitter::Node;

/// What a serializer or form class is, from its library bases.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// DRF `ModelSerializer` (or `HyperlinkedModelSerializer`).
    Serializer,
    /// adrf's `ModelSerializer`: has `adata`, `ais_valid()`, `asave()`.
    AdrfSerializer,
    /// Django `ModelForm`.
    ModelForm,
}

fn classify(lib_bases: &[String]) -> Option<Class> {
    let any = |f: &dyn Fn(&str) -> bool| lib_bases.iter().any(|b| f(b));
    if any(&|b| b.starts_with("adrf.") && b.ends_with("ModelSerializer")) {
        Some(Class::AdrfSerializer)
    } else if any(&|b| b.starts_with("rest_framework.") && b.ends_with("ModelSerializer")) {
        Some(Class::Serializer)
    } else if any(&|b| matches!(b, "django.forms.ModelForm" | "django.forms.models.ModelForm")) {
        Some(Class::ModelForm)
    } else {
        None
    }
}

/// The class of the instance `e` is: `C(…)` or a name bound to `C(…)`, `C` a project class.
fn instance_class<'t>(py: &PyModel<'t>, e: Node<'t>) -> Option<Class> {
    let e = strip_parens(e);
    let ctor = match e.kind() {
        "call" => e,
        "identifier" => strip_parens(py.binding(py.node_text(e), e.start_byte())?.value?),
        _ => return None,
    };
    if ctor.kind() != "call" {
        return None;
    }
    let func = ctor.child_by_field_name("function")?;
    let lib = match func.kind() {
        "identifier" if py.classes.contains_key(py.node_text(func)) => py.class_lib_bases(py.node_text(func), 0),
        "identifier" | "attribute" => {
            let text = py.node_text(func);
            let (head, tail) = text.split_once('.').map_or((text, None), |(h, t)| (h, Some(t)));
            if py.binding(head, func.start_byte()).is_some_and(|b| b.value.is_some()) {
                return None;
            }
            match py.imported_def(head, tail)? {
                crate::semantic::outside::PyDef::Class(c) => c.lib_bases.clone(),
                _ => return None,
            }
        }
        _ => return None,
    };
    classify(&lib)
}

/// A sink that is a call: `serializer.is_valid()` / `.save()`, `form.is_valid()` /
/// `.save()`, `request.session.save()`, `render(…)` / `render_to_string(…)` /
/// `TemplateResponse(…).render()` with a queryset in the context.
pub(super) fn call_sink<'t>(py: &PyModel<'t>, cx: &Ctx, call: Node<'t>, func: Node<'t>, ctx: Context) -> Option<Finding> {
    let version = cx.settings.django_version;
    if func.kind() == "attribute" {
        let obj = func.child_by_field_name("object")?;
        let m = py.node_text(func.child_by_field_name("attribute")?);
        let recv = short(py.node_text(obj), 32);
        let method = func.child_by_field_name("attribute")?;
        if m == "save" && matches!(py.node_text(obj), "request.session" | "self.request.session") {
            let twin = (version >= Version(5, 1, 0)).then_some("asave");
            return Some(finding(
                py,
                call,
                func,
                ctx,
                format!("`{recv}.save()` writes the session synchronously in async code"),
                twin.map(|t| (format!("await {recv}.{t}()"), vec![Edit::replace(method.byte_range(), t)])),
            ));
        }
        if matches!(m, "is_valid" | "save") {
            let class = instance_class(py, obj)?;
            let what = match (class, m) {
                (Class::ModelForm, "is_valid") => format!("`{recv}.is_valid()` on a ModelForm runs queries in async code"),
                (Class::ModelForm, _) => format!("`{recv}.save()` on a ModelForm saves synchronously in async code"),
                (_, "is_valid") => format!("`{recv}.is_valid()` on a ModelSerializer runs queries in async code"),
                _ => format!("`{recv}.save()` on a ModelSerializer saves synchronously in async code"),
            };
            let twin = (class == Class::AdrfSerializer).then(|| {
                let t = if m == "save" { "asave" } else { "ais_valid" };
                (format!("await {recv}.{t}()"), vec![Edit::replace(method.byte_range(), t)])
            });
            return Some(finding(py, call, func, ctx, what, twin));
        }
        if m == "render" {
            // `TemplateResponse(…).render()`
            let ctor = strip_parens(obj);
            if ctor.kind() == "call" && py.resolves_to(ctor.child_by_field_name("function")?, &TEMPLATE_RESPONSE) {
                let context = context_arg(py, ctor, 2)?;
                return Some(finding(py, call, func, ctx, render_what(py, context, "TemplateResponse(…).render()"), None));
            }
        }
        return None;
    }
    if py.resolves_to(func, &["django.shortcuts.render"]) {
        let context = context_arg(py, call, 2)?;
        return Some(finding(py, call, func, ctx, render_what(py, context, "render()"), None));
    }
    if py.resolves_to(func, &["django.template.loader.render_to_string"]) {
        let context = context_arg(py, call, 1)?;
        return Some(finding(py, call, func, ctx, render_what(py, context, "render_to_string()"), None));
    }
    let _ = version;
    None
}

const TEMPLATE_RESPONSE: [&str; 2] = ["django.template.response.TemplateResponse", "django.template.TemplateResponse"];

/// The context argument of a render call (positional `pos`, or `context=`), when it is a dict
/// literal holding a queryset: that value.
fn context_arg<'t>(py: &PyModel<'t>, call: Node<'t>, pos: usize) -> Option<Node<'t>> {
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    let all: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "comment").collect();
    if all.iter().any(|a| matches!(a.kind(), "list_splat" | "dictionary_splat")) {
        return None;
    }
    let by_kw = all.iter().find(|a| {
        a.kind() == "keyword_argument" && a.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "context")
    });
    let ctx = match by_kw {
        Some(k) => k.child_by_field_name("value")?,
        None => *all.iter().filter(|a| a.kind() != "keyword_argument").nth(pos)?,
    };
    let ctx = strip_parens(ctx);
    let dict = match ctx.kind() {
        "dictionary" => ctx,
        "identifier" => strip_parens(py.binding(py.node_text(ctx), ctx.start_byte())?.value?),
        _ => return None,
    };
    if dict.kind() != "dictionary" {
        return None;
    }
    let mut c = dict.walk();
    let found = dict
        .named_children(&mut c)
        .filter(|p| p.kind() == "pair")
        .filter_map(|p| p.child_by_field_name("value"))
        .find(|v| py.value(*v) == Value::QuerySet);
    found
}

fn render_what(py: &PyModel, qs: Node, call: &str) -> String {
    format!("`{call}` renders the queryset `{}` synchronously in async code", short(py.node_text(qs), 32))
}

/// The finding for a sink call: `twin` is the async replacement where the library has one
/// (the text shown, the edits besides `await`); else the `sync_to_async` wrap.
fn finding<'t>(
    py: &PyModel<'t>,
    call: Node<'t>,
    func: Node<'t>,
    ctx: Context,
    what: String,
    twin: Option<(String, Vec<Edit>)>,
) -> Finding {
    let (module, bridge) = bridge_for(py);
    let fname = short(py.node_text(func), 40);
    let message = what;
    let mut fixes = vec![];
    // Why there is no fix is in the rule doc, not the message (issue 22).
    if !ctx.await_ok() {
        return Finding::new(&META, call.byte_range(), message, fixes);
    }
    if let Some((shown, mut edits)) = twin {
        edits.extend(pyfix::await_edits(call));
        fixes.push(Fix { title: format!("Replace with `{shown}`"), applicability: Applicability::Safe, edits });
    } else if let Some(edits) = pyfix::offload_call(py, call, module, bridge) {
        fixes.push(Fix { title: format!("Wrap in `await {bridge}({fname})(…)`"), applicability: Applicability::Safe, edits });
    }
    Finding::new(&META, call.byte_range(), message, fixes)
}

/// Sinks that are attribute reads: `serializer.data` on a ModelSerializer, `paginator.count`
/// / `paginator.num_pages` on a Paginator over a queryset.
pub(super) fn attribute_sinks(py: &PyModel, cx: &Ctx, out: &mut Vec<Finding>) {
    let version: Version = cx.settings.django_version;
    let _ = version;
    cx.for_each_match(QueryId::PySinkAttributes, |caps| {
        let (Some(attr_node), Some(obj), Some(attr)) = (caps.get("attribute"), caps.get("object"), caps.get("attr")) else {
            return;
        };
        // A method call (`qs.count()`) or an assignment target is not a read of the property.
        if let Some(p) = attr_node.parent() {
            let is_field = |f: &str| p.child_by_field_name(f).is_some_and(|c| c.id() == attr_node.id());
            if (p.kind() == "call" && is_field("function")) || (p.kind() == "assignment" && is_field("left")) {
                return;
            }
        }
        let ctx = py.context_at(attr_node.start_byte());
        if !ctx.is_async() || py.in_offload_args(attr_node.start_byte()) {
            return;
        }
        let name = py.node_text(attr);
        let recv = short(py.node_text(obj), 32);
        let (what, fix) = if name == "data" {
            match instance_class(py, obj) {
                Some(Class::AdrfSerializer) => (
                    format!("`{recv}.data` on a ModelSerializer serializes synchronously in async code"),
                    Some((format!("await {recv}.adata"), Edit::replace(attr.byte_range(), "adata"))),
                ),
                Some(Class::Serializer) => (
                    format!("`{recv}.data` on a ModelSerializer serializes synchronously in async code"),
                    None,
                ),
                _ => return,
            }
        } else {
            if !paginates_queryset(py, obj) {
                return;
            }
            (format!("`{recv}.{name}` on a Paginator runs a COUNT query in async code"), None)
        };
        let message = what;
        let mut fixes = vec![];
        if let Some((shown, edit)) = fix.filter(|_| ctx.await_ok()) {
            let mut edits = vec![edit];
            edits.extend(pyfix::await_edits(attr_node));
            fixes.push(Fix { title: format!("Replace with `{shown}`"), applicability: Applicability::Safe, edits });
        }
        out.push(Finding::new(&META, attr_node.byte_range(), message, fixes));
    });
}

/// `Paginator(qs, …)` (or a name bound to it) over a known queryset.
fn paginates_queryset<'t>(py: &PyModel<'t>, obj: Node<'t>) -> bool {
    let obj = strip_parens(obj);
    let ctor = match obj.kind() {
        "call" => Some(obj),
        "identifier" => py.binding(py.node_text(obj), obj.start_byte()).and_then(|b| b.value).map(strip_parens),
        _ => None,
    };
    let Some(ctor) = ctor.filter(|c| c.kind() == "call") else { return false };
    let (Some(f), Some(args)) = (ctor.child_by_field_name("function"), ctor.child_by_field_name("arguments")) else { return false };
    if !py.resolves_to(f, &["django.core.paginator.Paginator"]) {
        return false;
    }
    let mut c = args.walk();
    let first = args.named_children(&mut c).find(|a| a.kind() != "comment");
    first.is_some_and(|a| a.kind() != "keyword_argument" && py.value(a) == Value::QuerySet)
}
