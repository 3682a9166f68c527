//! peewee bindings without a type checker (RULES.md §0.5, §3.7): which database a name is,
//! which database a model class is bound to, and which expressions are that model's queries
//! and instances, for AG401 (a plain sync database), AG101 / AG103 (`playhouse.pwasyncio` and
//! peewee-async databases) and AG201 (`with db.atomic()` on an async database).
//!
//! Where a kind comes from:
//! - a database: a constructor resolved through the imports ([`ctor_db`]): peewee's and
//!   playhouse's `…Database` classes and `playhouse.db_url.connect` (sync),
//!   `playhouse.pwasyncio.Async…Database` (pwasyncio), `peewee_async.…Database` and
//!   `peewee_asyncext.…Database` (peewee-async);
//!   a name bound to one, here or at module level of a project module;
//! - a model: a class whose bases lead to `peewee.Model` (or pwasyncio's `AsyncModel`,
//!   peewee-async's `AioModel`), here or in project modules, bound to the database its own
//!   `class Meta: database = …` names, else the first base's;
//! - a query: a method chain rooted at a builder of a bound model (`User.select(…).where(…)`);
//! - an instance: a name bound to `Model.get(…)` / `create` / `get_or_none` / `get_by_id` (or
//!   an awaited twin), `Model(…)`, the first element of `get_or_create`, a `for` target over a
//!   query.
//!
//! Invariants:
//! - Unknown means `None` and rules stay silent: a `DatabaseProxy`, a database reached through
//!   an object attribute or a call of our own, a `Meta.database` that is none of the above
//!   (it hides the bases' database: [`Bound::Unknown`]).
//! - The same resolution ([`resolve`]) serves this file (through [`PyModel`]) and project
//!   modules (through their summaries, [`super::outside::Outside::py_peewee`]); it is bounded
//!   by [`MAX_DEPTH`], so import and base cycles terminate.
//! - Building a query does no I/O; only the rules decide which method runs one.

use super::python::PyModel;
use tree_sitter::Node;

/// Steps through names, bases and modules before giving up (unknown).
pub const MAX_DEPTH: u32 = 8;

/// The kind of peewee database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PwDb {
    /// A plain peewee database (no async API): its calls block the loop.
    Sync,
    /// `playhouse.pwasyncio`: sync calls raise `MissingGreenletBridge`.
    Pwasyncio,
    /// peewee-async (05bit): sync calls block silently.
    PeeweeAsync,
}

/// Which async twins a model class has (from its bases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PwTwins {
    None,
    /// `AsyncModel`: `aget`, `acreate`, `asave` …
    Pwasyncio,
    /// `AioModel`: `aio_get`, `aio_create`, `aio_save` …
    PeeweeAsync,
}

/// The database a model class is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bound {
    /// No `Meta.database` anywhere in its chain (a base class).
    Unbound,
    Known(PwDb),
    /// A `Meta.database` that is not known (a proxy, an attribute): silent.
    Unknown,
}

/// What a name or expression is, for the peewee rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PwKind {
    Database(PwDb),
    Model { db: Bound, twins: PwTwins },
}

/// A class's `Meta.database` as its module's text shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetaDb {
    Ctor(PwDb),
    Name(String),
    Unknown,
}

/// A bound model (or its query or instance): the database and the twins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PwModel {
    pub db: PwDb,
    pub twins: PwTwins,
}

/// The database kind a constructor path makes (`peewee.SqliteDatabase`).
pub fn ctor_db(path: &str) -> Option<PwDb> {
    if path == "playhouse.db_url.connect" {
        return Some(PwDb::Sync);
    }
    let (module, last) = path.rsplit_once('.')?;
    if !last.ends_with("Database") {
        return None;
    }
    let top = module.split('.').next().unwrap_or(module);
    if module == "playhouse.pwasyncio" {
        Some(PwDb::Pwasyncio)
    } else if top == "peewee_async" || top == "peewee_asyncext" {
        Some(PwDb::PeeweeAsync)
    } else if top == "peewee" || top == "playhouse" {
        Some(PwDb::Sync)
    } else {
        None
    }
}

