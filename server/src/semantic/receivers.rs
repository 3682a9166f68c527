//! What a receiver expression is, for the ORM rules: a Django manager, a queryset, or
//! unknown. Unknown means silent (precision first).
//!
//! Resolution follows plain assignments within the file (`qs = Book.objects.filter(…)`,
//! `qs = qs.exclude(…)`), bounded in depth so a cycle cannot loop.

use super::outside::PyDef;
use super::python::{last_name, PyModel};
use crate::dialects::django;
use tree_sitter::Node;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// `<Model>.objects`, `<Model>._default_manager`, a custom manager attribute.
    Manager,
    /// A lazy queryset chain (`….filter(…)`, `….all()`, a slice without step).
    QuerySet,
    Unknown,
}

impl Receiver {
    pub fn is_orm(self) -> bool {
        self != Receiver::Unknown
    }
}

const MAX_DEPTH: u32 = 24;

impl<'t> PyModel<'t> {
    /// Classifies the expression `n` (evaluated at its own position).
    pub fn receiver(&self, n: Node<'t>) -> Receiver {
        self.receiver_at(n, 0)
    }

    fn receiver_at(&self, n: Node<'t>, depth: u32) -> Receiver {
        if depth > MAX_DEPTH {
            return Receiver::Unknown;
        }
        match n.kind() {
            "parenthesized_expression" => match n.named_child(0) {
                Some(inner) => self.receiver_at(inner, depth + 1),
                None => Receiver::Unknown,
            },
            "attribute" => {
                let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
                    return Receiver::Unknown;
                };
                let attr = self.node_text(attr);
                let known = matches!(attr, "objects" | "_default_manager" | "_base_manager") || self.manager_attrs.contains(attr);
                // A manager declared in another module: asked only of a model, the rarer case
                // (the project's facts are gathered on first use, after the model is known:
                // gathering them reads every module this file imports, two levels deep).
                let maybe_imported = self.outside.is_some() && starts_upper(last_name(self.node_text(obj)));
                if !(known || maybe_imported) || !self.is_model(obj, depth + 1) {
                    return Receiver::Unknown;
                }
                if known || self.imported_has(attr, |f| f.manager_attrs.iter().any(|a| a == attr)) {
                    Receiver::Manager
                } else {
                    Receiver::Unknown
                }
            }
            "call" => {
                let Some(func) = n.child_by_field_name("function") else { return Receiver::Unknown };
                if func.kind() != "attribute" {
                    return Receiver::Unknown;
                }
                let (Some(obj), Some(method)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute"))
                else {
                    return Receiver::Unknown;
                };
                let m = self.node_text(method);
                let builder = django::LAZY_BUILDERS.contains(&m);
                if (builder || django::queryset_terminal(m).is_none())
                    && self.receiver_at(obj, depth + 1).is_orm()
                    && (builder || self.is_custom_queryset_method(m))
                {
                    Receiver::QuerySet
                } else {
                    Receiver::Unknown
                }
            }
            "subscript" => {
                // qs[a:b] is lazy; qs[a:b:step] and qs[i] evaluate.
                let Some(value) = n.child_by_field_name("value") else { return Receiver::Unknown };
                let mut c = n.walk();
                let subs: Vec<Node> = n.children_by_field_name("subscript", &mut c).collect();
                let lazy_slice = subs.len() == 1 && subs[0].kind() == "slice" && {
                    let mut c2 = subs[0].walk();
                    subs[0].children(&mut c2).filter(|ch| ch.kind() == ":").count() < 2
                };
                if lazy_slice && self.receiver_at(value, depth + 1).is_orm() {
                    Receiver::QuerySet
                } else {
                    Receiver::Unknown
                }
            }
            "identifier" => {
                let name = self.node_text(n);
                match self.binding(name, n.start_byte()) {
                    Some(b) => match b.value {
                        Some(v) => self.receiver_at(v, depth + 1),
                        None => Receiver::Unknown,
                    },
                    None => Receiver::Unknown,
                }
            }
            _ => Receiver::Unknown,
        }
    }

    /// True when `n` names a Django model class.
    pub(crate) fn is_model(&self, n: Node<'t>, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match n.kind() {
            "identifier" => {
                let name = self.node_text(n);
                if let Some(b) = self.binding(name, n.start_byte()) {
                    if let Some(v) = b.value {
                        return self.is_model_value(v, depth + 1);
                    }
                    // A class defined in this file, or imported: judged below.
                    if !self.classes.contains_key(name) && !self.imports.contains_key(name) {
                        return false;
                    }
                }
                // Imported from the project: the project model knows.
                if !self.classes.contains_key(name) {
                    match self.imported_def(name, None) {
                        Some(PyDef::Class(c)) => return c.is_model,
                        Some(_) => return false,
                        None => {}
                    }
                }
                if let Some(bases) = self.classes.get(name) {
                    return self.is_model_class(name, bases, depth + 1);
                }
                if self.foreign_odm() {
                    return false;
                }
                if let Some(path) = self.import_of(name) {
                    let from_models = path.trim_start_matches('.').split('.').any(|p| p == "models");
                    return from_models || (self.orm_imported() && starts_upper(name));
                }
                (self.orm_imported() || self.star_from_models) && starts_upper(name)
            }
            // `get_user_model().objects`, `apps.get_model("shop", "Book").objects`
            "call" => self.is_model_value(n, depth + 1),
            // self.model (generic views, managers); `models.Book` through an imported module
            "attribute" => {
                let attr = n.child_by_field_name("attribute").map(|a| self.node_text(a));
                let obj = n.child_by_field_name("object").map(|o| self.node_text(o));
                if let (Some(o), Some(a)) = (n.child_by_field_name("object").filter(|o| o.kind() == "identifier"), attr) {
                    let local = self.binding(self.node_text(o), o.start_byte()).is_some_and(|b| b.value.is_some());
                    if !local {
                        if let Some(PyDef::Class(c)) = self.imported_def(self.node_text(o), Some(a)) {
                            return c.is_model;
                        }
                    }
                }
                self.imports_django && !self.imports_other_odm && obj == Some("self") && attr == Some("model")
            }
            _ => false,
        }
    }

    fn is_model_value(&self, v: Node<'t>, depth: u32) -> bool {
        match v.kind() {
            "identifier" | "attribute" => self.is_model(v, depth),
            "call" => {
                let callee = v.child_by_field_name("function").map(|f| last_name(self.node_text(f)));
                self.imports_django && matches!(callee, Some("get_user_model") | Some("get_model"))
            }
            _ => false,
        }
    }

    pub(crate) fn is_model_class(&self, name: &str, bases: &[String], depth: u32) -> bool {
        if depth > MAX_DEPTH || self.foreign_odm() {
            return false;
        }
        bases.iter().any(|b| {
            let last = last_name(b);
            if last == name {
                return false;
            }
            let user_base = matches!(last, "AbstractUser" | "AbstractBaseUser");
            if last == "Model" || (last.ends_with("Model") || user_base) && (self.orm_imported() || self.star_from_models) {
                return true;
            }
            match self.classes.get(last) {
                Some(bb) => self.is_model_class(last, bb, depth + 1),
                None => {
                    // A base imported from the project (`TimeStamped`, `core.models.Base`).
                    let (head, tail) = b.split_once('.').map_or((b.as_str(), None), |(h, t)| (h, Some(t)));
                    matches!(self.imported_def(head, tail), Some(PyDef::Class(c)) if c.is_model)
                }
            }
        })
    }
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}
