//! Rust calls, blocking and forwarding: which calls block on a sync database crate
//! ([`RustModel::blocking_call`], AG501's notion, also used by the project's function
//! summaries), what a called function is ([`RustModel::callee_facts`]: a `fn` of this file, or
//! a project function through [`super::outside::Outside::rs_def`]), whether a sync function
//! blocks directly or through the functions it calls, and which closure parameters it
//! forwards to a blocking thread (`spawn_blocking`, `web::block`, `block_in_place`, directly
//! or through another such wrapper) — so that a closure handed to such a wrapper is offloaded
//! ([`RustModel::resolve_wrappers`]).
//!
//! Invariants: every question about another file goes through `outside` (the project model
//! answers, with bounded depth; `None` is unknown and stays silent); a function's facts are
//! memoised per model and a recursive chain (`f` calls `g` calls `f`) ends in "not known to
//! block".

use super::outside::{Loc, RsDef, RsFnFacts};
use super::rust::{method_parts, Kind, RContext, RScopeKind, RustModel};
use crate::dialects::rust_crates::{self as rc, Crate, TxOrStmt};
use crate::text::short;
use std::sync::Arc;
use tree_sitter::Node;

/// How deep a chain of this file's functions is followed (project functions are bounded by
/// the project model).
const MAX_LOCAL_DEPTH: u32 = 6;