/// The model base classes the libraries define.
fn library_model(path: &str) -> Option<PwTwins> {
    match path {
        "peewee.Model" | "playhouse.signals.Model" => Some(PwTwins::None),
        "playhouse.pwasyncio.AsyncModel" => Some(PwTwins::Pwasyncio),
        "peewee_async.AioModel" | "peewee_async.models.AioModel" => Some(PwTwins::PeeweeAsync),
        _ => None,
    }
}

/// What one module offers to [`resolve`].
pub trait PwScope {
    /// A module-level name assigned a database constructor.
    fn db_named(&self, name: &str) -> Option<PwDb>;
    /// A module-level class: its bases as written and its `Meta.database`.
    fn class_named(&self, name: &str) -> Option<(Vec<String>, Option<MetaDb>)>;
    /// The dotted import path of a local name.
    fn import_path(&self, name: &str) -> Option<String>;
    /// What a dotted path names in another module.
    fn follow(&self, dotted: &str, depth: u32) -> Option<PwKind>;
}

/// What the name or dotted name `text` is in `scope`.
pub fn resolve(scope: &dyn PwScope, text: &str, depth: u32) -> Option<PwKind> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (first, rest) = match text.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    if let Some(base) = scope.import_path(first) {
        let full = match rest {
            Some(r) => format!("{base}.{r}"),
            None => base,
        };
        if let Some(twins) = library_model(&full) {
            return Some(PwKind::Model { db: Bound::Unbound, twins });
        }
        return scope.follow(&full, depth + 1);
    }
    if rest.is_some() {
        return None;
    }
    if let Some(db) = scope.db_named(text) {
        return Some(PwKind::Database(db));
    }
    let (bases, meta) = scope.class_named(text)?;
    let mut model = false;
    let mut twins = PwTwins::None;
    let mut db = Bound::Unbound;
    for b in bases.iter().filter(|b| b.as_str() != text) {
        if let Some(PwKind::Model { db: d, twins: t }) = resolve(scope, b, depth + 1) {
            model = true;
            if twins == PwTwins::None {
                twins = t;
            }
            if db == Bound::Unbound {
                db = d;
            }
        }
    }
    if !model {
        return None;
    }
    match meta {
        Some(MetaDb::Ctor(d)) => db = Bound::Known(d),
        Some(MetaDb::Name(n)) => {
            db = match resolve(scope, &n, depth + 1) {
                Some(PwKind::Database(d)) => Bound::Known(d),
                _ => Bound::Unknown,
            }
        }
        Some(MetaDb::Unknown) => db = Bound::Unknown,
        None => {}
    }
    Some(PwKind::Model { db, twins })
}

