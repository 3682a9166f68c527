//! Async context managers built on sync ones: homemade async atomics (a class or helper that
//! enters Django's sync `Atomic` through `sync_to_async`, RULES.md §AG204) and dorm's circuit
//! breakers (`circuit_breaker(…)` / `CircuitBreaker(…)`, §AG309, §3.6c).
//!
//! Invariants:
//! - Everything resolves through the imports: `sync_to_async` must be asgiref's (or Channels'
//!   `database_sync_to_async`), `Atomic` / `atomic` Django's, the breaker factory dorm's. A
//!   look-alike of the file's own is silent.
//! - A homemade atomic is recognised by what its `__aenter__` (or the helper's body) hands to
//!   `sync_to_async`: `<x>.__enter__` where `<x>` is `Atomic`, an `atomic(…)` call, a name or
//!   `self.<attr>` assigned one in the same class or function, or `super()` / `self` in a
//!   class deriving `Atomic`. Nothing else (an async context manager that wraps some other
//!   sync `__enter__` is silent).
//! - A breaker is a value: a factory call, a name bound to one in this file, or a module-level
//!   name of another project module assigned one ([`super::outside::ModuleFacts::circuit_breakers`]).
//!   Parameters and attributes of unknown objects are unknown, hence silent.

use super::bridges::SYNC_TO_ASYNC;
use super::made_by::MadeBy;
use super::outside::PyDef;
use super::python::PyModel;
use super::transactions::AtomicApi;
use tree_sitter::Node;

/// dorm's breakers: made by the memoising factory or the class.
pub const BREAKER: MadeBy = MadeBy {
    ctors: &["dorm.contrib.circuit_breaker.circuit_breaker", "dorm.contrib.circuit_breaker.CircuitBreaker"],
    in_facts: |f| &f.circuit_breakers,
};

/// Django's `Atomic` class.
const ATOMIC_CLASS: &str = "django.db.transaction.Atomic";

/// How deep name → value chains are followed.
const MAX_STEPS: u32 = 8;

impl<'t> PyModel<'t> {
    /// `call` constructs a dorm circuit breaker.
    pub fn is_breaker_ctor(&self, call: Node<'t>) -> bool {
        self.is_ctor_call(call, &BREAKER)
    }

    /// The expression `n` is a dorm circuit breaker ([`MadeBy`]'s resolution).
    pub fn is_breaker(&self, n: Node<'t>) -> bool {
        self.is_made_by(n, &BREAKER)
    }

    /// The module-level names of this file assigned a breaker (`payments = circuit_breaker("p")`).
    pub fn module_breakers(&self) -> Vec<String> {
        self.module_made_by(&BREAKER)
    }

