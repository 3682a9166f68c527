//! Tortoise ORM and Piccolo bindings without a type checker (RULES.md §0.5, §3.7): which
//! expressions are Tortoise model classes, rows, querysets and coroutines, and Piccolo tables,
//! rows, queries and engines, for AG102, AG201, AG203 and AG402.
//!
//! Where a kind comes from:
//! - A model class is a class whose library bases, followed through project classes in any
//!   file (the project model's [`super::outside::ClassFacts::lib_bases`]), include Tortoise's
//!   `Model` or Piccolo's `Table` as resolved imports. A class of this file, a name imported
//!   from a project module, or `module.Class` of an imported project module.
//! - A query is a method chain rooted at a model class (`User.filter(…).order_by(…)`) or at a
//!   name bound to one in this file; every method of the chain must be one this module lists
//!   for the kind it is called on. A method it does not know ends the chain: unknown.
//! - A row (instance) is `Model(…)`, a name bound to `await <single-row query>` or
//!   `await Model.create(…)`, the target of `async for` over a queryset, a parameter annotated
//!   with a model class, or `self` in a method of a model class.
//! - A Piccolo engine is a constructor call of Piccolo's engine classes or `engine_finder()`,
//!   a name bound to one in this file, `Table._meta.db`, or `DB` imported from a
//!   `piccolo_conf` module (Piccolo's convention: `engine_finder()` reads that name there).
//!
//! Invariants:
//! - Unknown means `None` / `false`: a receiver that does not resolve through the imports of
//!   this file (or of the project model) is never a Tortoise or Piccolo object.
//! - The search is bounded ([`MAX_DEPTH`] steps through bindings and chains), so cycles end.
//! - Tortoise and Piccolo are told apart per binding: a file may use both.

use super::outside::PyDef;
use super::python::PyModel;
use tree_sitter::Node;

/// Steps through names and method chains before giving up (unknown).
const MAX_DEPTH: u32 = 16;

/// An async-native ORM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncOrm {
    Tortoise,
    Piccolo,
}

const TORTOISE_MODEL: &[&str] = &["tortoise.models.Model", "tortoise.Model"];
const PICCOLO_TABLE: &[&str] = &["piccolo.table.Table"];
/// Tables Piccolo and its companion packages ship (imported as they are, or derived from).
const PICCOLO_LIB_TABLES: &[&str] = &[
    "piccolo.apps.user.tables.BaseUser",
    "piccolo_api.session_auth.tables.SessionsBase",
    "piccolo_api.token_auth.tables.TokenAuth",
];

/// Tortoise transactions (`tortoise/transactions.py`).
pub const TORTOISE_IN_TRANSACTION: &[&str] = &["tortoise.transactions.in_transaction"];
pub const TORTOISE_ATOMIC: &[&str] = &["tortoise.transactions.atomic"];

/// Piccolo engine constructors (`piccolo/engine/__init__.py` re-exports them).
const PICCOLO_ENGINES: &[&str] = &[
    "piccolo.engine.PostgresEngine",
    "piccolo.engine.SQLiteEngine",
    "piccolo.engine.CockroachEngine",
    "piccolo.engine.postgres.PostgresEngine",
    "piccolo.engine.sqlite.SQLiteEngine",
    "piccolo.engine.cockroach.CockroachEngine",
    "piccolo.engine.engine_finder",
    "piccolo.engine.finder.engine_finder",
];

/// What a Tortoise expression is (tortoise 0.2x/1.x `models.py`, `queryset.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TortoiseValue {
    /// A coroutine: `create`, `get_or_create`, `save`, `fetch_related` …; `row`: awaiting it
    /// gives a row (`create`).
    Coroutine { row: bool },
    /// A lazy `QuerySet` (`filter`, `all`, `order_by` …): awaitable and `async for`-iterable.
    QuerySet,
    /// `values(…)` / `values_list(…)`: awaitable and `async for`-iterable, no further chain.
    Values,
    /// A single-row query (`get`, `get_or_none`, `first` …): awaiting it gives a row.
    Single,
    /// Another awaitable query object (`count`, `exists`, `update`, `delete`, `bulk_create` …).
    Query,
}

impl TortoiseValue {
    /// Iterable with `async for`.
    pub fn async_iterable(self) -> bool {
        matches!(self, TortoiseValue::QuerySet | TortoiseValue::Values)
    }
}

