//! SQLAlchemy / SQLModel bindings without a type checker (RULES.md §0.5, §3.7): what kind of
//! session, session factory, engine or connection an expression is, for AG401–AG404.
//!
//! Where a kind comes from, in this order of trust:
//! - a visible constructor, resolved through the imports: `AsyncSession(…)`, `Session(…)`,
//!   `async_sessionmaker(…)`, `sessionmaker(…)` (`class_=AsyncSession` makes it async),
//!   `create_async_engine(…)`, `create_engine(…)`; a factory called (`factory()`) or begun
//!   (`factory.begin()`) gives a session, `engine.connect()` / `engine.begin()` a connection;
//! - a name bound to such an expression (`s = factory()`, `async with factory() as s`), a
//!   module-level name included, and `self.x` assigned in the class's `__init__`; a name
//!   imported from a project module that assigns it such an expression at module level
//!   (through [`super::outside::Outside::py_sqla`], that module's text alone), asked only
//!   when this file imports `sqlalchemy` or `sqlmodel` itself;
//! - a parameter: a FastAPI `Depends(dep)` (default or inside `Annotated[…]`, also through a
//!   module-level alias) whose `dep` yields or returns a known session beats the annotation;
//!   `dep` and the alias may be of this file or imported from a project module
//!   ([`super::outside::Outside::py_sqla_dep`], from that module's text, the dependency's
//!   factory possibly from a third module); else the annotation (`AsyncSession`, `Session`,
//!   `Engine`, `Connection`, `AsyncEngine`, `AsyncConnection`), SQLModel's `Session` being
//!   sync and its `sqlmodel.ext.asyncio.session.AsyncSession` async. A parameter annotated
//!   `Session` whose methods the function awaits is an `AsyncSession` (the annotation lies).
//!
//! A session's `expire_on_commit` is carried with its kind (`Some(true)` by default, from the
//! constructor or the factory, `None` when only an annotation is known). A dependency's
//! [`DepFacts`] also say whether it commits after its `yield` (AG404). For AG104 the module
//! reads mapped classes ([`PyModel::mapped_attrs`], [`PyModel::sqla_model`]: relationships
//! with their `lazy=` strategy, columns, `AsyncAttrs` through the bases) and where an instance
//! came from ([`PyModel::sqla_loaded`]: an `AsyncSession` load in the same function with its
//! statement's loader options, or `M(…)` built there).
//!
//! Invariants:
//! - Every kind needs an import of `sqlalchemy` / `sqlmodel` in this file (constructors and
//!   annotations resolve through one; a project module's names are asked for only then): the
//!   rules' triggers rest on it.
//! - Unknown means `None`: a name imported from elsewhere, a parameter without a known
//!   annotation, a value this module does not recognise. Rules stay silent on `None`.
//! - A constructor beats an annotation: `s: Session = AsyncSession(engine)` is async.
//! - Another function's body read here (a dependency's, an `__init__`) is noted in
//!   [`PyModel::read_bodies`]: the sparse parse must not blank it, and an edit there
//!   re-analyses the whole file.
//! - The search is bounded ([`MAX_DEPTH`] steps through bindings), so cycles terminate.

use super::python::{last_name, PyModel};
use tree_sitter::Node;

/// Steps through names, parameters and dependencies before giving up (unknown).
const MAX_DEPTH: u32 = 8;

/// What an expression is, for the SQLAlchemy rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlaKind {
    /// A `Session` (`asyncio`: an `AsyncSession`); `sqlmodel`: SQLModel's class (`exec`);
    /// `expire`: its `commit()` expires loaded objects (`expire_on_commit`, `None`: unknown).
    Session { asyncio: bool, sqlmodel: bool, expire: Option<bool> },
    /// A `sessionmaker` / `async_sessionmaker` product (calling it gives a session).
    Factory { asyncio: bool, sqlmodel: bool, expire: Option<bool> },
    Engine { asyncio: bool },
    Connection { asyncio: bool },
}

/// What a FastAPI dependency gives: the session it yields or returns, and whether it commits
/// after the `yield` (`await s.commit()` once the endpoint is done, or a session opened with
/// `begin()`), so that the endpoint's writes are kept (AG404).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepFacts {
    pub kind: SqlaKind,
    pub commits: bool,
}

impl SqlaKind {
    pub fn is_async(self) -> bool {
        match self {
            SqlaKind::Session { asyncio, .. }
            | SqlaKind::Factory { asyncio, .. }
            | SqlaKind::Engine { asyncio }
            | SqlaKind::Connection { asyncio } => asyncio,
        }
    }
}

const ASYNC_SESSION: &[&str] = &["sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession"];
const SQLMODEL_ASYNC_SESSION: &str = "sqlmodel.ext.asyncio.session.AsyncSession";
const SYNC_SESSION: &[&str] = &["sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"];
const SQLMODEL_SESSION: &[&str] = &["sqlmodel.Session", "sqlmodel.orm.session.Session"];
const ASYNC_MAKER: &[&str] =
    &["sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.session.async_sessionmaker"];
const SYNC_MAKER: &[&str] = &["sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"];
const ASYNC_ENGINE_FN: &[&str] =
    &["sqlalchemy.ext.asyncio.create_async_engine", "sqlalchemy.ext.asyncio.engine.create_async_engine"];
const SYNC_ENGINE_FN: &[&str] = &["sqlalchemy.create_engine", "sqlalchemy.engine.create_engine", "sqlmodel.create_engine"];
const ASYNC_ENGINE: &[&str] = &["sqlalchemy.ext.asyncio.AsyncEngine", "sqlalchemy.ext.asyncio.engine.AsyncEngine"];
const ASYNC_CONN: &[&str] = &["sqlalchemy.ext.asyncio.AsyncConnection", "sqlalchemy.ext.asyncio.engine.AsyncConnection"];
const SYNC_ENGINE: &[&str] = &["sqlalchemy.Engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"];
const SYNC_CONN: &[&str] = &["sqlalchemy.Connection", "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection"];

