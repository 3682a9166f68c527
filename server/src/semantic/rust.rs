//! The Rust model: function-like scopes (async or sync, offloaded), `use` declarations and
//! the crate dialects they select, `let` bindings and parameters with their type or
//! initializer, type aliases and struct field types, function attributes, and comments.
//!
//! Receiver resolution ([`RustModel::kind_of`]) follows a name to its parameter type, its
//! `let` type annotation or its initializer (`let mut conn = pool.get()?;`), through type
//! aliases and struct fields, to a [`Kind`]: the crate object it is (a diesel connection, an
//! r2d2 pool, a sqlx pool …). Anything it cannot tell is [`Kind::Unknown`], and rules stay
//! silent on unknown receivers.
//!
//! Names the file does not declare (an alias, struct, static or function of another module)
//! are asked of the project through `outside` ([`super::outside::Outside::rs_def`]) when the
//! analysis has one; calls, blocking and forwarding wrappers are in [`super::rust_calls`].
//!
//! Invariants: building walks the tree with a `TreeCursor` (no recursion); resolution follows
//! bindings with a bounded number of steps, so cyclic or deep chains cannot loop or overflow.

use crate::dialects::rust_crates;
use crate::text::LineIndex;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use tree_sitter::{Node, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RScopeKind {
    File,
    /// A `fn` item (its body).
    Fn,
    /// A closure (parameters and body).
    Closure,
    /// An `async { }` block.
    AsyncBlock,
}

#[derive(Clone, Debug)]
pub struct RScope<'t> {
    pub kind: RScopeKind,
    pub range: Range<usize>,
    pub parent: Option<usize>,
    pub is_async: bool,
    pub offloaded: bool,
    /// The `function_item` / `closure_expression` / `async_block` node (none for the file).
    pub node: Option<Node<'t>>,
    /// Attributes written before a `fn` item (`#[tokio::test]` …).
    pub attrs: Vec<Node<'t>>,
}

/// Where a piece of code runs, and whether `.await` may be written there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RContext {
    Sync,
    /// On the async runtime. `scope` is the async scope; `blocker` the sync closure between
    /// the code and it, which makes `.await` illegal.
    Async { scope: usize, blocker: Option<RScopeKind> },
}

impl RContext {
    pub fn is_async(self) -> bool {
        matches!(self, RContext::Async { .. })
    }
    pub fn await_ok(self) -> bool {
        matches!(self, RContext::Async { blocker: None, .. })
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RBinding<'t> {
    pub pos: usize,
    /// The declared type (parameter, `let x: T`).
    pub ty: Option<Node<'t>>,
    /// The initializer of `let x = value`.
    pub value: Option<Node<'t>>,
    /// A parameter of the closure `closure` (its type is up to the callee).
    pub closure_of: Option<Node<'t>>,
    /// A function or closure parameter (for `State(x): State<T>`, `ty` is `T` already).
    pub is_param: bool,
}

/// What a receiver is, as far as the file tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    DieselConn,
    R2d2Pool(Conn),
    RusqliteConn,
    RusqliteStmt,
    RusqliteTx,
    PgClient,
    PgTx,
    TokioPgClient,
    TokioPgTx,
    SqlxPool,
    SqlxTx,
    SeaDb,
    SeaTxn,
    /// A tokio `Runtime` or `Handle`.
    Runtime,
    Unknown,
}

/// The connection an r2d2 pool hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Diesel,
    Rusqlite,
    Postgres,
    Other,
}

pub struct RustModel<'t> {
    pub src: &'t str,
    pub tree: &'t Tree,
    pub scopes: Vec<RScope<'t>>,
    /// local name → full path (`Pool` → `diesel::r2d2::Pool`).
    pub imports: HashMap<String, String>,
    /// Paths imported with `::*`.
    pub globs: Vec<String>,
    /// First segments of every path written in the file (`sqlx` in `sqlx::query(…)`).
    pub path_roots: HashSet<String>,
    bindings: HashMap<(usize, String), Vec<RBinding<'t>>>,
    /// `type Name = …;`
    pub aliases: HashMap<String, Node<'t>>,
    /// Function name → declared return types (every `fn` of the file with that name).
    pub fn_returns: HashMap<String, Vec<Node<'t>>>,
    /// Struct field name → declared types (all structs of the file).
    pub fields: HashMap<String, Vec<Node<'t>>>,
    /// Comments by line, for suppressions.
    pub comments: HashMap<usize, Vec<Range<usize>>>,
    offload_names: HashSet<String>,
    /// Method calls (`call_expression` nodes with a `field_expression` / turbofish callee).
    pub method_calls: Vec<Node<'t>>,
    /// Path calls: (call, callee path or name).
    pub path_calls: Vec<(Node<'t>, Node<'t>)>,
    /// `let name = value;`: (let, name, value).
    pub lets: Vec<(Node<'t>, Node<'t>, Node<'t>)>,
    /// `static NAME: T = …;` of this file: name → `T`.
    pub statics: HashMap<String, Node<'t>>,
    /// Every `fn` item of the file by name (free functions and methods).
    pub fn_items: HashMap<String, Vec<Node<'t>>>,
    /// The rest of the project, when the analysis has it ([`super::outside`]); `None`: this
    /// file alone. Set before [`RustModel::resolve_wrappers`].
    pub outside: Option<&'t dyn super::outside::Outside>,
    pub(crate) fn_memo: std::cell::RefCell<HashMap<usize, std::sync::Arc<super::outside::RsFnFacts>>>,
    pub(crate) fn_memo_depth: std::cell::Cell<u32>,
}

/// Methods that hand a sync closure argument to another thread.
const OFFLOAD_METHODS: &[&str] =
    &["spawn_blocking", "spawn_blocking_on", "block_in_place", "interact", "spawn", "spawn_scoped", "spawn_fifo"];

