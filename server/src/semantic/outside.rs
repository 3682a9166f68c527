//! What one file's analysis may ask about names defined in other files of the project: the
//! questions, and the shape of their answers. The project model ([`crate::project`])
//! answers them; the semantic model only asks (so `semantic` does not depend on `project`).
//!
//! Invariants:
//! - An answer is a pure function of the project's file texts: the same texts give the same
//!   answers, whether the model was built fresh or updated by edits.
//! - `None` means unknown: a name outside the project (site-packages, crates.io), a file
//!   that does not parse, a cycle. Rules stay silent on unknown.

use super::summary::Work;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A place in another file (or this one), for `related` locations of findings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Loc {
    /// The file; empty for the analysed file itself (findings do not depend on its path; the
    /// CLI and the server fill it in when they render).
    pub path: PathBuf,
    pub range: Range<usize>,
    /// What is there, in a few words (`Loan.objects.get()`).
    pub what: String,
}

/// What a function returns, as far as its `return` statements tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Returns {
    /// A lazy Django queryset (every returned value is one).
    QuerySet,
    /// A model instance.
    Instance,
    /// A Django manager.
    Manager,
    #[default]
    Other,
}

/// A Python function or method.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FnFacts {
    pub name: String,
    pub is_async: bool,
    /// Decorated with `@sync_to_async` / `@database_sync_to_async` (calling it gives an
    /// awaitable that runs the body in a thread).
    pub offloaded: bool,
    pub generator: bool,
    pub returns: Returns,
    /// Sync database work in the body, directly or through project functions it calls: the
    /// chain of call sites, the database call last. Empty: none known.
    pub db_work: Vec<Loc>,
    /// The ways it reaches sync database work, with the guards on its parameters each runs
    /// under ([`super::summary::db_alts`]); filled wherever `db_work` is, which is then the
    /// first way's chain.
    pub db_alts: Vec<super::summary::DbAlt>,
    /// Its parameters' names in order ([`super::summary::LocalFn::params`]).
    pub params: Vec<String>,
    /// Its constant defaults ([`super::summary::LocalFn::defaults`]).
    pub defaults: Vec<(String, String)>,
    /// A background-task dispatch in the body, directly or through project functions it
    /// calls ([`super::summary::dispatch_work`]): the chain of call sites, the dispatch last.
    pub dispatch: Vec<Loc>,
    /// A task whose decorator's `base=` class defers dispatch to `transaction.on_commit`.
    pub on_commit_task: bool,
    /// `async_to_sync(f)(…)` in the body, directly or through project functions it calls:
    /// the chain of call sites, that call last. Filled only in answers to
    /// [`Outside::py_def_work`] with [`Work::AsyncToSync`] (else empty: not looked for).
    pub a2s_work: Vec<Loc>,
    /// Decorated by a task decorator the project defines itself (a class or function of the
    /// project) that is not visibly built on Celery (no Celery base class): a dispatcher of
    /// the project's own, whose `delay`/`apply_async` this tool does not know (AG208 silent).
    pub project_dispatcher: bool,
    /// Its decorators as written, top first ([`super::summary::LocalFn::decorators`]).
    pub decorators: Vec<String>,
    /// What its one `return` produces: an instance or queryset of a project model, with the
    /// relations the query names (AG104 through helpers of other modules).
    pub produces: Option<Arc<super::relations::Produced>>,
    /// Attributes it reads on its positional parameters ([`super::summary::LocalFn::param_reads`]);
    /// `None` when its body was not read (unknown).
    pub param_reads: Option<Vec<(usize, String)>>,
    /// What the elements of its returned tuples produce, by index ([`FnFacts::produces`] of each).
    pub produces_items: Vec<(usize, Arc<super::relations::Produced>)>,
    pub loc: Option<Loc>,
}