/// The kind a class or function path names when used as a type (an annotation).
fn type_kind(path: &str) -> Option<SqlaKind> {
    let is = |list: &[&str]| list.contains(&path);
    // An annotation says nothing of `expire_on_commit`.
    Some(if is(ASYNC_SESSION) {
        SqlaKind::Session { asyncio: true, sqlmodel: false, expire: None }
    } else if path == SQLMODEL_ASYNC_SESSION {
        SqlaKind::Session { asyncio: true, sqlmodel: true, expire: None }
    } else if is(SYNC_SESSION) {
        SqlaKind::Session { asyncio: false, sqlmodel: false, expire: None }
    } else if is(SQLMODEL_SESSION) {
        SqlaKind::Session { asyncio: false, sqlmodel: true, expire: None }
    } else if is(ASYNC_ENGINE) {
        SqlaKind::Engine { asyncio: true }
    } else if is(ASYNC_CONN) {
        SqlaKind::Connection { asyncio: true }
    } else if is(SYNC_ENGINE) {
        SqlaKind::Engine { asyncio: false }
    } else if is(SYNC_CONN) {
        SqlaKind::Connection { asyncio: false }
    } else {
        return None;
    })
}

impl<'t> PyModel<'t> {
    /// What `n` is, for the SQLAlchemy rules; `None`: unknown (or not SQLAlchemy).
    pub fn sqla_kind(&self, n: Node<'t>) -> Option<SqlaKind> {
        self.sqla_kind_at(n, 0)
    }

