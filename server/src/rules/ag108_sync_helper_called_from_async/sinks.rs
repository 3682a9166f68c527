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

/// The constructor call that made `e`: `e` itself or the value a name is bound to.
fn ctor_of<'t>(py: &PyModel<'t>, e: Node<'t>) -> Option<Node<'t>> {
    let e = strip_parens(e);
    let ctor = match e.kind() {
        "call" => e,
        "identifier" => strip_parens(py.binding(py.node_text(e), e.start_byte())?.value?),
        _ => return None,
    };
    (ctor.kind() == "call").then_some(ctor)
}

/// The class of the instance `e` is (`C(…)` or a name bound to `C(…)`, `C` a project class),
/// with the class's name when it is a class of this file.
fn instance_class_named<'t>(py: &PyModel<'t>, e: Node<'t>) -> Option<(Class, Option<String>)> {
    let ctor = ctor_of(py, e)?;
    let func = ctor.child_by_field_name("function")?;
    let mut local = None;
    let lib = match func.kind() {
        "identifier" if py.classes.contains_key(py.node_text(func)) => {
            local = Some(py.node_text(func).to_string());
            py.class_lib_bases(py.node_text(func), 0)
        }
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
    classify(&lib).map(|c| (c, local))
}

/// The body statements (decorated definitions unwrapped) of the class `cname` of this file
/// and of its bases here, up to the first class that declares `class Meta`, with that
/// `Meta`; `None` past eight classes.
fn class_statements<'t>(py: &PyModel<'t>, cname: &str) -> Option<(Vec<Node<'t>>, Option<Node<'t>>)> {
    let mut todo = vec![cname.to_string()];
    let (mut out, mut meta) = (vec![], None);
    let mut steps = 0;
    while let Some(name) = todo.pop() {
        steps += 1;
        if steps > 8 {
            return None;
        }
        let Some(body) = py.class_node(&name).and_then(|d| d.child_by_field_name("body")) else { continue };
        let mut c = body.walk();
        for st in body.named_children(&mut c) {
            let st = if st.kind() == "decorated_definition" { st.child_by_field_name("definition").unwrap_or(st) } else { st };
            if st.kind() == "class_definition" && st.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "Meta") {
                meta = meta.or(Some(st));
            }
            out.push(st);
        }
        if meta.is_none() {
            // `class Meta` inherited from a base of this file.
            todo.extend(py.classes.get(&name).into_iter().flatten().filter(|b| py.classes.contains_key(b.as_str())).cloned());
        }
    }
    Some((out, meta))
}

/// The right-hand side of a class-body assignment statement, when it is a call, with the
/// called name's last part.
fn assigned_call<'t>(py: &PyModel<'t>, st: Node<'t>) -> Option<(Node<'t>, &'t str)> {
    let r = st.named_child(0).filter(|a| a.kind() == "assignment")?.child_by_field_name("right")?;
    let ctor = crate::semantic::python::last_name(py.node_text(r.child_by_field_name("function")?));
    (r.kind() == "call").then_some((r, ctor))
}

/// What a serializer's or form's `class Meta` says about the model fields it handles.
struct MetaFields {
    model: crate::semantic::relations::ModelInfo,
    /// `None`: every field (`"__all__"`, or no `fields`).
    fields: Option<Vec<String>>,
    exclude: Vec<String>,
    read_only: Vec<String>,
    depth: bool,
}

impl MetaFields {
    /// `Meta`'s model (a known project model, named by a plain name) and its literal field
    /// lists; `None` when any of them cannot be read.
    fn read(py: &PyModel, cx: &Ctx, meta: Node) -> Option<MetaFields> {
        let body = meta.child_by_field_name("body")?;
        let mut model = None;
        let (mut fields, mut exclude, mut read_only, mut depth) = (None, vec![], vec![], false);
        let mut c = body.walk();
        for st in body.named_children(&mut c) {
            let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            match py.node_text(l) {
                "depth" => depth = true,
                "model" if r.kind() == "identifier" => model = Some(r),
                "model" => return None,
                "fields" if r.kind() == "string" && crate::semantic::relations::string_value(py.node_text(r)) == "__all__" => fields = None,
                "fields" => fields = Some(literal_names(py, r)?),
                "exclude" => exclude = literal_names(py, r).unwrap_or_default(),
                "read_only_fields" => read_only = literal_names(py, r).unwrap_or_default(),
                _ => {}
            }
        }
        let model = model?;
        let auth_user = cx.settings.auth_user_model.as_deref().map(|u| u.rsplit('.').next().unwrap_or(u)).unwrap_or("User");
        let auth_label = cx.settings.auth_user_model.as_deref().and_then(|m| m.rsplit_once('.')).map(|(l, _)| l);
        let model = py.model_info(py.node_text(model), model.start_byte(), auth_user, auth_label)?;
        Some(MetaFields { model, fields, exclude, read_only, depth })
    }