/// A Python class.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClassFacts {
    pub name: String,
    /// A Django (or dorm) model, through its bases in any project file.
    pub is_model: bool,
    /// Attributes that hold a manager (`objects`, `live = PublishedManager()`), inherited
    /// ones included.
    pub manager_attrs: Vec<String>,
    /// The `a*` methods the class or a project base defines (`AsyncModel.asave`).
    pub a_methods: Vec<String>,
    /// A Celery task base whose `apply_async`/`delay` defers to `transaction.on_commit`
    /// (itself or a project base; or named `…TransactionAware…`/`…OnCommit…`).
    pub defers_on_commit: bool,
    /// The bases from outside the project it derives from, directly or through project
    /// classes, as dotted import paths (`rest_framework.serializers.ModelSerializer`), or as
    /// written when not imported.
    pub lib_bases: Vec<String>,
    /// Model fields its body and its project bases declare (AG104).
    pub fields: Vec<super::relations::ModelField>,
    /// A homemade async atomic: its `__aenter__` (or a project base's) enters Django's sync
    /// `Atomic` through `sync_to_async` ([`super::async_cms`], AG204).
    pub homemade_atomic: bool,
    /// SQLAlchemy / SQLModel mapped attributes its body and its project bases declare (AG104).
    pub sqla_attrs: Vec<super::sqla::MappedAttr>,
    pub loc: Option<Loc>,
}

/// What the models of one module declare that makes `obj.<attr>` or `X.<m>()` ORM work.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleFacts {
    /// Related-manager attributes on instances: many-to-many fields, `related_name`s of
    /// foreign keys and many-to-many fields, and the default `<model>_set` names.
    pub related_attrs: Vec<String>,
    /// Attributes of model classes that hold managers.
    pub manager_attrs: Vec<String>,
    /// Methods of custom `QuerySet`/`Manager` classes that return a queryset.
    pub queryset_methods: Vec<String>,
    /// Reverse one-to-one attributes its models give other models: (target class name,
    /// attribute), see [`super::relations::reverse_one_to_one`].
    pub reverse_one_to_one: Vec<(String, String)>,
    /// Module-level names of this module (not of the modules it imports) assigned a dorm
    /// circuit breaker (`payments = circuit_breaker("payments")`, AG309).
    pub circuit_breakers: Vec<String>,
    /// Module-level names of this module assigned a django-ninja `NinjaAPI(…)` / `Router(…)`
    /// (AG206).
    pub ninja_routers: Vec<String>,
}

impl ModuleFacts {
    /// Adds the model facts of `other` (not its circuit breakers: those stay per module).
    pub fn absorb(&mut self, other: &ModuleFacts) {
        self.related_attrs.extend(other.related_attrs.iter().cloned());
        self.manager_attrs.extend(other.manager_attrs.iter().cloned());
        self.queryset_methods.extend(other.queryset_methods.iter().cloned());
        self.reverse_one_to_one.extend(other.reverse_one_to_one.iter().cloned());
    }

    /// Sorts the model facts and drops repeats (circuit breakers and ninja routers, per module, left as they are).
    pub fn sort_dedup(&mut self) {
        for v in [&mut self.related_attrs, &mut self.manager_attrs, &mut self.queryset_methods] {
            v.sort();
            v.dedup();
        }
        self.reverse_one_to_one.sort();
        self.reverse_one_to_one.dedup();
    }
}

/// What a Python name imported from the project is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PyDef {
    Module(Arc<ModuleFacts>),
    Class(Arc<ClassFacts>),
    Function(Arc<FnFacts>),
}

impl ModuleFacts {
    pub fn is_empty(&self) -> bool {
        self.related_attrs.is_empty() && self.manager_attrs.is_empty() && self.queryset_methods.is_empty()
    }
}

/// Questions about the rest of the project, asked by the analysis of one file.
pub trait Outside: Sync {
    /// What the import path `dotted` names: `.models.Book`, `shop.services.close_loan`,
    /// `.models` (leading dots: relative to the analysed file's package).
    fn py_def(&self, dotted: &str) -> Option<PyDef>;