/// `class Meta: database = …` in the body of `class_def`.
pub fn class_meta_db(m: &PyModel, class_def: Node) -> Option<MetaDb> {
    let body = class_def.child_by_field_name("body")?;
    let mut c = body.walk();
    let meta = body.named_children(&mut c).find(|n| {
        n.kind() == "class_definition" && n.child_by_field_name("name").is_some_and(|x| m.node_text(x) == "Meta")
    })?;
    let meta_body = meta.child_by_field_name("body")?;
    let mut c = meta_body.walk();
    let mut found = None;
    for stmt in meta_body.named_children(&mut c).filter(|s| s.kind() == "expression_statement") {
        let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
        let (Some(left), Some(right)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        if m.node_text(left) != "database" {
            continue;
        }
        found = Some(match right.kind() {
            "call" => match right.child_by_field_name("function").and_then(|f| m.resolve_dotted(m.node_text(f))).and_then(|p| ctor_db(&p)) {
                Some(d) => MetaDb::Ctor(d),
                None => MetaDb::Unknown,
            },
            "identifier" | "attribute" => MetaDb::Name(m.node_text(right).to_string()),
            _ => MetaDb::Unknown,
        });
    }
    found
}

/// The bases of a class definition, as written.
fn class_bases(m: &PyModel, def: Node) -> Vec<String> {
    let Some(a) = def.child_by_field_name("superclasses") else { return vec![] };
    let mut c = a.walk();
    let bases = a
        .named_children(&mut c)
        .filter(|b| matches!(b.kind(), "identifier" | "attribute"))
        .map(|b| m.node_text(b).to_string())
        .collect();
    bases
}

/// Class methods of a model that run a query.
pub const MODEL_IO: &[&str] = &[
    "get", "get_or_none", "get_by_id", "create", "get_or_create", "bulk_create", "bulk_update", "delete_by_id",
    "set_by_id", "create_table", "drop_table", "table_exists", "truncate_table",
];
/// Model class methods that build a query (no I/O).
const BUILDERS: &[&str] = &[
    "select", "update", "insert", "insert_many", "insert_from", "replace", "replace_many", "delete", "raw", "filter",
    "noop",
];
/// Query methods that run it.
pub const QUERY_IO: &[&str] = &["execute", "get", "get_or_none", "first", "count", "exists", "scalar", "peek"];
/// Instance methods that run a query.
pub const INSTANCE_IO: &[&str] = &["save", "delete_instance"];
/// Model class methods that give an instance (sync, pwasyncio and peewee-async names).
const INSTANCE_MAKERS: &[&str] = &[
    "get", "get_or_none", "get_by_id", "create", "aget", "aget_or_none", "acreate", "aio_get", "aio_get_or_none",
    "aio_create", "aio_get_by_id",
];
/// Database methods that do I/O (AG401).
pub const DB_IO: &[&str] = &["execute_sql", "execute", "create_tables", "drop_tables", "connect", "commit", "rollback", "get_tables"];
/// Database methods entered with `with` that open a transaction or a connection.
pub const DB_CMS: &[&str] = &["atomic", "transaction", "savepoint", "manual_commit", "connection_context"];

impl<'t> PwScope for PyModel<'t> {
    fn db_named(&self, name: &str) -> Option<PwDb> {
        let v = self.module_assignment(name)?;
        self.ctor_of(v)
    }

    fn class_named(&self, name: &str) -> Option<(Vec<String>, Option<MetaDb>)> {
        let def = self.class_node(name)?;
        Some((class_bases(self, def), class_meta_db(self, def)))
    }

    fn import_path(&self, name: &str) -> Option<String> {
        self.import_of(name).map(str::to_string)
    }

    fn follow(&self, dotted: &str, depth: u32) -> Option<PwKind> {
        if self.outside_off.get() > 0 {
            return None;
        }
        self.outside?.py_peewee(dotted, depth)
    }
}

impl<'t> PyModel<'t> {
    /// The file imports peewee, playhouse or peewee-async.
    pub fn imports_peewee(&self) -> bool {
        let lib = |p: &str, m: &str| p == m || p.strip_prefix(m).is_some_and(|r| r.starts_with('.'));
        self.imports.values().any(|p| lib(p, "peewee") || lib(p, "playhouse") || lib(p, "peewee_async"))
    }

    /// The database a constructor call `v` makes.
    fn ctor_of(&self, v: Node<'t>) -> Option<PwDb> {
        if v.kind() != "call" {
            return None;
        }
        let f = v.child_by_field_name("function")?;
        ctor_db(&self.resolve_dotted(self.node_text(f))?)
    }

    /// The value last assigned to `name` at module level.
    fn module_assignment(&self, name: &str) -> Option<Node<'t>> {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let mut found = None;
        for stmt in root.named_children(&mut c).filter(|s| s.kind() == "expression_statement") {
            let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            if l.kind() == "identifier" && self.node_text(l) == name {
                found = Some(r);
            }
        }
        found
    }

    /// What `n` (a name, a dotted name, a constructor call) is, for the peewee rules.
    pub fn pw_kind(&self, n: Node<'t>) -> Option<PwKind> {
        self.pw_kind_at(n, 0)
    }

    fn pw_kind_at(&self, n: Node<'t>, depth: u32) -> Option<PwKind> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "parenthesized_expression" => self.pw_kind_at(n.named_child(0)?, depth + 1),
            "call" => self.ctor_of(n).map(PwKind::Database),
            "identifier" => {
                let name = self.node_text(n);
                match self.binding_in(name, n.start_byte()) {
                    Some((_, b)) => match b.value {
                        Some(v) => self.pw_kind_at(v, depth + 1),
                        // A class or a name bound otherwise: a module-level class only.
                        None => self.class_node(name).and_then(|_| resolve(self, name, depth)),
                    },
                    None => resolve(self, name, depth),
                }
            }
            "attribute" => {
                let text = self.node_text(n);
                let first = text.split('.').next()?;
                if self.binding(first, n.start_byte()).is_some() || self.import_of(first).is_none() {
                    return None;
                }
                resolve(self, text, depth)
            }
            _ => None,
        }
    }

    /// A bound model class `n` names.
    pub fn pw_model(&self, n: Node<'t>) -> Option<PwModel> {
        match self.pw_kind(n)? {
            PwKind::Model { db: Bound::Known(db), twins } => Some(PwModel { db, twins }),
            _ => None,
        }
    }

    /// The database `n` names.
    pub fn pw_database(&self, n: Node<'t>) -> Option<PwDb> {
        match self.pw_kind(n)? {
            PwKind::Database(d) => Some(d),
            _ => None,
        }
    }

    /// `n` is a query of a bound model: `Model.<builder>(…)` and methods chained on it.
    pub fn pw_query(&self, n: Node<'t>) -> Option<PwModel> {
        self.pw_query_at(n, 0)
    }

    fn pw_query_at(&self, n: Node<'t>, depth: u32) -> Option<PwModel> {
        if depth > 32 {
            return None;
        }
        let n = if n.kind() == "parenthesized_expression" { n.named_child(0)? } else { n };
        if n.kind() == "identifier" {
            // `query = Model.select(…)`: the value bound.
            let v = self.binding(self.node_text(n), n.start_byte())?.value?;
            return self.pw_query_at(v, depth + 1);
        }
        if n.kind() != "call" {
            return None;
        }
        let f = n.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
        let obj = f.child_by_field_name("object")?;
        let m = self.node_text(f.child_by_field_name("attribute")?);
        if BUILDERS.contains(&m) {
            if let Some(model) = self.pw_model(obj) {
                return Some(model);
            }
        }
        if QUERY_IO.contains(&m) || m.starts_with("aio_") || m == "aexecute" {
            return None; // already run: not a query any more
        }
        self.pw_query_at(obj, depth + 1)
    }

    /// `n` is an instance of a bound model (see the module doc).
    pub fn pw_instance(&self, n: Node<'t>) -> Option<PwModel> {
        if n.kind() != "identifier" {
            return None;
        }
        let (_, b) = self.binding_in(self.node_text(n), n.start_byte())?;
        if let Some(v) = b.value {
            return self.pw_made_instance(v);
        }
        if let Some(l) = self.loop_iters.get(&b.pos) {
            if l.target.kind() == "identifier" {
                return self.pw_query(l.iter);
            }
            return None;
        }
        // `obj, created = Model.get_or_create(…)`: the first target (the binding is in effect
        // from the assignment's end).
        let mut assign = self.tree.root_node().descendant_for_byte_range(b.pos.saturating_sub(1), b.pos)?;
        while assign.kind() != "assignment" || assign.end_byte() != b.pos {
            assign = assign.parent()?;
        }
        let list = assign.child_by_field_name("left").filter(|l| matches!(l.kind(), "pattern_list" | "tuple_pattern"))?;
        if list.named_child(0).is_none_or(|f| self.node_text(f) != self.node_text(n)) {
            return None;
        }
        let right = assign.child_by_field_name("right")?;
        let call = if right.kind() == "await" { right.named_child(0)? } else { right };
        let f = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
        let m = self.node_text(f.child_by_field_name("attribute")?);
        if !matches!(m, "get_or_create" | "aget_or_create" | "aio_get_or_create") {
            return None;
        }
        self.pw_model(f.child_by_field_name("object")?)
    }

    fn pw_made_instance(&self, v: Node<'t>) -> Option<PwModel> {
        let call = if v.kind() == "await" { v.named_child(0)? } else { v };
        if call.kind() != "call" {
            return None;
        }
        let f = call.child_by_field_name("function")?;
        if f.kind() == "attribute" {
            let m = self.node_text(f.child_by_field_name("attribute")?);
            if !INSTANCE_MAKERS.contains(&m) {
                return None;
            }
            let obj = f.child_by_field_name("object")?;
            return self.pw_model(obj).or_else(|| if matches!(m, "get" | "first" | "aio_get" | "aio_first") { self.pw_query(obj) } else { None });
        }
        if v.kind() == "await" {
            return None;
        }
        self.pw_model(f)
    }
}

