//! Rust in the project model: crates, the `mod` tree, path resolution, and per-file summaries.
//!
//! **Crates.** A file belongs to the crate of the nearest `Cargo.toml` above it (inside the
//! project roots); its roots are every target Cargo compiles ([`targets_of`]): the lib, bins,
//! tests, examples, benches (explicit paths and auto-discovery) and the build script. A file
//! of a package that no root reaches is dead code Cargo never compiles: it is not checked
//! ([`FileView::rs_unreached`]); a manifest that does not parse, or a tree where a macro may
//! declare modules, leaves every file checked. A file's module is found by the conventional path
//! (`src/a/b.rs` → `crate::a::b`) checked against the `mod` tree, else by walking the tree from
//! each root (bounded).
//!
//! **The `mod` tree.** `mod x;` is `x.rs` or `x/mod.rs` beside the parent's file (in the
//! parent's own folder for `lib.rs`/`main.rs`/`mod.rs`, else in a folder named after it), a
//! `#[path = "…"]` attribute wins; `mod a { … }` is an inline module of the same file.
//!
//! **Paths** (`crate::db::DbPool`, `super::repo::find`, `self::x`, `db::Pool`, `Repo::find`)
//! are resolved from a module through its child modules, items, `use` declarations (so
//! `pub use` re-exports and `as` aliases are followed) and glob imports, with bounded depth;
//! a path that leaves the crate (an extern crate) is unknown.
//!
//! **Summaries** ([`RsSummary`]) hold what resolution needs and are computed from one file's
//! text alone (memoised by [`super::Project`] by content hash): per module scope, the items
//! and their kind, the child modules, the `use`s, the globs, and the methods of `impl`
//! blocks. What an item *is* (an alias's [`Kind`], a struct's field kinds, a function's
//! [`RsFnFacts`]) is computed at query time from the defining file's semantic model, whose
//! own questions about other files go through the same resolution one level deeper: the
//! answer depends on other files, so it is never stored in a summary.

use super::FileView;
use crate::semantic::outside::{Outside, PyDef, RsDef};
use crate::semantic::rust::{Kind, RustModel};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many resolution steps a query may take across files (re-exports, aliases of aliases,
/// helpers calling helpers).
const MAX_DEPTH: u32 = 6;

/// What kind of item a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    Type,
    Struct,
    Static,
    /// A `static ref` in a `lazy_static! { … }` block.
    LazyStatic,
    Fn,
    Other,
}

/// A `mod x;` (file) or `mod x { … }` (inline) declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    pub inline: bool,
    /// `#[path = "…"]`.
    pub path_attr: Option<String>,
}

/// One module scope of a file (the file itself, or an inline `mod a { … }`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModScope {
    pub items: FxHashMap<String, Item>,
    pub mods: FxHashMap<String, ModDecl>,
    /// Local name → path as written (`use crate::db::Pool as DbPool` → `DbPool` →
    /// `crate::db::Pool`).
    pub uses: FxHashMap<String, String>,
    pub globs: Vec<String>,
    /// Type name → its methods declared in `impl` blocks of this scope.
    pub methods: FxHashMap<String, Vec<String>>,
}

/// What other files may ask of one Rust file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RsSummary {
    /// By inline module path (`""`: the file's top level, `"a::b"`: `mod a { mod b { … } }`).
    pub scopes: FxHashMap<String, ModScope>,
    /// The file may pull in modules the summary cannot see: an item-level macro whose tokens
    /// hold `mod` (`cfg_if!`), `include!`, or a `#[cfg_attr(…, path = …)]`.
    pub opaque: bool,
}