    /// The facts of the module `dotted` names, when it names a module ([`PyDef::Module`]);
    /// `None` otherwise. Implementations may skip computing what a class or function is.
    fn py_module_facts(&self, dotted: &str) -> Option<Arc<ModuleFacts>> {
        match self.py_def(dotted) {
            Some(PyDef::Module(f)) => Some(f),
            _ => None,
        }
    }

    /// [`Outside::py_module_facts`] for one name: the facts may leave out those of modules
    /// whose text lacks the word `word` (no module's facts can hold `word` without it).
    fn py_module_facts_with(&self, dotted: &str, word: &str) -> Option<Arc<ModuleFacts>> {
        let _ = word;
        self.py_module_facts(dotted)
    }

    /// [`Outside::py_def`], with a function's work of kind `kind` looked for (for
    /// [`Work::Db`] the same answer as `py_def`). `None` by default (unknown).
    fn py_def_work(&self, _dotted: &str, _kind: Work) -> Option<PyDef> {
        None
    }

    /// The model class `name` of the Django app labelled `label` (`"people"` of
    /// `AUTH_USER_MODEL = "people.Member"`), wherever the app's `models` module is in the
    /// project, whether or not the analysed file imports it. `None` by default (unknown).
    fn py_app_model(&self, _label: &str, _name: &str) -> Option<PyDef> {
        None
    }

    /// The SQLAlchemy kind of a module-level name of another file (`app.db.async_session`),
    /// from that file's text alone. `None` by default (unknown).
    fn py_sqla(&self, _dotted: &str) -> Option<super::sqla::SqlaKind> {
        None
    }

    /// What the module-level name `dotted` of another file gives as a FastAPI dependency (a
    /// function yielding a session, or an `Annotated[…, Depends(…)]` alias), from that
    /// file's text alone. `None` by default (unknown).
    fn py_sqla_dep(&self, _dotted: &str) -> Option<super::sqla::DepFacts> {
        None
    }

    /// The peewee kind (a database, a model class and its database) of a name of another
    /// file (`app.models.User`), through that file's bases and imports; `depth` bounds the
    /// walk ([`super::peewee::MAX_DEPTH`]). `None` by default (unknown).
    fn py_peewee(&self, _dotted: &str, _depth: u32) -> Option<super::peewee::PwKind> {
        None
    }

    /// Rust: what the path names (`crate::db::DbPool`, `super::repo::find_user`), relative
    /// to the analysed file's module. `None` by default (unknown).
    fn rs_def(&self, _path: &str) -> Option<RsDef> {
        None
    }

    /// The analysed file's path (for `related` locations in this file). `None` by default.
    fn rs_here(&self) -> Option<PathBuf> {
        None
    }

    /// Rust: whether the project type at `path` (an error enum or struct) converts from the
    /// type named `source` (last segment: `JoinError`) through `?`, judged in the file that
    /// declares it (`impl From<source> for T`, a `#[from] source` field). `None`: unknown.
    fn rs_converts_from(&self, _path: &str, _source: &str) -> Option<bool> {
        None
    }
}

/// What a Rust path in the project names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RsDef {
    /// `type X = …;`, a `static`/`LazyLock`/`Lazy` item, or a `const`: the crate object it is.
    Value(super::rust::Kind),
    /// A struct: its fields' kinds (unknown fields left out).
    Struct(Vec<(String, super::rust::Kind)>),
    /// A function.
    Fn(Arc<RsFnFacts>),
}

/// A Rust function.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RsFnFacts {
    pub name: String,
    pub is_async: bool,
    /// What it returns (a pooled connection, a pool …).
    pub returns: Option<super::rust::Kind>,
    /// The path of the (named) type it returns, through `Result`/`Option`, wrappers and
    /// references: `crate::db::DbConn` for a project type (as written, for a function of the
    /// analysed file).
    pub returns_path: Option<String>,
    /// It blocks on the database, directly or through project functions it calls: the chain
    /// of call sites, the blocking call last. Empty: not known to block.
    pub blocks: Vec<Loc>,
    /// Indexes of parameters whose closure it runs in `spawn_blocking` / `web::block`.
    pub offloads_params: Vec<usize>,
    /// Indexes of parameters it runs a query on (sqlx `.execute(p)`, `.fetch_*(p)`; sea-orm
    /// `.one(p)`, `.exec(p)` …), directly or by handing them to another project function
    /// that does; each with the query's location (AG511 across helpers).
    pub queries_params: Vec<(usize, Loc)>,
    /// It takes `self` (`&self`, `&mut self`, `self`): called as `Type::f(&obj, a)`, argument
    /// `i + 1` is parameter `i` of the indexes above (they count only non-`self` parameters).
    pub has_self: bool,
    pub loc: Option<Loc>,
}