/// Class methods that are coroutines.
const T_CLASS_COROUTINES: &[&str] = &["create", "get_or_create", "update_or_create", "in_bulk", "fetch_for_list"];
/// Class methods returning a lazy `QuerySet`.
const T_CLASS_LAZY: &[&str] = &["filter", "exclude", "annotate", "all", "select_for_update"];
/// Class methods returning a single-row query.
const T_CLASS_SINGLE: &[&str] = &["get", "get_or_none", "first", "last", "latest", "earliest"];
/// Class methods returning another query object.
const T_CLASS_QUERY: &[&str] = &["exists", "raw", "bulk_create", "bulk_update"];
/// Row methods that are coroutines.
const T_ROW_COROUTINES: &[&str] = &["save", "delete", "fetch_related", "refresh_from_db"];
/// `QuerySet` methods returning a `QuerySet`.
const T_QS_LAZY: &[&str] = &[
    "filter", "exclude", "order_by", "limit", "offset", "distinct", "select_for_update", "annotate", "group_by", "all",
    "only", "select_related", "force_index", "use_index", "prefetch_related", "using_db",
];
/// `QuerySet` methods returning a single-row query.
const T_QS_SINGLE: &[&str] = &["get", "get_or_none", "first", "last", "latest", "earliest"];
/// `QuerySet` methods returning another query object.
const T_QS_QUERY: &[&str] = &["delete", "update", "count", "exists", "raw", "bulk_create", "bulk_update", "explain"];
/// Methods a single-row query keeps (`QuerySetSingle`).
const T_SINGLE_KEEP: &[&str] = &["prefetch_related", "select_related", "annotate", "only", "using_db"];

/// Piccolo `Table` class methods returning a query (piccolo 1.x `table.py`).
const P_CLASS_QUERIES: &[&str] = &[
    "select", "objects", "insert", "update", "delete", "count", "exists", "raw", "create_table", "alter", "table_exists",
    "indexes", "create_index", "drop_index",
];
/// Piccolo row methods returning a query.
const P_ROW_QUERIES: &[&str] =
    &["save", "remove", "refresh", "get_related", "get_m2m", "add_m2m", "remove_m2m", "update_self"];
/// Piccolo query methods returning a query (chained builders).
const P_CHAIN: &[&str] = &[
    "where", "order_by", "limit", "offset", "first", "output", "columns", "distinct", "group_by", "returning", "values",
    "get", "get_or_create", "create", "prefetch", "lock_rows", "on_conflict", "add", "callback", "as_of", "cascade",
    "add_column", "drop_column", "rename_column", "alter_column", "rename_table", "drop_table", "set_null",
    "set_default", "set_length", "set_digits", "set_unique", "set_column_type", "set_schema", "if_not_exists",
    "only_default_columns", "freeze",
];
/// Piccolo `objects()` methods whose result, awaited, is a row.
const P_ROW_RESULTS: &[&str] = &["get", "first", "create"];

fn orm_of(bases: &[String]) -> Option<AsyncOrm> {
    let has = |list: &[&str]| bases.iter().any(|b| list.contains(&b.as_str()));
    if has(TORTOISE_MODEL) {
        Some(AsyncOrm::Tortoise)
    } else if has(PICCOLO_TABLE) || has(PICCOLO_LIB_TABLES) {
        Some(AsyncOrm::Piccolo)
    } else {
        None
    }
}

