//! Model fields and relations, and the query that produced an instance (AG104).
//!
//! - **Fields** ([`class_fields`]): what a model class body declares, read from the syntax:
//!   `author = models.ForeignKey(Author, …)` (forward relation; the target as written, a
//!   string reference `"app.Model"` reduced to `Model`, `settings.AUTH_USER_MODEL` /
//!   `get_user_model()` to [`AUTH_USER`]), one-to-one and many-to-many fields, and plain
//!   `…Field(…)` columns. Inherited fields come through [`PyModel::model_info`] (bases in this
//!   file, or [`super::outside::ClassFacts::fields`] from the project).
//! - **Reverse one-to-one**: a `OneToOneField(User, related_name="profile")` on `Profile`
//!   makes `user.profile` a lazy read; its name is the `related_name` or the lowercased class
//!   name. Matched by the target's class name (this file's models and
//!   [`super::outside::ModuleFacts::reverse_one_to_one`] of the modules it imports).
//! - **The user model** (`get_user_model().objects…`, or a name bound to it): its fields
//!   when the configured class is in this file, else found project-wide by its app label
//!   ([`super::outside::Outside::py_app_model`]: a `User` imported here may be another app's),
//!   else imported by name or declared in a `…models` module this file imports from (at most
//!   8 tried); its reverse one-to-ones from this file's and its imported modules' facts only.
//! - **Producers** ([`PyModel::instance_producer`]): the query chain an instance came from
//!   (`await Book.objects.select_related("x").aget(…)`, `async for b in qs`,
//!   `[b async for b in qs]`, `qs[0]`, `await aget_object_or_404(Book, …)`, the rows of
//!   `await sync_to_async(list)(qs)` (a `for` over that list), `await request.auser()` (the
//!   user model, no relation selected), a sync getter run in a thread
//!   (`await sync_to_async(Book.objects.get)(…)`, a sync helper wrapped or decorated with
//!   `sync_to_async` / `database_sync_to_async` whose `return`s are such getters written out),
//!   a helper of this file whose value-returning `return`s (at most four, `return None`
//!   aside) all give such an expression naming the same relations, or a helper of another project module
//!   (`await services.get_book(pk)`, `async for b in services.books().filter(…)`): its
//!   [`Produced`] summary, computed once per function in its own file and resolved by the
//!   project model ([`super::outside::FnFacts::produces`]; one file hop, the helper's own
//!   calls of other modules are not followed). Anything else is unknown (`None`),
//!   and unknown is silent: a custom queryset method, a non-literal `select_related`
//!   argument, a value rebound in a branch the model cannot see.
//!
//! Invariants: bounded depth; no tree walk beyond the class body or the one helper body read
//! (recorded in [`PyModel::read_bodies`]).

use super::python::{last_name, PyModel};
use super::receivers::Receiver;
use crate::semantic::instances::strip_parens;
use tree_sitter::Node;

/// The name [`ModelField::target`] takes for `settings.AUTH_USER_MODEL` / `get_user_model()`:
/// the configured user model (`auth.User` when the settings do not say).
pub const AUTH_USER: &str = "<AUTH_USER_MODEL>";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    ForeignKey,
    OneToOne,
    ManyToMany,
    /// A column (`CharField`, `TextField` …).
    Plain,
}

/// One field declared in a model class body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelField {
    pub name: String,
    pub kind: FieldKind,
    /// The related model's class name (relations only; empty when not literal).
    pub target: String,
    pub related_name: Option<String>,
    /// Validation checks it against the table (`unique=True`, `primary_key=True`): a model's
    /// `full_clean()` / `validate_unique()` then queries (AG103). The entry named [`META_UNIQUE`]
    /// stands for `Meta.unique_together` / `Meta.constraints`.
    pub unique: bool,
}

/// The name of the [`ModelField`] that stands for a `class Meta` declaring
/// `unique_together` or `constraints` (no attribute can be named so).
pub const META_UNIQUE: &str = "<Meta>";

/// The fields `class_def`'s body declares (`name = <…>Field(…)` / `ForeignKey(…)` …).
pub fn class_fields(m: &PyModel, class_def: Node) -> Vec<ModelField> {
    let mut out = vec![];
    let Some(body) = class_def.child_by_field_name("body") else { return out };
    let cname = class_def.child_by_field_name("name").map(|n| m.node_text(n)).unwrap_or("");
    let mut c = body.walk();
    for st in body.named_children(&mut c) {
        // `class Meta: unique_together = …` / `constraints = […]`.
        if st.kind() == "class_definition" && st.child_by_field_name("name").is_some_and(|n| m.node_text(n) == "Meta") {
            let Some(mb) = st.child_by_field_name("body") else { continue };
            let mut mc = mb.walk();
            let declares = mb.named_children(&mut mc).filter(|x| x.kind() == "expression_statement").any(|x| {
                x.named_child(0).filter(|a| a.kind() == "assignment").and_then(|a| a.child_by_field_name("left")).is_some_and(|l| {
                    matches!(m.node_text(l), "unique_together" | "constraints")
                })
            });
            if declares {
                out.push(ModelField { name: META_UNIQUE.into(), kind: FieldKind::Plain, target: String::new(), related_name: None, unique: true });
            }
            continue;
        }
        if st.kind() != "expression_statement" {
            continue;
        }
        let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
        let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        if l.kind() != "identifier" || r.kind() != "call" {
            continue;
        }
        let Some(func) = r.child_by_field_name("function") else { continue };
        let ctor = last_name(m.node_text(func));
        let kind = match ctor {
            "ForeignKey" | "ForeignObject" => FieldKind::ForeignKey,
            "OneToOneField" => FieldKind::OneToOne,
            "ManyToManyField" => FieldKind::ManyToMany,
            c if c.ends_with("Field") && c != "GenericRelation" => FieldKind::Plain,
            _ => continue,
        };
        let mut target = String::new();
        let mut related_name = None;
        let mut unique = kind == FieldKind::OneToOne;
        if let Some(args) = r.child_by_field_name("arguments") {
            let mut c = args.walk();
            for (i, arg) in args.named_children(&mut c).enumerate() {
                if arg.kind() == "keyword_argument" {
                    let key = arg.child_by_field_name("name").map(|n| m.node_text(n));
                    let Some(v) = arg.child_by_field_name("value") else { continue };
                    match key {
                        Some("to") => target = target_name(m, v, cname),
                        Some("related_name") if v.kind() == "string" => {
                            related_name = Some(string_value(m.node_text(v)).to_string());
                        }
                        Some("unique" | "primary_key") if m.node_text(v) == "True" => unique = true,
                        _ => {}
                    }
                } else if i == 0 && kind != FieldKind::Plain {
                    target = target_name(m, arg, cname);
                }
            }
        }
        out.push(ModelField { name: m.node_text(l).to_string(), kind, target, related_name, unique });
    }
    out
}