impl RsFnFacts {
    /// The parameter index (as `offloads_params` / `queries_params` count them) of the
    /// argument at `arg` of a call: one less for a `self` method called by its path
    /// (`Repo::add(&repo, pool)`), `None` for that `self` argument.
    pub fn param_of_arg(&self, path_call: bool, arg: usize) -> Option<usize> {
        if path_call && self.has_self { arg.checked_sub(1) } else { Some(arg) }
    }

    /// The argument index of parameter `param` (the inverse of [`Self::param_of_arg`]).
    pub fn arg_of_param(&self, path_call: bool, param: usize) -> usize {
        if path_call && self.has_self { param + 1 } else { param }
    }
}

/// The module facts of every project module `imports` names (the module itself, or the
/// module a name was imported from), merged: what this file can see of models declared
/// elsewhere.
pub fn imported_facts<'a>(outside: &dyn Outside, imports: impl Iterator<Item = &'a String>) -> ModuleFacts {
    merged_facts(imports, |m| outside.py_module_facts(m))
}

/// [`imported_facts`] for one name: what holds `word` is there (facts of modules whose text
/// lacks `word` may be left out).
pub fn imported_facts_with<'a>(outside: &dyn Outside, imports: impl Iterator<Item = &'a String>, word: &str) -> ModuleFacts {
    merged_facts(imports, |m| outside.py_module_facts_with(m, word))
}

fn merged_facts<'a>(imports: impl Iterator<Item = &'a String>, facts_of: impl Fn(&str) -> Option<Arc<ModuleFacts>>) -> ModuleFacts {
    let mut modules: Vec<String> = vec![];
    for path in imports {
        let module = match path.rsplit_once('.') {
            Some((m, _)) if !m.is_empty() => m.to_string(),
            _ => path.clone(),
        };
        modules.push(module);
        modules.push(path.clone());
    }
    modules.sort();
    modules.dedup();
    let mut out = ModuleFacts::default();
    for m in modules {
        if m.trim_start_matches('.').is_empty() && !m.starts_with('.') {
            continue;
        }
        if let Some(f) = facts_of(&m) {
            out.absorb(&f);
        }
    }
    out.sort_dedup();
    out
}

/// How many calls deep [`PyModel::local_db_work`] follows this file's helpers.
const LOCAL_DEPTH: u32 = 8;

impl<'t> super::PyModel<'t> {
    /// What the project modules this file imports declare, merged (empty without a project).
    pub fn imported_facts(&self) -> &ModuleFacts {
        static NONE: std::sync::LazyLock<ModuleFacts> = std::sync::LazyLock::new(ModuleFacts::default);
        if self.outside_off.get() > 0 {
            return &NONE;
        }
        self.imported.get_or_init(|| match self.outside {
            Some(o) => imported_facts(o, self.imports.values()),
            None => ModuleFacts::default(),
        })
    }

    /// `ask` of what the project modules this file imports declare, for the word `word`:
    /// only the modules whose text has `word` are summarised ([`imported_facts_with`]), so
    /// `ask` must look for `word` only (a manager attribute, a relation, a queryset method
    /// named `word`; reverse one-to-ones with `word` = `OneToOneField`).
    pub fn imported_has(&self, word: &str, mut ask: impl FnMut(&ModuleFacts) -> bool) -> bool {
        if self.outside_off.get() > 0 {
            return false;
        }
        if let Some(all) = self.imported.get() {
            return ask(all);
        }
        let Some(o) = self.outside else { return false };
        let known = self.imported_by_word.borrow().get(word).cloned();
        let facts = match known {
            Some(f) => f,
            None => {
                let f = std::rc::Rc::new(imported_facts_with(o, self.imports.values(), word));
                self.imported_by_word.borrow_mut().insert(word.to_string(), f.clone());
                f
            }
        };
        ask(&facts)
    }

