//! Objects that turn functions into Django views outside the URLconf: django-ninja's
//! `NinjaAPI(…)` / `Router(…)` (RULES.md §AG206).
//!
//! Invariants: a router is a value, resolved through the imports: a `ninja` constructor call,
//! a name bound to one in this file, or a module-level name of another project module
//! assigned one ([`super::outside::ModuleFacts::ninja_routers`]). Parameters, attributes of
//! unknown objects and look-alike classes of the file's own are unknown, hence silent.

use super::made_by::MadeBy;
use super::python::PyModel;
use tree_sitter::Node;

/// django-ninja's APIs and routers (constructors as exported and where they are defined).
pub const NINJA_ROUTER: MadeBy = MadeBy {
    ctors: &["ninja.NinjaAPI", "ninja.Router", "ninja.main.NinjaAPI", "ninja.router.Router"],
    in_facts: |f| &f.ninja_routers,
};

impl<'t> PyModel<'t> {
    /// `call` constructs a django-ninja API or router.
    pub fn is_ninja_ctor(&self, call: Node<'t>) -> bool {
        self.is_ctor_call(call, &NINJA_ROUTER)
    }

    /// The expression `n` is a django-ninja `NinjaAPI` / `Router` ([`MadeBy`]'s resolution).
    pub fn is_ninja_router(&self, n: Node<'t>) -> bool {
        self.is_made_by(n, &NINJA_ROUTER)
    }

    /// The module-level names of this file assigned a ninja API or router (`router = Router()`).
    pub fn module_ninja_routers(&self) -> Vec<String> {
        self.module_made_by(&NINJA_ROUTER)
    }
}
