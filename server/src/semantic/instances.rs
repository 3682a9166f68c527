//! What an expression is for the ORM rules beyond [`super::receivers`]: model instances,
//! related managers, querysets built from related managers, users, and the dialect (Django or
//! dorm) a file speaks.
//!
//! Everything is judged from the file itself (no type checker). An instance is:
//! - `await X.objects.aget(…)` / `afirst()` / `alast()` / `acreate(…)` … (and the sync forms);
//! - `X(…)` where `X` is a model class defined in this file or imported from a `models` module;
//! - `get_object_or_404(X, …)` / `await aget_object_or_404(X, …)`;
//! - a loop variable of `for`/`async for` (or a comprehension clause) over a queryset;
//! - `self` in a method of a model class defined in this file.
//!
//! A related manager is `obj.<attr>` on an instance where `<attr>` ends in `_set`, or is a
//! many-to-many field or a `related_name` declared in this file. Unknown stays unknown.
//!
//! Resolution follows plain assignments and is bounded in depth (a cycle cannot loop); it
//! never walks the tree.

use super::python::{last_name, PyModel, ScopeKind};
use super::receivers::Receiver;
use crate::dialects::django;
use tree_sitter::Node;

/// The ORM a file (or receiver) speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Django,
    Dorm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// `X.objects`, a custom manager attribute.
    Manager,
    /// `obj.tags`, `obj.book_set`.
    RelatedManager,
    /// A lazy queryset (from a manager, a queryset or a related manager).
    QuerySet,
    /// A model instance.
    Instance,
    Unknown,
}

impl Value {
    /// A manager, related manager or queryset: something ORM methods are called on.
    pub fn is_orm(self) -> bool {
        matches!(self, Value::Manager | Value::RelatedManager | Value::QuerySet)
    }
}

const MAX_DEPTH: u32 = 24;

/// Sync methods returning one instance.
const INSTANCE_GETTERS: &[&str] = &["get", "first", "last", "earliest", "latest", "create", "get_or_none"];
/// Async methods returning one instance (when awaited).
const ASYNC_INSTANCE_GETTERS: &[&str] = &["aget", "afirst", "alast", "aearliest", "alatest", "acreate", "aget_or_none"];

impl<'t> PyModel<'t> {
    /// The file imports dorm (`import dorm`, `from dorm … import …`).
    pub fn imports_dorm(&self) -> bool {
        self.imports.values().any(|p| p == "dorm" || p.starts_with("dorm."))
    }

    /// Another ODM whose models also have `.objects` and that is not a dialect we know
    /// (mongoengine).
    pub(crate) fn foreign_odm(&self) -> bool {
        self.imports_other_odm && !self.imports_dorm()
    }

    /// Django or dorm is imported: capitalised names used with `.objects` are models.
    pub(crate) fn orm_imported(&self) -> bool {
        self.imports_django || self.imports_dorm()
    }

    /// The dialect of this file: dorm when it imports dorm and not Django.
    pub fn dialect(&self) -> Dialect {
        if self.imports_dorm() && !self.imports_django { Dialect::Dorm } else { Dialect::Django }
    }

    /// Classifies the expression `n`.
    pub fn value(&self, n: Node<'t>) -> Value {
        self.value_at(n, 0)
    }