    /// The reverse one-to-ones the project modules this file imports declare.
    pub fn imported_reverse_o2o(&self) -> Vec<(String, String)> {
        let mut out = vec![];
        self.imported_has("OneToOneField", |f| {
            out = f.reverse_one_to_one.clone();
            true
        });
        out
    }

    /// What the imported name `name` (or `name.attr`, for an imported module) is in the
    /// project; `None`: not imported, or unknown.
    pub fn imported_def(&self, name: &str, attr: Option<&str>) -> Option<PyDef> {
        self.imported_def_work(name, attr, Work::Db)
    }

    /// [`PyModel::imported_def`], a function's work of kind `kind` looked for.
    pub fn imported_def_work(&self, name: &str, attr: Option<&str>, kind: Work) -> Option<PyDef> {
        if self.outside_off.get() > 0 {
            return None;
        }
        let outside = self.outside?;
        let path = self.import_of(name)?;
        let dotted = match attr {
            Some(a) => format!("{path}.{a}"),
            None => path.to_string(),
        };
        match kind {
            Work::Db => outside.py_def(&dotted),
            _ => outside.py_def_work(&dotted, kind),
        }
    }

    /// The facts of the function a callee expression names: a `def` of this file
    /// (`helper`), or a project function imported by name (`helper`) or through its module
    /// (`services.helper`). `None`: unknown. `db_work` is filled for both ([`PyModel::local_db_work`]
    /// for this file's defs), except while a function summary is being computed.
    pub fn callee_facts(&self, func: tree_sitter::Node<'t>) -> Option<FnFacts> {
        self.callee_work(func, Work::Db)
    }