/// The receiver and method name of `call` (`obj.m(…)`).
fn method_call<'t>(call: Node<'t>) -> Option<(Node<'t>, Node<'t>)> {
    if call.kind() != "call" {
        return None;
    }
    let f = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
    Some((f.child_by_field_name("object")?, f.child_by_field_name("attribute")?))
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

impl<'t> PyModel<'t> {
    /// The file imports Tortoise or Piccolo itself.
    pub fn imports_async_orm(&self) -> bool {
        let lib = |p: &str, m: &str| p == m || p.strip_prefix(m).is_some_and(|r| r.starts_with('.'));
        self.imports.values().any(|p| lib(p, "tortoise") || lib(p, "piccolo"))
    }

    /// The ORM whose model class (Tortoise) or table (Piccolo) `n` names, if any.
    pub fn async_orm_class(&self, n: Node<'t>) -> Option<AsyncOrm> {
        match n.kind() {
            "identifier" => {
                let name = self.node_text(n);
                if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return None;
                }
                if self.binding(name, n.start_byte()).is_some_and(|b| b.value.is_some() || b.pos == 0) {
                    return None; // rebound here (an assignment, a parameter)
                }
                if self.classes.contains_key(name) {
                    return orm_of(&self.class_lib_bases(name, 0));
                }
                let path = self.import_of(name)?;
                if PICCOLO_LIB_TABLES.contains(&path) {
                    return Some(AsyncOrm::Piccolo);
                }
                match self.imported_def(name, None) {
                    Some(PyDef::Class(c)) => orm_of(&c.lib_bases),
                    _ => None,
                }
            }
            "attribute" => {
                // `models.User` through an imported project module.
                let obj = n.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
                let attr = self.node_text(n.child_by_field_name("attribute")?);
                if !attr.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return None;
                }
                let oname = self.node_text(obj);
                if self.binding(oname, obj.start_byte()).is_some_and(|b| b.value.is_some() || b.pos == 0) {
                    return None;
                }
                self.import_of(oname)?;
                match self.imported_def(oname, Some(attr)) {
                    Some(PyDef::Class(c)) => orm_of(&c.lib_bases),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// What the Tortoise expression `e` is; `None`: not a Tortoise query (or unknown).
    pub fn tortoise_value(&self, e: Node<'t>) -> Option<TortoiseValue> {
        self.tortoise_value_at(e, 0)
    }

    fn tortoise_value_at(&self, e: Node<'t>, depth: u32) -> Option<TortoiseValue> {
        if depth > MAX_DEPTH {
            return None;
        }
        let e = strip_parens(e);
        match e.kind() {
            "call" => self.tortoise_call(e, depth),
            "identifier" => {
                let b = self.binding(self.node_text(e), e.start_byte())?;
                // Only lazy query objects kept in a name: a coroutine in a name is the same
                // object, but one awaited elsewhere is not ours to follow.
                let v = self.tortoise_value_at(b.value?, depth + 1)?;
                (!matches!(v, TortoiseValue::Coroutine { .. })).then_some(v)
            }
            "subscript" => {
                // `qs[a:b]` stays a lazy queryset; an index raises (not a query).
                let value = e.child_by_field_name("value")?;
                let mut c = e.walk();
                let slice = e.children_by_field_name("subscript", &mut c).all(|s| s.kind() == "slice");
                (slice && self.tortoise_value_at(value, depth + 1)? == TortoiseValue::QuerySet).then_some(TortoiseValue::QuerySet)
            }
            _ => None,
        }
    }

    fn tortoise_call(&self, call: Node<'t>, depth: u32) -> Option<TortoiseValue> {
        let (obj, m) = method_call(call)?;
        let m = self.node_text(m);
        let obj = strip_parens(obj);
        let is_class = matches!(obj.kind(), "identifier" | "attribute")
            && (T_CLASS_COROUTINES.contains(&m)
                || T_CLASS_LAZY.contains(&m)
                || T_CLASS_SINGLE.contains(&m)
                || T_CLASS_QUERY.contains(&m))
            && self.async_orm_class(obj) == Some(AsyncOrm::Tortoise);
        if is_class {
            return Some(if T_CLASS_COROUTINES.contains(&m) {
                TortoiseValue::Coroutine { row: m == "create" }
            } else if T_CLASS_LAZY.contains(&m) {
                TortoiseValue::QuerySet
            } else if T_CLASS_SINGLE.contains(&m) {
                TortoiseValue::Single
            } else {
                TortoiseValue::Query
            });
        }
        if T_ROW_COROUTINES.contains(&m) && self.is_row_of(obj, AsyncOrm::Tortoise, depth + 1) {
            return Some(TortoiseValue::Coroutine { row: false });
        }
        match self.tortoise_value_at(obj, depth + 1)? {
            TortoiseValue::QuerySet => {
                if T_QS_LAZY.contains(&m) {
                    Some(TortoiseValue::QuerySet)
                } else if T_QS_SINGLE.contains(&m) {
                    Some(TortoiseValue::Single)
                } else if T_QS_QUERY.contains(&m) {
                    Some(TortoiseValue::Query)
                } else if matches!(m, "values" | "values_list") {
                    Some(TortoiseValue::Values)
                } else {
                    None
                }
            }
            TortoiseValue::Single if T_SINGLE_KEEP.contains(&m) => Some(TortoiseValue::Single),
            TortoiseValue::Single if matches!(m, "values" | "values_list") => Some(TortoiseValue::Query),
            _ => None,
        }
    }

    /// `n` is a row (model instance) of `orm`.
    pub fn is_row_of(&self, n: Node<'t>, orm: AsyncOrm, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let n = strip_parens(n);
        match n.kind() {
            "identifier" => {
                let name = self.node_text(n);
                if name == "self" {
                    return self.self_in_model(n.start_byte()) == Some(orm);
                }
                let Some((scope, b)) = self.binding_in(name, n.start_byte()) else { return false };
                if let Some(v) = b.value {
                    return self.row_value(v, orm, depth + 1);
                }
                if b.pos == 0 {
                    return self.param_class(scope, name) == Some(orm);
                }
                // `async for row in Model.filter(…)` / `for row in await Model.all()`.
                let Some(l) = self.loop_iters.get(&b.pos).filter(|l| l.target.kind() == "identifier") else { return false };
                if self.node_text(l.target) != name {
                    return false;
                }
                match orm {
                    AsyncOrm::Tortoise if l.is_async => {
                        self.tortoise_value_at(l.iter, depth + 1) == Some(TortoiseValue::QuerySet)
                    }
                    AsyncOrm::Tortoise => {
                        let it = strip_parens(l.iter);
                        it.kind() == "await"
                            && it.named_child(0).is_some_and(|q| self.tortoise_value_at(q, depth + 1) == Some(TortoiseValue::QuerySet))
                    }
                    AsyncOrm::Piccolo => {
                        let it = strip_parens(l.iter);
                        !l.is_async
                            && it.kind() == "await"
                            && it.named_child(0).is_some_and(|q| self.piccolo_objects_many(q, depth + 1))
                    }
                }
            }
            _ => false,
        }
    }

    /// A value that makes a row: `Model(…)`, `await <single-row query>`, `await Model.create(…)`.
    fn row_value(&self, v: Node<'t>, orm: AsyncOrm, depth: u32) -> bool {
        let v = strip_parens(v);
        match v.kind() {
            "call" => {
                let f = v.child_by_field_name("function");
                f.is_some_and(|f| matches!(f.kind(), "identifier" | "attribute") && self.async_orm_class(f) == Some(orm))
            }
            "await" => {
                let Some(q) = v.named_child(0) else { return false };
                match orm {
                    AsyncOrm::Tortoise => matches!(
                        self.tortoise_value_at(q, depth + 1),
                        Some(TortoiseValue::Single | TortoiseValue::Coroutine { row: true })
                    ),
                    AsyncOrm::Piccolo => self.piccolo_objects_row(q, depth + 1),
                }
            }
            "identifier" => self.is_row_of(v, orm, depth + 1),
            _ => false,
        }
    }

    /// The ORM of the model class whose method `self` (at byte `at`) belongs to.
    fn self_in_model(&self, at: usize) -> Option<AsyncOrm> {
        let func = self.scope_at(at);
        let class = self.scopes[func].parent?;
        if self.scopes[class].kind != super::ScopeKind::Class {
            return None;
        }
        let name = self.scopes[class].name.as_deref()?;
        orm_of(&self.class_lib_bases(name, 0))
    }

    /// The ORM of the model class a parameter `name` of the function of scope `scope` is
    /// annotated with (`user: User`, `user: Optional[User]`, `user: "User"` is unknown).
    fn param_class(&self, scope: usize, name: &str) -> Option<AsyncOrm> {
        let def = *self.function_nodes.get(&scope)?;
        let params = def.child_by_field_name("parameters")?;
        let mut c = params.walk();
        let p = params.named_children(&mut c).find(|p| {
            matches!(p.kind(), "typed_parameter" | "typed_default_parameter")
                && p.child_by_field_name("name").or_else(|| p.named_child(0)).is_some_and(|n| self.node_text(n) == name)
        })?;
        let ty = p.child_by_field_name("type")?;
        let mut stack = vec![ty];
        while let Some(n) = stack.pop() {
            if matches!(n.kind(), "identifier" | "attribute") {
                if let Some(orm) = self.async_orm_class(n) {
                    return Some(orm);
                }
                if n.kind() == "attribute" {
                    continue;
                }
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        None
    }

    /// `e` is a Piccolo query (a builder: awaiting it or `.run()` runs it).
    pub fn piccolo_query(&self, e: Node<'t>) -> bool {
        self.piccolo_query_at(e, 0)
    }

    fn piccolo_query_at(&self, e: Node<'t>, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let e = strip_parens(e);
        match e.kind() {
            "identifier" => {
                let Some(v) = self.binding(self.node_text(e), e.start_byte()).and_then(|b| b.value) else { return false };
                self.piccolo_query_at(v, depth + 1)
            }
            "call" => {
                let Some((obj, m)) = method_call(e) else { return false };
                let m = self.node_text(m);
                let obj = strip_parens(obj);
                if P_CLASS_QUERIES.contains(&m)
                    && matches!(obj.kind(), "identifier" | "attribute")
                    && self.async_orm_class(obj) == Some(AsyncOrm::Piccolo)
                {
                    return true;
                }
                if P_ROW_QUERIES.contains(&m) && self.is_row_of(obj, AsyncOrm::Piccolo, depth + 1) {
                    return true;
                }
                P_CHAIN.contains(&m) && self.piccolo_query_at(obj, depth + 1)
            }
            _ => false,
        }
    }

    /// The root method of a Piccolo chain (`objects` in `Band.objects().where(…).first()`)
    /// and the outer method, when `e` is a chain rooted at a table.
    fn piccolo_chain_ends(&self, e: Node<'t>, depth: u32) -> Option<(&'t str, &'t str)> {
        if !self.piccolo_query_at(e, depth) {
            return None;
        }
        let (_, outer) = method_call(strip_parens(e))?;
        let mut cur = strip_parens(e);
        for _ in 0..64 {
            let (obj, m) = method_call(cur)?;
            let obj = strip_parens(obj);
            if matches!(obj.kind(), "identifier" | "attribute") && self.async_orm_class(obj) == Some(AsyncOrm::Piccolo) {
                return Some((self.node_text(m), self.node_text(outer)));
            }
            cur = obj;
        }
        None
    }

    /// `await`ing `q` gives a row: `Band.objects().get(…)` / `.first()` / `.create(…)`.
    fn piccolo_objects_row(&self, q: Node<'t>, depth: u32) -> bool {
        matches!(self.piccolo_chain_ends(q, depth), Some(("objects", outer)) if P_ROW_RESULTS.contains(&outer))
    }

    /// `await`ing `q` gives a list of rows: `Band.objects()` with no single-row method.
    fn piccolo_objects_many(&self, q: Node<'t>, depth: u32) -> bool {
        matches!(self.piccolo_chain_ends(q, depth), Some(("objects", outer)) if !P_ROW_RESULTS.contains(&outer) && outer != "get_or_create")
    }

    /// `n` is a Piccolo engine: a constructor, a name bound to one here, `Table._meta.db`.
    pub fn piccolo_engine(&self, n: Node<'t>) -> bool {
        self.piccolo_engine_at(n, 0)
    }

    fn piccolo_engine_at(&self, n: Node<'t>, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let n = strip_parens(n);
        match n.kind() {
            "call" => n.child_by_field_name("function").is_some_and(|f| self.resolves_to(f, PICCOLO_ENGINES)),
            "identifier" => {
                let name = self.node_text(n);
                match self.binding(name, n.start_byte()) {
                    Some(b) => b.value.is_some_and(|v| self.piccolo_engine_at(v, depth + 1)),
                    // Piccolo's convention: the engine is `DB` in `piccolo_conf.py`, the module
                    // `engine_finder()` reads.
                    None => self.import_of(name).is_some_and(|p| p == "piccolo_conf.DB" || p.ends_with(".piccolo_conf.DB")),
                }
            }
            "attribute" => {
                // `Band._meta.db`
                let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
                    return false;
                };
                if self.node_text(attr) != "db" || obj.kind() != "attribute" {
                    return false;
                }
                let (Some(table), Some(meta)) = (obj.child_by_field_name("object"), obj.child_by_field_name("attribute")) else {
                    return false;
                };
                self.node_text(meta) == "_meta"
                    && matches!(table.kind(), "identifier" | "attribute")
                    && self.async_orm_class(table) == Some(AsyncOrm::Piccolo)
            }
            _ => false,
        }
    }
}

impl<'t> PyModel<'t> {
    /// `e` is a transaction context manager that only `async with` can enter: Tortoise's
    /// `in_transaction(…)`, Piccolo's `<engine>.transaction(…)`.
    pub fn async_only_transaction(&self, e: Node<'t>) -> Option<AsyncOrm> {
        let e = strip_parens(e);
        let f = e.child_by_field_name("function").filter(|_| e.kind() == "call")?;
        if self.resolves_to(f, TORTOISE_IN_TRANSACTION) {
            return Some(AsyncOrm::Tortoise);
        }
        let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
            return None;
        };
        (f.kind() == "attribute" && self.node_text(attr) == "transaction" && self.piccolo_engine(obj)).then_some(AsyncOrm::Piccolo)
    }
}