    /// The field `name` is handled: listed (or every field is) and not excluded.
    fn handles(&self, name: &str) -> bool {
        self.fields.as_ref().is_none_or(|f| f.iter().any(|x| x == name)) && !self.exclude.iter().any(|x| x == name)
    }
}

/// Validating a form of the class `cname` (of this file) queries the database, as far as
/// the file tells: a declared related field (`PrimaryKeyRelatedField`, `SlugRelatedField`,
/// `ModelChoiceField` …) or a unique validator in the class or its bases of this file; a
/// `validate…` / `clean…` method that reaches database work; or, from `class Meta`, a field
/// of the model it validates that is a relation (checked by a lookup of the related row) or
/// unique (`unique=True`, a primary key: checked by a lookup), or for a ModelForm a model
/// whose `Meta` declares `unique_together` / `constraints`. Unknown (the class or its `Meta`
/// in another module, a model that is not a known project model, fields that are not a
/// literal list): `false`, silent.
fn validation_queries(py: &PyModel, cx: &Ctx, cname: &str, class: Class) -> bool {
    use crate::semantic::relations::{FieldKind, META_UNIQUE};
    let Some((statements, meta)) = class_statements(py, cname) else { return false };
    for st in statements {
        match st.kind() {
            "class_definition" if meta == Some(st) && py.node_text(st).contains("Unique") => return true,
            "function_definition" => {
                let fname = st.child_by_field_name("name").map(|n| py.node_text(n)).unwrap_or("");
                if (fname.starts_with("validate") || fname.starts_with("clean"))
                    && py.local_fn_memo(st).is_some_and(|f| !py.local_db_work(&f).is_empty())
                {
                    return true;
                }
            }
            "expression_statement" => {
                let Some((r, ctor)) = assigned_call(py, st) else { continue };
                if ctor.ends_with("RelatedField") || ctor.starts_with("ModelChoice") || ctor.starts_with("ModelMultipleChoice") || py.node_text(r).contains("Unique") {
                    return true;
                }
            }
            _ => {}
        }
    }
    let Some(m) = meta.and_then(|m| MetaFields::read(py, cx, m)) else { return false };
    m.model.fields.iter().any(|f| {
        if f.name == META_UNIQUE {
            return class == Class::ModelForm;
        }
        m.handles(&f.name) && !m.read_only.iter().any(|x| *x == f.name) && (f.kind != FieldKind::Plain || f.unique)
    })
}

/// Serializing the instance `obj` (a serializer of the class `cname` of this file, or of
/// another module when `cname` is `None`) queries the database, as far as the file tells: the
/// serializer was given a queryset to serialize (`many=True` over `Book.objects…`: evaluating
/// it queries), or the class (or a base of this file) declares a nested serializer, a
/// related field, a `SerializerMethodField` or a dotted `source=`, its `Meta` sets `depth`,
/// or `Meta.fields` names a many-to-many field of a known project model. A plain column or a
/// forward key (DRF reads `author_id`, no query) does not; anything unknown is silent.
fn serialization_queries(py: &PyModel, cx: &Ctx, obj: Node, cname: Option<&str>) -> bool {
    use crate::semantic::relations::FieldKind;
    if let Some(args) = ctor_of(py, obj).and_then(|c| c.child_by_field_name("arguments")) {
        let mut c = args.walk();
        let first = args.named_children(&mut c).find(|a| a.kind() != "comment");
        if first.is_some_and(|a| a.kind() != "keyword_argument" && py.value(a) == Value::QuerySet) {
            return true;
        }
    }
    let Some((statements, meta)) = cname.and_then(|c| class_statements(py, c)) else { return false };
    let dotted_source = |call: Node| {
        call.child_by_field_name("arguments").is_some_and(|a| {
            let mut c = a.walk();
            let found = a.named_children(&mut c).any(|k| {
                k.kind() == "keyword_argument"
                    && k.child_by_field_name("name").is_some_and(|n| py.node_text(n) == "source")
                    && k.child_by_field_name("value").is_some_and(|v| v.kind() == "string" && py.node_text(v).contains('.'))
            });
            found
        })
    };
    let declares = statements.iter().filter(|st| st.kind() == "expression_statement").filter_map(|st| assigned_call(py, *st)).any(
        |(call, ctor)| ctor.ends_with("RelatedField") || ctor.ends_with("Serializer") || ctor == "SerializerMethodField" || dotted_source(call),
    );
    if declares {
        return true;
    }
    let Some(m) = meta.and_then(|m| MetaFields::read(py, cx, m)) else { return false };
    m.depth || m.model.fields.iter().any(|f| f.kind == FieldKind::ManyToMany && m.handles(&f.name))
}