/// The summary of a Rust source text.
pub fn summarize(text: &str) -> RsSummary {
    let tree = crate::syntax::parse(crate::syntax::Lang::Rust, text, None);
    let mut s = RsSummary::default();
    let mut todo: Vec<(String, tree_sitter::Node)> = vec![(String::new(), tree.root_node())];
    let t = |n: tree_sitter::Node| &text[n.byte_range()];
    while let Some((prefix, list)) = todo.pop() {
        let mut scope = ModScope::default();
        let mut path_attr: Option<String> = None;
        let mut c = list.walk();
        for node in list.named_children(&mut c) {
            let name = node.child_by_field_name("name").map(|n| t(n).to_string());
            // `include!(…);` at item level may parse as a statement.
            let mac_node = match node.kind() {
                "macro_invocation" => Some(node),
                "expression_statement" => node.named_child(0).filter(|c| c.kind() == "macro_invocation"),
                _ => None,
            };
            if let Some(m) = mac_node {
                let mac = m.child_by_field_name("macro").map(t).unwrap_or("");
                if mac == "include" || mac.ends_with("::include") || has_mod_token(t(m)) {
                    s.opaque = true;
                }
            }
            match node.kind() {
                "attribute_item" => {
                    let a = t(node);
                    let inner = a.trim_start_matches("#[").trim_end_matches(']').trim();
                    if inner.starts_with("cfg_attr") && inner.contains("path") {
                        s.opaque = true;
                    }
                    if let Some(v) = inner.strip_prefix("path") {
                        let v = v.trim_start().trim_start_matches('=').trim();
                        path_attr = Some(v.trim_matches('"').to_string());
                    }
                    continue;
                }
                "line_comment" | "block_comment" => continue,
                "mod_item" => {
                    if let Some(name) = name {
                        let body = node.child_by_field_name("body");
                        scope.mods.insert(name.clone(), ModDecl { inline: body.is_some(), path_attr: path_attr.take() });
                        if let Some(b) = body {
                            if prefix.matches("::").count() < 16 {
                                let p = if prefix.is_empty() { name } else { format!("{prefix}::{name}") };
                                todo.push((p, b));
                            }
                        }
                    }
                }
                "function_item" => {
                    scope.items.extend(name.map(|n| (n, Item::Fn)));
                }
                "struct_item" => {
                    scope.items.extend(name.map(|n| (n, Item::Struct)));
                }
                "type_item" => {
                    scope.items.extend(name.map(|n| (n, Item::Type)));
                }
                "static_item" | "const_item" => {
                    scope.items.extend(name.map(|n| (n, Item::Static)));
                }
                "enum_item" | "trait_item" | "union_item" | "macro_definition" => {
                    scope.items.extend(name.map(|n| (n, Item::Other)));
                }
                "use_declaration" => {
                    if let Some(arg) = node.child_by_field_name("argument") {
                        use_tree(text, arg, &mut scope);
                    }
                }
                "impl_item" => {
                    let ty = node.child_by_field_name("type").map(|ty| {
                        let head = if ty.kind() == "generic_type" { ty.child_by_field_name("type").unwrap_or(ty) } else { ty };
                        t(head).to_string()
                    });
                    if let (Some(ty), Some(body)) = (ty, node.child_by_field_name("body")) {
                        let mut c2 = body.walk();
                        let ms: Vec<String> = body
                            .named_children(&mut c2)
                            .filter(|f| f.kind() == "function_item")
                            .filter_map(|f| f.child_by_field_name("name").map(|n| t(n).to_string()))
                            .collect();
                        scope.methods.entry(ty).or_default().extend(ms);
                    }
                }
                "macro_invocation" => {
                    let mac = node.child_by_field_name("macro").map(t).unwrap_or("");
                    if mac == "lazy_static" || mac.ends_with("::lazy_static") {
                        for name in lazy_static_names(t(node)) {
                            scope.items.insert(name, Item::LazyStatic);
                        }
                    }
                }
                _ => {}
            }
            path_attr = None;
        }
        s.scopes.insert(prefix, scope);
    }
    s
}

/// Whether a macro invocation's text holds the token `mod` (a module declared inside it).
fn has_mod_token(text: &str) -> bool {
    let b = text.as_bytes();
    text.match_indices("mod").any(|(i, _)| {
        let before = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let after = b.get(i + 3).is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
        before && after
    })
}