/// The class name a relation's target expression names.
fn target_name(m: &PyModel, v: Node, this_class: &str) -> String {
    let text = m.node_text(v);
    match v.kind() {
        "identifier" => text.to_string(),
        "attribute" if text.ends_with("AUTH_USER_MODEL") => AUTH_USER.to_string(),
        "attribute" => last_name(text).to_string(),
        "call" if text.starts_with("get_user_model(") => AUTH_USER.to_string(),
        "string" => match string_value(text) {
            "self" => this_class.to_string(),
            s if !s.contains(['{', '%']) => s.rsplit('.').next().unwrap_or(s).to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// The contents of a plain string literal (quotes and a prefix stripped).
pub fn string_value(text: &str) -> &str {
    let t = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    t.trim_matches(|c| c == '"' || c == '\'')
}

/// The reverse one-to-one attributes `fields` (of class `class`) give their targets:
/// (target class name, attribute).
pub fn reverse_one_to_one(class: &str, fields: &[ModelField]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|f| f.kind == FieldKind::OneToOne && !f.target.is_empty())
        .filter_map(|f| {
            let attr = f.related_name.clone().unwrap_or_else(|| class.to_ascii_lowercase());
            (!attr.is_empty() && !attr.contains(['+', '%', '{'])).then(|| (f.target.clone(), attr))
        })
        .collect()
}

/// What is known of one model class.
#[derive(Clone, Debug, Default)]
pub struct ModelInfo {
    pub name: String,
    /// Its fields, inherited ones included.
    pub fields: Vec<ModelField>,
    /// Reverse one-to-one attributes other models give it.
    pub reverse_o2o: Vec<String>,
}

/// What a function's one `return` produces, as its own file sees it (kept in
/// [`super::summary::LocalFn::produces`], resolved across files into
/// [`super::outside::FnFacts::produces`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Produced {
    /// The model class name at the root of the chain, as written in the function's file
    /// (resolved by the project model: [`Produced::fields`] is then filled).
    pub model: String,
    /// The model's fields (inherited ones included); filled by the project model.
    pub fields: Vec<ModelField>,
    /// The model is Django's `User` (`django.contrib.auth.models.User`).
    pub auth_user: bool,
    /// One instance (`await X.objects.aget(…)`); `false`: a queryset of them.
    pub instance: bool,
    /// `select_related` / `prefetch_related` / `only` / `defer` / `fetch_mode` on the chain:
    /// what each names (`None`: a non-literal argument, unknown).
    pub named: Vec<(String, Option<Vec<String>>)>,
    /// Keyword names given to `acreate(…)`.
    pub set_kwargs: Vec<String>,
    /// The chain starts in a function of a third module (`queries.books().aget(…)` in the
    /// helper's file, `"queries.books"`), and whether that call gives an instance: the
    /// project model resolves it (its [`Produced`] and this one's named calls merged).
    pub via: Option<(String, bool)>,
}

/// The methods whose names [`Produced::named`] keeps.
const NAMED_METHODS: &[&str] = &["select_related", "prefetch_related", "only", "defer", "fetch_mode"];

/// The query an instance came from.
#[derive(Clone, Debug)]
pub struct Producer<'t> {
    /// The model class name at the root of the chain (`Book` of `Book.objects…`).
    pub model: String,
    /// The model name node (for the scope it is resolved in).
    pub model_node: Node<'t>,
    /// `X.objects` (where a `.select_related(…)` can be inserted).
    pub manager: Option<Node<'t>>,
    /// The methods of the chain with their argument lists, outermost last.
    pub calls: Vec<(&'t str, Option<Node<'t>>)>,
    /// Keyword names given to `acreate(…)` (those relations are set on the instance).
    pub set_kwargs: Vec<&'t str>,
    /// The chain is written in a helper, not where the instance is used.
    pub in_helper: bool,
    /// The chain starts in a helper of another module (its model and named relations).
    pub remote: Option<std::sync::Arc<Produced>>,
}

/// What `names` a `select_related` / `prefetch_related` / `only` / `defer` call names.
pub enum Named {
    /// Every argument a string literal (first `__` component of each); empty: no argument.
    Names(Vec<String>),
    /// A non-literal argument: unknown.
    Unknown,
}

impl<'t> Producer<'t> {
    /// The names every call of `method` on the chain gives, merged.
    pub fn named(&self, m: &PyModel<'t>, method: &str) -> Option<Named> {
        let mut names = vec![];
        let mut any = false;
        if let Some(r) = &self.remote {
            for (_, v) in r.named.iter().filter(|(n, _)| n == method) {
                any = true;
                match v {
                    Some(v) => names.extend(v.iter().cloned()),
                    None => return Some(Named::Unknown),
                }
            }
        }
        for (name, args) in &self.calls {
            if *name != method {
                continue;
            }
            any = true;
            let Some(args) = args else { return Some(Named::Unknown) };
            let mut c = args.walk();
            for a in args.named_children(&mut c) {
                let s = match a.kind() {
                    "string" => a,
                    // Prefetch("author", queryset=…)
                    "call" if last_name(m.node_text(a.child_by_field_name("function").unwrap_or(a))) == "Prefetch" => {
                        match a.child_by_field_name("arguments").and_then(|x| x.named_child(0)).filter(|x| x.kind() == "string") {
                            Some(s) => s,
                            None => return Some(Named::Unknown),
                        }
                    }
                    "comment" => continue,
                    _ => return Some(Named::Unknown),
                };
                let v = string_value(m.node_text(s));
                names.push(v.split("__").next().unwrap_or(v).to_string());
            }
        }
        any.then_some(Named::Names(names))
    }