    fn sqla_kind_at(&self, n: Node<'t>, depth: u32) -> Option<SqlaKind> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "parenthesized_expression" => self.sqla_kind_at(n.named_child(0)?, depth + 1),
            "call" => self.call_kind(n, depth),
            "identifier" => self.name_kind(n, depth),
            "attribute" => {
                let obj = n.child_by_field_name("object")?;
                if obj.kind() == "identifier" && self.node_text(obj) == "self" {
                    let attr = self.node_text(n.child_by_field_name("attribute")?);
                    return self.self_attr_kind(n.start_byte(), attr, depth);
                }
                None
            }
            _ => None,
        }
    }

    fn call_kind(&self, call: Node<'t>, depth: u32) -> Option<SqlaKind> {
        let func = call.child_by_field_name("function")?;
        if let Some(path) = self.resolve_node(func) {
            let is = |list: &[&str]| list.contains(&path.as_str());
            let expire = || self.expire_arg(call);
            if is(ASYNC_SESSION) || path == SQLMODEL_ASYNC_SESSION || is(SYNC_SESSION) || is(SQLMODEL_SESSION) {
                return match type_kind(&path)? {
                    SqlaKind::Session { asyncio, sqlmodel, .. } => Some(SqlaKind::Session { asyncio, sqlmodel, expire: expire() }),
                    k => Some(k),
                };
            }
            if is(ASYNC_MAKER) || is(SYNC_MAKER) {
                // `sessionmaker(class_=AsyncSession)` (the 1.4 spelling) makes async sessions;
                // `async_sessionmaker(class_=SQLModelAsyncSession)` SQLModel ones.
                let class = call.child_by_field_name("arguments").and_then(|a| self.keyword_arg(a, "class_"));
                let class_kind = class.and_then(|c| self.resolve_node(c)).and_then(|p| type_kind(&p));
                let sqlmodel = matches!(class_kind, Some(SqlaKind::Session { sqlmodel: true, .. }));
                let asyncio = is(ASYNC_MAKER) || matches!(class_kind, Some(SqlaKind::Session { asyncio: true, .. }));
                if !is(ASYNC_MAKER) && class.is_some() && class_kind.is_none() {
                    return None; // a class of its own: unknown
                }
                return Some(SqlaKind::Factory { asyncio, sqlmodel, expire: expire() });
            }
            if is(ASYNC_ENGINE_FN) {
                return Some(SqlaKind::Engine { asyncio: true });
            }
            if is(SYNC_ENGINE_FN) {
                return Some(SqlaKind::Engine { asyncio: false });
            }
            // Another imported name: a factory of a project module, perhaps (below).
        }
        match func.kind() {
            "attribute" => {
                let obj = func.child_by_field_name("object")?;
                let method = self.node_text(func.child_by_field_name("attribute")?);
                match (self.sqla_kind_at(obj, depth + 1)?, method) {
                    (SqlaKind::Engine { asyncio }, "connect" | "begin") => Some(SqlaKind::Connection { asyncio }),
                    (SqlaKind::Factory { asyncio, sqlmodel, expire }, "begin") => Some(SqlaKind::Session { asyncio, sqlmodel, expire }),
                    _ => None,
                }
            }
            _ => match self.sqla_kind_at(func, depth + 1)? {
                // `factory(expire_on_commit=False)` overrides the factory's setting.
                SqlaKind::Factory { asyncio, sqlmodel, expire } => {
                    let own = call.child_by_field_name("arguments").and_then(|a| self.keyword_arg(a, "expire_on_commit"));
                    let expire = if own.is_some() { self.expire_arg(call) } else { expire };
                    Some(SqlaKind::Session { asyncio, sqlmodel, expire })
                }
                _ => None,
            },
        }
    }

    /// `expire_on_commit` as a constructor call gives it: `Some(true)` by default,
    /// `Some(false)` for a literal `False`, `None` for any other value (unknown).
    fn expire_arg(&self, call: Node<'t>) -> Option<bool> {
        let args = call.child_by_field_name("arguments")?;
        let mut c = args.walk();
        if args.named_children(&mut c).any(|a| a.kind() == "dictionary_splat") {
            return None;
        }
        match self.keyword_arg(args, "expire_on_commit").map(|v| self.node_text(v)) {
            None | Some("True") => Some(true),
            Some("False") => Some(false),
            Some(_) => None,
        }
    }

    /// The file imports `sqlalchemy` or `sqlmodel` (a module of either): every kind this
    /// module gives needs it, so the rules' triggers can require the word.
    pub fn imports_sqla(&self) -> bool {
        let lib = |p: &str, m: &str| p == m || p.strip_prefix(m).is_some_and(|r| r.starts_with('.'));
        self.imports.values().any(|p| lib(p, "sqlalchemy") || lib(p, "sqlmodel"))
    }

    /// The value of keyword argument `name` in an argument list.
    pub fn keyword_arg(&self, args: Node<'t>, name: &str) -> Option<Node<'t>> {
        let mut c = args.walk();
        let found = args.named_children(&mut c).find(|a| {
            a.kind() == "keyword_argument" && a.child_by_field_name("name").is_some_and(|n| self.node_text(n) == name)
        });
        found.and_then(|a| a.child_by_field_name("value"))
    }

    fn name_kind(&self, id: Node<'t>, depth: u32) -> Option<SqlaKind> {
        let name = self.node_text(id);
        let Some((scope, b)) = self.binding_in(name, id.start_byte()) else {
            // Imported from a project module: what that module assigned to it.
            let path = self.import_of(name)?;
            if !self.imports_sqla() {
                return None;
            }
            return self.outside?.py_sqla(path);
        };
        if let Some(v) = b.value {
            return self.sqla_kind_at(v, depth + 1);
        }
        if b.pos == 0 {
            let def = *self.function_nodes.get(&scope)?;
            return self.param_kind(def, name, depth);
        }
        // `with <value> as name` / `async with <value> as name`.
        let at = self.tree.root_node().descendant_for_byte_range(b.pos.saturating_sub(1), b.pos)?;
        let target = at.parent().filter(|p| p.kind() == "as_pattern_target")?;
        let pattern = target.parent().filter(|p| p.kind() == "as_pattern")?;
        if pattern.parent().is_none_or(|w| w.kind() != "with_item") {
            return None;
        }
        let value = pattern.named_child(0)?;
        match self.sqla_kind_at(value, depth + 1)? {
            // `with engine.connect() as conn`, `async with factory() as s`, `with Session(e) as s`.
            k @ (SqlaKind::Session { .. } | SqlaKind::Connection { .. }) => Some(k),
            _ => None,
        }
    }

    /// A parameter's kind: its FastAPI dependency when known, else its annotation.
    fn param_kind(&self, def: Node<'t>, name: &str, depth: u32) -> Option<SqlaKind> {
        let (ty, default) = self.param_parts(def, name)?;
        if let Some(d) = default.and_then(|d| self.depends_facts(d, depth)) {
            return Some(d.kind);
        }
        match ty.and_then(|t| self.annotation_kind(t, depth))? {
            // The annotation lies when the function awaits the session's methods (`db:
            // Session` then `await db.execute(…)`): an `AsyncSession` it is.
            SqlaKind::Session { asyncio: false, sqlmodel, .. } if self.awaits_methods_of(def, name) => {
                Some(SqlaKind::Session { asyncio: true, sqlmodel, expire: None })
            }
            k => Some(k),
        }
    }

    /// The body of `def` has `await <name>.<method>(…)`.
    fn awaits_methods_of(&self, def: Node<'t>, name: &str) -> bool {
        let Some(body) = def.child_by_field_name("body") else { return false };
        let text = self.node_text(body);
        let needle = format!("await {name}.");
        text.match_indices(&needle).any(|(i, _)| !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    }

    /// The annotation and default of the parameter `name` of `def`.
    fn param_parts(&self, def: Node<'t>, name: &str) -> Option<(Option<Node<'t>>, Option<Node<'t>>)> {
        let params = def.child_by_field_name("parameters")?;
        let mut c = params.walk();
        for p in params.named_children(&mut c) {
            let (pname, ty, default) = match p.kind() {
                "typed_parameter" => (p.named_child(0), p.child_by_field_name("type"), None),
                "typed_default_parameter" | "default_parameter" => {
                    (p.child_by_field_name("name"), p.child_by_field_name("type"), p.child_by_field_name("value"))
                }
                _ => continue,
            };
            if pname.is_some_and(|n| self.node_text(n) == name) {
                return Some((ty, default));
            }
        }
        None
    }

    /// The FastAPI dependency a parameter of `def` comes from (`= Depends(dep)`, `Annotated[…,
    /// Depends(dep)]`, an alias of one, here or in a project module), when `dep` yields or
    /// returns a known session.
    pub fn param_dependency(&self, def: Node<'t>, name: &str) -> Option<DepFacts> {
        let (ty, default) = self.param_parts(def, name)?;
        if let Some(d) = default.and_then(|d| self.depends_facts(d, 0)) {
            return Some(d);
        }
        self.annotation_dep(ty?, 0)
    }

    /// `Depends(dep)` anywhere in `n`: what `dep` yields or returns, `dep` being a `def` of
    /// this file or a name imported from a project module.
    fn depends_facts(&self, n: Node<'t>, depth: u32) -> Option<DepFacts> {
        let dep = self.depends_target(n)?;
        if dep.kind() == "identifier" {
            if let Some(def) = self.module_def_named(self.node_text(dep)) {
                return self.dependency_facts(def, depth);
            }
        }
        if !matches!(dep.kind(), "identifier" | "attribute") || !self.imports_sqla() {
            return None;
        }
        // `Depends(get_session)` imported, `Depends(deps.get_session)`: the project module's.
        let path = self.resolve_node(dep)?;
        self.outside?.py_sqla_dep(&path)
    }

    /// The `dep` of the first `Depends(dep)` in `n`.
    pub fn depends_target(&self, n: Node<'t>) -> Option<Node<'t>> {
        let call = descendants(n).into_iter().find(|d| {
            d.kind() == "call" && d.child_by_field_name("function").is_some_and(|f| last_name(self.node_text(f)) == "Depends")
        })?;
        self.sole_positional(call.child_by_field_name("arguments")?)
    }

    /// What the dependency `def` (a function of this file) yields or returns, when a known
    /// session, and whether it commits (see [`DepFacts::commits`]).
    pub fn dependency_facts(&self, def: Node<'t>, depth: u32) -> Option<DepFacts> {
        let body = def.child_by_field_name("body")?;
        self.read_bodies.borrow_mut().push(def.byte_range());
        let nodes = descendants(body);
        let (out, v) = nodes.iter().filter(|d| matches!(d.kind(), "yield" | "return_statement")).find_map(|d| {
            let v = d.named_child(0)?;
            // A name of the dependency's own: its value read from the syntax (focused
            // analysis may not have walked that body's bindings).
            match self.own_name_kind(def, &nodes, v, depth)? {
                k @ SqlaKind::Session { .. } => Some((*d, k)).map(|x| (x, v)),
                _ => None,
            }
        })?;
        let (at, kind) = out;
        Some(DepFacts { kind, commits: at.kind() == "yield" && self.commits_around(&nodes, at, v) })
    }

    /// The session `v` yielded at `at` is committed by the dependency: `v.commit()` after the
    /// `yield`, a session opened by `factory.begin()`, or an enclosing `async with v.begin()`.
    fn commits_around(&self, nodes: &[Node<'t>], at: Node<'t>, v: Node<'t>) -> bool {
        let name = self.node_text(v);
        let method_on = |n: &Node<'t>, m: &str| {
            n.kind() == "call"
                && n.child_by_field_name("function").is_some_and(|f| {
                    f.kind() == "attribute"
                        && f.child_by_field_name("object").is_some_and(|o| self.node_text(o) == name)
                        && f.child_by_field_name("attribute").is_some_and(|a| self.node_text(a) == m)
                })
        };
        if nodes.iter().any(|n| n.start_byte() > at.end_byte() && method_on(n, "commit")) {
            return true;
        }
        if v.kind() == "identifier" {
            if let Some(value) = self.local_value(nodes, name, at.start_byte()) {
                let begun = value.kind() == "call"
                    && value.child_by_field_name("function").is_some_and(|f| {
                        f.kind() == "attribute" && f.child_by_field_name("attribute").is_some_and(|a| self.node_text(a) == "begin")
                    });
                if begun {
                    return true;
                }
            }
        }
        // `async with s.begin(): yield s`.
        let mut cur = at.parent();
        while let Some(p) = cur {
            if p.kind() == "with_statement" && descendants(p).iter().any(|n| n.end_byte() < at.start_byte() && method_on(n, "begin")) {
                return true;
            }
            if p.kind() == "function_definition" {
                break;
            }
            cur = p.parent();
        }
        false
    }

    /// A dependency `def` whose session comes from a factory imported from another module
    /// (`async with async_session() as s: yield s`, `async_session` from `app.db`): that
    /// factory's import path, whether the session was opened with `factory.begin()`, and
    /// whether the dependency commits it (the project model then asks what the factory is).
    pub fn dependency_factory_import(&self, def: Node<'t>) -> Option<(String, bool, bool)> {
        let body = def.child_by_field_name("body")?;
        let nodes = descendants(body);
        let at = *nodes.iter().find(|d| d.kind() == "yield")?;
        let v = at.named_child(0).filter(|v| v.kind() == "identifier")?;
        let value = self.local_value(&nodes, self.node_text(v), at.start_byte())?;
        let func = value.child_by_field_name("function").filter(|_| value.kind() == "call")?;
        let (factory, begun) = match func.kind() {
            "identifier" => (func, false),
            "attribute" if func.child_by_field_name("attribute").is_some_and(|a| self.node_text(a) == "begin") => {
                (func.child_by_field_name("object")?, true)
            }
            _ => return None,
        };
        if factory.kind() != "identifier" || self.binding(self.node_text(factory), factory.start_byte()).is_some_and(|b| b.value.is_some()) {
            return None;
        }
        let path = self.import_of(self.node_text(factory))?;
        if path.starts_with("sqlalchemy") || path.starts_with("sqlmodel") {
            return None;
        }
        Some((path.to_string(), begun, self.commits_around(&nodes, at, v)))
    }

    /// `SessionDep = Annotated[AsyncSession, Depends(get_session)]`: the dependency an
    /// annotation names, through an alias of this file or of a project module.
    fn annotation_dep(&self, ty: Node<'t>, depth: u32) -> Option<DepFacts> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(d) = self.depends_facts(ty, depth) {
            return Some(d);
        }
        let inner = if ty.kind() == "type" { ty.named_child(0)? } else { ty };
        if inner.kind() != "identifier" {
            return None;
        }
        let name = self.node_text(inner);
        match self.import_of(name) {
            None => {
                let b = self.binding(name, inner.start_byte())?;
                self.annotation_dep(b.value?, depth + 1)
            }
            Some(path) if self.imports_sqla() && !path.starts_with("sqlalchemy") && !path.starts_with("sqlmodel") => {
                self.outside?.py_sqla_dep(path)
            }
            Some(_) => None,
        }
    }

    /// What a module-level name of this file gives as a FastAPI dependency: a `def` that
    /// yields or returns a known session, or an alias `Annotated[…, Depends(dep)]` (for
    /// [`super::outside::Outside::py_sqla_dep`]).
    pub fn module_dep_facts(&self, name: &str) -> Option<DepFacts> {
        if let Some(def) = self.module_def_named(name) {
            return self.dependency_facts(def, 0);
        }
        let b = self.binding(name, self.src.len())?;
        let v = b.value?;
        if !self.node_text(v).contains("Depends") {
            return None;
        }
        self.annotation_dep(v, 0)
    }

    /// The kind of `v`, an expression in the body of `def` (whose `nodes` are given), without
    /// the bindings of that body: a parameter of `def` by its annotation, a local name by the
    /// value it was last given, anything else as usual.
    fn own_name_kind(&self, def: Node<'t>, nodes: &[Node<'t>], v: Node<'t>, depth: u32) -> Option<SqlaKind> {
        if v.kind() != "identifier" {
            return self.sqla_kind_at(v, depth + 1);
        }
        let name = self.node_text(v);
        if let Some(value) = self.local_value(nodes, name, v.start_byte()) {
            return self.sqla_kind_at(value, depth + 1);
        }
        if self.is_param(def, name) {
            return self.param_kind(def, name, depth + 1);
        }
        self.sqla_kind_at(v, depth + 1)
    }

    fn is_param(&self, def: Node<'t>, name: &str) -> bool {
        let Some(params) = def.child_by_field_name("parameters") else { return false };
        let mut c = params.walk();
        let found = params.named_children(&mut c).any(|p| {
            let id = if p.kind() == "identifier" { Some(p) } else { p.child_by_field_name("name").or_else(|| p.named_child(0)) };
            id.is_some_and(|i| i.kind() == "identifier" && self.node_text(i) == name)
        });
        found
    }

    /// The value last given to `name` before byte `before` among `nodes` (a function body's):
    /// `name = <value>` or `with <value> as name`.
    fn local_value(&self, nodes: &[Node<'t>], name: &str, before: usize) -> Option<Node<'t>> {
        let mut found = None;
        for n in nodes.iter().filter(|n| n.start_byte() < before) {
            let (target, value) = match n.kind() {
                "assignment" => (n.child_by_field_name("left"), n.child_by_field_name("right")),
                "as_pattern" => (n.child_by_field_name("alias").and_then(|a| a.named_child(0)), n.named_child(0)),
                _ => continue,
            };
            if let (Some(t), Some(v)) = (target, value) {
                if t.kind() == "identifier" && self.node_text(t) == name {
                    found = Some(v);
                }
            }
        }
        found
    }

    /// An annotation's kind: `Depends(…)` inside it first, then the first known class in it
    /// (`Annotated[AsyncSession, …]`, `Optional[Session]`), through a module-level alias.
    fn annotation_kind(&self, ty: Node<'t>, depth: u32) -> Option<SqlaKind> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(d) = self.annotation_dep(ty, depth) {
            return Some(d.kind);
        }
        let inner = if ty.kind() == "type" { ty.named_child(0)? } else { ty };
        if inner.kind() == "identifier" && self.import_of(self.node_text(inner)).is_none() {
            // A type alias: `SessionDep = Annotated[AsyncSession, Depends(get_session)]`.
            let b = self.binding(self.node_text(inner), inner.start_byte())?;
            return self.annotation_kind(b.value?, depth + 1);
        }
        descendants(ty)
            .into_iter()
            .filter(|d| matches!(d.kind(), "identifier" | "attribute"))
            .find_map(|d| self.resolve_node(d).and_then(|p| type_kind(&p)))
    }

    /// `self.<attr>` in a method: the value assigned to it in the class's `__init__`.
    fn self_attr_kind(&self, at: usize, attr: &str, depth: u32) -> Option<SqlaKind> {
        let method = self.scope_at(at);
        let class = self.scopes[method].parent?;
        if self.scopes[class].kind != super::ScopeKind::Class {
            return None;
        }
        let init = self.function_scopes_named("__init__").iter().find(|&&i| self.scopes[i].parent == Some(class))?;
        let init_def = *self.function_nodes.get(init)?;
        let body = init_def.child_by_field_name("body")?;
        self.read_bodies.borrow_mut().push(init_def.byte_range());
        let mut c = body.walk();
        let mut found = None;
        let stmts: Vec<Node<'t>> = body.named_children(&mut c).collect();
        for &stmt in &stmts {
            let Some(a) = stmt.named_child(0).filter(|a| stmt.kind() == "expression_statement" && a.kind() == "assignment") else {
                continue;
            };
            let (Some(left), Some(right)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            if self.node_text(left) == format!("self.{attr}") {
                found = Some(right);
            }
        }
        self.own_name_kind(init_def, &descendants(body), found?, depth)
    }
}

/// Every named node under `n` (itself included), in document order, bounded.
fn descendants(n: Node) -> Vec<Node> {
    let mut out = vec![];
    let mut c = n.walk();
    loop {
        out.push(c.node());
        if out.len() > 4000 {
            return out;
        }
        if c.goto_first_child() {
            continue;
        }
        loop {
            if c.node() == n {
                return out.into_iter().filter(|x| x.is_named()).collect();
            }
            if c.goto_next_sibling() {
                break;
            }
            if !c.goto_parent() {
                return out.into_iter().filter(|x| x.is_named()).collect();
            }
        }
    }
}

/// One mapped attribute a SQLAlchemy / SQLModel model class declares (AG104).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedAttr {
    pub name: String,
    /// `relationship(…)` / SQLModel `Relationship(…)`; otherwise a column.
    pub relation: bool,
    /// A relationship that loads on first access (no `lazy=`, `lazy="select"` or `True`);
    /// an eager, `raise`, `dynamic` or non-literal strategy is not lazy (unknown: silent).
    pub lazy: bool,
}

/// A mapped model as the rules see it.
#[derive(Clone, Debug, Default)]
pub struct SqlaModel {
    pub attrs: Vec<MappedAttr>,
    /// It inherits `sqlalchemy.ext.asyncio.AsyncAttrs` (through any project base).
    pub async_attrs: bool,
    /// A SQLModel class (no `awaitable_attrs` ergonomics).
    pub sqlmodel: bool,
}

const ASYNC_ATTRS: &[&str] = &["sqlalchemy.ext.asyncio.AsyncAttrs", "sqlalchemy.ext.asyncio.session.AsyncAttrs"];
const SELECT: &[&str] = &[
    "sqlalchemy.select",
    "sqlalchemy.future.select",
    "sqlalchemy.sql.select",
    "sqlalchemy.sql.expression.select",
    "sqlmodel.select",
    "sqlmodel.sql.expression.select",
];
/// Loader options whose arguments name what they load (anything else in `.options(…)` is
/// unknown: every relationship counts as loaded).
const LOADERS: &[&str] = &[
    "selectinload", "joinedload", "subqueryload", "immediateload", "lazyload", "raiseload", "noload", "defaultload",
    "contains_eager", "load_only", "defer", "undefer", "undefer_group", "with_loader_criteria", "selectin_polymorphic",
];
/// Result methods giving one instance, and whether they need `.scalars()` before them.
const ONE: &[(&str, bool)] = &[
    ("first", true),
    ("one", true),
    ("one_or_none", true),
    ("scalar_one", false),
    ("scalar_one_or_none", false),
    ("scalar", false),
];

/// Where an instance read in async code was loaded or made (AG104).
#[derive(Clone, Debug)]
pub struct Loaded<'t> {
    /// The model class name as written.
    pub model: &'t str,
    /// The session's receiver expression (`None`: built here, `M(…)`).
    pub session: Option<Node<'t>>,
    /// The loader options of the producing statement (every argument of `.options(…)` and
    /// `get(…, options=…)`); `None`: unknown, every relationship counts as loaded.
    pub options: Option<Vec<Node<'t>>>,
    /// The byte from which the name holds the instance.
    pub pos: usize,
    /// Made in scope (`User(…)`), not loaded.
    pub created: bool,
}