impl<'t> RustModel<'t> {
    /// A call into a sync database crate, wherever it is (context is the caller's business):
    /// the crate and a short description (`pool.get()`, `PgConnection::establish(…)`).
    /// Awaited calls are not blocking.
    pub fn blocking_call(&self, call: Node<'t>) -> Option<(Crate, String)> {
        if call.parent().is_some_and(|p| p.kind() == "await_expression") {
            return None;
        }
        let args = call.child_by_field_name("arguments")?;
        let func = call.child_by_field_name("function")?;
        if let Some((receiver, method)) = method_parts(call) {
            let m = self.node_text(method);
            let args = {
                let mut c = args.walk();
                args.named_children(&mut c)
                    .filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item"))
                    .collect::<Vec<_>>()
            };
            let hit = match self.kind_of(receiver) {
                Kind::DieselConn if rc::DIESEL_CONN_METHODS.contains(&m) => Some(Crate::Diesel),
                Kind::R2d2Pool(_) if rc::R2D2_POOL_METHODS.contains(&m) => Some(Crate::R2d2),
                Kind::RusqliteConn if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Conn) => Some(Crate::Rusqlite),
                Kind::RusqliteTx if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Tx) => Some(Crate::Rusqlite),
                Kind::RusqliteStmt if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Stmt) => Some(Crate::Rusqlite),
                Kind::PgClient if rc::is_blocking_method(Crate::Postgres, m, TxOrStmt::Conn) => Some(Crate::Postgres),
                Kind::PgTx if rc::is_blocking_method(Crate::Postgres, m, TxOrStmt::Tx) => Some(Crate::Postgres),
                Kind::Unknown
                    if args.len() == 1
                        && rc::DIESEL_QUERY_METHODS.contains(&m)
                        && self.diesel_sync_dsl()
                        && self.diesel_conn_arg(args[0]) =>
                {
                    Some(Crate::Diesel)
                }
                Kind::Unknown if (m == "build" || m == "build_unchecked") => match self.kind_of(call) {
                    Kind::R2d2Pool(_) => Some(Crate::R2d2),
                    _ => None,
                },
                _ => None,
            }?;
            let recv = short(self.node_text(receiver), 32);
            let what = if args.is_empty() { format!("{recv}.{m}()") } else { format!("{recv}.{m}(…)") };
            return Some((hit, what));
        }
        if !matches!(func.kind(), "scoped_identifier" | "identifier") {
            return None;
        }
        let p = self.node_text(func);
        let (ty, f) = p.rsplit_once("::")?;
        let krate = match (self.kind_of(call), f) {
            (Kind::DieselConn, _) if rc::DIESEL_CTORS.contains(&f) => Crate::Diesel,
            (Kind::RusqliteConn, _) if rc::RUSQLITE_CTORS.contains(&f) => Crate::Rusqlite,
            (Kind::PgClient, "connect") => Crate::Postgres,
            (Kind::R2d2Pool(_), "new") => Crate::R2d2,
            _ => return None,
        };
        Some((krate, format!("{}::{f}(…)", short(ty, 32))))
    }

    /// The argument of a diesel query method: a diesel connection, or shaped like one
    /// (`&mut conn`, `&mut *pooled`, `conn`).
    pub fn diesel_conn_arg(&self, arg: Node<'t>) -> bool {
        match self.kind_of(arg) {
            Kind::DieselConn => true,
            Kind::Unknown => {
                let is_mut_ref = arg.kind() == "reference_expression"
                    && arg.named_children(&mut arg.walk()).any(|c| c.kind() == "mutable_specifier");
                let inner = self.strip(arg);
                let name = match inner.kind() {
                    "identifier" => self.node_text(inner),
                    "field_expression" => inner.child_by_field_name("field").map(|f| self.node_text(f)).unwrap_or(""),
                    _ => return false,
                };
                is_mut_ref || name.to_ascii_lowercase().contains("conn")
            }
            _ => false,
        }
    }

    /// The project paths a name written in this file may stand for, most likely first:
    /// through its `use` (`DbPool` → `crate::db::DbPool`), as written when it starts with
    /// `crate`/`super`/`self` or a module name, else as an item of this module or of a
    /// glob-imported one. Paths rooted at `::` (an extern crate) give none.
    pub fn project_paths(&self, written: &str) -> Vec<String> {
        let w: String = written.chars().filter(|c| !c.is_whitespace()).collect();
        if w.is_empty() || w.starts_with("::") || w.contains('<') {
            return vec![];
        }
        let (first, rest) = match w.split_once("::") {
            Some((a, b)) => (a, Some(b)),
            None => (w.as_str(), None),
        };
        if matches!(first, "crate" | "super" | "self") {
            return vec![w.clone()];
        }
        if first == "Self" {
            return vec![];
        }
        if let Some(full) = self.imports.get(first) {
            return vec![match rest {
                Some(r) => format!("{full}::{r}"),
                None => full.clone(),
            }];
        }
        let mut out = vec![format!("self::{w}")];
        if rest.is_none() {
            for g in &self.globs {
                out.push(format!("{g}::{w}"));
            }
        }
        out
    }

    /// What the project says `written` (a path written in this file) is; `None`: unknown,
    /// or no project.
    pub fn outside_def(&self, written: &str) -> Option<RsDef> {
        let o = self.outside?;
        self.project_paths(written).into_iter().find_map(|p| o.rs_def(&p))
    }

    /// The kind the project gives the type or value path `written` (an alias, a static).
    pub fn outside_kind(&self, written: &str) -> Kind {
        match self.outside_def(written) {
            Some(RsDef::Value(k)) => k,
            _ => Kind::Unknown,
        }
    }

    /// The name of the type of the `impl` around `n` (`Repo` for `impl Repo { … }` and
    /// `impl Trait for Repo { … }`).
    pub fn impl_type_of(&self, n: Node<'t>) -> Option<&'t str> {
        let mut p = n.parent();
        while let Some(x) = p {
            if x.kind() == "impl_item" {
                let t = x.child_by_field_name("type")?;
                let t = if t.kind() == "generic_type" { t.child_by_field_name("type")? } else { t };
                return Some(self.node_text(t));
            }
            p = x.parent();
        }
        None
    }

    /// The path of the named type (a struct, usually) the expression `e` has, as written in
    /// this file: through a parameter's or `let`'s declared type, references and wrappers
    /// (`&AppState`, `web::Data<AppState>`, `State<AppState>`); `self` is the `impl`'s type.
    pub fn type_path_of(&self, e: Node<'t>) -> Option<String> {
        let e = self.strip(e);
        let ty = match e.kind() {
            "self" => return self.impl_type_of(e).map(str::to_string),
            "identifier" if self.node_text(e) == "self" => return self.impl_type_of(e).map(str::to_string),
            "identifier" => {
                let b = self.binding(self.node_text(e), e.start_byte())?;
                match (b.ty, b.value) {
                    (Some(t), _) => t,
                    // `let conn = pool.get().await?`: what the called function returns.
                    (None, Some(v)) => {
                        let v = self.strip(v);
                        if v.kind() != "call_expression" || v.byte_range().contains(&e.start_byte()) {
                            return None;
                        }
                        return self.callee_facts(v)?.returns_path.clone();
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        self.type_head(ty)
    }

    /// A type's path with references and transparent wrappers removed (`&mut Data<S>` → `S`).
    pub fn type_head(&self, ty: Node<'t>) -> Option<String> {
        let mut node = ty;
        for _ in 0..8 {
            match node.kind() {
                "reference_type" | "pointer_type" => node = node.child_by_field_name("type")?,
                "generic_type" => {
                    let head = self.node_text(node.child_by_field_name("type")?);
                    let last = head.rsplit("::").next().unwrap_or(head);
                    if rc::WRAPPERS.contains(&last) {
                        let a = node.child_by_field_name("type_arguments")?;
                        let mut c = a.walk();
                        node = a.named_children(&mut c).find(|n| n.kind() != "lifetime")?;
                        continue;
                    }
                    return Some(head.to_string());
                }
                "type_identifier" | "scoped_type_identifier" => {
                    let t = self.node_text(node);
                    if let Some(alias) = self.aliases.get(t) {
                        if alias.id() != node.id() {
                            node = *alias;
                            continue;
                        }
                    }
                    return Some(t.to_string());
                }
                _ => return None,
            }
        }
        None
    }

    /// The free function `name` of this file, when there is exactly one (methods excluded).
    fn local_free_fn(&self, name: &str) -> Option<Node<'t>> {
        let list = self.fn_items.get(name)?;
        let free: Vec<Node<'t>> = list
            .iter()
            .copied()
            .filter(|f| !f.parent().is_some_and(|p| p.kind() == "declaration_list"))
            .collect();
        match free.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The method `name` of an `impl` of this file for the type `ty` (written as here, by its
    /// last segment), when there is exactly one.
    fn local_method(&self, ty: &str, name: &str) -> Option<Node<'t>> {
        // Only a type this file names by itself (not one imported from elsewhere).
        if ty.contains("::") || self.imports.contains_key(ty) {
            return None;
        }
        let last = ty;
        let list = self.fn_items.get(name)?;
        let mut found = list.iter().copied().filter(|f| self.impl_type_of(*f).is_some_and(|t| t.rsplit("::").next() == Some(last)));
        let one = found.next()?;
        found.next().is_none().then_some(one)
    }

    /// What the function a call calls is: a free `fn` of this file, a project function
    /// (`repo::find_user(…)`, `find_user(…)` imported), or a method of a project type
    /// (`state.conn()`, `self.load()`, `Repo::find(…)`). `None`: unknown.
    pub fn callee_facts(&self, call: Node<'t>) -> Option<Arc<RsFnFacts>> {
        let func = call.child_by_field_name("function")?;
        let func = if func.kind() == "generic_function" { func.child_by_field_name("function")? } else { func };
        match func.kind() {
            "identifier" => {
                let name = self.node_text(func);
                if self.binding(name, func.start_byte()).is_some() {
                    return None;
                }
                if let Some(f) = self.local_free_fn(name) {
                    if !self.imports.contains_key(name) {
                        return Some(self.local_fn_facts(f));
                    }
                }
                match self.outside_def(name)? {
                    RsDef::Fn(f) => Some(f),
                    _ => None,
                }
            }
            "scoped_identifier" => {
                let t = self.node_text(func);
                let t = match t.strip_prefix("Self::") {
                    Some(rest) => format!("{}::{rest}", self.impl_type_of(func)?),
                    None => t.to_string(),
                };
                if let Some((ty, m)) = t.split_once("::").filter(|(_, m)| !m.contains("::")) {
                    if let Some(f) = self.local_method(ty, m) {
                        return Some(self.local_fn_facts(f));
                    }
                }
                match self.outside_def(&t)? {
                    RsDef::Fn(f) => Some(f),
                    _ => None,
                }
            }
            "field_expression" => {
                let (recv, m) = method_parts(call)?;
                let ty = self.type_path_of(recv)?;
                let ty = ty.split('<').next().unwrap_or(&ty).trim().to_string();
                if let Some(f) = self.local_method(&ty, self.node_text(m)) {
                    return Some(self.local_fn_facts(f));
                }
                match self.outside_def(&format!("{ty}::{}", self.node_text(m)))? {
                    RsDef::Fn(f) => Some(f),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Where the project says this file is (for `related` locations of this file's calls).
    fn here(&self) -> std::path::PathBuf {
        self.outside.and_then(|o| o.rs_here()).unwrap_or_default()
    }

    /// The facts of a `fn` item of this file, memoised; a chain deeper than a few calls (or a
    /// recursive one) is "not known to block".
    pub fn local_fn_facts(&self, f: Node<'t>) -> Arc<RsFnFacts> {
        if let Some(x) = self.fn_memo.borrow().get(&f.start_byte()) {
            return x.clone();
        }
        let d = self.fn_memo_depth.get();
        let name = f.child_by_field_name("name").map(|n| self.node_text(n).to_string()).unwrap_or_default();
        if d >= MAX_LOCAL_DEPTH {
            return Arc::new(RsFnFacts { name, ..Default::default() });
        }
        // Recursion meets this placeholder.
        self.fn_memo.borrow_mut().insert(f.start_byte(), Arc::new(RsFnFacts { name, ..Default::default() }));
        self.fn_memo_depth.set(d + 1);
        let facts = Arc::new(self.fn_facts(f));
        self.fn_memo_depth.set(d);
        self.fn_memo.borrow_mut().insert(f.start_byte(), facts.clone());
        facts
    }

    /// The scope index of the `fn` item `f`.
    fn scope_of_fn(&self, f: Node<'t>) -> Option<usize> {
        self.scopes.iter().position(|s| s.kind == RScopeKind::Fn && s.node.is_some_and(|n| n.id() == f.id()))
    }

    /// True when byte `b` runs synchronously in the body of the `fn` scope `fs`: not in an
    /// async block or closure, not in a closure handed to another thread, not in a nested `fn`.
    fn runs_in_body(&self, b: usize, fs: usize) -> bool {
        self.fn_scope_at(b) == Some(fs) && self.context_at(b) == RContext::Sync && !self.in_offloaded(b)
    }

    /// The facts of the `fn` item `f`: is it async, what it returns, whether it blocks on the
    /// database (directly, or through the functions it calls), which closure parameters it
    /// hands to a blocking thread.
    pub fn fn_facts(&self, f: Node<'t>) -> RsFnFacts {
        let name = f.child_by_field_name("name").map(|n| self.node_text(n).to_string()).unwrap_or_default();
        let here = self.here();
        let Some(fs) = self.scope_of_fn(f) else { return RsFnFacts { name, ..Default::default() } };
        let is_async = self.scopes[fs].is_async;
        let returns = f
            .child_by_field_name("return_type")
            .map(|r| self.kind_of_type(self.ok_type_of(r)))
            .filter(|k| *k != Kind::Unknown);
        let range = self.scopes[fs].range.clone();
        let mut blocks: Vec<Loc> = vec![];
        if !is_async {
            // Direct: the first blocking call of the body.
            let mut direct: Vec<(usize, Node<'t>, String)> = vec![];
            for &call in self.method_calls.iter().chain(self.path_calls.iter().map(|(c, _)| c)) {
                if !range.contains(&call.start_byte()) || !self.runs_in_body(call.start_byte(), fs) {
                    continue;
                }
                if let Some((_, what)) = self.blocking_call(call) {
                    direct.push((call.start_byte(), call, what));
                }
            }
            direct.sort_by_key(|d| d.0);
            if let Some((_, call, what)) = direct.first() {
                blocks.push(Loc { path: here.clone(), range: call.byte_range(), what: what.clone() });
            } else {
                // Through a sync function it calls.
                let mut calls: Vec<Node<'t>> = self
                    .method_calls
                    .iter()
                    .chain(self.path_calls.iter().map(|(c, _)| c))
                    .copied()
                    .filter(|c| range.contains(&c.start_byte()) && self.runs_in_body(c.start_byte(), fs))
                    .collect();
                calls.sort_by_key(|c| c.start_byte());
                for call in calls {
                    let Some(cf) = self.callee_facts(call) else { continue };
                    if cf.is_async || cf.blocks.is_empty() {
                        continue;
                    }
                    blocks.push(Loc { path: here.clone(), range: call.byte_range(), what: format!("{}(…)", cf.name) });
                    blocks.extend(cf.blocks.iter().cloned());
                    break;
                }
            }
        }
        let returns_path = f.child_by_field_name("return_type").and_then(|r| self.type_head(self.ok_type_of(r)));
        RsFnFacts {
            name,
            is_async,
            returns,
            returns_path,
            blocks,
            offloads_params: self.offloaded_params(f, fs),
            queries_params: self.queried_params(f, fs),
            has_self: f.child_by_field_name("parameters").is_some_and(|ps| {
                let mut c = ps.walk();
                let has = ps.named_children(&mut c).any(|p| p.kind() == "self_parameter");
                has
            }),
            loc: f.child_by_field_name("name").map(|n| Loc { path: here, range: n.byte_range(), what: String::new() }),
        }
    }

    pub fn ok_type_of(&self, ty: Node<'t>) -> Node<'t> {
        if ty.kind() == "generic_type" {
            let head = ty.child_by_field_name("type").map(|t| self.node_text(t)).unwrap_or("");
            let last = head.rsplit("::").next().unwrap_or(head);
            if last == "Result" || last == "Option" {
                if let Some(a) = ty.child_by_field_name("type_arguments").and_then(|a| a.named_child(0)) {
                    return a;
                }
            }
        }
        ty
    }

    /// The names of a function's parameters in order (`None` for a pattern that is not a plain
    /// name, such as `&self` or a tuple), so positions match call arguments.
    fn param_names(&self, params: Node<'t>) -> Vec<Option<&'t str>> {
        let mut c = params.walk();
        params
            .named_children(&mut c)
            .filter(|p| p.kind() == "parameter")
            .map(|p| p.child_by_field_name("pattern").filter(|x| x.kind() == "identifier").map(|x| self.node_text(x)))
            .collect()
    }

    /// Indexes (among the `fn`'s non-`self` parameters) of the parameters whose closure runs
    /// on a blocking thread: handed to an offloader (`spawn_blocking(f)`), called inside a
    /// closure handed to one (`block_in_place(move || f(conn))`), or handed on to another
    /// wrapper that does.
    fn offloaded_params(&self, f: Node<'t>, fs: usize) -> Vec<usize> {
        let Some(params) = f.child_by_field_name("parameters") else { return vec![] };
        let names = self.param_names(params);
        if names.iter().all(Option::is_none) {
            return vec![];
        }
        let range = self.scopes[fs].range.clone();
        let mut out = vec![];
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let uses = self.uses_of(name, range.clone());
            let forwarded = uses.iter().any(|u| {
                if self.binding(name, u.start_byte()).is_none_or(|b| !b.is_param) {
                    return false;
                }
                // Inside a closure that runs on another thread (`move || f(conn)`).
                if self.in_offloaded(u.start_byte()) && self.fn_scope_at(u.start_byte()) == Some(fs) {
                    return true;
                }
                // An argument of a call.
                let Some(args) = u.parent().filter(|p| p.kind() == "arguments") else { return false };
                let Some(call) = args.parent().filter(|c| c.kind() == "call_expression") else { return false };
                if self.is_offloader_call(call) {
                    return true;
                }
                let idx = {
                    let mut c = args.walk();
                    let i = args.named_children(&mut c)
                        .filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item"))
                        .position(|a| a.id() == u.id());
                    i
                };
                idx.is_some_and(|j| {
                    self.callee_facts(call).is_some_and(|cf| {
                        cf.param_of_arg(is_path_call(call), j).is_some_and(|k| cf.offloads_params.contains(&k))
                    })
                })
            });
            if forwarded {
                out.push(i);
            }
        }
        out
    }

    /// Indexes (among the `fn`'s non-`self` parameters) of the parameters used as the
    /// executor of a query: the one argument of a sqlx or sea-orm executor method
    /// (`.execute(pool)`, `.fetch_one(&*pool)`, `.one(db)`), or handed at such an index to a
    /// project function that queries on it. Each with the query's location.
    fn queried_params(&self, f: Node<'t>, fs: usize) -> Vec<(usize, Loc)> {
        use crate::dialects::rust_crates::{SEA_EXEC_METHODS, SQLX_EXEC_METHODS};
        let Some(params) = f.child_by_field_name("parameters") else { return vec![] };
        let names = self.param_names(params);
        if names.iter().all(Option::is_none) || !(self.uses("sqlx") || self.uses("sea_orm")) {
            return vec![];
        }
        let range = self.scopes[fs].range.clone();
        let here = self.here();
        let mut out = vec![];
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            for u in self.uses_of(name, range.clone()) {
                if self.binding(name, u.start_byte()).is_none_or(|b| !b.is_param || b.closure_of.is_some()) {
                    continue;
                }
                // Up through `&`, `&*`, `*`, `.as_ref()` to the argument position.
                let mut arg = u;
                while let Some(p) = arg.parent() {
                    let transparent = matches!(p.kind(), "reference_expression" | "parenthesized_expression")
                        || (p.kind() == "unary_expression" && self.node_text(p).starts_with('*'));
                    if !transparent {
                        break;
                    }
                    arg = p;
                }
                let Some(args) = arg.parent().filter(|p| p.kind() == "arguments") else { continue };
                let Some(call) = args.parent().filter(|c| c.kind() == "call_expression") else { continue };
                let list = super::rust::count_args(args);
                if let Some((_, m)) = method_parts(call) {
                    let m = self.node_text(m);
                    if list == 1 && (SQLX_EXEC_METHODS.contains(&m) || SEA_EXEC_METHODS.contains(&m)) {
                        out.push((i, Loc { path: here.clone(), range: call.byte_range(), what: format!(".{m}({name})") }));
                        break;
                    }
                }
                let idx = {
                    let mut c = args.walk();
                    let j = args
                        .named_children(&mut c)
                        .filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item"))
                        .position(|a| a.id() == arg.id());
                    j
                };
                let Some(j) = idx else { continue };
                let Some(cf) = self.callee_facts(call) else { continue };
                let Some(j) = cf.param_of_arg(is_path_call(call), j) else { continue };
                if let Some((_, loc)) = cf.queries_params.iter().find(|(k, _)| *k == j) {
                    out.push((i, loc.clone()));
                    break;
                }
            }
        }
        out
    }

    /// The identifiers named `name` in `range` (expressions, not field names or paths).
    fn uses_of(&self, name: &str, range: std::ops::Range<usize>) -> Vec<Node<'t>> {
        let root = self.tree.root_node();
        let Some(start) = root.descendant_for_byte_range(range.start, range.end.saturating_sub(1).max(range.start)) else {
            return vec![];
        };
        let mut out = vec![];
        let mut stack = vec![start];
        let mut steps = 0;
        while let Some(n) = stack.pop() {
            steps += 1;
            if steps > 200_000 {
                break;
            }
            if n.kind() == "identifier" && self.node_text(n) == name {
                out.push(n);
                continue;
            }
            let mut c = n.walk();
            for ch in n.named_children(&mut c) {
                if ch.end_byte() > range.start && ch.start_byte() < range.end {
                    stack.push(ch);
                }
            }
        }
        out
    }

    /// Marks as offloaded the closures handed to a wrapper (a `fn` of this file or of the
    /// project) that forwards that argument to a blocking thread: `conn.run(|c| …)` where
    /// `run` ends in `block_in_place(move || f(conn))`, `run_db(pool, move |c| …)` where
    /// `run_db` calls `spawn_blocking(f)`. Call after setting `outside`.
    pub fn resolve_wrappers(&mut self) {
        let mut marks = vec![];
        for (i, s) in self.scopes.iter().enumerate() {
            if s.kind != RScopeKind::Closure || s.offloaded || s.is_async {
                continue;
            }
            let Some(node) = s.node else { continue };
            let Some(args) = node.parent().filter(|p| p.kind() == "arguments") else { continue };
            let Some(call) = args.parent().filter(|c| c.kind() == "call_expression") else { continue };
            let idx = {
                let mut c = args.walk();
                let i = args.named_children(&mut c)
                    .filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item"))
                    .position(|a| a.id() == node.id());
                i
            };
            let Some(j) = idx else { continue };
            let offloads = self.callee_facts(call).is_some_and(|cf| {
                cf.param_of_arg(is_path_call(call), j).is_some_and(|k| cf.offloads_params.contains(&k))
            });
            if offloads {
                marks.push(i);
            }
        }
        if !marks.is_empty() {
            for i in marks {
                self.scopes[i].offloaded = true;
            }
            // Facts computed while looking were computed without these marks.
            self.fn_memo.borrow_mut().clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::semantic::rust::{RContext, RustModel};
    use crate::syntax::{parse, Lang};
    use crate::text::LineIndex;

    fn contexts(src: &str, needles: &[&str]) -> Vec<RContext> {
        let tree = parse(Lang::Rust, src, None);
        let index = LineIndex::new(src);
        let mut m = RustModel::build(src, &tree, &index);
        m.resolve_wrappers();
        needles.iter().map(|n| m.context_at(src.find(n).unwrap_or_else(|| panic!("{n}")))).collect()
    }

    #[test]
    fn closures_given_to_local_wrappers_and_in_blocks_are_offloaded() {
        let src = r#"
async fn run_db<F: FnOnce() -> R, R>(f: F) -> R {
    tokio::task::spawn_blocking(f).await.unwrap()
}
async fn run_in_place<F: FnOnce(&mut C) -> R, R>(conn: &mut C, f: F) -> R {
    tokio::task::block_in_place(move || f(conn))
}
async fn twice<F: FnOnce() -> R, R>(job: F) -> R {
    run_db(job).await
}
async fn keeps<F: FnOnce() -> R, R>(f: F) -> R {
    f()
}
async fn handler(conn: &mut C, set: &mut tokio::task::JoinSet<()>, h: tokio::runtime::Handle) {
    run_db(|| a1()).await;
    run_in_place(conn, |c| a2(c)).await;
    twice(move || a3()).await;
    keeps(|| a4()).await;
    tokio::task::spawn_blocking({ let x = 1; move || a5(x) }).await;
    set.spawn_blocking_on(|| a6(), &h);
    h.spawn_blocking(|| a7());
    let s = std::thread::scope(|s| { a8(); s.spawn(|| a9()); });
}
"#;
        let got = contexts(src, &["a1()", "a2(c)", "a3()", "a4()", "a5(x)", "a6()", "a7()", "a8()", "a9()"]);
        let sync: Vec<bool> = got.iter().map(|c| *c == RContext::Sync).collect();
        assert_eq!(sync, [true, true, true, false, true, true, true, false, true], "{got:?}");
    }
}

/// True when `call` names its function by a path (`f(…)`, `Repo::add(…)`), not as a method
/// of a receiver (`repo.add(…)`): a `self` method called so takes `self` as its first argument.
pub fn is_path_call(call: Node) -> bool {
    let func = call.child_by_field_name("function");
    let func = match func {
        Some(f) if f.kind() == "generic_function" => f.child_by_field_name("function"),
        f => f,
    };
    func.is_some_and(|f| f.kind() != "field_expression")
}

/// True when the items at the top of `root` (a file's tree over `text`) make the type named
/// `ty` convert from the type whose last path segment is `source` through `?`:
/// `impl From<…::source> for ty`, or a `#[from] …::source` field of `enum ty` / `struct ty`
/// (thiserror). Type names are compared by their last segment.
pub fn converts_from_in(text: &str, root: Node, ty: &str, source: &str) -> bool {
    let t = |n: Node| &text[n.byte_range()];
    let last = |s: &str| s.trim().rsplit("::").next().unwrap_or("").trim().to_string();
    let mut c = root.walk();
    let items: Vec<Node> = root.named_children(&mut c).collect();
    items.iter().any(|n| match n.kind() {
        "impl_item" => {
            let (Some(tr), Some(of)) = (n.child_by_field_name("trait"), n.child_by_field_name("type")) else { return false };
            last(t(of)) == ty
                && t(tr).strip_suffix('>').and_then(|x| x.split_once('<')).is_some_and(|(h, a)| last(h) == "From" && last(a) == source)
        }
        "enum_item" | "struct_item" => {
            n.child_by_field_name("name").is_some_and(|x| t(x) == ty)
                && t(*n).split("#[from]").skip(1).any(|rest| last(rest.split([')', '}', ',']).next().unwrap_or("")) == source)
        }
        _ => false,
    })
}