    pub fn has(&self, method: &str) -> bool {
        self.calls.iter().any(|(n, _)| *n == method) || self.remote.as_ref().is_some_and(|r| r.named.iter().any(|(n, _)| n == method))
    }

    /// The owned summary of this producer (for another file's use).
    pub fn produced(&self, m: &PyModel<'t>, instance: bool) -> Produced {
        let mut named = vec![];
        for method in NAMED_METHODS {
            match self.named(m, method) {
                None => {}
                Some(Named::Unknown) => named.push((method.to_string(), None)),
                Some(Named::Names(v)) => named.push((method.to_string(), Some(v))),
            }
        }
        let (model, fields, auth_user, via) = match &self.remote {
            Some(r) => (r.model.clone(), r.fields.clone(), r.auth_user, r.via.clone()),
            None => (self.model.clone(), vec![], false, None),
        };
        let set_kwargs = self.set_kwargs.iter().map(|s| s.to_string()).collect();
        Produced { model, fields, auth_user, instance, named, set_kwargs, via }
    }
}

const MAX_DEPTH: u32 = 12;

/// Query methods a producing chain may hold: lazy builders that keep model instances.
const CHAIN_METHODS: &[&str] = &[
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate", "alias", "only", "defer",
    "using", "select_for_update", "distinct", "reverse", "fetch_mode", "complex_filter", "aiterator",
];
/// Awaited methods returning one instance.
const ASYNC_GETTERS: &[&str] = &["aget", "afirst", "alast", "aearliest", "alatest", "acreate", "aget_or_none"];
/// Sync methods returning one instance (run in a thread by `sync_to_async`).
const SYNC_GETTERS: &[&str] = &["get", "first", "last", "earliest", "latest", "create"];