impl<'t> PyModel<'t> {
    /// The mapped attributes a class body declares: `x = relationship(…)`, `x: Mapped[…] =
    /// mapped_column(…)`, `x: Mapped[int]`, `x = Column(…)`, SQLModel fields of a `table=True`
    /// class (`x: str`, `x: str = Field(…)`, `x: list["B"] = Relationship(…)`).
    pub fn mapped_attrs(&self, class_def: Node<'t>) -> Vec<MappedAttr> {
        let mut out = vec![];
        let Some(body) = class_def.child_by_field_name("body") else { return out };
        let table = class_def.child_by_field_name("superclasses").is_some_and(|s| {
            let t = self.node_text(s);
            t.contains("table=True") || t.contains("table = True")
        });
        let mut c = body.walk();
        for st in body.named_children(&mut c) {
            let Some(a) = st.named_child(0).filter(|a| st.kind() == "expression_statement" && a.kind() == "assignment") else {
                continue;
            };
            let Some(left) = a.child_by_field_name("left").filter(|l| l.kind() == "identifier") else { continue };
            let name = self.node_text(left).to_string();
            let ty = a.child_by_field_name("type").map(|t| self.node_text(t));
            let right = a.child_by_field_name("right");
            let ctor = right.filter(|r| r.kind() == "call").and_then(|r| r.child_by_field_name("function")).map(|f| last_name(self.node_text(f)));
            match ctor {
                Some("relationship" | "Relationship") => {
                    let lazy = self.relationship_is_lazy(right.expect("a call"));
                    out.push(MappedAttr { name, relation: true, lazy });
                }
                Some("mapped_column" | "Column" | "column_property" | "composite") => {
                    out.push(MappedAttr { name, relation: false, lazy: false })
                }
                Some("Field") if table => out.push(MappedAttr { name, relation: false, lazy: false }),
                None if ty.is_some_and(|t| t.starts_with("Mapped[")) && right.is_none() => {
                    out.push(MappedAttr { name, relation: false, lazy: false })
                }
                None if table && ty.is_some() && !name.starts_with('_') => {
                    out.push(MappedAttr { name, relation: false, lazy: false })
                }
                _ => {}
            }
        }
        out
    }