    /// [`PyModel::callee_facts`] with the work of kind `kind` filled in ([`Work::of`]) instead
    /// of `db_work` (for [`Work::Db`] the same).
    pub fn callee_work(&self, func: tree_sitter::Node<'t>, kind: Work) -> Option<FnFacts> {
        match func.kind() {
            "identifier" => {
                let name = self.node_text(func);
                if self.import_of(name).is_some() {
                    if self.binding(name, func.start_byte()).is_some_and(|b| b.value.is_some()) {
                        return None;
                    }
                    return match self.imported_def_work(name, None, kind)? {
                        PyDef::Function(f) => Some((*f).clone()),
                        _ => None,
                    };
                }
                // Only the `def` is wanted here (its facts are read below), not the kind the
                // decorators give it for a given Django version.
                match self.callable(func, crate::dialects::django::NEWEST) {
                    super::bridges::Callable::SyncDef(def) | super::bridges::Callable::AsyncDef(Some(def)) => {
                        let f = self.local_fn_memo(def)?;
                        let top = self.local_fn_depth.get() == 0;
                        let (mut db_work, mut dispatch, mut a2s_work, mut db_alts) = (vec![], vec![], vec![], vec![]);
                        if top {
                            match kind {
                                Work::Db | Work::Dispatch => {
                                    db_alts = self.local_db_alts(&f);
                                    db_work = db_alts.first().map(|a: &super::summary::DbAlt| a.chain.clone()).unwrap_or_default();
                                    dispatch = self.local_work(&f, Work::Dispatch);
                                }
                                Work::AsyncToSync => a2s_work = self.local_work(&f, kind),
                            }
                        }
                        Some(FnFacts {
                            name: f.name,
                            is_async: f.is_async,
                            offloaded: f.offloaded || self.offloaded_names().contains(self.node_text(func)),
                            generator: f.generator,
                            returns: f.returns,
                            // Inside a summary computation (`local_fn` asking what a call
                            // returns) nobody reads `db_work`: not walked there, so summaries
                            // stay cheap and do not depend on the order helpers are read in.
                            db_work,
                            db_alts,
                            params: f.params,
                            defaults: f.defaults,
                            dispatch,
                            on_commit_task: false,
                            a2s_work,
                            project_dispatcher: false,
                            decorators: f.decorators,
                            produces: None,
                            param_reads: f.body_read.then(|| f.param_reads.clone()),
                            produces_items: vec![],
                            loc: None,
                        })
                    }
                    _ => None,
                }
            }
            "attribute" => {
                let obj = func.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
                let attr = self.node_text(func.child_by_field_name("attribute")?);
                if self.binding(self.node_text(obj), obj.start_byte()).is_some_and(|b| b.value.is_some()) {
                    return None;
                }
                match self.imported_def_work(self.node_text(obj), Some(attr), kind)? {
                    PyDef::Function(f) => Some((*f).clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The sync database work the function `f` of this file reaches
    /// ([`super::summary::db_work`]): through this file's module-level functions (their
    /// bodies read through [`PyModel::local_fn_memo`], so they count as consulted) and the
    /// project functions it imports. Locations in this file have an empty path.
    pub fn local_db_work(&self, f: &super::summary::LocalFn) -> Vec<Loc> {
        self.local_work(f, Work::Db)
    }

    /// The ways the function `f` of this file reaches sync database work
    /// ([`super::summary::db_alts`]), looked up like [`PyModel::local_db_work`].
    pub fn local_db_alts(&self, f: &super::summary::LocalFn) -> Vec<super::summary::DbAlt> {
        super::summary::db_alts(f, std::path::Path::new(""), 0, LOCAL_DEPTH, &mut LocalCallees { m: self })
    }

    /// The task dispatch the function `f` of this file reaches, like
    /// [`PyModel::local_db_work`].
    pub fn local_dispatch(&self, f: &super::summary::LocalFn) -> Vec<Loc> {
        self.local_work(f, Work::Dispatch)
    }

    /// [`PyModel::local_db_work`] for any kind of [`Work`].
    pub fn local_work(&self, f: &super::summary::LocalFn, kind: Work) -> Vec<Loc> {
        super::summary::work(f, std::path::Path::new(""), 0, LOCAL_DEPTH, &mut LocalCallees { m: self }, kind)
    }

    /// [`ClassFacts::lib_bases`] of the class `name` of this file (`depth`: classes passed).
    pub fn class_lib_bases(&self, name: &str, depth: u32) -> Vec<String> {
        let mut out = vec![];
        let Some(bases) = self.classes.get(name) else { return out };
        if depth > 8 {
            return out;
        }
        for b in bases {
            if b == name {
                continue;
            }
            if self.classes.contains_key(b.as_str()) {
                out.extend(self.class_lib_bases(b, depth + 1));
                continue;
            }
            let (head, tail) = b.split_once('.').map_or((b.as_str(), None), |(h, t)| (h, Some(t)));
            match self.imported_def(head, tail) {
                Some(PyDef::Class(c)) => out.extend(c.lib_bases.iter().cloned()),
                Some(_) => {}
                None => out.push(self.resolve_dotted(b).unwrap_or_else(|| b.clone())),
            }
        }
        out
    }

    /// A project class this file imports, or a project base of a class of this file, defines
    /// the `a*` method `m` (`class AsyncModel(models.Model): async def asave(…)`): a call of
    /// `m` may be that method, which exists whatever the Django version.
    pub fn project_class_defines(&self, m: &str) -> bool {
        let has = |head: &str, tail: Option<&str>| {
            matches!(self.imported_def(head, tail), Some(PyDef::Class(c)) if c.a_methods.iter().any(|x| x == m))
        };
        let imported = self.imports.keys().any(|name| has(name, None));
        imported
            || self.classes.values().flatten().any(|b| {
                let (head, tail) = b.split_once('.').map_or((b.as_str(), None), |(h, t)| (h, Some(t)));
                !self.classes.contains_key(head) && has(head, tail)
            })
    }

    /// [`PyModel::local_fn`], memoised; `None` when asked more than a few levels deep (a
    /// helper whose return value is another helper's, and so on: recursion ends here).
    pub fn local_fn_memo(&self, def: tree_sitter::Node<'t>) -> Option<super::summary::LocalFn> {
        if let Some(f) = self.local_fns.borrow().get(&def.start_byte()) {
            return Some(f.clone());
        }
        let d = self.local_fn_depth.get();
        if d >= 4 {
            return None;
        }
        self.local_fn_depth.set(d + 1);
        let f = self.local_fn(def);
        self.local_fn_depth.set(d);
        self.local_fns.borrow_mut().insert(def.start_byte(), f.clone());
        Some(f)
    }

    /// True when `name` is a custom queryset method (this file's, or a project module's that
    /// this file imports from) that returns a queryset.
    pub fn is_custom_queryset_method(&self, name: &str) -> bool {
        let local = self.local_qs_methods.get_or_init(|| self.queryset_methods()).iter().any(|m| m == name);
        local || self.imported_has(name, |f| f.queryset_methods.iter().any(|m| m == name))
    }
}

impl<'t> super::PyModel<'t> {
    /// Where in other files the value of `n` comes from, as far as the project model told:
    /// the project helpers whose return value it is (`qs = await books_by(a)` → `def books_by`
    /// in services.py). Follows plain assignments and receiver chains, bounded.
    pub fn provenance(&self, n: tree_sitter::Node<'t>) -> Vec<Loc> {
        let mut out = vec![];
        if self.outside.is_none() {
            return out;
        }
        let mut todo = vec![n];
        let mut steps = 0;
        while let Some(n) = todo.pop() {
            steps += 1;
            if steps > 32 {
                break;
            }
            match n.kind() {
                "parenthesized_expression" | "await" => todo.extend(n.named_child(0)),
                "identifier" => {
                    let name = self.node_text(n);
                    if let Some(v) = self.binding(name, n.start_byte()).and_then(|b| b.value) {
                        todo.push(v);
                    }
                }
                "attribute" => todo.extend(n.child_by_field_name("object")),
                "subscript" => todo.extend(n.child_by_field_name("value")),
                "call" => {
                    let Some(func) = n.child_by_field_name("function") else { continue };
                    if let Some(f) = self.callee_facts(func) {
                        if let (Some(loc), true) = (f.loc, f.returns != Returns::Other) {
                            let what = match f.returns {
                                Returns::QuerySet => "returns a lazy queryset",
                                Returns::Instance => "returns a model instance",
                                _ => "returns a manager",
                            };
                            out.push(Loc { what: format!("{}() {what}", f.name), ..loc });
                            continue;
                        }
                    }
                    if func.kind() == "attribute" {
                        todo.extend(func.child_by_field_name("object"));
                    }
                }
                _ => {}
            }
        }
        out.dedup();
        out
    }
}

/// Where this file's walks ([`PyModel::local_db_work`], [`PyModel::local_dispatch`]) look
/// up callees: module-level `def`s of the file (read through [`PyModel::local_fn_memo`]) and
/// the project functions it imports.
struct LocalCallees<'m, 't> {
    m: &'m super::PyModel<'t>,
}

impl super::summary::Callees for LocalCallees<'_, '_> {
    fn local(&mut self, name: &str) -> Option<super::summary::LocalFn> {
        let def = self.m.module_def_named(name)?;
        self.m.local_fn_memo(def)
    }
    fn imported(&mut self, callee: &str, _depth: u32, kind: Work) -> Option<FnFacts> {
        let (head, tail) = callee.split_once('.').map_or((callee, None), |(h, t)| (h, Some(t)));
        match self.m.imported_def_work(head, tail, kind)? {
            PyDef::Function(g) => Some((*g).clone()),
            _ => None,
        }
    }
    fn task_on_commit(&mut self, task: &str) -> bool {
        self.m.task_defers_to_commit(task)
    }
}
