//! Python in the project model: module resolution and per-file summaries.
//!
//! **Module resolution.** An import path (`shop.models.Book`, `.models`, `..services.close`)
//! is resolved from the importing file: relative paths from its package; absolute ones
//! against the file's own import root (the folder above its topmost package, i.e. the first
//! ancestor without `__init__.py`), then each project root and its `src/`. Namespace packages
//! (folders without `__init__.py`) resolve like packages. The longest prefix that is a
//! module wins; the rest is looked up in that module's summary (a class, a function, or a
//! name it imports — re-exports through `__init__.py` are followed). A path that resolves to
//! no project file is unknown.
//!
//! **Summaries** ([`PySummary`]) are computed from one file's text: its imports, its
//! top-level classes (bases, whether they declare managers, their `a*` methods, whether they
//! are a Celery task base that defers dispatch to commit) and functions ([`LocalFn`]:
//! returns, sync database work, task dispatches, calls), and what its models declare
//! ([`ModuleFacts`]). Facts that cross files (is this class a model through a base declared
//! elsewhere; does this helper reach the database through another module's helper) are
//! resolved when asked, with bounded depth.

use super::FileView;
use crate::semantic::outside::{ClassFacts, FnFacts, Loc, ModuleFacts, PyDef};
use crate::semantic::python::last_name;
use crate::semantic::summary::{LocalFn, Work};
use crate::semantic::PyModel;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many files a resolution may pass through (re-exports, base classes, helper calls).
const MAX_DEPTH: u32 = 8;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PyClass {
    /// Base class expressions, as written.
    pub bases: Vec<String>,
    /// Manager attributes declared in the body (`live = PublishedManager()`).
    pub manager_attrs: Vec<String>,
    /// The `a*` methods its body defines (`async def asave`: a project base class may
    /// supply an async name Django lacks, or has only in a later version).
    pub a_methods: Vec<String>,
    /// Its source defines `apply_async`/`delay` and calls `on_commit` (a Celery task base
    /// that dispatches at commit), or its name says so (`…TransactionAware…`, `…OnCommit…`).
    pub defers_on_commit: bool,
    /// The class name's range.
    pub name_range: std::ops::Range<usize>,
    /// Model fields declared in the body (AG104).
    pub fields: Vec<crate::semantic::relations::ModelField>,
    /// Its own `__aenter__` enters Django's `Atomic` through `sync_to_async` (AG204).
    pub homemade_atomic: bool,
}

/// What other files may ask of one Python file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PySummary {
    /// local name → dotted import path (leading dots: relative).
    pub imports: FxHashMap<String, String>,
    pub classes: FxHashMap<String, PyClass>,
    /// Module-level functions.
    pub functions: FxHashMap<String, LocalFn>,
    /// The file imports Django (or dorm): `…Model` bases are models.
    pub orm: bool,
    /// The file imports another ORM/ODM (Tortoise, SQLAlchemy, mongoengine …): its `Model`
    /// bases are not Django's.
    pub foreign_orm: bool,
    pub facts: Arc<ModuleFacts>,
    /// Module-level names assigned a SQLAlchemy session factory, session, engine or
    /// connection this file alone shows (`async_session = async_sessionmaker(engine)`).
    pub sqla: FxHashMap<String, crate::semantic::sqla::SqlaKind>,
}