/// The names of `static ref NAME: T = …;` in a `lazy_static!` invocation's text.
fn lazy_static_names(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("static ref ") {
        rest = &rest[i + "static ref ".len()..];
        let name: String = rest.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// `lazy_static! { static ref POOL: T = …; }` rewritten as plain statics (`static POOL: T =
/// …;`), one per line, for the semantic model to read their types.
pub(crate) fn lazy_static_items(text: &str) -> String {
    let mut out = String::new();
    let tree = crate::syntax::parse(crate::syntax::Lang::Rust, text, None);
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == "macro_invocation" {
            let mac = n.child_by_field_name("macro").map(|m| &text[m.byte_range()]).unwrap_or("");
            if mac == "lazy_static" || mac.ends_with("::lazy_static") {
                let body = &text[n.byte_range()];
                let inner = body.find(['{', '(', '[']).map(|i| &body[i + 1..body.len().saturating_sub(1)]).unwrap_or("");
                out.push('\n');
                out.push_str(&inner.replace("static ref ", "static "));
            }
            continue;
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    out
}

fn use_tree(text: &str, arg: tree_sitter::Node, scope: &mut ModScope) {
    let t = |n: tree_sitter::Node| text[n.byte_range()].to_string();
    let join = |a: &str, b: &str| if a.is_empty() { b.to_string() } else { format!("{a}::{b}") };
    let mut todo: Vec<(String, tree_sitter::Node)> = vec![(String::new(), arg)];
    while let Some((prefix, n)) = todo.pop() {
        match n.kind() {
            "self" if !prefix.is_empty() => {
                let last = prefix.rsplit("::").next().unwrap_or("").to_string();
                scope.uses.insert(last, prefix.clone());
            }
            "identifier" | "scoped_identifier" | "crate" | "super" | "self" => {
                let full = join(&prefix, &t(n));
                let last = full.rsplit("::").next().unwrap_or("").to_string();
                scope.uses.insert(last, full);
            }
            "use_as_clause" => {
                let (Some(p), Some(a)) = (n.child_by_field_name("path"), n.child_by_field_name("alias")) else { continue };
                let alias = t(a);
                if alias != "_" {
                    scope.uses.insert(alias, join(&prefix, &t(p)));
                }
            }
            "use_wildcard" => {
                let w = t(n);
                let w = w.trim_end_matches('*').trim_end_matches("::");
                scope.globs.push(join(&prefix, w).trim_end_matches("::").to_string());
            }
            "scoped_use_list" => {
                let path = n.child_by_field_name("path").map(t).unwrap_or_default();
                if let Some(list) = n.child_by_field_name("list") {
                    todo.push((join(&prefix, &path), list));
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

/// A module of a crate: the file it is in, its inline path inside that file, and its path
/// from the crate root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Module {
    pub root: PathBuf,
    pub file: PathBuf,
    pub inline: Vec<String>,
    pub segs: Vec<String>,
}

/// A per-view memo table ([`FileView::memoised`]).
pub(crate) struct Memo<K, V>(std::sync::Mutex<FxHashMap<K, Entry<V>>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(std::sync::Mutex::new(FxHashMap::default()))
    }
}

#[derive(Clone)]
pub(crate) enum Entry<V> {
    /// Being computed.
    Busy,
    /// (answer, computed without meeting a cycle or the depth bound, files read).
    Done(V, bool, Arc<Vec<PathBuf>>),
}

/// One module scope of a summary, without copying it.
struct ScopeRef {
    sum: Arc<RsSummary>,
    key: String,
}

impl std::ops::Deref for ScopeRef {
    type Target = ModScope;
    fn deref(&self) -> &ModScope {
        &self.sum.scopes[&self.key]
    }
}

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Module(Module),
    Item(Module, String, Item),
    /// A method of a type declared in `Module`.
    Method(Module, String, String),
}

impl FileView {
    /// The summary of a file, read once per view (the texts do not change during one
    /// analysis).
    fn rs_sum(&self, file: &Path) -> Option<Arc<RsSummary>> {
        self.note(file);
        if let Some(s) = self.rs_sums.lock().unwrap().get(file) {
            return s.clone();
        }
        let s = self.project.rs_summary(file);
        self.rs_sums.lock().unwrap().insert(file.to_path_buf(), s.clone());
        s
    }

    fn rs_scope(&self, m: &Module) -> Option<ScopeRef> {
        let sum = self.rs_sum(&m.file)?;
        let key = m.inline.join("::");
        sum.scopes.contains_key(&key).then_some(ScopeRef { sum, key })
    }

    fn exists_noted(&self, p: &Path) -> bool {
        self.note(p);
        if let Some(e) = self.rs_exists.lock().unwrap().get(p) {
            return *e;
        }
        let e = self.project.exists(p);
        self.rs_exists.lock().unwrap().insert(p.to_path_buf(), e);
        e
    }

    /// The folder where the child modules of `m` live.
    fn children_dir(&self, m: &Module) -> Option<PathBuf> {
        let dir = m.file.parent()?.to_path_buf();
        let stem = m.file.file_stem()?.to_string_lossy().to_string();
        let mut d = if m.file == m.root || stem == "mod" { dir } else { dir.join(stem) };
        for i in &m.inline {
            d.push(i.strip_prefix("r#").unwrap_or(i));
        }
        Some(d)
    }

    fn child_module(&self, m: &Module, name: &str) -> Option<Module> {
        let scope = self.rs_scope(m)?;
        let decl = scope.mods.get(name)?;
        let mut segs = m.segs.clone();
        segs.push(name.to_string());
        if decl.inline {
            let mut inline = m.inline.clone();
            inline.push(name.to_string());
            return Some(Module { root: m.root.clone(), file: m.file.clone(), inline, segs });
        }
        let file = match &decl.path_attr {
            Some(p) => {
                let base = if m.inline.is_empty() { m.file.parent()?.to_path_buf() } else { self.children_dir(m)? };
                super::normalize(&base.join(p))
            }
            None => {
                let dir = self.children_dir(m)?;
                // `mod r#type;` is `type.rs`.
                let fname = name.strip_prefix("r#").unwrap_or(name);
                let a = dir.join(format!("{fname}.rs"));
                let b = dir.join(fname).join("mod.rs");
                if self.exists_noted(&a) {
                    a
                } else if self.exists_noted(&b) {
                    b
                } else {
                    return None;
                }
            }
        };
        if !self.exists_noted(&file) {
            return None;
        }
        Some(Module { root: m.root.clone(), file, inline: vec![], segs })
    }

    fn module_at(&self, root: &Path, segs: &[String]) -> Option<Module> {
        let mut m = Module { root: root.to_path_buf(), file: root.to_path_buf(), inline: vec![], segs: vec![] };
        for s in segs {
            m = self.child_module(&m, s)?;
        }
        Some(m)
    }

    /// The crate roots of the crate `file` belongs to (nearest `Cargo.toml` above it).
    fn crate_roots(&self, file: &Path) -> Vec<PathBuf> {
        let mut dir = file.parent();
        while let Some(d) = dir {
            let manifest = d.join("Cargo.toml");
            self.note(&manifest);
            if let Some(text) = self.project.text(&manifest) {
                return roots_of(d, &text, |p| self.exists_noted(p));
            }
            if !self.project.contains(d) {
                break;
            }
            dir = d.parent();
        }
        vec![]
    }

    /// The module `file` is, in its crate.
    pub fn rs_module_of(&self, file: &Path) -> Option<Module> {
        self.memoised(&self.rs_modules, file.to_path_buf(), None, || self.find_module(file))
    }

    fn find_module(&self, file: &Path) -> Option<Module> {
        let roots = self.crate_roots(file);
        for r in &roots {
            if r == file {
                return Some(Module { root: r.clone(), file: r.clone(), inline: vec![], segs: vec![] });
            }
        }
        // The conventional path, checked against the `mod` tree.
        for r in &roots {
            let Some(base) = r.parent() else { continue };
            let Ok(rel) = file.strip_prefix(base) else { continue };
            let mut segs: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().to_string()).collect();
            if let Some(last) = segs.pop() {
                let stem = last.trim_end_matches(".rs").to_string();
                if stem != "mod" {
                    segs.push(stem);
                }
            }
            if let Some(m) = self.module_at(r, &segs) {
                if m.file == file && m.inline.is_empty() {
                    return Some(m);
                }
            }
        }
        // Walk the tree (a `#[path]` somewhere).
        for r in &roots {
            let mut todo = vec![Module { root: r.clone(), file: r.clone(), inline: vec![], segs: vec![] }];
            let mut seen = 0;
            while let Some(m) = todo.pop() {
                seen += 1;
                if seen > 2000 {
                    break;
                }
                if m.file == file && m.inline.is_empty() {
                    return Some(m);
                }
                let Some(scope) = self.rs_scope(&m) else { continue };
                for name in scope.mods.keys() {
                    if let Some(c) = self.child_module(&m, name) {
                        if c.segs.len() < 24 {
                            todo.push(c);
                        }
                    }
                }
            }
        }
        None
    }

    /// Why no Cargo target compiles `file`, if none does: it is inside a package (the
    /// nearest `Cargo.toml` above it, inside the project, parses and has a `[package]`) and
    /// no target root reaches it through the `mod` tree. `None` (check it) when a target
    /// reaches it, when there is no package, or when the answer is not certain (a manifest
    /// that does not parse, a file of the tree that may declare modules the summary cannot
    /// see, the walk's bound).
    pub fn rs_unreached(&self, file: &Path) -> Option<String> {
        let file = super::normalize(file);
        let file = file.as_path();
        let mut dir = file.parent();
        let (pkg_dir, manifest, table) = loop {
            let d = dir?;
            let manifest = d.join("Cargo.toml");
            self.note(&manifest);
            if let Some(text) = self.project.text(&manifest) {
                let table: toml::Table = text.parse().ok()?;
                break (d.to_path_buf(), manifest, table);
            }
            if !self.project.contains(d) {
                return None;
            }
            dir = d.parent();
        };
        table.get("package")?;
        let roots: Vec<PathBuf> = targets_of(&pkg_dir, &table).into_iter().filter(|p| self.exists_noted(p)).collect();
        if roots.iter().any(|r| r == file) || self.rs_module_of(file).is_some() {
            return None;
        }
        let mut todo: Vec<Module> = roots.iter().map(|r| Module { root: r.clone(), file: r.clone(), inline: vec![], segs: vec![] }).collect();
        let mut seen = 0;
        while let Some(m) = todo.pop() {
            seen += 1;
            if seen > 5000 || m.file == file {
                return None;
            }
            let sum = self.rs_sum(&m.file)?;
            if sum.opaque {
                return None;
            }
            let Some(scope) = self.rs_scope(&m) else { continue };
            for name in scope.mods.keys() {
                if let Some(c) = self.child_module(&m, name) {
                    if c.segs.len() < 24 {
                        todo.push(c);
                    }
                }
            }
        }
        Some(format!("not checked: no Cargo target of {} compiles it (no `mod` path from a lib, bin, test, example, bench or build script reaches it)", manifest.display()))
    }

    fn resolve(&self, from: &Module, path: &str, depth: u32) -> Option<Target> {
        if depth > MAX_DEPTH {
            self.taint();
            return None;
        }
        let segs: Vec<&str> = path.split("::").map(str::trim).filter(|s| !s.is_empty()).collect();
        let mut cur = Target::Module(from.clone());
        let mut first = true;
        for seg in segs {
            cur = match (&cur, seg) {
                (Target::Module(_), "crate") if first => Target::Module(self.module_at(&from.root, &[])?),
                (Target::Module(m), "self") if first => Target::Module(m.clone()),
                (Target::Module(m), "super") => {
                    let mut segs = m.segs.clone();
                    segs.pop()?;
                    Target::Module(self.module_at(&from.root, &segs)?)
                }
                (Target::Module(m), name) => self.lookup(m, name, depth)?,
                (Target::Item(m, ty, Item::Struct | Item::Type | Item::Other), name) => {
                    let scope = self.rs_scope(m)?;
                    if scope.methods.get(ty).is_some_and(|ms| ms.iter().any(|x| x == name)) {
                        Target::Method(m.clone(), ty.clone(), name.to_string())
                    } else {
                        return None;
                    }
                }
                _ => return None,
            };
            first = false;
        }
        Some(cur)
    }

    /// `name` in the module `m`: a child module, an item, a `use` (followed), a glob.
    fn lookup(&self, m: &Module, name: &str, depth: u32) -> Option<Target> {
        // Memoised per view: globs that import globs would otherwise be searched again for
        // every name; a lookup that comes back to itself (glob cycles) meets "unknown".
        self.memoised(&self.rs_lookups, (m.clone(), name.to_string()), None, || self.lookup_uncached(m, name, depth))
    }

    fn lookup_uncached(&self, m: &Module, name: &str, depth: u32) -> Option<Target> {
        let scope = self.rs_scope(m)?;
        if scope.mods.contains_key(name) {
            return self.child_module(m, name).map(Target::Module);
        }
        if let Some(item) = scope.items.get(name) {
            return Some(Target::Item(m.clone(), name.to_string(), *item));
        }
        if let Some(p) = scope.uses.get(name) {
            if p != name {
                return self.resolve(m, p, depth + 1);
            }
            return None;
        }
        scope.globs.iter().find_map(|g| self.resolve(m, &format!("{g}::{name}"), depth + 1))
    }

    /// What `path`, written in `from`'s module, names, `depth` files deep.
    /// [`crate::semantic::outside::Outside::rs_converts_from`] from the file `from`: the type
    /// `path` resolves to (a struct or enum of the crate), judged in its own file by
    /// [`crate::semantic::rust_calls::converts_from_in`].
    pub(crate) fn rs_converts_from_at(&self, from: &Path, path: &str, source: &str) -> Option<bool> {
        let Target::Item(m, name, Item::Struct | Item::Other) = self.resolve(&self.rs_module_of(from)?, path, 0)? else { return None };
        let parsed = self.project.rs_tree(&m.file, false)?;
        Some(crate::semantic::rust_calls::converts_from_in(&parsed.0, parsed.1.root_node(), &name, source))
    }

    pub(crate) fn rs_def_from(&self, from: &Path, path: &str, depth: u32) -> Option<RsDef> {
        if depth > MAX_DEPTH {
            self.taint();
            return None;
        }
        // Memoised per (file, path) for the life of the view; a query that comes back to
        // itself (recursion) meets the "unknown" placeholder.
        self.memoised(&self.rs_memo, (from.to_path_buf(), path.to_string()), None, || {
            let target = self.resolve(&self.rs_module_of(from)?, path, depth)?;
            self.memoised(&self.rs_targets, target.clone(), None, || self.shared_def(&target, depth))
        })
    }

    /// `compute()`, memoised in `memo` for the life of the view. A computation that comes
    /// back to itself (a cycle) meets `busy`; answers that met a cycle or the depth bound are
    /// marked so ([`FileView::taint`]), and a later use of them taints its user too; the
    /// files an answer read are noted again when it is reused.
    fn memoised<K: std::hash::Hash + Eq + Clone, V: Clone>(&self, memo: &Memo<K, V>, key: K, busy: V, compute: impl FnOnce() -> V) -> V {
        let hit = memo.0.lock().unwrap().get(&key).cloned();
        match hit {
            Some(Entry::Busy) => {
                self.taint();
                return busy;
            }
            Some(Entry::Done(v, clean, reads)) => {
                for r in reads.iter() {
                    self.note(r);
                }
                if !clean {
                    self.taint();
                }
                return v;
            }
            None => {}
        }
        memo.0.lock().unwrap().insert(key.clone(), Entry::Busy);
        self.rs_frames.lock().unwrap().push((Default::default(), false));
        let v = compute();
        let (reads, tainted) = self.rs_frames.lock().unwrap().pop().unwrap_or_default();
        memo.0.lock().unwrap().insert(key, Entry::Done(v.clone(), !tainted, Arc::new(reads.into_iter().collect())));
        v
    }

    /// [`FileView::def_of`], shared with other views of the same generation of texts when it
    /// was computed cleanly (no cycle, no depth bound: then it does not depend on who asked
    /// first); the files it read are noted as this view's dependencies either way.
    fn shared_def(&self, target: &Target, depth: u32) -> Option<RsDef> {
        let generation = self.project.generation();
        let hit = self.project.rs_defs.lock().unwrap().get(target).filter(|(g, _, _)| *g == generation).cloned();
        if let Some((_, d, reads)) = hit {
            for r in reads.iter() {
                self.note(r);
            }
            return d;
        }
        self.rs_frames.lock().unwrap().push((Default::default(), false));
        let d = self.def_of(target, depth);
        let (reads, tainted) = self.rs_frames.lock().unwrap().pop().unwrap_or_default();
        if !tainted && self.project.generation() == generation {
            let mut reads: Vec<PathBuf> = reads.into_iter().collect();
            reads.sort();
            self.project.rs_defs.lock().unwrap().insert(target.clone(), (generation, d.clone(), Arc::new(reads)));
        }
        d
    }

    fn def_of(&self, target: &Target, depth: u32) -> Option<RsDef> {
        let (m, name, item, method) = match target {
            Target::Module(_) => return None,
            Target::Item(m, n, i) => (m, n.as_str(), *i, None),
            Target::Method(m, ty, meth) => (m, ty.as_str(), Item::Fn, Some(meth.as_str())),
        };
        if matches!(item, Item::Other) {
            return None;
        }
        let parsed = self.project.rs_tree(&m.file, item == Item::LazyStatic)?;
        let (text, tree) = (&*parsed.0, &parsed.1);
        let index = crate::text::LineIndex::new(text);
        let there = RsAt { view: self, file: m.file.clone(), depth: depth + 1 };
        let mut rs = RustModel::build(text, tree, &index);
        rs.outside = Some(&there);
        let in_scope = |n: tree_sitter::Node| inline_path(&rs, n) == m.inline;
        match (item, method) {
            (Item::Type, None) => {
                let node = find_item(tree, text, "type_item", name, &in_scope)?;
                let k = rs.kind_of_type(node.child_by_field_name("type")?);
                (k != Kind::Unknown).then_some(RsDef::Value(k))
            }
            (Item::Static | Item::LazyStatic, None) => {
                let node = find_item(tree, text, "static_item", name, &|n| item == Item::LazyStatic || in_scope(n))
                    .or_else(|| find_item(tree, text, "const_item", name, &in_scope))?;
                let mut k = node.child_by_field_name("type").map(|t| rs.kind_of_type(t)).unwrap_or(Kind::Unknown);
                if k == Kind::Unknown {
                    if let Some(v) = node.child_by_field_name("value") {
                        k = rs.kind_of(v);
                    }
                }
                (k != Kind::Unknown).then_some(RsDef::Value(k))
            }
            (Item::Struct, None) => {
                let node = find_item(tree, text, "struct_item", name, &in_scope)?;
                let body = node.child_by_field_name("body")?;
                let mut fields = vec![];
                let mut c = body.walk();
                let mut i = 0;
                for f in body.named_children(&mut c) {
                    match f.kind() {
                        "field_declaration" => {
                            if let (Some(n), Some(t)) = (f.child_by_field_name("name"), f.child_by_field_name("type")) {
                                let k = rs.kind_of_type(t);
                                if k != Kind::Unknown {
                                    fields.push((rs.node_text(n).to_string(), k));
                                }
                            }
                        }
                        "line_comment" | "block_comment" | "attribute_item" | "visibility_modifier" => {}
                        _ => {
                            // A tuple struct's field `0`, `1` …
                            let k = rs.kind_of_type(f);
                            if k != Kind::Unknown {
                                fields.push((i.to_string(), k));
                            }
                            i += 1;
                        }
                    }
                }
                Some(RsDef::Struct(fields))
            }
            (Item::Fn, None) => {
                let node = find_item(tree, text, "function_item", name, &|n| {
                    in_scope(n) && !n.parent().is_some_and(|p| p.kind() == "declaration_list" && p.parent().is_some_and(|x| x.kind() != "mod_item"))
                })?;
                rs.resolve_wrappers();
                Some(RsDef::Fn(fn_facts_owned(self, m, depth, &rs, node)))
            }
            (Item::Fn, Some(meth)) => {
                let node = find_item(tree, text, "function_item", meth, &|n| {
                    rs.impl_type_of(n).is_some_and(|t| t == name) && in_scope(n)
                })?;
                rs.resolve_wrappers();
                Some(RsDef::Fn(fn_facts_owned(self, m, depth, &rs, node)))
            }
            _ => None,
        }
    }
}

fn fn_facts_owned(view: &FileView, m: &Module, depth: u32, rs: &RustModel, node: tree_sitter::Node) -> Arc<crate::semantic::outside::RsFnFacts> {
    let mut f = (*rs.local_fn_facts(node)).clone();
    // The returned type's path as any file of the crate can ask for it.
    f.returns_path = f.returns_path.as_deref().and_then(|p| match view.resolve(m, p, depth + 1) {
        Some(Target::Item(tm, name, Item::Struct | Item::Type | Item::Other)) => {
            let mut segs = tm.segs.clone();
            segs.push(name);
            Some(format!("crate::{}", segs.join("::")))
        }
        _ => None,
    });
    Arc::new(f)
}

/// The inline module path of a node (`["a", "b"]` inside `mod a { mod b { … } }`).
fn inline_path(rs: &RustModel, n: tree_sitter::Node) -> Vec<String> {
    let mut out = vec![];
    let mut p = n.parent();
    while let Some(x) = p {
        if x.kind() == "mod_item" {
            if let Some(name) = x.child_by_field_name("name") {
                out.push(rs.node_text(name).to_string());
            }
        }
        p = x.parent();
    }
    out.reverse();
    out
}

/// The first item of `kind` named `name` for which `ok` holds (items of the file, of inline
/// modules and of `impl` blocks).
fn find_item<'t>(
    tree: &'t tree_sitter::Tree,
    src: &str,
    kind: &str,
    name: &str,
    ok: &dyn Fn(tree_sitter::Node<'t>) -> bool,
) -> Option<tree_sitter::Node<'t>> {
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == kind {
            if let Some(nm) = n.child_by_field_name("name") {
                if &src[nm.byte_range()] == name && ok(n) {
                    return Some(n);
                }
            }
        }
        if matches!(n.kind(), "source_file" | "declaration_list" | "mod_item" | "impl_item") {
            let mut c = n.walk();
            let ch: Vec<_> = n.named_children(&mut c).collect();
            stack.extend(ch.into_iter().rev());
        }
    }
    None
}

/// The project seen from another file of it, `depth` files away from the analysed one:
/// answers the questions of that file's model.
struct RsAt<'v> {
    view: &'v FileView,
    file: PathBuf,
    depth: u32,
}

impl Outside for RsAt<'_> {
    fn py_def(&self, _dotted: &str) -> Option<PyDef> {
        None
    }

    fn rs_def(&self, path: &str) -> Option<RsDef> {
        self.view.rs_def_from(&self.file, path, self.depth)
    }

    fn rs_converts_from(&self, path: &str, source: &str) -> Option<bool> {
        self.view.rs_converts_from_at(&self.file, path, source)
    }

    fn rs_here(&self) -> Option<PathBuf> {
        Some(self.file.clone())
    }
}

