//! asgiref / Channels bridges for the AG30x rules (RULES.md §3.5): recognising
//! `sync_to_async`, `database_sync_to_async` and `async_to_sync` through the imports, and
//! resolving what a wrapped callable is (an `async def` of this file, a channel-layer
//! coroutine, a sync `def`, or unknown).
//!
//! Invariants: resolution is by import and by definitions in this file only; an unresolved
//! callable is [`Callable::Unknown`], and the rules stay silent (or offer no fix) on it.

use super::python::{PyModel, ScopeKind};
use crate::dialects::{django, Version};
use tree_sitter::Node;

/// `sync_to_async` and Channels' subclass of it.
pub const SYNC_TO_ASYNC: &[&str] = &["asgiref.sync.sync_to_async", "channels.db.database_sync_to_async"];
pub const ASYNC_TO_SYNC: &[&str] = &["asgiref.sync.async_to_sync"];

/// Channel-layer methods (all coroutine functions in `channels.layers`).
const CHANNEL_LAYER_ASYNC: &[&str] =
    &["group_send", "group_add", "group_discard", "send", "receive", "new_channel", "flush", "close"];

/// Whether a callable is a coroutine function (what `iscoroutinefunction` says of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sync,
    Async,
    Unknown,
}

/// Django view decorators that keep an `async def` async from a version on (they check
/// `iscoroutinefunction` and return an async wrapper); before it they return a sync wrapper.
/// Django 5.0 release notes ("Decorators"), 5.1 for the auth decorators (RULES.md §AG107).
pub const DJANGO_KIND_KEEPING: &[(&str, Version)] = &[
    ("cache_control", Version(5, 0, 0)),
    ("never_cache", Version(5, 0, 0)),
    ("no_append_slash", Version(5, 0, 0)),
    ("csrf_exempt", Version(5, 0, 0)),
    ("csrf_protect", Version(5, 0, 0)),
    ("ensure_csrf_cookie", Version(5, 0, 0)),
    ("requires_csrf_token", Version(5, 0, 0)),
    ("sensitive_variables", Version(5, 0, 0)),
    ("sensitive_post_parameters", Version(5, 0, 0)),
    ("gzip_page", Version(5, 0, 0)),
    ("condition", Version(5, 0, 0)),
    ("etag", Version(5, 0, 0)),
    ("last_modified", Version(5, 0, 0)),
    ("require_http_methods", Version(5, 0, 0)),
    ("require_GET", Version(5, 0, 0)),
    ("require_POST", Version(5, 0, 0)),
    ("require_safe", Version(5, 0, 0)),
    ("vary_on_cookie", Version(5, 0, 0)),
    ("vary_on_headers", Version(5, 0, 0)),
    ("xframe_options_deny", Version(5, 0, 0)),
    ("xframe_options_sameorigin", Version(5, 0, 0)),
    ("xframe_options_exempt", Version(5, 0, 0)),
    ("login_required", Version(5, 1, 0)),
    ("permission_required", Version(5, 1, 0)),
    ("user_passes_test", Version(5, 1, 0)),
    ("login_not_required", Version(5, 1, 0)),
    // Sets `_non_atomic_requests` on the function and returns it: every version.
    ("non_atomic_requests", Version(0, 0, 0)),
];

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
    /// functions (not defined directly in a class body); each with its kind once decorated.
    fn defs_named(&self, name: &str, methods: bool, version: Version) -> Vec<(Node<'t>, Kind)> {
        self.function_scopes_named(name)
            .iter()
            .filter(|&&i| self.scopes[i].parent.is_some_and(|p| self.scopes[p].kind == ScopeKind::Class) == methods)
            .filter_map(|&i| self.function_nodes.get(&i).map(|d| (*d, self.defined_kind(*d, version))))
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

    /// Every function of the file (by scope order) with the kind its name is bound to once
    /// decorated: what a fix must not change.
    pub fn function_kinds(&self, version: Version) -> Vec<(String, Kind)> {
        let mut ids: Vec<&usize> = self.function_nodes.keys().collect();
        ids.sort();
        ids.into_iter()
            .map(|i| (self.scopes[*i].name.clone().unwrap_or_default(), self.defined_kind(self.function_nodes[i], version)))
            .collect()
    }

    /// The decorators of a `function_definition`, top to bottom (the expressions after `@`).
    pub fn decorators_of(&self, def: Node<'t>) -> Vec<Node<'t>> {
        let Some(p) = self.decorated_parent(def) else { return vec![] };
        let mut c = p.walk();
        p.named_children(&mut c).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).collect()
    }

    /// The `decorated_definition` whose definition is `def` (same answer as `def.parent()`
    /// filtered on that kind), recorded by the scope walk: constant time for the definitions it
    /// met, `Node::parent` (linear in the earlier top-level statements) for any other.
    pub fn decorated_parent(&self, def: Node<'t>) -> Option<Node<'t>> {
        match self.decorated.get(&def.start_byte()) {
            Some(&p) if p.map_or(true, |p| p.child_by_field_name("definition") == Some(def)) => p,
            _ => def.parent().filter(|p| p.kind() == "decorated_definition"),
        }
    }

    /// `name` occurs in the source as a whole word (not inside a longer identifier). Same answer
    /// as scanning the text, from a set of the source's words built once.
    pub fn word_taken(&self, name: &str) -> bool {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        if name.is_empty() || !name.chars().all(word) {
            let src = self.src;
            return src.match_indices(name).any(|(i, _)| {
                !src[..i].chars().next_back().is_some_and(word) && !src[i + name.len()..].chars().next().is_some_and(word)
            });
        }
        let words = self.words.get_or_init(|| self.src.split(|c: char| !word(c)).filter(|w| !w.is_empty()).map(Box::from).collect());
        words.contains(name)
    }

    /// What the name a `def` binds is, after its whole decorator stack.
    pub fn defined_kind(&self, def: Node<'t>, version: Version) -> Kind {
        let base = if def.child(0).is_some_and(|c| c.kind() == "async") { Kind::Async } else { Kind::Sync };
        self.stack_kind(&self.decorators_of(def), base, version)
    }

    /// The kind of what a decorator stack returns, applied bottom-up to a callable of kind
    /// `base`: `async_to_sync` → sync, `sync_to_async` → async, the Django view decorators
    /// that support async views keep the kind (before their version: sync), `staticmethod` /
    /// `classmethod` keep it, any other decorator → unknown.
    pub fn stack_kind(&self, decorators: &[Node<'t>], base: Kind, version: Version) -> Kind {
        let mut kind = base;
        for &d in decorators.iter().rev() {
            let callee = if d.kind() == "call" { d.child_by_field_name("function") } else { Some(d) };
            let path = callee.and_then(|c| self.resolve_node(c));
            let text = callee.map(|c| self.node_text(c)).unwrap_or("");
            kind = match path.as_deref() {
                Some(p) if SYNC_TO_ASYNC.contains(&p) => Kind::Async,
                Some(p) if ASYNC_TO_SYNC.contains(&p) => Kind::Sync,
                Some(p) if p.starts_with("django.") => {
                    let last = p.rsplit('.').next().unwrap_or("");
                    match DJANGO_KIND_KEEPING.iter().find(|(n, _)| *n == last) {
                        Some((_, since)) if version >= *since => kind,
                        Some(_) => Kind::Sync,
                        None => Kind::Unknown,
                    }
                }
                None if matches!(text, "staticmethod" | "classmethod")
                    && self.binding(text, d.start_byte()).is_none()
                    && self.import_of(text).is_none() =>
                {
                    kind
                }
                _ => Kind::Unknown,
            };
            if kind == Kind::Unknown {
                break;
            }
        }
        kind
    }

    /// True when a class of this file defines a method named `name`.
    pub fn defines_method(&self, name: &str) -> bool {
        self.function_scopes_named(name)
            .iter()
            .any(|&i| self.scopes[i].parent.is_some_and(|p| self.scopes[p].kind == ScopeKind::Class))
    }

    /// The function scopes named `name` (an index built on first use).
    pub(crate) fn function_scopes_named(&self, name: &str) -> &[usize] {
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

    /// What the callable expression `f` is (a def's decorators count: `@async_to_sync` on an
    /// `async def` makes it sync; an unknown decorator makes it unknown).
    pub fn callable(&self, f: Node<'t>, version: Version) -> Callable<'t> {
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
        let defs = self.defs_named(name, methods, version);
        if defs.is_empty() {
            return Callable::Unknown;
        }
        if defs.iter().all(|(_, k)| *k == Kind::Async) {
            Callable::AsyncDef(Some(defs[0].0))
        } else if defs.iter().all(|(_, k)| *k == Kind::Sync) && defs.len() == 1 {
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
