//! asgiref / Channels bridges for the AG30x rules (RULES.md §3.5): recognising
//! `sync_to_async`, `database_sync_to_async` and `async_to_sync` through the imports, and
//! resolving what a wrapped callable is (an `async def` of this file, a channel-layer
//! coroutine, a sync `def`, or unknown).
//!
//! Invariants: resolution is by import and by definitions in this file only; an unresolved
//! callable is [`Callable::Unknown`], and the rules stay silent (or offer no fix) on it.

use super::python::{PyModel, ScopeKind};
use crate::dialects::django;
use tree_sitter::Node;

/// `sync_to_async` and Channels' subclass of it.
pub const SYNC_TO_ASYNC: &[&str] = &["asgiref.sync.sync_to_async", "channels.db.database_sync_to_async"];
pub const ASYNC_TO_SYNC: &[&str] = &["asgiref.sync.async_to_sync"];

/// Channel-layer methods (all coroutine functions in `channels.layers`).
const CHANNEL_LAYER_ASYNC: &[&str] =
    &["group_send", "group_add", "group_discard", "send", "receive", "new_channel", "flush", "close"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callable<'t> {
    /// An `async def` of this file (every definition with that name is async), or a
    /// channel-layer coroutine method.
    AsyncDef(Option<Node<'t>>),
    /// A sync `def` of this file.
    SyncDef(Node<'t>),
    Unknown,
}

impl<'t> PyModel<'t> {
    /// The `function_definition`s of this file named `name`: methods when `methods`, else
    /// functions (not defined directly in a class body).
    fn defs_named(&self, name: &str, methods: bool) -> Vec<(Node<'t>, bool)> {
        self.function_scopes_named(name)
            .iter()
            .filter(|&&i| self.scopes[i].parent.is_some_and(|p| self.scopes[p].kind == ScopeKind::Class) == methods)
            .filter_map(|&i| self.function_nodes.get(&i).map(|d| (*d, self.scopes[i].is_async)))
            .collect()
    }

    /// The module-level `def` named `name` (the last one, as Python binds it), if any.
    pub fn module_def_named(&self, name: &str) -> Option<Node<'t>> {
        self.function_scopes_named(name)
            .iter()
            .rev()
            .find(|&&i| self.scopes[i].parent == Some(0))
            .and_then(|i| self.function_nodes.get(i).copied())
    }

    /// True when a class of this file defines a method named `name`.
    pub fn defines_method(&self, name: &str) -> bool {
        self.function_scopes_named(name)
            .iter()
            .any(|&i| self.scopes[i].parent.is_some_and(|p| self.scopes[p].kind == ScopeKind::Class))
    }

    /// The function scopes named `name` (an index built on first use).
    fn function_scopes_named(&self, name: &str) -> &[usize] {
        let by_name = self.functions_by_name.get_or_init(|| {
            let mut m: rustc_hash::FxHashMap<String, Vec<usize>> = Default::default();
            for (i, s) in self.scopes.iter().enumerate() {
                if let (ScopeKind::Function, Some(n)) = (s.kind, s.name.as_deref()) {
                    m.entry(n.to_string()).or_default().push(i);
                }
            }
            m
        });
        by_name.get(name).map_or(&[][..], Vec::as_slice)
    }

    /// What the callable expression `f` is.
    pub fn callable(&self, f: Node<'t>) -> Callable<'t> {
        let methods = f.kind() == "attribute";
        let name = match f.kind() {
            "identifier" => {
                // A name bound by an assignment is not (only) a def.
                if self.binding(self.node_text(f), f.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return Callable::Unknown;
                }
                if self.import_of(self.node_text(f)).is_some() {
                    return Callable::Unknown;
                }
                self.node_text(f)
            }
            "attribute" => {
                let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
                    return Callable::Unknown;
                };
                let attr = self.node_text(attr);
                let obj_text = self.node_text(obj);
                let last = obj_text.rsplit('.').next().unwrap_or(obj_text);
                let layer_value = |t: &str| t.replace(' ', "").ends_with("get_channel_layer()");
                let bound_to_layer = obj.kind() == "identifier"
                    && self
                        .binding(obj_text, obj.start_byte())
                        .and_then(|b| b.value)
                        .is_some_and(|v| layer_value(self.node_text(v)));
                if CHANNEL_LAYER_ASYNC.contains(&attr) && (last == "channel_layer" || layer_value(obj_text) || bound_to_layer) {
                    return Callable::AsyncDef(None);
                }
                if obj_text != "self" && obj_text != "cls" {
                    return Callable::Unknown;
                }
                attr
            }
            _ => return Callable::Unknown,
        };
        let defs = self.defs_named(name, methods);
        if defs.is_empty() {
            return Callable::Unknown;
        }
        if defs.iter().all(|(_, a)| *a) {
            Callable::AsyncDef(Some(defs[0].0))
        } else if defs.iter().all(|(_, a)| !*a) && defs.len() == 1 {
            Callable::SyncDef(defs[0].0)
        } else {
            Callable::Unknown
        }
    }

    /// The first positional argument of a call, when it is the only positional one.
    pub fn sole_positional(&self, args: Node<'t>) -> Option<Node<'t>> {
        let mut c = args.walk();
        let pos: Vec<Node> = args
            .named_children(&mut c)
            .filter(|a| !matches!(a.kind(), "keyword_argument" | "comment"))
            .collect();
        match pos.as_slice() {
            [one] if !matches!(one.kind(), "list_splat" | "dictionary_splat" | "parenthesized_expression") => Some(*one),
            _ => None,
        }
    }

    /// A call that runs a query when evaluated: an ORM terminal on a manager/queryset
    /// (`X.objects.get(pk=1)`), or `obj.save()` / `obj.refresh_from_db()`.
    pub fn is_eager_orm_call(&self, n: Node<'t>) -> bool {
        if n.kind() != "call" {
            return false;
        }
        let Some(func) = n.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return false };
        let (Some(recv), Some(method)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute")) else {
            return false;
        };
        let m = self.node_text(method);
        matches!(m, "save" | "refresh_from_db") || (django::queryset_terminal(m).is_some() && self.receiver(recv).is_orm())
    }
}

/// Parameters of a definition that a call must pass (no default, not `*args`/`**kw`, not a
/// leading `self`/`cls`).
pub fn required_params(py: &PyModel, def: Node) -> usize {
    let Some(params) = def.child_by_field_name("parameters") else { return 0 };
    let mut c = params.walk();
    let mut n = 0;
    for (i, p) in params.named_children(&mut c).enumerate() {
        let required = match p.kind() {
            "identifier" => !(i == 0 && matches!(py.node_text(p), "self" | "cls")),
            "typed_parameter" => p.named_child(0).is_some_and(|c| c.kind() == "identifier") && !(i == 0 && p.named_child(0).is_some_and(|c| matches!(py.node_text(c), "self" | "cls"))),
            _ => false,
        };
        if required {
            n += 1;
        }
    }
    n
}