impl<'t> PyModel<'t> {
    /// The top-level `class` statement named `name` in this file.
    pub fn class_node(&self, name: &str) -> Option<Node<'t>> {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let found = root.named_children(&mut c).find_map(|n| {
            let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition")? } else { n };
            (def.kind() == "class_definition" && def.child_by_field_name("name").is_some_and(|x| self.node_text(x) == name))
                .then_some(def)
        });
        found
    }

    /// Every reverse one-to-one this file's top-level classes declare.
    fn local_reverse_o2o(&self) -> Vec<(String, String)> {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let mut out = vec![];
        for n in root.named_children(&mut c) {
            let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition") } else { Some(n) };
            let Some(def) = def.filter(|d| d.kind() == "class_definition") else { continue };
            let Some(name) = def.child_by_field_name("name").map(|x| self.node_text(x)) else { continue };
            if !self.node_text(def).contains("OneToOneField") {
                continue;
            }
            out.extend(reverse_one_to_one(name, &class_fields(self, def)));
        }
        out
    }

    /// What is known of the model class `name` (as used at `at`): a model class of this file
    /// or imported from the project, or Django's `User`. `None`: not known to be a model.
    pub fn model_info(&self, name: &str, at: usize, auth_user: &str, auth_label: Option<&str>) -> Option<ModelInfo> {
        if name == AUTH_USER {
            // `get_user_model().objects…`.
            return self.user_model_info(auth_user, auth_label);
        }
        let b = self.binding(name, at);
        if b.is_some_and(|b| b.value.is_some()) {
            // `User = get_user_model()`.
            let v = strip_parens(b?.value?);
            let is_user = v.kind() == "call"
                && v.child_by_field_name("function").is_some_and(|f| self.is_django_function(f, "get_user_model"));
            return is_user.then(|| self.user_model_info(auth_user, auth_label)).flatten();
        }
        let mut info = ModelInfo { name: name.to_string(), ..Default::default() };
        if let Some(bases) = self.classes.get(name) {
            if !self.is_model_class(name, bases, 0) {
                return None;
            }
            info.fields = self.local_model_fields(name, 0);
        } else if let Some(path) = self.import_of(name) {
            if path == "django.contrib.auth.models.User" {
                info.name = "User".into();
            } else {
                match self.imported_def(name, None)? {
                    super::outside::PyDef::Class(c) if c.is_model => {
                        info.name = c.name.clone();
                        info.fields = c.fields.clone();
                    }
                    _ => return None,
                }
            }
        } else {
            return None;
        }
        self.add_reverse_o2o(&mut info, auth_user);
        Some(info)
    }

    /// Adds to `info` the reverse one-to-ones that point at its model (declared in this file
    /// or in the modules it imports; `auth_user` also takes those on the configured user model).
    fn add_reverse_o2o(&self, info: &mut ModelInfo, auth_user: &str) {
        let is_user = info.name == auth_user;
        let reverse = self.local_reverse_o2o().into_iter().chain(self.imported_reverse_o2o());
        for (target, attr) in reverse {
            if target == info.name || (is_user && target == AUTH_USER) {
                info.reverse_o2o.push(attr);
            }
        }
    }

    /// What is known of the model of a producer from another module's helper.
    pub fn producer_model_info(&self, p: &Producer<'t>, auth_user: &str, auth_label: Option<&str>) -> Option<ModelInfo> {
        let Some(r) = &p.remote else { return self.model_info(&p.model, p.model_node.start_byte(), auth_user, auth_label) };
        if r.fields.is_empty() && !r.auth_user && r.via.is_none() && !r.model.is_empty() {
            // A summary of this file's helper: the model as named here.
            return self.model_info(&r.model, p.model_node.start_byte(), auth_user, auth_label);
        }
        let mut info = ModelInfo { name: r.model.clone(), fields: r.fields.clone(), ..Default::default() };
        self.add_reverse_o2o(&mut info, auth_user);
        Some(info)
    }

    /// The configured user model (`auth_user`: its class name; `auth_label`: its app label),
    /// when this file or the project knows it.
    fn user_model_info(&self, auth_user: &str, auth_label: Option<&str>) -> Option<ModelInfo> {
        let mut info = ModelInfo { name: auth_user.to_string(), ..Default::default() };
        // The class of the configured app first: a `User` this file imports may be another
        // app's model of the same name (`from apps.github.models import User as GithubUser`).
        let by_label = || {
            let (label, outside) = (auth_label?, self.outside.filter(|_| self.outside_off.get() == 0)?);
            match outside.py_app_model(label, auth_user)? {
                super::outside::PyDef::Class(c) if c.is_model => Some(c),
                _ => None,
            }
        };
        if let Some(bases) = self.classes.get(auth_user) {
            if self.is_model_class(auth_user, bases, 0) {
                info.fields = self.local_model_fields(auth_user, 0);
            }
        } else if let Some(c) = by_label().or_else(|| self.imported_user_class(auth_user)) {
            info.fields = c.fields.clone();
        }
        let reverse = self.local_reverse_o2o().into_iter().chain(self.imported_reverse_o2o());
        for (target, attr) in reverse {
            if target == auth_user || target == AUTH_USER {
                info.reverse_o2o.push(attr);
            }
        }
        Some(info)
    }

    /// The user model class `name` of another module: imported by name, or declared in a
    /// `…models` module this file imports from (`from shelf.people.models import Profile`).
    fn imported_user_class(&self, name: &str) -> Option<std::sync::Arc<super::outside::ClassFacts>> {
        if self.import_of(name).is_some() {
            return match self.imported_def(name, None)? {
                super::outside::PyDef::Class(c) if c.is_model => Some(c),
                _ => None,
            };
        }
        let outside = self.outside?;
        if self.outside_off.get() > 0 {
            return None;
        }
        let mut modules: Vec<&str> = self
            .imports
            .values()
            .filter_map(|p| if p.ends_with("models") { Some(p.as_str()) } else { p.rsplit_once('.').map(|(m, _)| m).filter(|m| m.ends_with("models")) })
            .collect();
        modules.sort();
        modules.dedup();
        modules.into_iter().take(8).find_map(|m| match outside.py_def(&format!("{m}.{name}")) {
            Some(super::outside::PyDef::Class(c)) if c.is_model => Some(c),
            _ => None,
        })
    }

    /// The fields of this file's class `name` and of its bases (this file's or the project's).
    fn local_model_fields(&self, name: &str, depth: u32) -> Vec<ModelField> {
        if depth > 8 {
            return vec![];
        }
        let mut out = self.class_node(name).map(|d| class_fields(self, d)).unwrap_or_default();
        for b in self.classes.get(name).cloned().unwrap_or_default() {
            if b == name {
                continue;
            }
            if self.classes.contains_key(b.as_str()) {
                out.extend(self.local_model_fields(&b, depth + 1));
                continue;
            }
            let (head, tail) = b.split_once('.').map_or((b.as_str(), None), |(h, t)| (h, Some(t)));
            if let Some(super::outside::PyDef::Class(c)) = self.imported_def(head, tail) {
                out.extend(c.fields.iter().cloned());
            }
        }
        out
    }

    /// The query that produced the instance `obj` (a name), see the module docs.
    pub fn instance_producer(&self, obj: Node<'t>) -> Option<Producer<'t>> {
        let obj = strip_parens(obj);
        if obj.kind() != "identifier" || self.node_text(obj) == "self" {
            return None;
        }
        let name = self.node_text(obj);
        let b = self.binding(name, obj.start_byte())?;
        match b.value {
            Some(v) => self.value_producer(v, 0),
            None => {
                let Some(l) = self.loop_iters.get(&b.pos) else { return self.unpacked_producer(name, b.pos) };
                if l.target.kind() != "identifier" || self.node_text(l.target) != name {
                    return None;
                }
                self.iterable_producer(l.iter, 0)
            }
        }
    }

    /// `docket, context = await helper(…)` (the assignment ending at `pos`): the producer of
    /// the element `name` unpacks, when every value-returning `return` of the helper (this
    /// file's async `def`, or another module's through [`super::outside::FnFacts::produces_items`])
    /// is a tuple whose element there is an instance ([`PyModel::item_producer`]).
    fn unpacked_producer(&self, name: &str, pos: usize) -> Option<Producer<'t>> {
        let mut n = self.tree.root_node().descendant_for_byte_range(pos.checked_sub(1)?, pos)?;
        for _ in 0..64 {
            if n.kind() == "assignment" && n.end_byte() == pos {
                break;
            }
            n = n.parent()?;
        }
        if n.kind() != "assignment" {
            return None;
        }
        let left = n.child_by_field_name("left").filter(|l| matches!(l.kind(), "pattern_list" | "tuple_pattern"))?;
        let mut c = left.walk();
        let items: Vec<Node> = left.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
        if items.iter().any(|x| x.kind() != "identifier") {
            return None;
        }
        let idx = items.iter().position(|x| self.node_text(*x) == name)?;
        let right = strip_parens(n.child_by_field_name("right")?);
        let call = strip_parens(right.named_child(0).filter(|_| right.kind() == "await")?);
        let func = call.child_by_field_name("function").filter(|_| call.kind() == "call")?;
        if func.kind() == "identifier" {
            if self.binding(self.node_text(func), func.start_byte()).is_some_and(|b| b.value.is_some()) {
                return None;
            }
            if let Some(def) = self.module_def_named(self.node_text(func)) {
                // From the helper's summary (an incremental analysis carries it over while
                // the helper's body is not parsed again).
                let f = self.local_fn_memo(def)?;
                if !f.is_async || f.offloaded {
                    return None;
                }
                let r = f.produces_items.into_iter().find(|(i, _)| *i == idx).map(|(_, r)| r).filter(|r| r.instance)?;
                let model = r.model.clone();
                return Some(Producer { model, model_node: call, manager: None, calls: vec![], set_kwargs: vec![], in_helper: true, remote: Some(std::sync::Arc::new(r)) });
            }
        }
        let name = match func.kind() {
            "identifier" => self.node_text(func),
            "attribute" => self.node_text(func.child_by_field_name("object").filter(|o| o.kind() == "identifier")?),
            _ => return None,
        };
        if self.import_of(name).is_none() || self.binding(name, func.start_byte()).is_some_and(|b| b.value.is_some()) {
            return None;
        }
        let f = self.callee_facts(func).filter(|f| f.is_async && !f.offloaded && !f.generator)?;
        let r = f.produces_items.iter().find(|(i, _)| *i == idx).map(|(_, r)| r.clone()).filter(|r| r.instance)?;
        Some(Producer { model: r.model.clone(), model_node: call, manager: None, calls: vec![], set_kwargs: vec![], in_helper: true, remote: Some(r) })
    }

    /// Element `idx` of the tuple `ret` (a `return` value of the async helper `def`, of
    /// `len` elements): an awaited instance getter, or a name bound to one in the helper.
    /// Attributes the helper reads on that name count as loaded (their cache is filled);
    /// a name the helper hands to a thread is unknown.
    fn item_producer(&self, def: Node<'t>, ret: Node<'t>, idx: usize, len: usize) -> Option<Producer<'t>> {
        let ret = strip_parens(ret);
        if !matches!(ret.kind(), "tuple" | "expression_list") {
            return None;
        }
        let mut c = ret.walk();
        let items: Vec<Node> = ret.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
        if items.len() != len {
            return None;
        }
        self.read_bodies.borrow_mut().push(def.byte_range());
        let e = strip_parens(items[idx]);
        if e.kind() != "identifier" {
            return self.value_producer(e, 1);
        }
        let name = self.node_text(e);
        let v = self.binding(name, e.start_byte())?.value?;
        let mut p = self.value_producer(v, 1)?;
        let body = self.node_text(def.child_by_field_name("body")?);
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        for line in body.lines() {
            if (line.contains("sync_to_async") || line.contains("to_thread")) && line.split(|c: char| !ident(c)).any(|w| w == name) {
                return None;
            }
        }
        let base = def.child_by_field_name("body")?.start_byte();
        let dotted = format!("{name}.");
        for (i, _) in body.match_indices(&dotted) {
            if body[..i].chars().next_back().is_some_and(|c| ident(c) || c == '.') {
                continue;
            }
            let rest = &body[i + dotted.len()..];
            let end = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
            if end > 0 {
                let at = base + i + dotted.len();
                p.set_kwargs.push(&self.src[at..at + end]);
            }
        }
        Some(p)
    }

    /// What each element of the tuples `def` returns produces, where every value-returning
    /// `return` agrees (for [`super::summary::LocalFn::produces_items`]); async `def`s only.
    pub fn return_items_produced(&self, def: Node<'t>) -> Vec<(usize, Produced)> {
        let h = self.local_fn_header(def);
        if !h.is_async || h.offloaded {
            return vec![];
        }
        let Some(first) = self.returns(def).and_then(|r| r.first().copied()).map(strip_parens) else { return vec![] };
        if !matches!(first.kind(), "tuple" | "expression_list") {
            return vec![];
        }
        let len = {
            let mut c = first.walk();
            first.named_children(&mut c).filter(|x| x.kind() != "comment").count()
        };
        (0..len.min(8))
            .filter_map(|i| self.agreed(def, true, |r| self.item_producer(def, r, i, len)).map(|p| (i, p.produced(self, true))))
            .collect()
    }

    /// The producer of an instance-valued expression.
    fn value_producer(&self, v: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let v = strip_parens(v);
        match v.kind() {
            "await" => {
                let call = strip_parens(v.named_child(0)?);
                if call.kind() != "call" {
                    return None;
                }
                let func = call.child_by_field_name("function")?;
                let args = call.child_by_field_name("arguments");
                match func.kind() {
                    "attribute" => {
                        let m = self.node_text(func.child_by_field_name("attribute")?);
                        if m == "auser" {
                            return self.auser_producer(func, call);
                        }
                        if !ASYNC_GETTERS.contains(&m) {
                            // `await services.get_book(pk)`.
                            return self.remote_producer(func, call, true);
                        }
                        self.call_on_chain(func, m, args, depth, m == "acreate")
                    }
                    "identifier" if self.is_django_function(func, "aget_object_or_404") => self.shortcut_producer(args?, depth),
                    "identifier" => {
                        // An async helper of this file whose value-returning `return`s give
                        // one instance, or a sync one decorated `@sync_to_async`.
                        let Some(def) = self.module_def_named(self.node_text(func)) else {
                            return self.remote_producer(func, call, true);
                        };
                        if self.binding(self.node_text(func), func.start_byte()).is_some_and(|b| b.value.is_some()) {
                            return None;
                        }
                        let offloaded = self.local_fn_header(def).offloaded;
                        let mut p = self.agreed(def, true, |e| {
                            if offloaded { self.sync_instance_producer(e, depth + 1) } else { self.value_producer(e, depth + 1) }
                        })?;
                        p.in_helper = true;
                        Some(p)
                    }
                    // `await sync_to_async(get_book)(pk)`, `await sync_to_async(Book.objects.get)(pk=pk)`.
                    "call" => self.offloaded_producer(func, call, depth),
                    _ => None,
                }
            }
            "subscript" => {
                let value = v.child_by_field_name("value")?;
                let idx = v.child_by_field_name("subscript")?;
                (idx.kind() == "integer").then_some(())?;
                self.iterable_producer(value, depth + 1)
            }
            _ => None,
        }
    }

    /// The producer of the elements of an iterable: a queryset chain, or a list built from one
    /// (`[b async for b in qs]`).
    fn iterable_producer(&self, it: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let it = strip_parens(it);
        if it.kind() == "identifier" {
            let b = self.binding(self.node_text(it), it.start_byte())?;
            let v = strip_parens(b.value?);
            if v.kind() == "list_comprehension" {
                return self.comprehension_producer(v, depth + 1);
            }
            if let Some(qs) = self.listed_in_thread(v) {
                return self.chain(qs, depth + 1);
            }
        }
        if it.kind() == "list_comprehension" {
            return self.comprehension_producer(it, depth + 1);
        }
        self.chain(it, depth + 1)
    }

    /// `await sync_to_async(list)(qs)` (or `database_sync_to_async`): the `qs` whose rows the
    /// list holds.
    fn listed_in_thread(&self, v: Node<'t>) -> Option<Node<'t>> {
        if v.kind() != "await" {
            return None;
        }
        let call = strip_parens(v.named_child(0)?);
        let outer = call.child_by_field_name("function").filter(|f| f.kind() == "call")?;
        let wrapper = outer.child_by_field_name("function").filter(|f| f.kind() == "identifier")?;
        if !matches!(self.node_text(wrapper), "sync_to_async" | "database_sync_to_async") || self.import_of(self.node_text(wrapper)).is_none() {
            return None;
        }
        let wrapped: Vec<Node> = {
            let a = outer.child_by_field_name("arguments")?;
            let mut c = a.walk();
            a.named_children(&mut c).filter(|x| x.kind() != "comment").collect()
        };
        let [w] = wrapped[..] else { return None };
        if w.kind() != "identifier" || self.node_text(w) != "list" || self.binding("list", w.start_byte()).is_some() {
            return None;
        }
        let args: Vec<Node> = {
            let a = call.child_by_field_name("arguments")?;
            let mut c = a.walk();
            a.named_children(&mut c).filter(|x| x.kind() != "comment").collect()
        };
        let [qs] = args[..] else { return None };
        Some(qs)
    }

    /// `[b async for b in qs]`: the producer of `qs`'s rows.
    fn comprehension_producer(&self, comp: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        let body = comp.child_by_field_name("body")?;
        let mut c = comp.walk();
        let clauses: Vec<Node> = comp.named_children(&mut c).filter(|n| n.kind() == "for_in_clause").collect();
        let [clause] = clauses[..] else { return None };
        let target = clause.child_by_field_name("left")?;
        if body.kind() != "identifier" || target.kind() != "identifier" || self.node_text(body) != self.node_text(target) {
            return None;
        }
        self.chain(clause.child_by_field_name("right")?, depth + 1)
    }

    /// A queryset chain down to `X.objects` (through names bound to chains and helpers of
    /// this file that return one).
    fn chain(&self, e: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        let mut e = strip_parens(e);
        let mut calls = vec![];
        let mut in_helper = false;
        for _ in 0..MAX_DEPTH.saturating_sub(depth) {
            match e.kind() {
                "call" => {
                    let func = e.child_by_field_name("function")?;
                    match func.kind() {
                        "attribute" => {
                            let m = self.node_text(func.child_by_field_name("attribute")?);
                            if !CHAIN_METHODS.contains(&m) {
                                // `services.books().filter(…)`: a helper of another module.
                                let mut p = self.remote_producer(func, e, false)?;
                                calls.reverse();
                                p.calls = calls;
                                return Some(p);
                            }
                            calls.push((m, e.child_by_field_name("arguments")));
                            e = strip_parens(func.child_by_field_name("object")?);
                        }
                        "identifier" => {
                            // A sync helper of this file returning a queryset.
                            if self.binding(self.node_text(func), func.start_byte()).is_some_and(|b| b.value.is_some()) {
                                return None;
                            }
                            let Some(def) = self.module_def_named(self.node_text(func)) else {
                                let mut p = self.remote_producer(func, e, false)?;
                                calls.reverse();
                                p.calls = calls;
                                return Some(p);
                            };
                            if let Some(r) = self.single_return(def) {
                                e = strip_parens(r);
                                in_helper = true;
                                continue;
                            }
                            // Several `return`s: each a chain, all naming the same relations.
                            let mut p = self.agreed(def, false, |r| self.chain(r, depth + 1))?;
                            calls.reverse();
                            p.calls.extend(calls);
                            p.in_helper = true;
                            return Some(p);
                        }
                        _ => return None,
                    }
                }
                "identifier" => {
                    let b = self.binding(self.node_text(e), e.start_byte())?;
                    e = strip_parens(b.value?);
                }
                "attribute" => {
                    let user = e.child_by_field_name("object").map(strip_parens).filter(|o| {
                        o.kind() == "call"
                            && o.child_by_field_name("function").is_some_and(|f| self.is_django_function(f, "get_user_model"))
                    });
                    if let (Some(user), Some("objects")) = (user, e.child_by_field_name("attribute").map(|a| self.node_text(a))) {
                        calls.reverse();
                        return Some(Producer {
                            model: AUTH_USER.to_string(),
                            model_node: user,
                            manager: Some(e),
                            calls,
                            set_kwargs: vec![],
                            in_helper,
                            remote: None,
                        });
                    }
                    if self.receiver(e) != Receiver::Manager {
                        return None;
                    }
                    let model = e.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
                    calls.reverse();
                    return Some(Producer {
                        model: self.node_text(model).to_string(),
                        model_node: model,
                        manager: Some(e),
                        calls,
                        set_kwargs: vec![],
                        in_helper,
                        remote: None,
                    });
                }
                _ => return None,
            }
        }
        None
    }

    /// The producer of a call of a project function of another module (`helper(…)`,
    /// `services.helper(…)`) whose one `return` gives an instance (`instance`) or a queryset.
    fn remote_producer(&self, func: Node<'t>, call: Node<'t>, instance: bool) -> Option<Producer<'t>> {
        let name = match func.kind() {
            "identifier" => self.node_text(func),
            "attribute" => {
                let o = func.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
                self.node_text(o)
            }
            _ => return None,
        };
        if self.import_of(name).is_none() || self.binding(name, func.start_byte()).is_some_and(|b| b.value.is_some()) {
            return None;
        }
        if self.outside.is_none() {
            // Summarising this file for another one: the callee is left to the project model
            // ([`Produced::via`]).
            let via = func.kind() == "identifier" || func.child_by_field_name("attribute").is_some();
            let r = Produced { via: via.then(|| (self.node_text(func).to_string(), instance)), instance, ..Default::default() };
            return r.via.is_some().then(|| Producer {
                model: String::new(),
                model_node: call,
                manager: None,
                calls: vec![],
                set_kwargs: vec![],
                in_helper: true,
                remote: Some(std::sync::Arc::new(r)),
            });
        }
        let f = match self.callee_facts(func)? {
            // An offloaded helper's instance is built in the thread and read here.
            f if (f.offloaded && !instance) || f.generator => return None,
            f => f,
        };
        let r = f.produces.clone().filter(|r| r.instance == instance)?;
        Some(Producer {
            model: r.model.clone(),
            model_node: call,
            manager: None,
            calls: vec![],
            set_kwargs: vec![],
            in_helper: true,
            remote: Some(r),
        })
    }

    /// What the value-returning `return`s of `def` (a function of this file) produce, when
    /// they agree on a query chain, an awaited instance getter or a sync one (`Book.objects.get(…)`,
    /// for a helper run through `sync_to_async`) (for [`super::summary::LocalFn::produces`]).
    pub fn return_produced(&self, def: Node<'t>) -> Option<Produced> {
        let first = strip_parens(*self.returns(def)?.first()?);
        let instance = first.kind() == "await" || self.sync_instance_producer(first, 0).is_some();
        let p = self.agreed(def, instance, |e| {
            let e = strip_parens(e);
            match (instance, e.kind()) {
                (true, "await") => self.value_producer(e, 0),
                (true, _) => self.sync_instance_producer(e, 0),
                (false, _) => self.chain(e, 0),
            }
        })?;
        Some(p.produced(self, instance))
    }

    /// `await request.auser()` (also `self.request`, `info.context.request`): the configured
    /// user model, loaded by the auth backend's plain `get(pk=…)` (no relation selected).
    fn auser_producer(&self, func: Node<'t>, call: Node<'t>) -> Option<Producer<'t>> {
        let receiver = func.child_by_field_name("object")?;
        if !matches!(receiver.kind(), "identifier" | "attribute") || !last_name(self.node_text(receiver)).ends_with("request") {
            return None;
        }
        let args = call.child_by_field_name("arguments")?;
        if args.named_child_count() != 0 {
            return None;
        }
        Some(Producer {
            model: AUTH_USER.to_string(),
            model_node: call,
            manager: None,
            calls: vec![],
            set_kwargs: vec![],
            in_helper: false,
            remote: None,
        })
    }

    /// `get_object_or_404(Book, …)` / `aget_object_or_404(qs, …)`: the model or chain of the
    /// first argument.
    fn shortcut_producer(&self, args: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        let first = args.named_child(0).filter(|a| a.kind() != "keyword_argument")?;
        if first.kind() == "identifier" && self.classes.contains_key(self.node_text(first))
            || first.kind() == "identifier" && self.import_of(self.node_text(first)).is_some()
        {
            return Some(Producer {
                model: self.node_text(first).to_string(),
                model_node: first,
                manager: None,
                calls: vec![],
                set_kwargs: vec![],
                in_helper: false,
                remote: None,
            });
        }
        self.chain(first, depth + 1)
    }

    /// A sync getter call giving one instance: `Book.objects…get(…)` (also `first`, `last`,
    /// `earliest`, `latest`, `create`) or `get_object_or_404(Book, …)`. Only written as the
    /// expression itself (a name could have had its relations read in between).
    fn sync_instance_producer(&self, e: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        let e = strip_parens(e);
        if e.kind() != "call" || depth > MAX_DEPTH {
            return None;
        }
        let func = e.child_by_field_name("function")?;
        let args = e.child_by_field_name("arguments");
        match func.kind() {
            "identifier" if self.is_django_function(func, "get_object_or_404") => self.shortcut_producer(args?, depth),
            "attribute" => {
                let m = self.node_text(func.child_by_field_name("attribute")?);
                self.getter_on(func, m, args, depth)
            }
            _ => None,
        }
    }

    /// The producer of `<chain>.<m>(args)` for a sync getter `m`.
    fn getter_on(&self, func: Node<'t>, m: &'t str, args: Option<Node<'t>>, depth: u32) -> Option<Producer<'t>> {
        if !SYNC_GETTERS.contains(&m) {
            return None;
        }
        self.call_on_chain(func, m, args, depth, m == "create")
    }

    /// The producer of the chain under `func` with the getter call `m(args)` appended; a
    /// creating call (`create`/`acreate`) also records the field names its keywords set.
    /// Shared by the sync getters and the awaited async ones so both read a chain alike.
    fn call_on_chain(&self, func: Node<'t>, m: &'t str, args: Option<Node<'t>>, depth: u32, creates: bool) -> Option<Producer<'t>> {
        let mut p = self.chain(func.child_by_field_name("object")?, depth + 1)?;
        if creates {
            if let Some(args) = args {
                let mut c = args.walk();
                for kw in args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument") {
                    p.set_kwargs.extend(kw.child_by_field_name("name").map(|n| self.node_text(n)));
                }
            }
        }
        p.calls.push((m, args));
        Some(p)
    }

    /// `await sync_to_async(w)(args)` (or `database_sync_to_async`): the instance a sync
    /// getter `w` (`Book.objects.get`) or a sync helper `w` (this file's or another module's)
    /// returns, computed in the thread and read here.
    fn offloaded_producer(&self, outer: Node<'t>, call: Node<'t>, depth: u32) -> Option<Producer<'t>> {
        let wrapper = outer.child_by_field_name("function").filter(|f| f.kind() == "identifier")?;
        if !matches!(self.node_text(wrapper), "sync_to_async" | "database_sync_to_async") || self.import_of(self.node_text(wrapper)).is_none() {
            return None;
        }
        let wrapped: Vec<Node> = {
            let a = outer.child_by_field_name("arguments")?;
            let mut c = a.walk();
            a.named_children(&mut c).filter(|x| x.kind() != "comment").collect()
        };
        let [w] = wrapped[..] else { return None };
        match w.kind() {
            "attribute" => {
                let m = self.node_text(w.child_by_field_name("attribute")?);
                if SYNC_GETTERS.contains(&m) {
                    return self.getter_on(w, m, call.child_by_field_name("arguments"), depth);
                }
                self.remote_producer(w, call, true)
            }
            "identifier" => {
                if self.binding(self.node_text(w), w.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return None;
                }
                let Some(def) = self.module_def_named(self.node_text(w)) else {
                    return self.remote_producer(w, call, true);
                };
                if self.local_fn_header(def).is_async {
                    return None;
                }
                let mut p = self.agreed(def, true, |e| self.sync_instance_producer(e, depth + 1))?;
                p.in_helper = true;
                Some(p)
            }
            _ => None,
        }
    }

    /// The producer every value-returning `return` of `def` gives through `each`, when they
    /// all agree (same model, same named relations and fields, same set keywords); `None`
    /// when one is unknown or they differ.
    fn agreed(&self, def: Node<'t>, instance: bool, each: impl Fn(Node<'t>) -> Option<Producer<'t>>) -> Option<Producer<'t>> {
        let rets = self.returns(def)?;
        let mut first: Option<(Producer<'t>, Produced)> = None;
        for r in rets {
            let p = each(r)?;
            let s = p.produced(self, instance);
            match &first {
                None => first = Some((p, s)),
                Some((_, f)) if *f == s => {}
                Some(_) => return None,
            }
        }
        first.map(|(p, _)| p)
    }

    /// The attributes `def` reads on its positional parameters, directly in its body (not in
    /// nested functions or lambdas): `p.attr` (not written, not called) and `getattr(p,
    /// "attr"…)`; `_id` columns, `pk`, `id` and dunders left out. A parameter the body rebinds
    /// is left out whole. At most 64 entries.
    pub fn param_reads(&self, def: Node<'t>) -> Vec<(usize, String)> {
        let mut params: Vec<&'t str> = vec![];
        if let Some(ps) = def.child_by_field_name("parameters") {
            let mut c = ps.walk();
            for p in ps.named_children(&mut c) {
                let name = match p.kind() {
                    "identifier" => Some(p),
                    "typed_parameter" => p.named_child(0).filter(|n| n.kind() == "identifier"),
                    "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
                    "comment" => continue,
                    _ => break,
                };
                let Some(name) = name else { break };
                params.push(self.node_text(name));
            }
        }
        let mut out: Vec<(usize, String)> = vec![];
        let Some(body) = def.child_by_field_name("body") else { return out };
        if params.is_empty() {
            return out;
        }
        self.read_bodies.borrow_mut().push(def.byte_range());
        let mut rebound: Vec<&str> = vec![];
        let mut stack = vec![body];
        let mut steps = 0;
        let keep = |f: &str| !(f.ends_with("_id") || f == "pk" || f == "id" || f.starts_with("__"));
        while let Some(n) = stack.pop() {
            steps += 1;
            if steps > 20_000 || out.len() >= 64 {
                break;
            }
            match n.kind() {
                "function_definition" | "class_definition" | "lambda" | "decorated_definition" => continue,
                "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" | "named_expression" => {
                    let l = n.child_by_field_name("left").or_else(|| n.child_by_field_name("name"));
                    if let Some(l) = l {
                        let mut ls = vec![l];
                        while let Some(x) = ls.pop() {
                            if x.kind() == "identifier" {
                                rebound.push(self.node_text(x));
                            } else if matches!(x.kind(), "pattern_list" | "tuple_pattern" | "list_pattern") {
                                let mut c = x.walk();
                                ls.extend(x.named_children(&mut c));
                            }
                        }
                    }
                }
                "attribute" => {
                    let parent = n.parent();
                    let written_or_called = parent.is_some_and(|p| match p.kind() {
                        "assignment" | "augmented_assignment" => p.child_by_field_name("left") == Some(n),
                        "call" => p.child_by_field_name("function") == Some(n),
                        "delete_statement" | "pattern_list" | "tuple_pattern" => true,
                        _ => false,
                    });
                    if let (Some(o), Some(a)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) {
                        if o.kind() == "identifier" && !written_or_called {
                            let f = self.node_text(a);
                            if let Some(i) = params.iter().position(|p| *p == self.node_text(o)) {
                                if keep(f) && !out.iter().any(|(j, g)| *j == i && g == f) {
                                    out.push((i, f.to_string()));
                                }
                            }
                        }
                    }
                }
                "call" => {
                    let f = n.child_by_field_name("function");
                    if f.is_some_and(|f| f.kind() == "identifier" && self.node_text(f) == "getattr") {
                        let args = n.child_by_field_name("arguments");
                        let a0 = args.and_then(|a| a.named_child(0)).filter(|a| a.kind() == "identifier");
                        let a1 = args.and_then(|a| a.named_child(1)).filter(|a| a.kind() == "string");
                        if let (Some(a0), Some(a1)) = (a0, a1) {
                            let f = string_value(self.node_text(a1));
                            if let Some(i) = params.iter().position(|p| *p == self.node_text(a0)) {
                                if keep(f) && !f.is_empty() && !out.iter().any(|(j, g)| *j == i && g == f) {
                                    out.push((i, f.to_string()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        out.retain(|(i, _)| !rebound.contains(&params[*i]));
        out.sort();
        out
    }

    /// The value-returning `return` expressions of `def` (bare `return` and `return None` left
    /// out; `None`: none, more than four, or a generator).
    fn returns(&self, def: Node<'t>) -> Option<Vec<Node<'t>>> {
        let found: Vec<Node<'t>> = self
            .return_statements(def)?
            .into_iter()
            .flatten()
            .filter(|v| v.kind() != "none" && v.kind() != "comment")
            .collect();
        (!found.is_empty() && found.len() <= 4).then_some(found)
    }

    /// The expression of the one `return` of `def` (`None`: several, none, a bare one, or a
    /// generator).
    fn single_return(&self, def: Node<'t>) -> Option<Node<'t>> {
        match self.return_statements(def)?.as_slice() {
            [only] => *only,
            _ => None,
        }
    }

    /// What each `return` statement of `def`'s own body gives (`None` for a bare `return`),
    /// nested definitions left out; `None` for a generator or a body too large to walk. The
    /// body is recorded as read.
    fn return_statements(&self, def: Node<'t>) -> Option<Vec<Option<Node<'t>>>> {
        let body = def.child_by_field_name("body")?;
        self.read_bodies.borrow_mut().push(def.byte_range());
        let mut found = vec![];
        let mut stack = vec![body];
        let mut steps = 0;
        while let Some(n) = stack.pop() {
            steps += 1;
            if steps > 2000 {
                return None;
            }
            match n.kind() {
                "function_definition" | "class_definition" | "lambda" | "decorated_definition" => continue,
                "yield" => return None,
                "return_statement" => {
                    found.push(n.named_child(0));
                    continue;
                }
                _ => {}
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        Some(found)
    }
}