    fn value_at(&self, n: Node<'t>, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return Value::Unknown;
        }
        match self.receiver(n) {
            Receiver::Manager => return Value::Manager,
            Receiver::QuerySet => return Value::QuerySet,
            Receiver::Unknown => {}
        }
        match n.kind() {
            "parenthesized_expression" => match n.named_child(0) {
                Some(inner) => self.value_at(inner, depth + 1),
                None => Value::Unknown,
            },
            "attribute" => {
                if self.is_related_attr(n, depth + 1) {
                    Value::RelatedManager
                } else {
                    Value::Unknown
                }
            }
            "call" => self.call_value(n, depth + 1),
            "await" => {
                let Some(inner) = n.named_child(0) else { return Value::Unknown };
                let inner = strip_parens(inner);
                if inner.kind() != "call" {
                    return Value::Unknown;
                }
                let Some(func) = inner.child_by_field_name("function") else { return Value::Unknown };
                match func.kind() {
                    "attribute" => {
                        let (Some(obj), Some(m)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute"))
                        else {
                            return Value::Unknown;
                        };
                        if ASYNC_INSTANCE_GETTERS.contains(&self.node_text(m)) && self.value_at(obj, depth + 1).is_orm() {
                            Value::Instance
                        } else {
                            match self.callee_facts(func) {
                                Some(f) if f.is_async || f.offloaded => returns_value(f.returns),
                                _ => Value::Unknown,
                            }
                        }
                    }
                    "identifier" if self.is_django_function(func, "aget_object_or_404") => Value::Instance,
                    // `await helper(…)`: an async or `@sync_to_async` helper of the project.
                    "identifier" => match self.callee_facts(func) {
                        Some(f) if f.is_async || f.offloaded => returns_value(f.returns),
                        _ => Value::Unknown,
                    },
                    _ => Value::Unknown,
                }
            }
            "subscript" => {
                // qs[i] is an instance; lazy slices were handled by `receiver`.
                let Some(value) = n.child_by_field_name("value") else { return Value::Unknown };
                let mut c = n.walk();
                let subs: Vec<Node> = n.children_by_field_name("subscript", &mut c).collect();
                if subs.len() == 1 && subs[0].kind() == "integer" && self.value_at(value, depth + 1) == Value::QuerySet {
                    Value::Instance
                } else {
                    Value::Unknown
                }
            }
            "identifier" => {
                let name = self.node_text(n);
                if name == "self" {
                    return if self.self_is_model(n) { Value::Instance } else { Value::Unknown };
                }
                let Some(b) = self.binding(name, n.start_byte()) else { return Value::Unknown };
                if let Some(v) = b.value {
                    return self.value_at(v, depth + 1);
                }
                match self.loop_iters.get(&b.pos) {
                    Some(l) if l.target.kind() == "identifier" && self.node_text(l.target) == name => {
                        if self.value_at(l.iter, depth + 1) == Value::QuerySet {
                            Value::Instance
                        } else {
                            Value::Unknown
                        }
                    }
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    fn call_value(&self, n: Node<'t>, depth: u32) -> Value {
        let Some(func) = n.child_by_field_name("function") else { return Value::Unknown };
        match func.kind() {
            "attribute" => {
                let (Some(obj), Some(m)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute")) else {
                    return Value::Unknown;
                };
                let m = self.node_text(m);
                let recv = self.value_at(obj, depth);
                if django::LAZY_BUILDERS.contains(&m) && matches!(recv, Value::RelatedManager | Value::QuerySet) {
                    Value::QuerySet
                } else if recv == Value::Unknown && obj.kind() == "identifier" {
                    // `services.books_by(…)`: a sync helper of an imported project module.
                    match self.callee_facts(func) {
                        Some(f) if !f.is_async && !f.offloaded => returns_value(f.returns),
                        _ => Value::Unknown,
                    }
                } else if (INSTANCE_GETTERS.contains(&m) && recv.is_orm())
                    || (m == "get_object_or_404" && self.is_django_function(func, m))
                {
                    Value::Instance
                } else {
                    Value::Unknown
                }
            }
            "identifier" => {
                let name = self.node_text(func);
                if self.is_django_function(func, "get_object_or_404") {
                    return Value::Instance;
                }
                // X(…): a model class defined here, or imported from a `models` module.
                if self.binding(name, func.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return Value::Unknown;
                }
                if let Some(bases) = self.classes.get(name) {
                    return if self.is_model_class(name, bases, depth) { Value::Instance } else { Value::Unknown };
                }
                // A project class or sync helper: the project model knows.
                if self.import_of(name).is_some() {
                    match self.imported_def(name, None) {
                        Some(super::outside::PyDef::Class(c)) => {
                            return if c.is_model { Value::Instance } else { Value::Unknown };
                        }
                        Some(super::outside::PyDef::Function(f)) => {
                            return if f.is_async || f.offloaded { Value::Unknown } else { returns_value(f.returns) };
                        }
                        Some(_) => return Value::Unknown,
                        None => {}
                    }
                } else if let Some(f) = self.callee_facts(func) {
                    return if f.is_async || f.offloaded { Value::Unknown } else { returns_value(f.returns) };
                }
                match self.import_of(name) {
                    Some(path) if self.orm_imported() && !self.foreign_odm() => {
                        let module = path.rsplit_once('.').map(|(m, _)| m).unwrap_or("");
                        let from_models = module.trim_start_matches('.').split('.').any(|p| p == "models");
                        let starts_upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
                        if from_models && starts_upper && !module.starts_with("django.") {
                            Value::Instance
                        } else {
                            Value::Unknown
                        }
                    }
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    /// `obj.<attr>` where `obj` is an instance and `<attr>` a known relation.
    fn is_related_attr(&self, n: Node<'t>, depth: u32) -> bool {
        let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
            return false;
        };
        let attr = self.node_text(attr);
        let local = attr.ends_with("_set") || self.m2m_attrs.contains(attr) || self.related_names.contains(attr);
        if !local && self.outside.is_none() {
            return false;
        }
        // The instance first: the project's facts are gathered only when one is in hand.
        self.value_at(obj, depth) == Value::Instance
            && (local || self.imported_has(attr, |f| f.related_attrs.iter().any(|a| a == attr)))
    }

    /// `obj.<attr>` where `obj` resolves to a model instance (the attribute itself unknown).
    pub fn is_instance_attr(&self, n: Node<'t>) -> bool {
        n.kind() == "attribute"
            && n.child_by_field_name("object").is_some_and(|o| self.value(o) == Value::Instance)
    }

    /// The related-manager kind of `obj.<attr>`: a many-to-many field declared here.
    pub fn is_m2m_attr(&self, n: Node<'t>) -> bool {
        n.kind() == "attribute"
            && n.child_by_field_name("attribute").is_some_and(|a| self.m2m_attrs.contains(self.node_text(a)))
    }

    /// The expression that produced the instance `n` (a loop's iterable, an assignment's value),
    /// for checks such as "is `prefetch_related` on the producing query".
    pub fn producer(&self, n: Node<'t>) -> Option<Node<'t>> {
        let mut cur = n;
        for _ in 0..MAX_DEPTH {
            if cur.kind() != "identifier" {
                return Some(cur);
            }
            let name = self.node_text(cur);
            let b = self.binding(name, cur.start_byte())?;
            cur = match b.value {
                Some(v) => v,
                None => self.loop_iters.get(&b.pos).filter(|l| self.node_text(l.target) == name)?.iter,
            };
        }
        None
    }

    /// True when `func` (an identifier or `module.name` attribute) is the Django function
    /// `name` imported from a Django module.
    pub fn is_django_function(&self, func: Node<'t>, name: &str) -> bool {
        match func.kind() {
            "identifier" => {
                self.node_text(func) == name
                    && self.import_of(name).is_some_and(|p| p.starts_with("django.") && last_name(p) == name)
                    && self.binding(name, func.start_byte()).is_none()
            }
            "attribute" => {
                let (Some(obj), Some(attr)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute"))
                else {
                    return false;
                };
                self.node_text(attr) == name
                    && obj.kind() == "identifier"
                    && self.import_of(self.node_text(obj)).is_some_and(|p| p.starts_with("django"))
            }
            _ => false,
        }
    }

    /// `self` in a method of a model class defined in this file.
    fn self_is_model(&self, n: Node<'t>) -> bool {
        let mut s = self.scope_at(n.start_byte());
        while self.scopes[s].kind != ScopeKind::Function {
            match self.scopes[s].parent {
                Some(p) => s = p,
                None => return false,
            }
        }
        let Some(class) = self.scopes[s].parent else { return false };
        let scope = &self.scopes[class];
        if scope.kind != ScopeKind::Class {
            return false;
        }
        let Some(name) = scope.name.as_deref() else { return false };
        let Some(bases) = self.classes.get(name) else { return false };
        // A class whose body declares no field, relation, manager or `Meta` is asked about
        // its bases in other files only if this file alone cannot tell: `self` is evaluated in
        // every method of every class, and following each hierarchy across the project
        // (Django's QuerySet, SessionBase …) costs more than the rare field-less model
        // subclass is worth here. (`X.objects` receivers still follow every base.)
        let known = self.class_modelish.borrow().get(&class).copied();
        let modelish = known.unwrap_or_else(|| {
            let body = &self.src[scope.range.clone()];
            let m = ["Field(", "ForeignKey(", "Manager(", "as_manager(", "class Meta"].iter().any(|w| body.contains(w));
            self.class_modelish.borrow_mut().insert(class, m);
            m
        });
        if modelish {
            return self.is_model_class(name, bases, 1);
        }
        self.outside_off.set(self.outside_off.get() + 1);
        let local = self.is_model_class(name, bases, 1);
        self.outside_off.set(self.outside_off.get() - 1);
        local
    }
}

/// The value a call gives, from what the function returns.
fn returns_value(r: super::outside::Returns) -> Value {
    match r {
        super::outside::Returns::QuerySet => Value::QuerySet,
        super::outside::Returns::Instance => Value::Instance,
        super::outside::Returns::Manager => Value::Manager,
        super::outside::Returns::Other => Value::Unknown,
    }
}

/// The expression inside any parentheses.
pub fn strip_parens(mut n: Node) -> Node {
    while n.kind() == "parenthesized_expression" {
        match n.named_child(0) {
            Some(i) => n = i,
            None => break,
        }
    }
    n
}