/// The summary of a Python source text. Parsed sparsely: the bodies of sync functions are
/// left out (a helper's body is read only when something asks what it does:
/// [`bodies`]), except methods that return a chain from `self` (custom querysets).
pub fn summarize(text: &str) -> PySummary {
    use crate::analysis::sparse;
    let index = crate::text::LineIndex::new(text);
    let mut hot: Vec<usize> = text.match_indices("return self").chain(text.match_indices("return super(")).map(|(i, _)| i).collect();
    // AG204: a sync `__aenter__` and the `__init__` that assigns `self._atomic = atomic()`.
    if text.contains("__aenter__") {
        hot.extend(text.match_indices("__enter__").chain(text.match_indices("atomic(")).map(|(i, _)| i));
        hot.sort_unstable();
    }
    let sparse_tree = sparse::mask(text, &hot, &sparse::event_positions(text), &[]).and_then(|masked| {
        crate::syntax::parse_ranges(crate::syntax::Lang::Python, &masked.text, &masked.included(&index))
            .filter(|t| !t.root_node().has_error())
    });
    let tree = sparse_tree.unwrap_or_else(|| crate::syntax::parse(crate::syntax::Lang::Python, text, None));
    let m = PyModel::build(text, &tree, &index);
    let mut s = PySummary {
        imports: m.imports.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        orm: m.imports_django || m.imports_dorm(),
        foreign_orm: m.imports_other_odm && !m.imports_dorm() && !m.imports_django,
        ..Default::default()
    };
    let root = tree.root_node();
    let mut c = root.walk();
    let mut reverse_o2o = vec![];
    for node in root.named_children(&mut c) {
        if node.kind() == "expression_statement" {
            let assign = node.named_child(0).filter(|a| a.kind() == "assignment");
            let parts = assign.and_then(|a| Some((a.child_by_field_name("left")?, a.child_by_field_name("right")?)));
            if let Some((left, right)) = parts.filter(|(l, _)| l.kind() == "identifier") {
                match m.sqla_kind(right) {
                    Some(k) => s.sqla.insert(m.node_text(left).to_string(), k),
                    None => s.sqla.remove(m.node_text(left)),
                };
            }
            continue;
        }
        let def = match node.kind() {
            "decorated_definition" => node.child_by_field_name("definition"),
            _ => Some(node),
        };
        let Some(def) = def else { continue };
        let Some(name) = def.child_by_field_name("name").map(|n| m.node_text(n).to_string()) else { continue };
        match def.kind() {
            "function_definition" => {
                s.functions.insert(name, m.local_fn_header(def));
            }
            "class_definition" => {
                let bases = def
                    .child_by_field_name("superclasses")
                    .map(|a| {
                        let mut c = a.walk();
                        a.named_children(&mut c)
                            .filter(|b| matches!(b.kind(), "identifier" | "attribute"))
                            .map(|b| m.node_text(b).to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let manager_attrs = class_manager_attrs(&m, def);
                let a_methods = class_a_methods(&m, def);
                let defers_on_commit = crate::semantic::transactions::class_text_defers(crate::semantic::transactions::block_text(text, node.start_byte()))
                    || name.contains("TransactionAware")
                    || name.contains("OnCommit");
                let name_range = def.child_by_field_name("name").map(|n| n.byte_range()).unwrap_or_default();
                let fields = crate::semantic::relations::class_fields(&m, def);
                reverse_o2o.extend(crate::semantic::relations::reverse_one_to_one(&name, &fields));
                let homemade_atomic = m.homemade_atomic_class(def).is_some();
                s.classes.insert(name, PyClass { bases, manager_attrs, a_methods, defers_on_commit, name_range, fields, homemade_atomic });
            }
            _ => {}
        }
    }
    let mut related: Vec<String> = m.m2m_attrs.iter().chain(m.related_names.iter()).cloned().collect();
    related.sort();
    let mut managers: Vec<String> = m.manager_attrs.iter().cloned().collect();
    managers.sort();
    reverse_o2o.sort();
    reverse_o2o.dedup();
    s.facts = Arc::new(ModuleFacts {
        related_attrs: related,
        manager_attrs: managers,
        queryset_methods: m.queryset_methods(),
        reverse_one_to_one: reverse_o2o,
        circuit_breakers: m.module_breakers(),
        ninja_routers: m.module_ninja_routers(),
    });
    s
}

/// Words without which a text's [`ModuleFacts`] are empty: a manager attribute is assigned
/// a `…Manager(…)`, `….as_manager()` or `….from_queryset(…)(…)` call; a relation is a
/// `ForeignKey`, `ManyToManyField` or `GenericRelation` field; a queryset method belongs to a
/// class whose base ends in `QuerySet` or `Manager` (see `PyModel::note_relation_field`,
/// `is_manager_ctor`, `PyModel::queryset_methods`).
const FACTS_WORDS: &[&str] = &["Manager", "as_manager", "from_queryset", "QuerySet", "ForeignKey", "ManyToManyField", "GenericRelation"];

/// False when the text cannot declare any [`ModuleFacts`] (a line scan, no parse).
pub fn may_have_facts(text: &str) -> bool {
    FACTS_WORDS.iter().any(|w| text.contains(w))
}

/// What each module-level function of a Python source text does (its body read).
pub fn bodies(text: &str) -> FxHashMap<String, LocalFn> {
    let tree = crate::syntax::parse(crate::syntax::Lang::Python, text, None);
    let index = crate::text::LineIndex::new(text);
    let m = PyModel::build(text, &tree, &index);
    let root = tree.root_node();
    let mut c = root.walk();
    let mut out = FxHashMap::default();
    for node in root.named_children(&mut c) {
        let def = match node.kind() {
            "decorated_definition" => node.child_by_field_name("definition"),
            _ => Some(node),
        };
        if let Some(def) = def.filter(|d| d.kind() == "function_definition") {
            let f = m.local_fn(def);
            out.insert(f.name.clone(), f);
        }
        // Methods of top-level classes, as `Class.method` (AG108: `self.helper()` whose
        // `def` is in a base class of another module).
        if let Some(class) = def.filter(|d| d.kind() == "class_definition") {
            let cname = class.child_by_field_name("name").map(|n| m.node_text(n)).unwrap_or("");
            let Some(body) = class.child_by_field_name("body") else { continue };
            let mut c = body.walk();
            for n in body.named_children(&mut c) {
                let d = if n.kind() == "decorated_definition" { n.child_by_field_name("definition") } else { Some(n) };
                if let Some(d) = d.filter(|d| d.kind() == "function_definition") {
                    let f = m.local_fn(d);
                    out.insert(format!("{cname}.{}", f.name), f);
                }
            }
        }
    }
    out
}

/// Manager attributes assigned in a class body.
fn class_manager_attrs(m: &PyModel, class: tree_sitter::Node) -> Vec<String> {
    let Some(body) = class.child_by_field_name("body") else { return vec![] };
    let mut out = vec![];
    let mut c = body.walk();
    for st in body.named_children(&mut c).filter(|n| n.kind() == "expression_statement") {
        let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
        let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        if l.kind() == "identifier" && m.manager_attrs.contains(m.node_text(l)) && r.kind() == "call" {
            out.push(m.node_text(l).to_string());
        }
    }
    out
}

/// The names starting with `a` of the methods defined directly in a class body.
fn class_a_methods(m: &PyModel, class: tree_sitter::Node) -> Vec<String> {
    let Some(body) = class.child_by_field_name("body") else { return vec![] };
    let mut c = body.walk();
    let out = body
        .named_children(&mut c)
        .filter_map(|st| match st.kind() {
            "decorated_definition" => st.child_by_field_name("definition"),
            "function_definition" => Some(st),
            _ => None,
        })
        .filter_map(|f| f.child_by_field_name("name").map(|n| m.node_text(n).to_string()))
        .filter(|n| n.starts_with('a'))
        .collect();
    out
}

/// What `dotted` names, seen from `view`'s file.
pub fn resolve_def(view: &FileView, dotted: &str) -> Option<PyDef> {
    resolve_def_work(view, dotted, Work::Db)
}

/// [`resolve_def`], a function's work of kind `kind` looked for ([`Work::of`]).
pub fn resolve_def_work(view: &FileView, dotted: &str, kind: Work) -> Option<PyDef> {
    // `!` cannot occur in an import path: answers of the other kinds are kept apart.
    let key = match kind {
        Work::Db | Work::Dispatch => dotted.to_string(),
        Work::AsyncToSync => format!("!a2s {dotted}"),
    };
    if let Some(hit) = view.answers.lock().unwrap().get(&key) {
        return hit.clone();
    }
    let answer = resolve_kind(view, &view.file, dotted, 0, kind);
    view.answers.lock().unwrap().insert(key, answer.clone());
    answer
}

/// The facts of the module `dotted` names, seen from `view`'s file: [`resolve_def`] when it
/// gives a [`PyDef::Module`], found without computing the facts of a class or function met
/// on the way (the answer is then not a module).
/// The SQLAlchemy kind of the module-level name `dotted` names (`app.db.async_session`),
/// seen from `view`'s file: a name assigned in that module's own text, not followed further.
pub fn resolve_sqla(view: &FileView, dotted: &str) -> Option<crate::semantic::sqla::SqlaKind> {
    let (file, attrs) = locate(view, &view.file, dotted)?;
    let [name] = attrs.as_slice() else { return None };
    view.note(&file);
    view.project.py_summary(&file)?.sqla.get(name).copied()
}

pub fn resolve_module(view: &FileView, dotted: &str) -> Option<Arc<ModuleFacts>> {
    let known = view.answers.lock().unwrap().get(dotted).cloned();
    if let Some(hit) = known {
        return match hit {
            Some(PyDef::Module(f)) => Some(f),
            _ => None,
        };
    }
    let key = format!("!mod {dotted}");
    if let Some(hit) = view.answers.lock().unwrap().get(&key) {
        return match hit {
            Some(PyDef::Module(f)) => Some(f.clone()),
            _ => None,
        };
    }
    let answer = locate(view, &view.file, dotted).and_then(|(file, attrs)| attr_chain_as(view, &file, &attrs, 0, Work::Db, true));
    view.answers.lock().unwrap().insert(key, answer.clone());
    match answer {
        Some(PyDef::Module(f)) => Some(f),
        _ => None,
    }
}

fn resolve_from(view: &FileView, from: &Path, dotted: &str, depth: u32) -> Option<PyDef> {
    resolve_kind(view, from, dotted, depth, Work::Db)
}

fn resolve_kind(view: &FileView, from: &Path, dotted: &str, depth: u32, kind: Work) -> Option<PyDef> {
    resolve_as(view, from, dotted, depth, kind, false)
}

fn resolve_as(view: &FileView, from: &Path, dotted: &str, depth: u32, kind: Work, modules_only: bool) -> Option<PyDef> {
    let (file, attrs) = locate(view, from, dotted)?;
    attr_chain_as(view, &file, &attrs, depth, kind, modules_only)
}

/// The module file of the longest importable prefix of `dotted`, and the attributes after it.
/// Memoised in the project by (the importing file's folder, `dotted`), with the paths the
/// answer rests on, which are noted in `view` on every use.
fn locate(view: &FileView, from: &Path, dotted: &str) -> Option<(PathBuf, Vec<String>)> {
    let dir = from.parent().unwrap_or(from).to_path_buf();
    if let Some((found, noted)) = view.project.locate_memo(&dir, dotted) {
        for p in noted.iter() {
            view.note(p);
        }
        return found;
    }
    let mut noted = vec![];
    let level = dotted.len() - dotted.trim_start_matches('.').len();
    let rest = &dotted[level..];
    let parts: Vec<&str> = if rest.is_empty() { vec![] } else { rest.split('.').collect() };
    let mut found = None;
    for k in (0..=parts.len()).rev() {
        if k == 0 && level == 0 {
            break;
        }
        if let Some(file) = module_file(&view.project, from, level, &parts[..k], &mut noted) {
            found = Some((file, parts[k..].iter().map(|s| s.to_string()).collect()));
            break;
        }
    }
    for p in &noted {
        view.note(p);
    }
    view.project.remember_locate(dir, dotted.to_string(), found.clone(), noted);
    found
}

/// The file of module `parts` (relative `level` dots from `from`'s package, or absolute).
fn module_file(project: &super::Project, from: &Path, level: usize, parts: &[&str], noted: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let candidates = |base: &Path, noted: &mut Vec<PathBuf>| -> Option<PathBuf> {
        let mut p = base.to_path_buf();
        for part in parts {
            p.push(part);
        }
        let as_file = p.with_extension("py");
        let as_pkg = p.join("__init__.py");
        for cand in [as_file, as_pkg] {
            if parts.is_empty() && cand.extension().is_some_and(|e| e == "py") && !cand.ends_with("__init__.py") {
                continue;
            }
            noted.push(cand.clone());
            if project.contains(&cand) && project.exists(&cand) {
                return Some(cand);
            }
        }
        None
    };
    if level > 0 {
        let mut base = from.parent()?.to_path_buf();
        for _ in 1..level {
            base = base.parent()?.to_path_buf();
        }
        if parts.is_empty() {
            let init = base.join("__init__.py");
            noted.push(init.clone());
            return (project.contains(&init) && project.exists(&init)).then_some(init);
        }
        return candidates(&base, noted);
    }
    let roots = search_roots(project, from, noted);
    for root in roots {
        if let Some(f) = candidates(&root, noted) {
            return Some(f);
        }
    }
    None
}

/// Where absolute imports are looked up from `from`: its own import root, then each project
/// root and its `src/`.
fn search_roots(project: &super::Project, from: &Path, noted: &mut Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dir = from.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        let init = d.join("__init__.py");
        noted.push(init.clone());
        if !project.exists(&init) {
            out.push(d);
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    for r in project.roots() {
        out.push(r.join("src"));
        out.push(r);
    }
    out.dedup();
    out
}

/// The definition the attributes `attrs` name in the module `file`; `modules_only`: a class or function met gives `None` at once (the caller
/// wants a module, and a class's or function's facts cost other files' summaries).
fn attr_chain_as(view: &FileView, file: &Path, attrs: &[String], depth: u32, kind: Work, modules_only: bool) -> Option<PyDef> {
    if depth > MAX_DEPTH {
        return None;
    }
    view.note(file);
    let summary = view.project.py_summary(file)?;
    let Some((name, rest)) = attrs.split_first() else {
        return Some(PyDef::Module(deep_facts(view, file, &summary, depth)));
    };
    if let Some(class) = summary.classes.get(name) {
        if modules_only {
            return None;
        }
        if let [method] = rest {
            // A method declared in the class body (not an inherited one).
            let f = view.project.py_bodies(file)?.get(&format!("{name}.{method}"))?.clone();
            return Some(PyDef::Function(Arc::new(fn_facts(view, file, &summary, &f, depth, kind))));
        }
        return rest.is_empty().then(|| PyDef::Class(Arc::new(class_facts(view, file, &summary, name, class, depth))));
    }
    if let Some(f) = summary.functions.get(name) {
        if modules_only {
            return None;
        }
        return rest.is_empty().then(|| PyDef::Function(Arc::new(fn_facts(view, file, &summary, f, depth, kind))));
    }
    if let Some(target) = summary.imports.get(name) {
        let mut dotted = target.clone();
        for r in rest {
            dotted.push('.');
            dotted.push_str(r);
        }
        return resolve_as(view, file, &dotted, depth + 1, kind, modules_only);
    }
    // A submodule of a package not imported by its `__init__.py` (`import pkg.sub`).
    if file.ends_with("__init__.py") {
        let pkg = file.parent()?;
        let mut noted = vec![];
        let sub = module_file(&view.project, &pkg.join("__init__.py"), 1, &[name.as_str()], &mut noted);
        for p in &noted {
            view.note(p);
        }
        let sub = sub?;
        return attr_chain_as(view, &sub, rest, depth + 1, kind, modules_only);
    }
    None
}

/// How many import levels the facts of a module gather: its own models, the modules it
/// imports, and theirs (a view imports a service that imports the models with the
/// `related_name`; `models.py` imports the custom querysets).
const FACTS_DEPTH: u32 = 2;

/// The facts of `file`'s models and of the project modules it imports, to [`FACTS_DEPTH`].
fn deep_facts(view: &FileView, file: &Path, summary: &PySummary, depth: u32) -> Arc<ModuleFacts> {
    let mut seen = vec![file.to_path_buf()];
    let mut todo = vec![(file.to_path_buf(), summary.clone_facts_and_imports(), 0u32)];
    let mut out = ModuleFacts {
        circuit_breakers: summary.facts.circuit_breakers.clone(),
        ninja_routers: summary.facts.ninja_routers.clone(),
        ..Default::default()
    };
    while let Some((f, (facts, imports), level)) = todo.pop() {
        out.related_attrs.extend(facts.related_attrs.iter().cloned());
        out.manager_attrs.extend(facts.manager_attrs.iter().cloned());
        out.queryset_methods.extend(facts.queryset_methods.iter().cloned());
        out.reverse_one_to_one.extend(facts.reverse_one_to_one.iter().cloned());
        if level >= FACTS_DEPTH || depth + level >= MAX_DEPTH {
            continue;
        }
        // A module at the last level gives its facts only (not its imports): one whose text
        // has none of the words facts are made of gives none, and is not summarised.
        let leaf = level + 1 >= FACTS_DEPTH || depth + level + 1 >= MAX_DEPTH;
        for path in imports {
            let Some((g, _)) = locate(view, &f, &path) else { continue };
            if seen.contains(&g) {
                continue;
            }
            seen.push(g.clone());
            view.note(&g);
            if leaf && !view.project.py_may_have_facts(&g) {
                continue;
            }
            if let Some(sg) = view.project.py_summary(&g) {
                todo.push((g, sg.clone_facts_and_imports(), level + 1));
            }
        }
    }
    for v in [&mut out.related_attrs, &mut out.manager_attrs, &mut out.queryset_methods] {
        v.sort();
        v.dedup();
    }
    out.reverse_one_to_one.sort();
    out.reverse_one_to_one.dedup();
    Arc::new(out)
}

impl PySummary {
    fn clone_facts_and_imports(&self) -> (Arc<ModuleFacts>, Vec<String>) {
        let mut imports: Vec<String> = self.imports.values().cloned().collect();
        imports.sort();
        (self.facts.clone(), imports)
    }
}

fn class_facts(view: &FileView, file: &Path, summary: &PySummary, name: &str, class: &PyClass, depth: u32) -> ClassFacts {
    let mut facts = ClassFacts {
        name: name.to_string(),
        manager_attrs: class.manager_attrs.clone(),
        fields: class.fields.clone(),
        a_methods: class.a_methods.clone(),
        defers_on_commit: class.defers_on_commit,
        homemade_atomic: class.homemade_atomic,
        loc: Some(Loc { path: file.to_path_buf(), range: class.name_range.clone(), what: format!("class {name}") }),
        ..Default::default()
    };
    for base in &class.bases {
        let last = last_name(base);
        if last == name && !base.contains('.') {
            continue;
        }
        match base_def(view, file, summary, base, depth) {
            Some(PyDef::Class(b)) => {
                facts.is_model |= b.is_model;
                facts.manager_attrs.extend(b.manager_attrs.iter().cloned());
                facts.a_methods.extend(b.a_methods.iter().cloned());
                facts.defers_on_commit |= b.defers_on_commit;
                facts.homemade_atomic |= b.homemade_atomic;
                facts.lib_bases.extend(b.lib_bases.iter().cloned());
                facts.fields.extend(b.fields.iter().cloned());
            }
            Some(_) => {}
            // Outside the project (django.db.models.Model, a third-party abstract model).
            None => {
                // Django's custom-user bases (`AbstractUser`, `AbstractBaseUser`) are models too.
                let user_base = matches!(last, "AbstractUser" | "AbstractBaseUser");
                facts.is_model |= !summary.foreign_orm && (last == "Model" || (summary.orm && (last.ends_with("Model") || user_base)));
                let (head, tail) = base.split_once('.').map_or((base.as_str(), None), |(h, t)| (h, Some(t)));
                facts.lib_bases.push(match (summary.imports.get(head), tail) {
                    (Some(p), Some(t)) => format!("{p}.{t}"),
                    (Some(p), None) => p.clone(),
                    (None, _) => base.clone(),
                });
            }
        }
    }
    if facts.is_model && !facts.manager_attrs.iter().any(|a| a == "objects") {
        facts.manager_attrs.push("objects".into());
    }
    facts.manager_attrs.sort();
    facts.manager_attrs.dedup();
    facts
}

/// What a base-class expression of a class in `file` names.
fn base_def(view: &FileView, file: &Path, summary: &PySummary, base: &str, depth: u32) -> Option<PyDef> {
    let (head, tail) = base.split_once('.').map_or((base, None), |(h, t)| (h, Some(t)));
    if tail.is_none() {
        if let Some(c) = summary.classes.get(head) {
            return Some(PyDef::Class(Arc::new(class_facts(view, file, summary, head, c, depth + 1))));
        }
    }
    let target = summary.imports.get(head)?;
    let dotted = match tail {
        Some(t) => format!("{target}.{t}"),
        None => target.clone(),
    };
    resolve_from(view, file, &dotted, depth + 1)
}

fn fn_facts(view: &FileView, file: &Path, summary: &PySummary, f: &LocalFn, depth: u32, kind: Work) -> FnFacts {
    let read;
    let f = if f.body_read {
        f
    } else {
        read = view.project.py_bodies(file).and_then(|b| b.get(&f.name).cloned()).unwrap_or_else(|| f.clone());
        &read
    };
    let here = |range: &std::ops::Range<usize>, what: String| Loc { path: file.to_path_buf(), range: range.clone(), what };
    let mut facts = FnFacts {
        name: f.name.clone(),
        is_async: f.is_async,
        offloaded: f.offloaded,
        generator: f.generator,
        returns: f.returns,
        decorators: f.decorators.clone(),
        loc: Some(here(&f.name_range, format!("def {}", f.name))),
        ..Default::default()
    };
    struct Here<'a> {
        view: &'a FileView,
        file: &'a Path,
        summary: &'a PySummary,
        /// Files passed to reach this function.
        depth: u32,
    }
    impl crate::semantic::summary::Callees for Here<'_> {
        fn local(&mut self, name: &str) -> Option<LocalFn> {
            // Summaries leave sync bodies out: read the helper's body (memoised by hash).
            let g = self.summary.functions.get(name)?;
            if g.body_read {
                return Some(g.clone());
            }
            Some(self.view.project.py_bodies(self.file).and_then(|b| b.get(name).cloned()).unwrap_or_else(|| g.clone()))
        }
        fn imported(&mut self, callee: &str, depth: u32, kind: Work) -> Option<FnFacts> {
            let (head, tail) = callee.split_once('.').map_or((callee, None), |(h, t)| (h, Some(t)));
            let target = self.summary.imports.get(head)?;
            let dotted = match tail {
                Some(t) => format!("{target}.{t}"),
                None => target.clone(),
            };
            match resolve_kind(self.view, self.file, &dotted, depth, kind)? {
                PyDef::Function(g) => Some((*g).clone()),
                _ => None,
            }
        }
        fn task_on_commit(&mut self, task: &str) -> bool {
            match self.summary.functions.get(task) {
                Some(g) => g.task_base.as_deref().is_some_and(|b| class_defers(self.view, self.file, self.summary, b, self.depth)),
                None => matches!(self.imported(task, self.depth + 1, Work::Db), Some(g) if g.on_commit_task || g.project_dispatcher),
            }
        }
    }
    facts.produces = f.produces.as_ref().and_then(|p| produced_model(view, file, summary, p, depth)).map(Arc::new);
    facts.on_commit_task = f.task_base.as_deref().is_some_and(|b| class_defers(view, file, summary, b, depth));
    facts.project_dispatcher = f.task_decorators.iter().any(|d| project_dispatcher(view, file, summary, d, depth));
    let mut callees = Here { view, file, summary, depth };
    match kind {
        // A function's database work and its task dispatch are asked together (AG108, AG208).
        Work::Db | Work::Dispatch => {
            facts.db_work = crate::semantic::summary::work(f, file, depth, MAX_DEPTH, &mut callees, Work::Db);
            facts.dispatch = crate::semantic::summary::work(f, file, depth, MAX_DEPTH, &mut callees, Work::Dispatch);
        }
        Work::AsyncToSync => facts.a2s_work = crate::semantic::summary::work(f, file, depth, MAX_DEPTH, &mut callees, kind),
    }
    facts
}

/// The task decorator `decorator` of a function in `file` is the project's own dispatcher:
/// it resolves to a project class without a Celery base, or to a project function (a
/// decorator factory) whose module does not import Celery.
/// `shared_task`, and names that resolve to no project `def`/`class` (`app.task` on a Celery
/// app object, a library's decorator), are not.
fn project_dispatcher(view: &FileView, file: &Path, summary: &PySummary, decorator: &str, depth: u32) -> bool {
    if decorator.rsplit('.').next() == Some("shared_task") {
        return false;
    }
    match base_def(view, file, summary, decorator, depth) {
        Some(PyDef::Class(c)) => !c.lib_bases.iter().any(|b| b == "celery" || b.starts_with("celery.") || b == "Task"),
        // A decorator function: visibly Celery when its module imports Celery.
        Some(PyDef::Function(f)) => !f.loc.as_ref().and_then(|l| view.project.py_summary(&l.path)).is_some_and(|s| {
            s.imports.values().any(|p| p == "celery" || p.starts_with("celery."))
        }),
        _ => false,
    }
}

/// `p` with its model resolved from `file` (a class of the file or one it imports); `None`
/// when the model is not known to be one.
fn produced_model(view: &FileView, file: &Path, summary: &PySummary, p: &crate::semantic::relations::Produced, depth: u32) -> Option<crate::semantic::relations::Produced> {
    let mut out = p.clone();
    if let Some(c) = summary.classes.get(&p.model) {
        let facts = class_facts(view, file, summary, &p.model, c, depth + 1);
        facts.is_model.then_some(())?;
        out.fields = facts.fields;
        return Some(out);
    }
    let path = summary.imports.get(&p.model)?;
    if path == "django.contrib.auth.models.User" {
        out.model = "User".into();
        out.auth_user = true;
        return Some(out);
    }
    match resolve_from(view, file, path, depth + 1)? {
        PyDef::Class(c) if c.is_model => {
            out.model = c.name.clone();
            out.fields = c.fields.clone();
            Some(out)
        }
        _ => None,
    }
}

/// The `base=` class expression `base` of a task in `file` defers dispatch to commit.
fn class_defers(view: &FileView, file: &Path, summary: &PySummary, base: &str, depth: u32) -> bool {
    if base.contains("TransactionAware") || base.contains("OnCommit") {
        return true;
    }
    matches!(base_def(view, file, summary, base, depth), Some(PyDef::Class(c)) if c.defers_on_commit)
}


/// The model class `name` of the Django app labelled `label`, found project-wide (AG104's
/// user model, `AUTH_USER_MODEL = "label.Name"`): a package `label` with a `models` module
/// directly under one of the file's search roots or one folder below one (`apps/label/`,
/// at most 256 folders looked at per root), resolved as `<pkg>.models.<name>`. Every
/// `models` path tried is noted; a folder created later is seen when a noted path changes.
pub fn resolve_app_model(view: &FileView, label: &str, name: &str) -> Option<PyDef> {
    if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let from = view.file.clone();
    let mut noted = vec![];
    let roots = search_roots(&view.project, &from, &mut noted);
    for p in &noted {
        view.note(p);
    }
    let has_models = |dir: &Path| {
        [dir.join("models.py"), dir.join("models").join("__init__.py")].into_iter().any(|m| {
            view.note(&m);
            view.project.exists(&m)
        })
    };
    for root in roots {
        let mut dotted = None;
        if has_models(&root.join(label)) {
            dotted = Some(format!("{label}.models.{name}"));
        } else if let Ok(entries) = std::fs::read_dir(&root) {
            let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).take(256).collect();
            children.sort();
            for c in children {
                let Some(pkg) = c.file_name().and_then(|n| n.to_str()).filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) else {
                    continue;
                };
                if has_models(&c.join(label)) {
                    dotted = Some(format!("{pkg}.{label}.models.{name}"));
                    break;
                }
            }
        }
        let Some(dotted) = dotted else { continue };
        if let Some(d @ PyDef::Class(_)) = resolve_as(view, &root.join("__init__.py"), &dotted, 0, Work::Db, false) {
            return Some(d);
        }
    }
    None
}
