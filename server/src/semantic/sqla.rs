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
//!   module-level alias) whose `dep` is a `def` of this file that yields or returns a known
//!   session beats the annotation; else the annotation (`AsyncSession`, `Session`, `Engine`,
//!   `Connection`, `AsyncEngine`, `AsyncConnection`), SQLModel's `Session` being sync and its
//!   `sqlmodel.ext.asyncio.session.AsyncSession` async.
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
    /// A `Session` (`asyncio`: an `AsyncSession`); `sqlmodel`: SQLModel's class (`exec`).
    Session { asyncio: bool, sqlmodel: bool },
    /// A `sessionmaker` / `async_sessionmaker` product (calling it gives a session).
    Factory { asyncio: bool, sqlmodel: bool },
    Engine { asyncio: bool },
    Connection { asyncio: bool },
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
    Some(if is(ASYNC_SESSION) {
        SqlaKind::Session { asyncio: true, sqlmodel: false }
    } else if path == SQLMODEL_ASYNC_SESSION {
        SqlaKind::Session { asyncio: true, sqlmodel: true }
    } else if is(SYNC_SESSION) {
        SqlaKind::Session { asyncio: false, sqlmodel: false }
    } else if is(SQLMODEL_SESSION) {
        SqlaKind::Session { asyncio: false, sqlmodel: true }
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
            if is(ASYNC_SESSION) || path == SQLMODEL_ASYNC_SESSION || is(SYNC_SESSION) || is(SQLMODEL_SESSION) {
                return type_kind(&path);
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
                return Some(SqlaKind::Factory { asyncio, sqlmodel });
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
                    (SqlaKind::Factory { asyncio, sqlmodel }, "begin") => Some(SqlaKind::Session { asyncio, sqlmodel }),
                    _ => None,
                }
            }
            _ => match self.sqla_kind_at(func, depth + 1)? {
                SqlaKind::Factory { asyncio, sqlmodel } => Some(SqlaKind::Session { asyncio, sqlmodel }),
                _ => None,
            },
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
            if pname.is_none_or(|n| self.node_text(n) != name) {
                continue;
            }
            if let Some(k) = default.and_then(|d| self.depends_kind(d, depth)) {
                return Some(k);
            }
            return ty.and_then(|t| self.annotation_kind(t, depth));
        }
        None
    }

    /// `Depends(dep)` anywhere in `n`: the kind `dep` yields or returns.
    fn depends_kind(&self, n: Node<'t>, depth: u32) -> Option<SqlaKind> {
        let call = descendants(n).into_iter().find(|d| {
            d.kind() == "call" && d.child_by_field_name("function").is_some_and(|f| last_name(self.node_text(f)) == "Depends")
        })?;
        let dep = self.sole_positional(call.child_by_field_name("arguments")?)?;
        if dep.kind() != "identifier" {
            return None;
        }
        let def = self.module_def_named(self.node_text(dep))?;
        let body = def.child_by_field_name("body")?;
        self.read_bodies.borrow_mut().push(def.byte_range());
        let nodes = descendants(body);
        nodes
            .iter()
            .filter(|d| matches!(d.kind(), "yield" | "return_statement"))
            .filter_map(|d| d.named_child(0))
            .find_map(|v| {
                // A name of the dependency's own: its value read from the syntax (focused
                // analysis may not have walked that body's bindings).
                let kind = self.own_name_kind(def, &nodes, v, depth)?;
                match kind {
                    k @ SqlaKind::Session { .. } => Some(k),
                    _ => None,
                }
            })
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
        if let Some(k) = self.depends_kind(ty, depth) {
            return Some(k);
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