/// What a call `<recv>.<method>(…)` runs on, for the peewee rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PwCall {
    /// A database method doing I/O (`execute_sql`).
    Db(PwDb),
    /// A model class method running a query (`User.get(…)`).
    Model(PwModel),
    /// A query run (`User.select().count()`).
    Query(PwModel),
    /// An instance method running a query (`user.save()`).
    Instance(PwModel),
}

impl PwCall {
    pub fn db(self) -> PwDb {
        match self {
            PwCall::Db(d) => d,
            PwCall::Model(m) | PwCall::Query(m) | PwCall::Instance(m) => m.db,
        }
    }
}

impl<'t> PyModel<'t> {
    /// What `<recv>.<method>(…)` runs a query on; `None`: not a peewee query (or unknown).
    pub fn pw_call(&self, recv: Node<'t>, method: &str) -> Option<PwCall> {
        if INSTANCE_IO.contains(&method) {
            if let Some(m) = self.pw_instance(recv) {
                return Some(PwCall::Instance(m));
            }
        }
        if MODEL_IO.contains(&method) {
            if let Some(m) = self.pw_model(recv) {
                return Some(PwCall::Model(m));
            }
        }
        if QUERY_IO.contains(&method) {
            if let Some(m) = self.pw_query(recv) {
                return Some(PwCall::Query(m));
            }
        }
        if DB_IO.contains(&method) {
            if let Some(d) = self.pw_database(recv) {
                return Some(PwCall::Db(d));
            }
        }
        None
    }