    /// `relationship(…)` loads on access: no `lazy=` (SQLModel: none in a literal
    /// `sa_relationship_kwargs`), or `"select"` / `True`.
    fn relationship_is_lazy(&self, call: Node<'t>) -> bool {
        let Some(args) = call.child_by_field_name("arguments") else { return false };
        let mut c = args.walk();
        if args.named_children(&mut c).any(|a| a.kind() == "dictionary_splat") || self.keyword_arg(args, "sa_relationship").is_some() {
            return false;
        }
        let lazy = match self.keyword_arg(args, "sa_relationship_kwargs") {
            Some(d) if d.kind() == "dictionary" => {
                let mut dc = d.walk();
                let pairs: Vec<Node> = d.named_children(&mut dc).collect();
                if pairs.iter().any(|p| p.kind() != "pair") {
                    return false;
                }
                pairs
                    .iter()
                    .find(|p| p.child_by_field_name("key").is_some_and(|k| matches!(self.node_text(k), "\"lazy\"" | "'lazy'")))
                    .and_then(|p| p.child_by_field_name("value"))
            }
            Some(_) => return false,
            None => self.keyword_arg(args, "lazy"),
        };
        match lazy.map(|v| self.node_text(v)) {
            None | Some("True" | "\"select\"" | "'select'") => true,
            Some(_) => false,
        }
    }