    /// The class `class` (a `class_definition`) is a homemade async atomic: its `__aenter__`
    /// enters a Django `Atomic` through `sync_to_async`. Returns the `__aenter__` statement.
    pub fn homemade_atomic_class(&self, class: Node<'t>) -> Option<Node<'t>> {
        let body = class.child_by_field_name("body")?;
        // Whether the class derives `Atomic` crosses files: asked only when an `__aenter__`
        // hands `self.__enter__`/`super().__enter__` to `sync_to_async`.
        let derives = std::cell::OnceCell::new();
        let derives_atomic = || *derives.get_or_init(|| self.class_derives_atomic(class));
        let mut c = body.walk();
        for st in body.named_children(&mut c) {
            let target = match st.kind() {
                "expression_statement" => st
                    .named_child(0)
                    .filter(|a| a.kind() == "assignment")
                    .filter(|a| a.child_by_field_name("left").is_some_and(|l| self.node_text(l) == "__aenter__"))
                    .and_then(|a| a.child_by_field_name("right")),
                "function_definition" | "decorated_definition" => {
                    let def = if st.kind() == "decorated_definition" { st.child_by_field_name("definition") } else { Some(st) };
                    def.filter(|d| d.child_by_field_name("name").is_some_and(|n| self.node_text(n) == "__aenter__"))
                        .and_then(|d| d.child_by_field_name("body"))
                }
                _ => None,
            };
            let Some(target) = target else { continue };
            if self.wraps_atomic_enter(target, Some(body), &derives_atomic) {
                return Some(st);
            }
        }
        None
    }

    /// A function (`function_definition`) whose body enters a Django `Atomic` through
    /// `sync_to_async` (an `aatomic` / `async_atomic` helper).
    pub fn homemade_atomic_helper(&self, def: Node<'t>) -> bool {
        def.child_by_field_name("body").is_some_and(|b| self.wraps_atomic_enter(b, Some(b), &|| false))
    }

    /// The class derives Django's `Atomic`: a base resolving to it through the imports, or
    /// (through this file's and the project's classes) a library base that is it.
    fn class_derives_atomic(&self, class: Node<'t>) -> bool {
        let Some(name) = class.child_by_field_name("name").map(|n| self.node_text(n)) else { return false };
        self.class_lib_bases(name, 0).iter().any(|b| b == ATOMIC_CLASS)
    }

    /// Somewhere in `within` (stopping at nested classes) a call `sync_to_async(<x>.__enter__)`
    /// where `<x>` is an atomic (see the module doc); `assigns`: where `self.<attr> = atomic(…)`
    /// and `name = atomic(…)` assignments are looked for.
    fn wraps_atomic_enter(&self, within: Node<'t>, assigns: Option<Node<'t>>, derives_atomic: &dyn Fn() -> bool) -> bool {
        let mut stack = vec![within];
        let mut seen = 0u32;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > 20_000 {
                return false;
            }
            if n.kind() == "call" && self.is_sync_to_async_of_atomic_enter(n, assigns, derives_atomic) {
                return true;
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c).filter(|k| k.kind() != "class_definition"));
        }
        false
    }

    fn is_sync_to_async_of_atomic_enter(&self, call: Node<'t>, assigns: Option<Node<'t>>, derives_atomic: &dyn Fn() -> bool) -> bool {
        let Some(func) = call.child_by_field_name("function") else { return false };
        if !self.resolves_to(func, SYNC_TO_ASYNC) {
            return false;
        }
        let Some(arg) = call.child_by_field_name("arguments").and_then(|a| a.named_child(0)) else { return false };
        if arg.kind() != "attribute" || arg.child_by_field_name("attribute").is_none_or(|a| self.node_text(a) != "__enter__") {
            return false;
        }
        let Some(obj) = arg.child_by_field_name("object") else { return false };
        self.is_atomic_object(obj, assigns, derives_atomic)
    }

    /// `obj` (the receiver of `__enter__`) is a Django atomic.
    fn is_atomic_object(&self, obj: Node<'t>, assigns: Option<Node<'t>>, derives_atomic: &dyn Fn() -> bool) -> bool {
        let text = self.node_text(obj);
        if self.resolves_to(obj, &[ATOMIC_CLASS]) {
            return true;
        }
        if self.atomic_use(obj).is_some_and(|u| u.api == AtomicApi::Django && obj.kind() == "call") {
            return true;
        }
        if (text == "self" || text == "super()") && derives_atomic() {
            return true;
        }
        // `name` or `self.<attr>` assigned an `atomic(…)` call where the helper or class is.
        let Some(scope) = assigns else { return false };
        let want = match obj.kind() {
            "identifier" => text,
            "attribute" if text.starts_with("self.") => text,
            _ => return false,
        };
        let mut stack = vec![scope];
        let mut seen = 0u32;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > 20_000 {
                return false;
            }
            if n.kind() == "assignment" {
                let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { continue };
                if self.node_text(l) == want && r.kind() == "call" && self.atomic_use(r).is_some_and(|u| u.api == AtomicApi::Django) {
                    return true;
                }
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        false
    }

    /// The class a callee names is a homemade async atomic: a class of this file (directly,
    /// or through a base of this file or another project module), or one imported from
    /// another project module. Returns where it is declared when that is another file.
    pub fn homemade_atomic_callee(&self, callee: Node<'t>) -> Option<Option<super::outside::Loc>> {
        match callee.kind() {
            "identifier" => {
                let name = self.node_text(callee);
                if let Some(def) = self.class_node(name) {
                    if self.binding(name, callee.start_byte()).is_some_and(|b| b.value.is_some()) {
                        return None;
                    }
                    return self.class_is_homemade(def, 0).then_some(None);
                }
                if self.binding(name, callee.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return None;
                }
                match self.imported_def(name, None)? {
                    PyDef::Class(c) if c.homemade_atomic => Some(c.loc.clone()),
                    _ => None,
                }
            }
            "attribute" => {
                let obj = callee.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
                let attr = self.node_text(callee.child_by_field_name("attribute")?);
                if self.binding(self.node_text(obj), obj.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return None;
                }
                match self.imported_def(self.node_text(obj), Some(attr))? {
                    PyDef::Class(c) if c.homemade_atomic => Some(c.loc.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A class of this file is a homemade atomic, itself or through a base (of this file or an
    /// imported project class).
    fn class_is_homemade(&self, class: Node<'t>, depth: u32) -> bool {
        if depth > MAX_STEPS {
            return false;
        }
        if self.homemade_atomic_class(class).is_some() {
            return true;
        }
        let Some(bases) = class.child_by_field_name("superclasses") else { return false };
        let mut c = bases.walk();
        let list: Vec<Node> = bases.named_children(&mut c).filter(|b| matches!(b.kind(), "identifier" | "attribute")).collect();
        list.into_iter().any(|b| {
            let text = self.node_text(b);
            if let Some(def) = self.class_node(text) {
                return def != class && self.class_is_homemade(def, depth + 1);
            }
            let (head, tail) = text.split_once('.').map_or((text, None), |(h, t)| (h, Some(t)));
            matches!(self.imported_def(head, tail), Some(PyDef::Class(c)) if c.homemade_atomic)
        })
    }
}