impl<'t> RustModel<'t> {
    pub fn build(src: &'t str, tree: &'t Tree, index: &LineIndex) -> Self {
        let mut m = RustModel {
            src,
            tree,
            scopes: vec![RScope {
                kind: RScopeKind::File,
                range: 0..src.len() + 1,
                parent: None,
                is_async: false,
                offloaded: false,
                node: None,
                attrs: vec![],
            }],
            imports: HashMap::new(),
            globs: Vec::new(),
            path_roots: HashSet::new(),
            bindings: HashMap::new(),
            aliases: HashMap::new(),
            fields: HashMap::new(),
            fn_returns: HashMap::new(),
            comments: HashMap::new(),
            offload_names: HashSet::new(),
            method_calls: Vec::new(),
            path_calls: Vec::new(),
            lets: Vec::new(),
            statics: HashMap::new(),
            fn_items: HashMap::new(),
            outside: None,
            fn_memo: Default::default(),
            fn_memo_depth: Default::default(),
        };
        m.match_candidates();
        let mut let_closures: Vec<(String, usize)> = Vec::new();
        let mut cursor = tree.walk();
        let mut stack: Vec<(usize, usize)> = vec![(0, usize::MAX)];
        // The ancestors of the cursor's node, and per level the attributes seen since the last
        // item (no `Node::parent` / `prev_sibling`, whose cost grows with the tree).
        let mut ancestors: Vec<Node<'t>> = Vec::new();
        let mut pending_attrs: Vec<Vec<Node<'t>>> = vec![Vec::new()];
        loop {
            let node = cursor.node();
            while stack.len() > 1 && stack.last().is_some_and(|(_, end)| node.start_byte() >= *end) {
                stack.pop();
            }
            let cur = stack.last().map(|s| s.0).unwrap_or(0);
            let level = pending_attrs.last_mut().expect("one level per depth");
            let attrs = match node.kind() {
                "attribute_item" => {
                    level.push(node);
                    Vec::new()
                }
                "line_comment" | "block_comment" => Vec::new(),
                _ => std::mem::take(level),
            };
            if let Some(idx) = m.enter(node, cur, &ancestors, attrs, index, &mut let_closures) {
                stack.push((idx, m.scopes[idx].range.end));
            }
            if cursor.goto_first_child() {
                ancestors.push(node);
                pending_attrs.push(Vec::new());
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    for (name, idx) in let_closures {
                        if m.offload_names.contains(&name) {
                            m.scopes[idx].offloaded = true;
                        }
                    }
                    return m;
                }
                ancestors.pop();
                pending_attrs.pop();
            }
        }
    }

    /// Runs `queries/rust/candidates.scm` once; rules read the lists instead of re-querying.
    fn match_candidates(&mut self) {
        use streaming_iterator::StreamingIterator;
        let c = crate::syntax::combined(crate::syntax::Lang::Rust);
        let id = crate::syntax::QueryId::RsCandidates;
        let base = c.owner.iter().position(|o| *o == id).unwrap_or(0);
        let q = &c.query;
        let names = q.capture_names();
        let mut cursor = tree_sitter::QueryCursor::new();
        let mut matches = cursor.matches(q, self.tree.root_node(), self.src.as_bytes());
        while let Some(mt) = matches.next() {
            if c.owner[mt.pattern_index] != id {
                continue;
            }
            let cap = |name: &str| mt.captures().iter().find(|c| names[c.index as usize] == name).map(|c| c.node);
            match mt.pattern_index - base {
                0 => self.method_calls.extend(cap("call")),
                1 => {
                    if let (Some(c), Some(p)) = (cap("call"), cap("path")) {
                        self.path_calls.push((c, p));
                    }
                }
                _ => {
                    if let (Some(l), Some(n), Some(v)) = (cap("let"), cap("name"), cap("value")) {
                        self.lets.push((l, n, v));
                    }
                }
            }
        }
    }

    fn text(&self, n: Node) -> &'t str {
        &self.src[n.byte_range()]
    }

    /// The text of a node.
    pub fn node_text(&self, n: Node) -> &'t str {
        &self.src[n.byte_range()]
    }

    fn push(&mut self, s: RScope<'t>) -> usize {
        self.scopes.push(s);
        self.scopes.len() - 1
    }

    fn enter(
        &mut self,
        node: Node<'t>,
        cur: usize,
        ancestors: &[Node<'t>],
        fn_attrs: Vec<Node<'t>>,
        index: &LineIndex,
        let_closures: &mut Vec<(String, usize)>,
    ) -> Option<usize> {
        let parent = ancestors.last().copied();
        let grandparent = ancestors.len().checked_sub(2).map(|i| ancestors[i]);
        match node.kind() {
            "line_comment" | "block_comment" => {
                let line = index.line_of(node.start_byte());
                self.comments.entry(line).or_default().push(node.byte_range());
                None
            }
            "function_item" => {
                let body = node.child_by_field_name("body")?;
                let is_async = node
                    .named_children(&mut node.walk())
                    .find(|c| c.kind() == "function_modifiers")
                    .is_some_and(|mods| self.text(mods).split_whitespace().any(|w| w == "async"));
                let attrs = fn_attrs;
                if let (Some(name), Some(ret)) = (node.child_by_field_name("name"), node.child_by_field_name("return_type")) {
                    self.fn_returns.entry(self.text(name).to_string()).or_default().push(ret);
                }
                if let Some(name) = node.child_by_field_name("name") {
                    self.fn_items.entry(self.text(name).to_string()).or_default().push(node);
                }
                let idx = self.push(RScope {
                    kind: RScopeKind::Fn,
                    range: body.byte_range(),
                    parent: Some(cur),
                    is_async,
                    offloaded: false,
                    node: Some(node),
                    attrs,
                });
                if let Some(params) = node.child_by_field_name("parameters") {
                    for p in params.named_children(&mut params.walk()).filter(|p| p.kind() == "parameter") {
                        let ty = p.child_by_field_name("type");
                        if let Some(pat) = p.child_by_field_name("pattern") {
                            self.bind_pattern(idx, pat, 0, ty, None, None, true);
                        }
                    }
                }
                Some(idx)
            }
            "closure_expression" => {
                let is_async = node.child(0).is_some_and(|c| c.kind() == "async");
                // `spawn_blocking(move || …)`, and `spawn_blocking({ let x = …; move || … })`
                // (the closure is the value of blocks that are the argument).
                let _ = grandparent;
                let mut up = ancestors.iter().rev().copied();
                let mut p = up.next();
                let tail_holds = |b: Node<'t>| {
                    let mut c = b.walk();
                    let last = b.named_children(&mut c).filter(|n| !matches!(n.kind(), "line_comment" | "block_comment")).last();
                    last.is_some_and(|l| l.id() == node.id() || (l.kind() == "block" && l.start_byte() <= node.start_byte() && node.end_byte() <= l.end_byte()))
                };
                while p.is_some_and(|b| b.kind() == "block" && tail_holds(b)) {
                    p = up.next();
                }
                let offloaded = !is_async
                    && p.is_some_and(|p| p.kind() == "arguments")
                    && up.next().is_some_and(|g| g.kind() == "call_expression" && self.is_offloader_call(g));
                let idx = self.push(RScope {
                    kind: RScopeKind::Closure,
                    range: node.byte_range(),
                    parent: Some(cur),
                    is_async,
                    offloaded,
                    node: Some(node),
                    attrs: vec![],
                });
                if let Some(params) = node.child_by_field_name("parameters") {
                    for p in params.named_children(&mut params.walk()) {
                        let (pat, ty) = match p.kind() {
                            "parameter" => (p.child_by_field_name("pattern"), p.child_by_field_name("type")),
                            _ => (Some(p), None),
                        };
                        if let Some(pat) = pat {
                            self.bind_pattern(idx, pat, 0, ty, None, Some(node), true);
                        }
                    }
                }
                // `let work = move || …;` handed to an offloader later by name.
                if let Some(parent) = parent {
                    if parent.kind() == "let_declaration" {
                        if let Some(pat) = parent.child_by_field_name("pattern").filter(|p| p.kind() == "identifier") {
                            let_closures.push((self.text(pat).to_string(), idx));
                        }
                    }
                }
                Some(idx)
            }
            "async_block" => Some(self.push(RScope {
                kind: RScopeKind::AsyncBlock,
                range: node.byte_range(),
                parent: Some(cur),
                is_async: true,
                offloaded: false,
                node: Some(node),
                attrs: vec![],
            })),
            "let_declaration" => {
                let pat = node.child_by_field_name("pattern")?;
                let ty = node.child_by_field_name("type");
                let value = node.child_by_field_name("value");
                // Blocks do not get their own scope: a later binding of the same name in the
                // function shadows by position, which is what `binding()` looks up.
                self.bind_pattern(cur, pat, node.end_byte(), ty, value, None, false);
                None
            }
            "let_condition" => {
                // `if let Ok(conn) = pool.get()` / `Some(x) = …`: `conn` is what `value?` is.
                let pat = node.child_by_field_name("pattern")?;
                let value = node.child_by_field_name("value");
                if pat.kind() == "tuple_struct_pattern" && pat.named_child_count() == 2 {
                    let head = pat.child_by_field_name("type").map(|t| self.text(t));
                    if matches!(head, Some("Ok" | "Some")) {
                        if let Some(inner) = pat.named_child(1).filter(|n| matches!(n.kind(), "identifier" | "mut_pattern")) {
                            self.bind_pattern(cur, inner, node.end_byte(), None, value, None, false);
                        }
                    }
                }
                None
            }
            "use_declaration" => {
                if let Some(arg) = node.child_by_field_name("argument") {
                    self.use_tree(arg);
                }
                None
            }
            "extern_crate_declaration" => {
                if let Some(name) = node.child_by_field_name("name") {
                    let n = self.text(name).to_string();
                    let local = node.child_by_field_name("alias").map(|a| self.text(a).to_string()).unwrap_or(n.clone());
                    self.imports.insert(local, n);
                }
                None
            }
            "static_item" => {
                if let (Some(name), Some(ty)) = (node.child_by_field_name("name"), node.child_by_field_name("type")) {
                    self.statics.insert(self.text(name).to_string(), ty);
                }
                None
            }
            "type_item" => {
                if let (Some(name), Some(ty)) = (node.child_by_field_name("name"), node.child_by_field_name("type")) {
                    self.aliases.insert(self.text(name).to_string(), ty);
                }
                None
            }
            "field_declaration" => {
                if let (Some(name), Some(ty)) = (node.child_by_field_name("name"), node.child_by_field_name("type")) {
                    self.fields.entry(self.text(name).to_string()).or_default().push(ty);
                }
                None
            }
            "scoped_identifier" | "scoped_type_identifier" => {
                let t = self.text(node);
                if let Some(first) = t.split("::").next() {
                    let first = first.trim();
                    if !first.is_empty() && !first.contains(['<', ' ']) {
                        self.path_roots.insert(first.to_string());
                    }
                }
                None
            }
            "call_expression" => {
                self.note_offload_by_name(node);
                None
            }
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_pattern(
        &mut self,
        scope: usize,
        pat: Node<'t>,
        pos: usize,
        ty: Option<Node<'t>>,
        value: Option<Node<'t>>,
        closure_of: Option<Node<'t>>,
        is_param: bool,
    ) {
        match pat.kind() {
            "identifier" => {
                let name = self.text(pat).to_string();
                self.bindings.entry((scope, name)).or_default().push(RBinding { pos, ty, value, closure_of, is_param });
            }
            "mut_pattern" | "ref_pattern" => {
                if let Some(inner) = pat.named_children(&mut pat.walk()).find(|c| c.kind() != "mutable_specifier") {
                    self.bind_pattern(scope, inner, pos, ty, value, closure_of, is_param);
                }
            }
            // `State(pool): State<DbPool>`, `Data(pool): Data<Pool>`: the single field has the
            // wrapper's generic argument as its type.
            "tuple_struct_pattern" => {
                let inner_ty = ty.and_then(|t| t.child_by_field_name("type_arguments")).and_then(|a| a.named_child(0));
                let mut c = pat.walk();
                let elems: Vec<Node> = pat.named_children(&mut c).skip(1).collect();
                for e in elems.iter() {
                    let t = if elems.len() == 1 { inner_ty } else { None };
                    self.bind_unknown_or(scope, *e, pos, t, closure_of, is_param);
                }
            }
            _ => self.bind_unknown_or(scope, pat, pos, None, closure_of, is_param),
        }
    }

    /// Binds every identifier of a pattern with no known type (or `ty` for a lone identifier).
    fn bind_unknown_or(
        &mut self,
        scope: usize,
        pat: Node<'t>,
        pos: usize,
        ty: Option<Node<'t>>,
        closure_of: Option<Node<'t>>,
        is_param: bool,
    ) {
        let mut todo = vec![pat];
        while let Some(n) = todo.pop() {
            if n.kind() == "identifier" {
                let name = self.text(n).to_string();
                let t = if n.id() == pat.id() { ty } else { None };
                self.bindings
                    .entry((scope, name))
                    .or_default()
                    .push(RBinding { pos, ty: t, value: None, closure_of, is_param });
            } else if !matches!(n.kind(), "scoped_identifier" | "field_identifier" | "type_identifier") {
                let mut c = n.walk();
                // The first child of a struct / tuple-struct pattern is its type path.
                let skip = usize::from(matches!(n.kind(), "tuple_struct_pattern" | "struct_pattern"));
                todo.extend(n.named_children(&mut c).skip(skip));
            }
        }
    }

    fn use_tree(&mut self, arg: Node<'t>) {
        // (prefix, node) work list.
        let mut todo: Vec<(String, Node<'t>)> = vec![(String::new(), arg)];
        let join = |a: &str, b: &str| if a.is_empty() { b.to_string() } else { format!("{a}::{b}") };
        while let Some((prefix, n)) = todo.pop() {
            match n.kind() {
                "identifier" | "scoped_identifier" | "crate" | "super" | "self" => {
                    let t = self.text(n);
                    if n.kind() == "self" {
                        let last = prefix.rsplit("::").next().unwrap_or("").to_string();
                        if !last.is_empty() {
                            self.imports.insert(last, prefix.clone());
                        }
                        continue;
                    }
                    let full = join(&prefix, t);
                    let last = full.rsplit("::").next().unwrap_or("").to_string();
                    self.note_root(&full);
                    self.imports.insert(last, full);
                }
                "use_as_clause" => {
                    let (Some(p), Some(a)) = (n.child_by_field_name("path"), n.child_by_field_name("alias")) else { continue };
                    let full = join(&prefix, self.text(p));
                    self.note_root(&full);
                    let alias = self.text(a).to_string();
                    if alias == "_" {
                        // A trait brought in for its methods: keep it findable by its own name.
                        let last = full.rsplit("::").next().unwrap_or("").to_string();
                        self.imports.entry(format!("_{last}")).or_insert(full);
                    } else {
                        self.imports.insert(alias, full);
                    }
                }
                "use_wildcard" => {
                    let t = self.text(n).trim_end_matches('*').trim_end_matches("::").to_string();
                    let full = join(&prefix, &t).trim_end_matches("::").to_string();
                    self.note_root(&full);
                    self.globs.push(full);
                }
                "scoped_use_list" => {
                    let path = n.child_by_field_name("path").map(|p| self.text(p).to_string()).unwrap_or_default();
                    let p = join(&prefix, &path);
                    self.note_root(&p);
                    if let Some(list) = n.child_by_field_name("list") {
                        todo.push((p, list));
                    }
                }
                "use_list" => {
                    let mut c = n.walk();
                    for child in n.named_children(&mut c) {
                        todo.push((prefix.clone(), child));
                    }
                }
                _ => {}
            }
        }
    }

    fn note_root(&mut self, path: &str) {
        if let Some(first) = path.trim_start_matches("::").split("::").next() {
            self.path_roots.insert(first.to_string());
        }
    }

    /// `spawn_blocking(…)`, `block_in_place(…)`, `web::block(…)`, `conn.interact(…)`,
    /// `std::thread::spawn(…)`, `thread::Builder::new().spawn(…)`, `scope.spawn(…)`.
    pub fn is_offloader_call(&self, call: Node<'t>) -> bool {
        let Some(func) = call.child_by_field_name("function") else { return false };
        let func = if func.kind() == "generic_function" { func.child_by_field_name("function").unwrap_or(func) } else { func };
        match func.kind() {
            "field_expression" => func
                .child_by_field_name("field")
                .is_some_and(|f| OFFLOAD_METHODS.contains(&self.text(f))),
            "scoped_identifier" | "identifier" => {
                let t = self.text(func);
                let last = t.rsplit("::").next().unwrap_or(t).trim();
                match last {
                    "spawn_blocking" | "block_in_place" => true,
                    "block" => {
                        t.ends_with("web::block")
                            || self.imports.get("block").is_some_and(|p| p.starts_with("actix_web"))
                    }
                    // `std::thread::spawn`, `thread::spawn`, `rayon::spawn`: a sync closure
                    // given to a `spawn` function runs on another thread (tokio's takes a
                    // future).
                    "spawn" => !t.starts_with("tokio") && !t.contains("task::"),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn note_offload_by_name(&mut self, call: Node<'t>) {
        if !self.is_offloader_call(call) {
            return;
        }
        let Some(args) = call.child_by_field_name("arguments") else { return };
        for a in args.named_children(&mut args.walk()) {
            if a.kind() == "identifier" {
                let t = self.text(a).to_string();
                self.offload_names.insert(t);
            }
        }
    }

    /// The innermost scope holding byte `b`.
    pub fn scope_at(&self, b: usize) -> usize {
        let i = self.scopes.partition_point(|s| s.range.start <= b);
        let mut cur = i.saturating_sub(1);
        loop {
            if self.scopes[cur].range.contains(&b) {
                return cur;
            }
            match self.scopes[cur].parent {
                Some(p) => cur = p,
                None => return 0,
            }
        }
    }

    /// Where the code at byte `b` runs (RULES.md §0.4).
    pub fn context_at(&self, b: usize) -> RContext {
        let mut cur = self.scope_at(b);
        let mut blocker = None;
        loop {
            let s = &self.scopes[cur];
            match s.kind {
                RScopeKind::File => return RContext::Sync,
                _ if s.is_async => return RContext::Async { scope: cur, blocker },
                // A nested `fn` item is its own function: callable from anywhere.
                RScopeKind::Fn => return RContext::Sync,
                RScopeKind::Closure => {
                    if s.offloaded {
                        return RContext::Sync;
                    }
                    blocker.get_or_insert(RScopeKind::Closure);
                }
                RScopeKind::AsyncBlock => {}
            }
            match s.parent {
                Some(p) => cur = p,
                None => return RContext::Sync,
            }
        }
    }

    /// The enclosing `fn` item scope of byte `b` (through closures and async blocks).
    pub fn fn_scope_at(&self, b: usize) -> Option<usize> {
        let mut cur = self.scope_at(b);
        loop {
            let s = &self.scopes[cur];
            if s.kind == RScopeKind::Fn {
                return Some(cur);
            }
            cur = s.parent?;
        }
    }

    /// True when the `fn` item around byte `b` carries the attribute `name`
    /// (`should_panic`, `test`, `tokio::test` …), with or without arguments.
    pub fn fn_has_attr(&self, b: usize, name: &str) -> bool {
        let Some(fs) = self.fn_scope_at(b) else { return false };
        self.scopes[fs].attrs.iter().any(|a| {
            let t = self.text(*a);
            let inner = t.trim_start_matches("#[").split(['(', ']', '=']).next().unwrap_or("").trim();
            inner == name
        })
    }

    /// True when some closure between `b` and its enclosing async scope is offloaded.
    pub fn in_offloaded(&self, b: usize) -> bool {
        let mut cur = self.scope_at(b);
        loop {
            let s = &self.scopes[cur];
            if s.offloaded {
                return true;
            }
            if s.kind == RScopeKind::Fn {
                return false;
            }
            match s.parent {
                Some(p) => cur = p,
                None => return false,
            }
        }
    }

    /// The binding of `name` in effect at byte `at`. Closures and async blocks see their
    /// enclosing function's bindings; a `fn` item does not.
    pub fn binding(&self, name: &str, at: usize) -> Option<&RBinding<'t>> {
        let mut scope = self.scope_at(at);
        loop {
            if let Some(list) = self.bindings.get(&(scope, name.to_string())) {
                if let Some(b) = list.iter().rev().find(|b| b.pos <= at) {
                    return Some(b);
                }
            }
            if self.scopes[scope].kind == RScopeKind::Fn {
                return None;
            }
            scope = self.scopes[scope].parent?;
        }
    }

    /// True when `krate` is imported or written as a path root in this file.
    pub fn uses(&self, krate: &str) -> bool {
        self.path_roots.contains(krate) || self.imports.values().any(|p| root_of(p) == krate)
    }

    /// The crate a name written in the file comes from: the path's first segment when it has
    /// one (through an import alias), else its import, else a glob that may export it.
    pub fn origin(&self, path: &str) -> Option<String> {
        let path = path.trim().trim_start_matches("::");
        let first = path.split("::").next().unwrap_or(path).trim();
        if let Some(full) = self.imports.get(first) {
            return Some(root_of(full).to_string());
        }
        if path.contains("::") {
            return Some(first.to_string());
        }
        None
    }

    /// True when diesel's sync `RunQueryDsl` is the one in scope: imported from diesel
    /// (directly or through a diesel glob) and not shadowed by diesel-async's.
    pub fn diesel_sync_dsl(&self) -> bool {
        let async_dsl = self.imports.iter().any(|(_, p)| p.starts_with("diesel_async") && p.ends_with("RunQueryDsl"))
            || self.globs.iter().any(|g| g.starts_with("diesel_async"));
        if async_dsl {
            return false;
        }
        self.imports.values().any(|p| p.starts_with("diesel") && p.ends_with("RunQueryDsl"))
            || self.globs.iter().any(|g| g == "diesel::prelude" || g == "diesel" || g == "diesel::dsl")
    }

    /// Classifies a type node ([`Kind::Unknown`] for anything else).
    pub fn kind_of_type(&self, ty: Node<'t>) -> Kind {
        let mut node = ty;
        for _ in 0..12 {
            match node.kind() {
                "reference_type" | "pointer_type" => match node.child_by_field_name("type") {
                    Some(t) => node = t,
                    None => return Kind::Unknown,
                },
                "generic_type" => {
                    let head = node.child_by_field_name("type").map(|t| self.text(t)).unwrap_or("");
                    let last = head.rsplit("::").next().unwrap_or(head);
                    let arg0 = node.child_by_field_name("type_arguments").and_then(|a| {
                        let mut c = a.walk();
                        let first = a.named_children(&mut c).find(|n| n.kind() != "lifetime");
                        first
                    });
                    if rust_crates::WRAPPERS.contains(&last) {
                        match arg0 {
                            Some(a) => {
                                node = a;
                                continue;
                            }
                            None => return Kind::Unknown,
                        }
                    }
                    return self.kind_of_named(head, Some(self.text(node)));
                }
                "type_identifier" | "scoped_type_identifier" => {
                    let t = self.text(node);
                    if let Some(alias) = self.aliases.get(t) {
                        if alias.id() != node.id() {
                            node = *alias;
                            continue;
                        }
                    }
                    let k = self.kind_of_named(t, None);
                    if k == Kind::Unknown && self.outside.is_some() {
                        // An alias declared in another module of the project.
                        return self.outside_kind(t);
                    }
                    return k;
                }
                _ => return Kind::Unknown,
            }
        }
        Kind::Unknown
    }

    /// Classifies a type by its path (`r2d2::Pool`, `PgConnection`) and full text.
    fn kind_of_named(&self, head: &str, full: Option<&str>) -> Kind {
        let last = head.rsplit("::").next().unwrap_or(head).trim();
        let origin = self.origin(head);
        let from = |k: &str| origin.as_deref() == Some(k);
        let full = full.unwrap_or(head);
        let via_glob = |k: &str| self.globs.iter().any(|g| root_of(g) == k);
        match last {
            "Pool" if from("r2d2") || (origin.is_none() && self.uses("r2d2")) || head.contains("r2d2") => {
                Kind::R2d2Pool(conn_of_manager(full))
            }
            "Pool" if from("diesel") => Kind::R2d2Pool(conn_of_manager(full)),
            "Pool" if from("sqlx") => Kind::SqlxPool,
            "PgPool" | "SqlitePool" | "MySqlPool" | "AnyPool" if from("sqlx") || (origin.is_none() && self.uses("sqlx")) => {
                Kind::SqlxPool
            }
            "PooledConnection" if from("r2d2") || from("diesel") || (origin.is_none() && self.uses("r2d2")) => {
                match conn_of_manager(full) {
                    Conn::Diesel => Kind::DieselConn,
                    Conn::Rusqlite => Kind::RusqliteConn,
                    Conn::Postgres => Kind::PgClient,
                    Conn::Other => Kind::Unknown,
                }
            }
            "PgConnection" | "SqliteConnection" | "MysqlConnection"
                if from("diesel") || (origin.is_none() && (self.uses("diesel") || via_glob("diesel"))) =>
            {
                Kind::DieselConn
            }
            "Connection" if from("rusqlite") => Kind::RusqliteConn,
            "Transaction" | "Savepoint" if from("rusqlite") => Kind::RusqliteTx,
            "Statement" | "CachedStatement" if from("rusqlite") => Kind::RusqliteStmt,
            "Client" if from("postgres") => Kind::PgClient,
            "Transaction" if from("postgres") => Kind::PgTx,
            "Client" if from("tokio_postgres") => Kind::TokioPgClient,
            "Transaction" if from("tokio_postgres") => Kind::TokioPgTx,
            "Transaction" if from("sqlx") => Kind::SqlxTx,
            "DatabaseConnection" | "DbConn" if from("sea_orm") || (origin.is_none() && self.uses("sea_orm")) => Kind::SeaDb,
            "DatabaseTransaction" if from("sea_orm") || (origin.is_none() && self.uses("sea_orm")) => Kind::SeaTxn,
            "Runtime" | "Handle" if from("tokio") => Kind::Runtime,
            _ => Kind::Unknown,
        }
    }

    /// What the expression `e` (read at byte `at`) is. Follows bindings a bounded number of
    /// times.
    pub fn kind_of(&self, e: Node<'t>) -> Kind {
        self.kind_of_n(e, 8)
    }

    fn kind_of_n(&self, e: Node<'t>, fuel: u32) -> Kind {
        if fuel == 0 {
            return Kind::Unknown;
        }
        let e = self.strip(e);
        match e.kind() {
            "identifier" => {
                let Some(b) = self.binding(self.text(e), e.start_byte()) else {
                    // A `static` (`LazyLock`, `once_cell::Lazy`, `lazy_static!`): this file's,
                    // or the project's.
                    let name = self.text(e);
                    if let Some(t) = self.statics.get(name) {
                        return self.kind_of_type(*t);
                    }
                    return self.outside_kind(name);
                };
                if let Some(t) = b.ty {
                    let k = self.kind_of_type(t);
                    if k != Kind::Unknown {
                        return k;
                    }
                }
                if let Some(v) = b.value {
                    return self.kind_of_n(v, fuel - 1);
                }
                if let Some(cl) = b.closure_of {
                    // `conn.transaction(|c| …)` on a diesel connection hands `c` the same.
                    if let Some(call) = cl.parent().and_then(|a| a.parent()).filter(|c| c.kind() == "call_expression") {
                        if let Some((recv, m)) = method_parts(call) {
                            if self.text(m) == "transaction" && self.kind_of_n(recv, fuel - 1) == Kind::DieselConn {
                                return Kind::DieselConn;
                            }
                        }
                    }
                }
                Kind::Unknown
            }
            "scoped_identifier" => self.outside_kind(self.text(e)),
            "field_expression" => {
                let Some(f) = e.child_by_field_name("field") else { return Kind::Unknown };
                let fname = self.text(f);
                if let Some(types) = self.fields.get(fname) {
                    let kinds: Vec<Kind> = types.iter().map(|t| self.kind_of_type(*t)).collect();
                    let k = if kinds.windows(2).all(|w| w[0] == w[1]) { kinds.first().copied().unwrap_or(Kind::Unknown) } else { Kind::Unknown };
                    if k != Kind::Unknown || self.outside.is_none() {
                        return k;
                    }
                }
                // A field of a struct declared in another module (`state.pool` with
                // `state: web::Data<AppState>`).
                let Some(value) = e.child_by_field_name("value") else { return Kind::Unknown };
                let Some(ty) = self.type_path_of(value) else { return Kind::Unknown };
                match self.outside_def(&ty) {
                    Some(super::outside::RsDef::Struct(fields)) => {
                        fields.iter().find(|(n, _)| n == fname).map(|(_, k)| *k).unwrap_or(Kind::Unknown)
                    }
                    _ => Kind::Unknown,
                }
            }
            "call_expression" => {
                let Some(func) = e.child_by_field_name("function") else { return Kind::Unknown };
                let func = if func.kind() == "generic_function" { func.child_by_field_name("function").unwrap_or(func) } else { func };
                let nargs = e.child_by_field_name("arguments").map(|a| count_args(a)).unwrap_or(0);
                if let Some((recv, m)) = method_parts(e) {
                    let m = self.text(m);
                    if m == "build" || m == "build_unchecked" {
                        // A builder chain: what its root builds.
                        return self.builder_root_kind(recv);
                    }
                    let rk = self.kind_of_n(recv, fuel - 1);
                    return match (rk, m, nargs) {
                        (Kind::R2d2Pool(c), "get", 0) => match c {
                            Conn::Diesel => Kind::DieselConn,
                            Conn::Rusqlite => Kind::RusqliteConn,
                            Conn::Postgres => Kind::PgClient,
                            Conn::Other => Kind::Unknown,
                        },
                        (Kind::RusqliteConn | Kind::RusqliteTx, "prepare" | "prepare_cached", _) => Kind::RusqliteStmt,
                        (Kind::RusqliteConn, "transaction" | "unchecked_transaction" | "savepoint", 0) => Kind::RusqliteTx,
                        (Kind::RusqliteConn, "transaction_with_behavior", 1) => Kind::RusqliteTx,
                        (Kind::PgClient, "transaction", 0) => Kind::PgTx,
                        (Kind::TokioPgClient, "transaction", 0) => Kind::TokioPgTx,
                        (Kind::SqlxPool, "begin", 0) => Kind::SqlxTx,
                        (Kind::SeaDb, "begin", 0) => Kind::SeaTxn,
                        // A method of a project type (`state.conn()`): what it returns.
                        (Kind::Unknown, _, _) if self.outside.is_some() => {
                            self.callee_facts(e).and_then(|f| f.returns).unwrap_or(Kind::Unknown)
                        }
                        _ => Kind::Unknown,
                    };
                }
                // A function of this file: its declared return type (through `Result` /
                // `Option`, which `?` and `unwrap` have removed).
                let fname = match func.kind() {
                    "identifier" => Some(self.text(func)),
                    "scoped_identifier" if self.text(func).starts_with("Self::") => {
                        func.child_by_field_name("name").map(|n| self.text(n))
                    }
                    _ => None,
                };
                if let Some(rets) = fname.and_then(|n| self.fn_returns.get(n)) {
                    let kinds: Vec<Kind> = rets.iter().map(|r| self.kind_of_type(self.ok_type(*r))).collect();
                    if kinds.windows(2).all(|w| w[0] == w[1]) {
                        return kinds.first().copied().unwrap_or(Kind::Unknown);
                    }
                    return Kind::Unknown;
                }
                if self.outside.is_some() && matches!(func.kind(), "identifier" | "scoped_identifier") {
                    // A project function (`db::get_conn(&pool)`): what it returns.
                    if let Some(k) = self.callee_facts(e).and_then(|f| f.returns) {
                        return k;
                    }
                }
                if matches!(func.kind(), "scoped_identifier") {
                    let path = self.text(func);
                    let (ty, f) = path.rsplit_once("::").unwrap_or(("", path));
                    let tk = self.kind_of_named(ty, None);
                    return match (tk, f) {
                        (Kind::DieselConn, "establish") => Kind::DieselConn,
                        (Kind::RusqliteConn, "open" | "open_in_memory" | "open_with_flags" | "open_in_memory_with_flags") => {
                            Kind::RusqliteConn
                        }
                        (Kind::PgClient, "connect" | "configure") => Kind::PgClient,
                        (Kind::R2d2Pool(c), "new") => Kind::R2d2Pool(c),
                        (Kind::Runtime, "new" | "current") => Kind::Runtime,
                        _ => Kind::Unknown,
                    };
                }
                Kind::Unknown
            }
            _ => Kind::Unknown,
        }
    }

    /// `Result<T, E>` / `Option<T>` / `anyhow::Result<T>` → `T`; other types as they are.
    fn ok_type(&self, ty: Node<'t>) -> Node<'t> {
        if ty.kind() == "generic_type" {
            let head = ty.child_by_field_name("type").map(|t| self.text(t)).unwrap_or("");
            let last = head.rsplit("::").next().unwrap_or(head);
            if last == "Result" || last == "Option" {
                if let Some(a) = ty.child_by_field_name("type_arguments").and_then(|a| a.named_child(0)) {
                    return a;
                }
            }
        }
        ty
    }

    /// The kind a builder chain builds: `Pool::builder().max_size(4).build(m)`,
    /// `Builder::new_multi_thread().enable_all().build()`.
    fn builder_root_kind(&self, mut recv: Node<'t>) -> Kind {
        for _ in 0..32 {
            recv = self.strip(recv);
            if recv.kind() != "call_expression" {
                return Kind::Unknown;
            }
            if let Some((r, _)) = method_parts(recv) {
                recv = r;
                continue;
            }
            let Some(func) = recv.child_by_field_name("function") else { return Kind::Unknown };
            let path = self.text(func);
            let (ty, f) = path.rsplit_once("::").unwrap_or(("", path));
            let k = self.kind_of_named(ty, None);
            return match (k, f) {
                (Kind::R2d2Pool(_), "builder") => Kind::R2d2Pool(Conn::Other),
                _ if ty.ends_with("Builder") && self.origin(ty).as_deref() == Some("tokio") => Kind::Runtime,
                _ if ty.ends_with("runtime::Builder") => Kind::Runtime,
                _ => Kind::Unknown,
            };
        }
        Kind::Unknown
    }

    /// Removes `&`, `&mut`, `*`, parentheses, `?`, `.await` and the value-preserving calls
    /// `unwrap`, `expect`, `clone`, `as_ref`, `as_mut`, `deref(_mut)`, `lock`, `borrow(_mut)`.
    pub fn strip(&self, mut e: Node<'t>) -> Node<'t> {
        for _ in 0..64 {
            let next = match e.kind() {
                "reference_expression" => e.child_by_field_name("value"),
                "unary_expression" if self.text(e).starts_with('*') => e.named_child(0),
                "parenthesized_expression" | "try_expression" => e.named_child(0),
                "await_expression" => e.named_child(0),
                "call_expression" => match method_parts(e) {
                    Some((recv, m)) if rust_crates::TRANSPARENT_METHODS.contains(&self.text(m)) => Some(recv),
                    _ => None,
                },
                _ => None,
            };
            match next {
                Some(n) => e = n,
                None => return e,
            }
        }
        e
    }

    /// True when the function scope `fn_scope`'s return type is a `Result` whose error type
    /// absorbs `tokio::task::JoinError` through `?` (anyhow, eyre, `Box<dyn Error>`).
    pub fn fn_error_absorbs_join_error(&self, fn_scope: usize) -> bool {
        let Some(f) = self.scopes[fn_scope].node.filter(|n| n.kind() == "function_item") else { return false };
        let Some(rt) = f.child_by_field_name("return_type") else { return false };
        let t = self.text(rt).replace(' ', "");
        if t.starts_with("anyhow::") || t.starts_with("eyre::") || t.starts_with("color_eyre::") {
            return true;
        }
        if t.contains("anyhow::Error") || t.contains("eyre::Report") || t.contains("Box<dyn") {
            return true;
        }
        if t.starts_with("Result<") && !t.contains(',') {
            return self
                .imports
                .get("Result")
                .is_some_and(|p| p.starts_with("anyhow") || p.starts_with("eyre") || p.starts_with("color_eyre"));
        }
        false
    }
}

/// `recv.method(…)` / `recv.method::<T>(…)` → (recv, method identifier).
pub fn method_parts(call: Node) -> Option<(Node, Node)> {
    let func = call.child_by_field_name("function")?;
    let func = if func.kind() == "generic_function" { func.child_by_field_name("function")? } else { func };
    if func.kind() != "field_expression" {
        return None;
    }
    Some((func.child_by_field_name("value")?, func.child_by_field_name("field")?))
}

/// Named arguments of an `arguments` node, comments excluded.
pub fn count_args(args: Node) -> usize {
    let mut c = args.walk();
    let n = args.named_children(&mut c).filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item")).count();
    n
}

fn root_of(path: &str) -> &str {
    path.trim_start_matches("::").split("::").next().unwrap_or("")
}

/// The connection an r2d2 manager type yields.
fn conn_of_manager(full: &str) -> Conn {
    if full.contains("SqliteConnectionManager") {
        Conn::Rusqlite
    } else if full.contains("PostgresConnectionManager") {
        Conn::Postgres
    } else if full.contains("ConnectionManager") {
        Conn::Diesel
    } else {
        Conn::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, Lang};

    fn with_model(src: &str, f: impl FnOnce(&RustModel)) {
        let tree = parse(Lang::Rust, src, None);
        let index = LineIndex::new(src);
        let m = RustModel::build(src, &tree, &index);
        f(&m);
    }

    fn at(src: &str, needle: &str) -> usize {
        src.find(needle).unwrap_or_else(|| panic!("{needle} not in source"))
    }

    #[test]
    fn contexts() {
        let src = r#"
fn sync_fn() { a(); }
async fn af() {
    b();
    let c = || c1();
    tokio::task::spawn_blocking(move || d());
    std::thread::spawn(|| e());
    conn.interact(|c| f(c));
    let w = move || g();
    tokio::task::spawn_blocking(w);
    fn nested() { h(); }
}
fn main() { let fut = async { i(); }; let cl = async |x| j(x); }
"#;
        with_model(src, |m| {
            assert_eq!(m.context_at(at(src, "a()")), RContext::Sync);
            assert!(m.context_at(at(src, "b()")).await_ok());
            let c = m.context_at(at(src, "c1()"));
            assert!(c.is_async() && !c.await_ok());
            for s in ["d()", "e()", "f(c)", "g()", "h()"] {
                assert_eq!(m.context_at(at(src, s)), RContext::Sync, "{s}");
            }
            assert!(m.context_at(at(src, "i()")).await_ok());
            assert!(m.context_at(at(src, "j(x)")).await_ok());
        });
    }

    #[test]
    fn imports_and_dialects() {
        let src = "use diesel::prelude::*;\nuse diesel::r2d2::{self, ConnectionManager, Pool as P};\nuse rusqlite::{Connection as Conn};\n";
        with_model(src, |m| {
            assert_eq!(m.imports.get("P").map(String::as_str), Some("diesel::r2d2::Pool"));
            assert_eq!(m.imports.get("r2d2").map(String::as_str), Some("diesel::r2d2"));
            assert_eq!(m.imports.get("Conn").map(String::as_str), Some("rusqlite::Connection"));
            assert!(m.diesel_sync_dsl());
            assert!(m.uses("rusqlite") && !m.uses("sqlx"));
        });
        with_model("use diesel::prelude::*;\nuse diesel_async::RunQueryDsl;\n", |m| assert!(!m.diesel_sync_dsl()));
    }

    #[test]
    fn receiver_kinds() {
        let src = r#"
use diesel::r2d2::{ConnectionManager, Pool};
use rusqlite::Connection;
type DbPool = Pool<ConnectionManager<PgConnection>>;
struct S { pool: DbPool }
async fn f(p: web::Data<DbPool>, s: &S, map: HashMap<u8, u8>) {
    let mut conn = p.get().unwrap();
    let db = Connection::open("x")?;
    let stmt = db.prepare("q")?;
    use1(conn); use2(s.pool); use3(map); use4(stmt);
}
"#;
        with_model(src, |m| {
            let tree = m.tree;
            let node_at = |needle: &str| {
                let b = at(src, needle) + needle.find('(').unwrap() + 1;
                tree.root_node().named_descendant_for_byte_range(b, b).unwrap()
            };
            assert_eq!(m.kind_of(node_at("use1(conn")), Kind::DieselConn);
            assert_eq!(m.kind_of(node_at("use2(s")), Kind::Unknown); // `s` itself
            let field = node_at("use2(s").parent().unwrap();
            assert_eq!(m.kind_of(field), Kind::R2d2Pool(Conn::Diesel));
            assert_eq!(m.kind_of(node_at("use3(map")), Kind::Unknown);
            assert_eq!(m.kind_of(node_at("use4(stmt")), Kind::RusqliteStmt);
        });
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 10_000;
        let src = format!(
            "use diesel::prelude::*;\nasync fn f(pool: r2d2::Pool<M>) {{ {} pool.get(); {} }}\n",
            "{ ".repeat(depth),
            "} ".repeat(depth)
        );
        let tree = parse(Lang::Rust, &src, None);
        let index = LineIndex::new(&src);
        let settings = crate::config::Settings::default();
        let a = crate::analysis::analyze(&src, Lang::Rust, &tree, &index, &settings);
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        assert!(a.findings.iter().any(|f| f.code == "AG501"), "{:?}", a.findings);
    }
}