    /// The mapped model `name` names at byte `at` (a class of this file or of a project
    /// module), when it declares mapped attributes.
    pub fn sqla_model(&self, name: &str, at: usize) -> Option<SqlaModel> {
        let head = name.split('.').next().unwrap_or(name);
        if self.binding(head, at).is_some_and(|b| b.value.is_some()) {
            return None;
        }
        let mut m = SqlaModel::default();
        let lib_bases = if let Some((head, tail)) = name.split_once('.') {
            // `models.Platform` through `from app import models`.
            match self.imported_def(head, Some(tail))? {
                super::outside::PyDef::Class(c) => {
                    m.attrs = c.sqla_attrs.clone();
                    c.lib_bases.clone()
                }
                _ => return None,
            }
        } else if self.classes.contains_key(name) {
            self.local_mapped(name, 0, &mut m.attrs);
            self.class_lib_bases(name, 0)
        } else {
            match self.imported_def(name, None)? {
                super::outside::PyDef::Class(c) => {
                    m.attrs = c.sqla_attrs.clone();
                    c.lib_bases.clone()
                }
                _ => return None,
            }
        };
        m.async_attrs = lib_bases.iter().any(|b| ASYNC_ATTRS.contains(&b.as_str()));
        m.sqlmodel = lib_bases.iter().any(|b| b == "sqlmodel.SQLModel" || b == "sqlmodel.main.SQLModel");
        (!m.attrs.is_empty()).then_some(m)
    }