/// The crate roots declared by a manifest in `dir`.
fn roots_of(dir: &Path, manifest: &str, exists: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let parsed: Option<toml::Table> = manifest.parse().ok();
    let empty = toml::Table::new();
    let t = parsed.as_ref().unwrap_or(&empty);
    let mut out = targets_of(dir, t);
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()) && exists(p));
    out
}

/// Every target root Cargo compiles in the package of `manifest` (its folder `dir`): the lib,
/// the bins, tests, examples and benches (explicit `path`s, the default path of a named
/// target, and auto-discovery unless `autobins`/`autotests`/`autoexamples`/`autobenches` is
/// `false`), and the build script. Paths are normalised; they may not exist.
pub(crate) fn targets_of(dir: &Path, t: &toml::Table) -> Vec<PathBuf> {
    let pkg = t.get("package").and_then(|p| p.as_table());
    let auto = |key: &str| pkg.and_then(|p| p.get(key)).and_then(|v| v.as_bool()).unwrap_or(true);
    let mut out = vec![];
    let lib = t.get("lib").and_then(|l| l.get("path")).and_then(|p| p.as_str()).map(|p| dir.join(p));
    if auto("autolib") || lib.is_some() {
        out.push(lib.unwrap_or_else(|| dir.join("src/lib.rs")));
    }
    // (manifest key, default folder, auto key); bins also have `src/main.rs`.
    for (key, folder, auto_key) in
        [("bin", "src/bin", "autobins"), ("test", "tests", "autotests"), ("example", "examples", "autoexamples"), ("bench", "benches", "autobenches")]
    {
        for tg in t.get(key).and_then(|b| b.as_array()).into_iter().flatten() {
            if let Some(p) = tg.get("path").and_then(|p| p.as_str()) {
                out.push(dir.join(p));
            } else if let Some(n) = tg.get("name").and_then(|n| n.as_str()) {
                out.push(dir.join(folder).join(format!("{n}.rs")));
                out.push(dir.join(folder).join(n).join("main.rs"));
                if key == "bin" {
                    out.push(dir.join("src/main.rs"));
                }
            }
        }
        if !auto(auto_key) {
            continue;
        }
        if key == "bin" {
            out.push(dir.join("src/main.rs"));
        }
        if let Ok(rd) = std::fs::read_dir(dir.join(folder)) {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            v.sort();
            for p in v {
                if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                } else if p.is_dir() {
                    out.push(p.join("main.rs"));
                }
            }
        }
    }
    match pkg.and_then(|p| p.get("build")) {
        Some(toml::Value::String(b)) => out.push(dir.join(b)),
        Some(toml::Value::Boolean(false)) => {}
        _ => out.push(dir.join("build.rs")),
    }
    out.iter().map(|p| super::normalize(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Project;

    #[test]
    fn targets_follow_the_manifest_and_the_auto_flags() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["tests/a.rs", "tests/b/main.rs", "tests/b/util.rs", "examples/e.rs", "benches/x.rs", "src/bin/t.rs", "gen.rs"] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), "").unwrap();
        }
        let names = |manifest: &str| -> Vec<String> {
            let t: toml::Table = manifest.parse().unwrap();
            targets_of(d, &t).iter().map(|p| p.strip_prefix(crate::project::normalize(d)).unwrap().to_string_lossy().replace('\\', "/")).collect()
        };
        let all = names("[package]\nname = \"p\"\n");
        for want in ["src/lib.rs", "src/main.rs", "src/bin/t.rs", "tests/a.rs", "tests/b/main.rs", "examples/e.rs", "benches/x.rs", "build.rs"] {
            assert!(all.iter().any(|p| p == want), "{want} not in {all:?}");
        }
        assert!(!all.iter().any(|p| p == "tests/b/util.rs"), "{all:?}");
        let off = names("[package]\nname = \"p\"\nautotests = false\nautobenches = false\nbuild = \"gen.rs\"\n[[test]]\nname = \"only\"\npath = \"tests/b/util.rs\"\n");
        assert!(off.iter().any(|p| p == "tests/b/util.rs") && off.iter().any(|p| p == "gen.rs"), "{off:?}");
        assert!(!off.iter().any(|p| p == "tests/a.rs" || p == "benches/x.rs" || p == "build.rs"), "{off:?}");
        let none = names("[package]\nname = \"p\"\nbuild = false\n");
        assert!(!none.iter().any(|p| p.ends_with("build.rs")), "{none:?}");
    }

    #[test]
    fn a_macro_that_may_declare_modules_makes_the_summary_opaque() {
        assert!(summarize("cfg_if::cfg_if! { if #[cfg(unix)] { mod unix; } }").opaque);
        assert!(summarize("include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));").opaque);
        assert!(summarize("#[cfg_attr(unix, path = \"u.rs\")]\nmod sys;").opaque);
        assert!(!summarize("mod a;\nlazy_static::lazy_static! { static ref P: u8 = 1; }\nfn f() { println!(\"model\"); }").opaque);
    }

    #[test]
    fn summary_lists_items_modules_uses_and_methods() {
        let s = summarize(
            r#"
use crate::db::{self, Pool as DbPool, *};
pub use super::repo::find;
#[path = "x/y.rs"]
mod y;
mod z;
pub mod inner { pub fn f() {} pub type T = u8; }
pub struct S { a: u8 }
impl S { pub fn conn(&self) {} }
pub static P: u8 = 0;
lazy_static::lazy_static! { static ref L: Pool = make(); static ref M: u8 = 1; }
pub fn g() {}
"#,
        );
        let top = &s.scopes[""];
        assert_eq!(top.uses["DbPool"], "crate::db::Pool");
        assert_eq!(top.uses["db"], "crate::db");
        assert_eq!(top.uses["find"], "super::repo::find");
        assert_eq!(top.globs, ["crate::db"]);
        assert_eq!(top.mods["y"], ModDecl { inline: false, path_attr: Some("x/y.rs".into()) });
        assert_eq!(top.mods["z"], ModDecl { inline: false, path_attr: None });
        assert!(top.mods["inner"].inline);
        assert_eq!(s.scopes["inner"].items["T"], Item::Type);
        assert_eq!(top.items["S"], Item::Struct);
        assert_eq!(top.methods["S"], ["conn"]);
        assert_eq!(top.items["P"], Item::Static);
        assert_eq!(top.items["L"], Item::LazyStatic);
        assert_eq!(top.items["M"], Item::LazyStatic);
        assert_eq!(top.items["g"], Item::Fn);
        assert!(lazy_static_items("lazy_static! { static ref L: Pool = make(); }").contains("static L: Pool = make();"));
    }

    #[test]
    fn crate_roots_and_modules() {
        let dir = std::env::temp_dir().join(format!("ag-rs-project-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = |p: &str, t: &str| {
            let f = dir.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, t).unwrap();
        };
        w("Cargo.toml", "[package]\nname = \"x\"\n[[bin]]\nname = \"tool\"\npath = \"tools/tool.rs\"\n");
        w("src/main.rs", "mod a;\nmod b;\n");
        w("src/a.rs", "pub mod c;\n");
        w("src/a/c.rs", "pub type P = r2d2::Pool<M>;\n");
        w("src/b/mod.rs", "#[path = \"../other/d.rs\"]\nmod d;\n");
        w("src/other/d.rs", "");
        w("src/bin/extra.rs", "fn main() {}\n");
        w("tools/tool.rs", "fn main() {}\n");
        let project = Project::new(vec![dir.clone()]);
        let view = project.view(&dir.join("src/main.rs"));
        let segs = |p: &str| view.rs_module_of(&super::super::normalize(&dir.join(p))).map(|m| m.segs.join("::"));
        assert_eq!(segs("src/main.rs").as_deref(), Some(""));
        assert_eq!(segs("src/a/c.rs").as_deref(), Some("a::c"));
        assert_eq!(segs("src/b/mod.rs").as_deref(), Some("b"));
        assert_eq!(segs("src/other/d.rs").as_deref(), Some("b::d"));
        assert_eq!(segs("src/bin/extra.rs").as_deref(), Some(""));
        assert_eq!(segs("tools/tool.rs").as_deref(), Some(""));
        assert_eq!(segs("src/unlinked.rs"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

