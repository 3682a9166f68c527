//! Module-level objects recognised by the constructor that made them: dorm's circuit breakers
//! ([`super::async_cms`]), django-ninja's APIs and routers ([`super::views`]).
//!
//! Invariants: such an object is a value, resolved through the imports: a call of one of the
//! kind's constructors, a name bound to one in this file, or a module-level name of another
//! project module assigned one (the kind's list in [`ModuleFacts`]), also as `module.name` of
//! an imported project module. Parameters, attributes of unknown objects and look-alike
//! classes of the file's own are unknown, hence silent. Name → value chains are followed at
//! most [`MAX_STEPS`] deep.

use super::outside::ModuleFacts;
use super::python::PyModel;
use tree_sitter::Node;

/// How deep name → value chains are followed.
const MAX_STEPS: u32 = 8;

/// A kind of object made by known constructors.
pub struct MadeBy {
    /// The constructors' qualified paths.
    pub ctors: &'static [&'static str],
    /// The module-level names of a module assigned such an object.
    pub in_facts: fn(&ModuleFacts) -> &[String],
}

impl<'t> PyModel<'t> {
    /// `call` is a call of one of `kind`'s constructors.
    pub fn is_ctor_call(&self, call: Node<'t>, kind: &MadeBy) -> bool {
        call.kind() == "call" && call.child_by_field_name("function").is_some_and(|f| self.resolves_to(f, kind.ctors))
    }

    /// The expression `n` is an object of `kind`: a constructor call, a name bound to one (in
    /// this file, or a module-level name of another project module), `module.name` of an
    /// imported project module.
    pub fn is_made_by(&self, n: Node<'t>, kind: &MadeBy) -> bool {
        self.is_made_by_steps(n, kind, 0)
    }

    fn is_made_by_steps(&self, n: Node<'t>, kind: &MadeBy, steps: u32) -> bool {
        if steps > MAX_STEPS {
            return false;
        }
        match n.kind() {
            "call" => self.is_ctor_call(n, kind),
            "parenthesized_expression" => n.named_child(0).is_some_and(|c| self.is_made_by_steps(c, kind, steps + 1)),
            "identifier" => {
                let name = self.node_text(n);
                match self.binding(name, n.start_byte()).and_then(|b| b.value) {
                    Some(v) => self.is_made_by_steps(v, kind, steps + 1),
                    // An import (or a parameter, a loop target …: then not imported).
                    None => self.imported_made_by(name, None, kind),
                }
            }
            "attribute" => {
                let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
                    return false;
                };
                obj.kind() == "identifier"
                    && self.binding(self.node_text(obj), obj.start_byte()).is_none_or(|b| b.value.is_none())
                    && self.imported_made_by(self.node_text(obj), Some(self.node_text(attr)), kind)
            }
            _ => false,
        }
    }

    /// The imported `name` (or `name.attr`, `name` a module) is a module-level object of
    /// `kind` in a project module.
    fn imported_made_by(&self, name: &str, attr: Option<&str>, kind: &MadeBy) -> bool {
        if self.outside_off.get() > 0 {
            return false;
        }
        let (Some(outside), Some(path)) = (self.outside, self.import_of(name)) else { return false };
        let dotted = match attr {
            Some(a) => format!("{path}.{a}"),
            None => path.to_string(),
        };
        let Some((module, var)) = dotted.rsplit_once('.') else { return false };
        let module = if module.is_empty() { "." } else { module };
        outside.py_module_facts(module).is_some_and(|f| (kind.in_facts)(&f).iter().any(|b| b == var))
    }

    /// The module-level names of this file assigned an object of `kind`, sorted.
    pub fn module_made_by(&self, kind: &MadeBy) -> Vec<String> {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let mut out = vec![];
        for st in root.named_children(&mut c).filter(|n| n.kind() == "expression_statement") {
            let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            if l.kind() == "identifier" && self.is_ctor_call(r, kind) {
                out.push(self.node_text(l).to_string());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