    fn local_mapped(&self, name: &str, depth: u32, out: &mut Vec<MappedAttr>) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(def) = self.class_node(name) {
            out.extend(self.mapped_attrs(def));
        }
        for b in self.classes.get(name).into_iter().flatten() {
            if b == name {
                continue;
            }
            if self.classes.contains_key(b.as_str()) {
                self.local_mapped(b, depth + 1, out);
            } else if let Some(super::outside::PyDef::Class(c)) = self.imported_def(b, None).filter(|_| !b.contains('.')) {
                out.extend(c.sqla_attrs.iter().cloned());
            }
        }
    }

    /// Where the instance the name `obj` holds at its use came from: an `AsyncSession`
    /// load in the same function (`await s.get(M, …)`, `(await s.execute(select(M)…))
    /// .scalars().first()`, `await s.scalar(…)`, a `for` over `(await s.scalars(…)).all()`),
    /// or `M(…)` built there. `None`: unknown.
    pub fn sqla_loaded(&self, obj: Node<'t>) -> Option<Loaded<'t>> {
        if obj.kind() != "identifier" {
            return None;
        }
        let name = self.node_text(obj);
        let (scope, b) = self.binding_in(name, obj.start_byte())?;
        if b.pos == 0 || self.scope_at(obj.start_byte()) != scope {
            return None;
        }
        if let Some(v) = b.value {
            if !self.function_nodes.contains_key(&scope) {
                return None;
            }
            let v = strip_parens(v);
            if v.kind() == "call" {
                if let Some(f) = v.child_by_field_name("function").filter(|f| f.kind() == "identifier") {
                    let model = self.node_text(f);
                    if model.starts_with(|c: char| c.is_ascii_uppercase()) && self.sqla_model(model, v.start_byte()).is_some() {
                        return Some(Loaded { model, session: None, options: Some(vec![]), pos: b.pos, created: true });
                    }
                }
            }
            let (session, model, options) = self.one_instance(v, 0)?;
            return Some(Loaded { model, session: Some(session), options, pos: b.pos, created: false });
        }
        // `for obj in <rows>:`, `[… for obj in <rows>]` (the target itself, not a tuple).
        let it = self.loop_iters.get(&b.pos).filter(|it| !it.is_async && it.target.kind() == "identifier")?;
        if self.node_text(it.target) != name {
            return None;
        }
        let (session, model, options) = self.many_instances(it.iter, 0)?;
        Some(Loaded { model, session: Some(session), options, pos: b.pos, created: false })
    }

    /// `v` gives one instance: `await s.get(M, …)`, `await s.scalar(stmt)`, `<result>.scalars()
    /// .first()`, `<result>.scalar_one()` ….
    #[allow(clippy::type_complexity)]
    fn one_instance(&self, v: Node<'t>, depth: u32) -> Option<(Node<'t>, &'t str, Option<Vec<Node<'t>>>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let v = strip_parens(v);
        if v.kind() == "await" {
            let call = strip_parens(v.named_child(0)?);
            let (recv, method, args) = self.session_call(call)?;
            return match method {
                "get" | "get_one" => {
                    let mut c = args.walk();
                    let model = args.named_children(&mut c).next().filter(|m| is_class_ref(self, *m))?;
                    let options = match self.keyword_arg(args, "options") {
                        Some(o) => Some(vec![o]),
                        None => Some(vec![]),
                    };
                    Some((recv, self.node_text(model), options))
                }
                "scalar" => {
                    let (model, options) = self.statement(self.sole_positional(args)?, 0)?;
                    Some((recv, model, options))
                }
                _ => None,
            };
        }
        if v.kind() == "identifier" {
            let b = self.binding(self.node_text(v), v.start_byte())?;
            return self.one_instance(b.value?, depth + 1);
        }
        let (object, method) = self.method_of(v)?;
        let &(_, needs_scalars) = ONE.iter().find(|(m, _)| *m == method)?;
        let (recv, model, options, scalars) = self.result(object, depth + 1)?;
        (scalars || !needs_scalars).then_some((recv, model, options))
    }

    /// `rows` gives instances when iterated: `await s.scalars(stmt)`, `<result>.scalars()`,
    /// `<scalars>.all()`, a name bound to one of these.
    #[allow(clippy::type_complexity)]
    fn many_instances(&self, rows: Node<'t>, depth: u32) -> Option<(Node<'t>, &'t str, Option<Vec<Node<'t>>>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let rows = strip_parens(rows);
        if rows.kind() == "identifier" {
            let b = self.binding(self.node_text(rows), rows.start_byte())?;
            return self.many_instances(b.value?, depth + 1);
        }
        let inner = match self.method_of(rows) {
            Some((object, "all" | "unique")) => object,
            _ => rows,
        };
        let (recv, model, options, scalars) = self.result(inner, depth + 1)?;
        scalars.then_some((recv, model, options))
    }

    /// A result of an `AsyncSession`: `await s.execute(stmt)` / `await s.scalars(stmt)` /
    /// SQLModel `await s.exec(stmt)`, then `.scalars()` / `.unique()`, or a name bound to one.
    /// The last item says whether it yields entities (`scalars`).
    #[allow(clippy::type_complexity)]
    fn result(&self, n: Node<'t>, depth: u32) -> Option<(Node<'t>, &'t str, Option<Vec<Node<'t>>>, bool)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let n = strip_parens(n);
        match n.kind() {
            "await" => {
                let (recv, method, args) = self.session_call(strip_parens(n.named_child(0)?))?;
                let Some(SqlaKind::Session { sqlmodel, .. }) = self.sqla_kind(recv) else { return None };
                let scalars = match method {
                    "execute" => false,
                    "scalars" => true,
                    "exec" if sqlmodel => true,
                    _ => return None,
                };
                let (model, options) = self.statement(self.sole_positional(args)?, 0)?;
                Some((recv, model, options, scalars))
            }
            "identifier" => {
                let b = self.binding(self.node_text(n), n.start_byte())?;
                self.result(b.value?, depth + 1)
            }
            _ => {
                let (object, method) = self.method_of(n)?;
                let (recv, model, options, scalars) = self.result(object, depth + 1)?;
                match method {
                    "scalars" => Some((recv, model, options, true)),
                    "unique" => Some((recv, model, options, scalars)),
                    _ => None,
                }
            }
        }
    }

    /// `<s>.<method>(args)` on an `AsyncSession`.
    fn session_call(&self, call: Node<'t>) -> Option<(Node<'t>, &'t str, Node<'t>)> {
        let (recv, method) = self.method_of(call)?;
        let args = call.child_by_field_name("arguments")?;
        matches!(self.sqla_kind(recv), Some(SqlaKind::Session { asyncio: true, .. })).then_some((recv, method, args))
    }

    /// `<object>.<method>(…)`: its object and method name.
    fn method_of(&self, call: Node<'t>) -> Option<(Node<'t>, &'t str)> {
        if call.kind() != "call" {
            return None;
        }
        let f = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
        Some((f.child_by_field_name("object")?, self.node_text(f.child_by_field_name("attribute")?)))
    }

    /// A `select(M)…` statement (or a local name bound to one, also rebuilt step by step):
    /// the model and the arguments of every `.options(…)` on the way.
    fn statement(&self, n: Node<'t>, depth: u32) -> Option<(&'t str, Option<Vec<Node<'t>>>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let n = strip_parens(n);
        match n.kind() {
            "identifier" => {
                let b = self.binding(self.node_text(n), n.start_byte())?;
                self.statement(b.value?, depth + 1)
            }
            "call" => {
                let f = n.child_by_field_name("function")?;
                let args = n.child_by_field_name("arguments")?;
                if f.kind() == "attribute" {
                    let (model, options) = self.statement(f.child_by_field_name("object")?, depth + 1)?;
                    if self.node_text(f.child_by_field_name("attribute")?) != "options" {
                        return Some((model, options));
                    }
                    let mut c = args.walk();
                    let more: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "comment").collect();
                    return Some((model, options.map(|mut o| {
                        o.extend(more);
                        o
                    })));
                }
                let path = self.resolve_node(f)?;
                if !SELECT.contains(&path.as_str()) {
                    return None;
                }
                let model = self.sole_positional(args).filter(|m| is_class_ref(self, *m))?;
                Some((self.node_text(model), Some(vec![])))
            }
            _ => None,
        }
    }

    /// The loader options `opts` load the relationship `rel`: an option names it
    /// (`selectinload(M.rel)`, `"rel"`, `"*"`), or an option is not one this module reads.
    pub fn options_load(&self, opts: &[Node<'t>], rel: &str) -> bool {
        opts.iter().any(|o| {
            let o = strip_parens(*o);
            let known = match o.kind() {
                "call" => o.child_by_field_name("function").is_some_and(|f| LOADERS.contains(&last_name(self.node_text(f)))),
                // `get(M, id, options=[selectinload(M.a)])`.
                "list" | "tuple" => {
                    let mut c = o.walk();
                    let items: Vec<Node> = o.named_children(&mut c).collect();
                    return self.options_load(&items, rel);
                }
                _ => false,
            };
            !known
                || descendants(o).iter().any(|d| match d.kind() {
                    "attribute" => d.child_by_field_name("attribute").is_some_and(|a| self.node_text(a) == rel),
                    "string" => {
                        let t = self.node_text(*d).trim_matches(|c| c == '"' || c == '\'');
                        t == rel || t == "*"
                    }
                    _ => false,
                })
        })
    }
}

/// `Model` or `models.Model` (a module attribute: one dot, on a name).
fn is_class_ref(m: &PyModel, n: Node) -> bool {
    match n.kind() {
        "identifier" => true,
        "attribute" => n.child_by_field_name("object").is_some_and(|o| o.kind() == "identifier") && !m.node_text(n).starts_with("self."),
        _ => false,
    }
}

fn strip_parens(mut n: Node) -> Node {
    while n.kind() == "parenthesized_expression" {
        match n.named_child(0) {
            Some(c) => n = c,
            None => break,
        }
    }
    n
}