/// `["a", "b"]` / `("a",)`: the strings of a literal list or tuple (`None`: anything else).
fn literal_names(py: &PyModel, e: Node) -> Option<Vec<String>> {
    let e = strip_parens(e);
    if !matches!(e.kind(), "list" | "tuple") {
        return None;
    }
    let mut c = e.walk();
    let items: Vec<Node> = e.named_children(&mut c).filter(|n| n.kind() != "comment").collect();
    items
        .iter()
        .map(|i| (i.kind() == "string").then(|| crate::semantic::relations::string_value(py.node_text(*i)).to_string()))
        .collect()
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
            let (class, local) = instance_class_named(py, obj)?;
            // Validation queries only for some fields (a relation, a unique one): report where
            // the file shows one, stay silent where it does not or cannot tell.
            if m == "is_valid" && !local.is_some_and(|c| validation_queries(py, cx, &c, class)) {
                return None;
            }
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
                let context = context_arg(py, cx, ctor, 2)?;
                return Some(finding(py, call, func, ctx, render_what(py, context, "TemplateResponse(…).render()"), None));
            }
        }
        return None;
    }
    if py.resolves_to(func, &["django.shortcuts.render"]) {
        let context = context_arg(py, cx, call, 2)?;
        return Some(finding(py, call, func, ctx, render_what(py, context, "render()"), None));
    }
    if py.resolves_to(func, &["django.template.loader.render_to_string"]) {
        let context = context_arg(py, cx, call, 1)?;
        return Some(finding(py, call, func, ctx, render_what(py, context, "render_to_string()"), None));
    }
    let _ = version;
    None
}

const TEMPLATE_RESPONSE: [&str; 2] = ["django.template.response.TemplateResponse", "django.template.TemplateResponse"];

/// The context argument of a render call (positional `pos`, or `context=`), when it is a dict
/// literal holding a queryset: that value.
fn context_arg<'t>(py: &PyModel<'t>, cx: &Ctx, call: Node<'t>, pos: usize) -> Option<Node<'t>> {
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
    let values: Vec<Node> = dict.named_children(&mut c).filter(|p| p.kind() == "pair").filter_map(|p| p.child_by_field_name("value")).collect();
    let auth_user = cx.settings.auth_user_model.as_deref().map(|u| u.rsplit('.').next().unwrap_or(u)).unwrap_or("User");
    let auth_label = cx.settings.auth_user_model.as_deref().and_then(|m| m.rsplit_once('.')).map(|(l, _)| l);
    values.iter().find(|v| py.value(**v) == Value::QuerySet).or_else(|| values.iter().find(|v| unloaded_relations(py, (auth_user, auth_label), **v))).copied()
}

/// `v` is a model instance loaded by a query of this file (or a project helper) whose model
/// has a foreign key, one-to-one or many-to-many field the query did not load
/// (`select_related` / `prefetch_related`): a template reading it queries. A model that is
/// not known, or an unknown `select_related` argument: `false`.
fn unloaded_relations<'t>(py: &PyModel<'t>, user: (&str, Option<&str>), v: Node<'t>) -> bool {
    use crate::semantic::relations::{FieldKind, Named};
    let v = strip_parens(v);
    if v.kind() != "identifier" || py.value(v) != Value::Instance {
        return false;
    }
    let Some(p) = py.instance_producer(v) else { return false };
    let Some(info) = py.producer_model_info(&p, user.0, user.1) else { return false };
    let named = |m: &str| match p.named(py, m) {
        None => Some(vec![]),
        Some(Named::Names(n)) => Some(n),
        Some(Named::Unknown) => None,
    };
    let (Some(sel), Some(pre)) = (named("select_related"), named("prefetch_related")) else { return false };
    // `select_related()` with no argument follows every non-null foreign key.
    if p.has("select_related") && sel.is_empty() {
        return false;
    }
    info.fields.iter().any(|f| {
        f.kind != FieldKind::Plain && !sel.contains(&f.name) && !pre.contains(&f.name) && !p.set_kwargs.contains(&f.name.as_str())
    })
}

fn render_what(py: &PyModel, value: Node, call: &str) -> String {
    if py.value(value) == Value::QuerySet {
        format!("`{call}` renders the queryset `{}` synchronously in async code", short(py.node_text(value), 32))
    } else {
        format!("`{call}` gets `{}`, whose unloaded relations the template may query in async code", short(py.node_text(value), 32))
    }
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
            // Serialization queries only for some fields or a queryset: report where the file
            // shows that, stay silent where it does not or cannot tell.
            let Some((class, local)) = instance_class_named(py, obj) else { return };
            if !serialization_queries(py, cx, obj, local.as_deref()) {
                return;
            }
            match Some(class) {
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
