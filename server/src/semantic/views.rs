//! Objects that turn functions into Django views outside the URLconf: django-ninja's
//! `NinjaAPI(…)` / `Router(…)` (RULES.md §AG206).
//!
//! Invariants: a router is a value, resolved through the imports: a `ninja` constructor call,
//! a name bound to one in this file, or a module-level name of another project module
//! assigned one ([`super::outside::ModuleFacts::ninja_routers`]). Parameters, attributes of
//! unknown objects and look-alike classes of the file's own are unknown, hence silent.

use super::python::PyModel;
use tree_sitter::Node;

/// django-ninja's API and router constructors (as exported and where they are defined).
pub const NINJA_CTORS: &[&str] = &["ninja.NinjaAPI", "ninja.Router", "ninja.main.NinjaAPI", "ninja.router.Router"];

/// How deep name → value chains are followed.
const MAX_STEPS: u32 = 8;

impl<'t> PyModel<'t> {
    /// `call` constructs a django-ninja API or router.
    pub fn is_ninja_ctor(&self, call: Node<'t>) -> bool {
        call.kind() == "call" && call.child_by_field_name("function").is_some_and(|f| self.resolves_to(f, NINJA_CTORS))
    }

    /// The expression `n` is a django-ninja `NinjaAPI` / `Router`: a constructor call, a name
    /// bound to one (in this file, or a module-level name of another project module),
    /// `module.name` of an imported project module.
    pub fn is_ninja_router(&self, n: Node<'t>) -> bool {
        self.is_ninja_router_steps(n, 0)
    }

    fn is_ninja_router_steps(&self, n: Node<'t>, steps: u32) -> bool {
        if steps > MAX_STEPS {
            return false;
        }
        match n.kind() {
            "call" => self.is_ninja_ctor(n),
            "parenthesized_expression" => n.named_child(0).is_some_and(|c| self.is_ninja_router_steps(c, steps + 1)),
            "identifier" => {
                let name = self.node_text(n);
                match self.binding(name, n.start_byte()) {
                    Some(b) => match b.value {
                        Some(v) => self.is_ninja_router_steps(v, steps + 1),
                        None => self.imported_ninja_router(name, None),
                    },
                    None => self.imported_ninja_router(name, None),
                }
            }
            "attribute" => {
                let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
                    return false;
                };
                obj.kind() == "identifier"
                    && self.binding(self.node_text(obj), obj.start_byte()).is_none_or(|b| b.value.is_none())
                    && self.imported_ninja_router(self.node_text(obj), Some(self.node_text(attr)))
            }
            _ => false,
        }
    }

    /// The imported `name` (or `name.attr`, `name` a module) is a module-level router of a
    /// project module.
    fn imported_ninja_router(&self, name: &str, attr: Option<&str>) -> bool {
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
        outside.py_module_facts(module).is_some_and(|f| f.ninja_routers.iter().any(|b| b == var))
    }

    /// The module-level names of this file assigned a ninja API or router (`router = Router()`).
    pub fn module_ninja_routers(&self) -> Vec<String> {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let mut out = vec![];
        for st in root.named_children(&mut c).filter(|n| n.kind() == "expression_statement") {
            let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            if l.kind() == "identifier" && self.is_ninja_ctor(r) {
                out.push(self.node_text(l).to_string());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