    /// `with <value>` opens a transaction or connection of a known database:
    /// `db.atomic()`, `db.transaction()`, `db.savepoint()`, `db.connection_context()`.
    pub fn pw_with_db(&self, value: Node<'t>) -> Option<PwDb> {
        let f = value.child_by_field_name("function").filter(|f| value.kind() == "call" && f.kind() == "attribute")?;
        let m = self.node_text(f.child_by_field_name("attribute")?);
        if !DB_CMS.contains(&m) {
            return None;
        }
        self.pw_database(f.child_by_field_name("object")?)
    }
}

/// The async twin of a query-running call on an async database, when the model has it
/// (RULES.md §3.7): pwasyncio's `AsyncModel` (`aget`, `aexecute`, `asave` …), peewee-async's
/// `AioModel` (`aio_get`, `aio_execute`, `aio_save` …). Same arguments as the sync method.
pub fn async_twin(call: PwCall, method: &str) -> Option<&'static str> {
    let (m, on) = match call {
        PwCall::Model(m) => (m, 0),
        PwCall::Query(m) => (m, 1),
        PwCall::Instance(m) => (m, 2),
        PwCall::Db(_) => return None,
    };
    match (m.db, m.twins, on) {
        (PwDb::Pwasyncio, PwTwins::Pwasyncio, 0) => match method {
            "get" => Some("aget"),
            "get_or_none" => Some("aget_or_none"),
            "create" => Some("acreate"),
            "get_or_create" => Some("aget_or_create"),
            "bulk_create" => Some("abulk_create"),
            "bulk_update" => Some("abulk_update"),
            _ => None,
        },
        (PwDb::Pwasyncio, PwTwins::Pwasyncio, 1) => (method == "execute").then_some("aexecute"),
        (PwDb::Pwasyncio, PwTwins::Pwasyncio, _) => match method {
            "save" => Some("asave"),
            "delete_instance" => Some("adelete_instance"),
            _ => None,
        },
        (PwDb::PeeweeAsync, PwTwins::PeeweeAsync, 0) => match method {
            "get" => Some("aio_get"),
            "get_or_none" => Some("aio_get_or_none"),
            "create" => Some("aio_create"),
            "get_or_create" => Some("aio_get_or_create"),
            _ => None,
        },
        (PwDb::PeeweeAsync, PwTwins::PeeweeAsync, 1) => match method {
            "execute" => Some("aio_execute"),
            "scalar" => Some("aio_scalar"),
            "first" => Some("aio_first"),
            "count" => Some("aio_count"),
            "exists" => Some("aio_exists"),
            _ => None,
        },
        (PwDb::PeeweeAsync, PwTwins::PeeweeAsync, _) => match method {
            "save" => Some("aio_save"),
            "delete_instance" => Some("aio_delete_instance"),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_by_path() {
        assert_eq!(ctor_db("peewee.SqliteDatabase"), Some(PwDb::Sync));
        assert_eq!(ctor_db("playhouse.pool.PooledPostgresqlDatabase"), Some(PwDb::Sync));
        assert_eq!(ctor_db("playhouse.db_url.connect"), Some(PwDb::Sync));
        assert_eq!(ctor_db("playhouse.pwasyncio.AsyncMySQLDatabase"), Some(PwDb::Pwasyncio));
        assert_eq!(ctor_db("peewee_async.PooledPostgresqlDatabase"), Some(PwDb::PeeweeAsync));
        assert_eq!(ctor_db("peewee_asyncext.PostgresqlExtDatabase"), Some(PwDb::PeeweeAsync));
        // A proxy, another library's class, a lookalike module: unknown.
        assert_eq!(ctor_db("peewee.DatabaseProxy"), None);
        assert_eq!(ctor_db("peewee_aio.Manager"), None);
        assert_eq!(ctor_db("databases.Database"), None);
        assert_eq!(ctor_db("mypeewee.SqliteDatabase"), None);
    }

    struct Fake;
    impl PwScope for Fake {
        fn db_named(&self, name: &str) -> Option<PwDb> {
            (name == "db").then_some(PwDb::Pwasyncio)
        }
        fn class_named(&self, name: &str) -> Option<(Vec<String>, Option<MetaDb>)> {
            match name {
                "Base" => Some((vec!["AsyncModel".into()], Some(MetaDb::Name("db".into())))),
                "Item" => Some((vec!["Base".into()], None)),
                "Loop" => Some((vec!["Loop".into()], None)),
                "Proxied" => Some((vec!["Base".into()], Some(MetaDb::Unknown))),
                "Plain" => Some((vec!["object".into()], Some(MetaDb::Name("db".into())))),
                _ => None,
            }
        }
        fn import_path(&self, name: &str) -> Option<String> {
            (name == "AsyncModel").then(|| "playhouse.pwasyncio.AsyncModel".into())
        }
        fn follow(&self, _: &str, _: u32) -> Option<PwKind> {
            None
        }
    }

    #[test]
    fn bases_and_meta() {
        let model = |db, twins| Some(PwKind::Model { db, twins });
        assert_eq!(resolve(&Fake, "Item", 0), model(Bound::Known(PwDb::Pwasyncio), PwTwins::Pwasyncio));
        assert_eq!(resolve(&Fake, "Proxied", 0), model(Bound::Unknown, PwTwins::Pwasyncio));
        assert_eq!(resolve(&Fake, "db", 0), Some(PwKind::Database(PwDb::Pwasyncio)));
        // Not a peewee model (no peewee base); a class naming itself terminates.
        assert_eq!(resolve(&Fake, "Plain", 0), None);
        assert_eq!(resolve(&Fake, "Loop", 0), None);
    }
}
