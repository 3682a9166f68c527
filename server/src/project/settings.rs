//! Reads a Django project's settings module — without running it — for the settings that
//! change what a rule should say: `CACHES` (AG107: which cache backend a `cache.get` talks to),
//! `SESSION_ENGINE` (AG106), `DATABASES` (`ENGINE`, `ATOMIC_REQUESTS`: AG206) and
//! `MIDDLEWARE` (AG105: `LoginRequiredMiddleware` resolves `request.user` before the view) and
//! `AUTH_USER_MODEL` (AG104: what `get_user_model()` / `settings.AUTH_USER_MODEL` name).
//!
//! Finding the module, as Django does:
//! 1. the project root is the nearest folder above the file that holds `manage.py`; else the
//!    nearest that holds `pytest.ini`, `setup.cfg`, `tox.ini`, `pyproject.toml` or `.git`;
//! 2. `DJANGO_SETTINGS_MODULE` from `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "…")` (or
//!    `os.environ["DJANGO_SETTINGS_MODULE"] = "…"`) in `manage.py` and the `asgi.py` /
//!    `wsgi.py` of the root's packages (every one found: the app may run under any of them);
//!    else pytest-django's `DJANGO_SETTINGS_MODULE = …` in `pytest.ini`, `pyproject.toml`
//!    (`[tool.pytest.ini_options]`), `setup.cfg`, `tox.ini`;
//! 3. else by convention: `<pkg>/settings.py`, or the modules of a `<pkg>/settings/` package.
//!
//! Reading: only literal top-level assignments count (`CACHES = {…}`,
//! `CACHES["default"]["BACKEND"] = "…"`, `dict(…)`, lists with `+`, `+=`, `.append` and
//! `.insert`, names bound earlier), following
//! `from .base import *` into the project's own modules. Anything else is *unknown*: values
//! from `env(…)` / `os.environ.get(…)`, assignments under `if` / `try` / `for` / `with`, a
//! name changed by a method call (`CACHES.update(…)`), a star import that cannot be read or
//! that sits under a `try` (a `local_settings` missing from the repository), `globals()`,
//! django-split-settings' `include(…)` (each of the last makes every name set so far unknown).
//! A setting that is never assigned has Django's default, in a module that sets at least one
//! of `INSTALLED_APPS`, `DATABASES`, `SECRET_KEY`, `ROOT_URLCONF` or the settings read here; a module that
//! sets none of them (an empty package `__init__.py` filled at run time, django-configurations'
//! classes when no configuration is named) is not where the settings are: everything is unknown.
//! django-configurations: when the entry points set `DJANGO_CONFIGURATION` and the settings
//! module declares that class, the settings are the module's top level followed by the bodies
//! of the class's bases and of the class (read like top-level statements; a base that cannot
//! be read, or a `setup` / `pre_setup` / `post_setup` hook, makes everything unknown).
//! When several settings modules apply, a value is known only where they all agree (a cache
//! alias that is a `DatabaseCache` under any of them is `Database`: it queries there).
//!
//! Invariants: this module reads files and nothing else (no import, no execution); unknown is
//! never guessed: it is `None` / an `Unknown` variant, and rules stay silent on it. It is
//! self-contained: it asks nothing of the rest of the project model.

use crate::syntax::{self, Lang};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tree_sitter::Node;

/// A cache backend (`CACHES[alias]["BACKEND"]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// `django.core.cache.backends.db.DatabaseCache`: queries (SynchronousOnlyOperation).
    Database,
    /// `locmem.LocMemCache` (Django's default when `CACHES` is not set): no I/O.
    LocMem,
    /// `dummy.DummyCache`: no I/O.
    Dummy,
    /// Django's `RedisCache`, django-redis and other redis backends: network I/O, no query.
    Redis,
    /// Django's memcached backends and others naming memcache: network I/O, no query.
    Memcached,
    /// `filebased.FileBasedCache`: file I/O, no query.
    File,
    /// Another backend class (named).
    Other(String),
    /// Not a literal (or the settings disagree).
    Unknown,
}

impl Backend {
    pub fn from_class(path: &str) -> Backend {
        let l = path.to_ascii_lowercase();
        match path {
            "django.core.cache.backends.db.DatabaseCache" => Backend::Database,
            "django.core.cache.backends.locmem.LocMemCache" => Backend::LocMem,
            "django.core.cache.backends.dummy.DummyCache" => Backend::Dummy,
            "django.core.cache.backends.filebased.FileBasedCache" => Backend::File,
            _ if l.contains("redis") => Backend::Redis,
            _ if l.contains("memcache") => Backend::Memcached,
            _ => Backend::Other(path.to_string()),
        }
    }
}

/// `SESSION_ENGINE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEngine {
    /// `…backends.db` (Django's default).
    Db,
    CachedDb,
    Cache,
    SignedCookies,
    File,
    Other(String),
    Unknown,
}

impl SessionEngine {
    fn from_module(m: &str) -> SessionEngine {
        match m.strip_prefix("django.contrib.sessions.backends.") {
            Some("db") => SessionEngine::Db,
            Some("cached_db") => SessionEngine::CachedDb,
            Some("cache") => SessionEngine::Cache,
            Some("signed_cookies") => SessionEngine::SignedCookies,
            Some("file") => SessionEngine::File,
            _ => SessionEngine::Other(m.to_string()),
        }
    }
}

/// One `DATABASES` alias. `None`: unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    pub engine: Option<String>,
    /// `ATOMIC_REQUESTS` (Django's default: false).
    pub atomic_requests: Option<bool>,
}

/// What was read of a project's Django settings. `None` fields are unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DjangoSettings {
    /// The settings modules read (the ones `DJANGO_SETTINGS_MODULE` names, or found by
    /// convention), without the modules they star-import.
    pub modules: Vec<PathBuf>,
    /// `CACHES` by alias (Django's default `{"default": LocMem}` when unset); `None` when
    /// `CACHES` itself is unknown.
    pub caches: Option<BTreeMap<String, Backend>>,
    pub session_engine: SessionEngine,
    /// `DATABASES` by alias; `None` when unknown.
    pub databases: Option<BTreeMap<String, Database>>,
    /// `MIDDLEWARE`, in order; `None` when unknown (or not the same in every module).
    pub middleware: Option<Vec<String>>,
    /// `AUTH_USER_MODEL` (`"app_label.ModelName"`; Django's default `auth.User` when unset);
    /// `None` when unknown.
    pub auth_user_model: Option<String>,
}

impl DjangoSettings {
    /// The backend of cache `alias`; `Unknown` when `CACHES` is unknown or lacks the alias.
    pub fn cache(&self, alias: &str) -> Backend {
        self.caches.as_ref().and_then(|c| c.get(alias).cloned()).unwrap_or(Backend::Unknown)
    }
}

/// Finds the settings module(s) of the project holding `dir` and reads them. `None` when no
/// settings module is found or one named cannot be read.
pub fn find_and_read(dir: &Path) -> Option<DjangoSettings> {
    let root = project_root(dir)?;
    read_root(&root)
}

/// The folder holding `manage.py` above `dir` (inclusive), else the nearest project folder.
pub fn project_root(dir: &Path) -> Option<PathBuf> {
    project_root_by(dir, &|d, name| d.join(name).exists())
}

/// Names that mark a project root when no `manage.py` is found.
pub const ROOT_MARKERS: &[&str] = &["pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml", ".git"];

/// [`project_root`] asking `has(folder, name)` whether a folder holds a file (a caller with
/// folder listings at hand answers without touching the disk).
pub fn project_root_by(dir: &Path, has: &dyn Fn(&Path, &str) -> bool) -> Option<PathBuf> {
    if let Some(d) = dir.ancestors().find(|d| has(d, "manage.py")) {
        return Some(d.to_path_buf());
    }
    dir.ancestors().find(|d| ROOT_MARKERS.iter().any(|m| has(d, m))).map(Path::to_path_buf)
}

/// [`find_and_read`] for a known project root.
pub fn read_root(root: &Path) -> Option<DjangoSettings> {
    let modules = settings_modules(root);
    if modules.is_empty() {
        return None;
    }
    let configurations = configuration_names(root);
    let mut merged: Option<DjangoSettings> = None;
    for file in &modules {
        // django-configurations: the module's settings are the class `DJANGO_CONFIGURATION`
        // names (each one named, when several entry points name different ones).
        let classes: Vec<&String> = configurations.iter().filter(|c| top_level_class(file, c)).collect();
        let reads: Vec<DjangoSettings> = if classes.is_empty() {
            vec![read_module(root, file)]
        } else {
            classes.into_iter().map(|c| read_configuration(root, file, c)).collect()
        };
        for one in reads {
            merged = Some(match merged {
                None => one,
                Some(m) => merge(m, one),
            });
        }
    }
    merged
}

/// The Python files where `DJANGO_SETTINGS_MODULE` / `DJANGO_CONFIGURATION` are set.
fn entry_points(root: &Path) -> Vec<PathBuf> {
    let mut entry_points = vec![root.join("manage.py")];
    for base in [root.to_path_buf(), root.join("src")] {
        for pkg in subdirs(&base) {
            entry_points.push(pkg.join("asgi.py"));
            entry_points.push(pkg.join("wsgi.py"));
        }
    }
    entry_points
}

/// django-configurations' `DJANGO_CONFIGURATION` values set by the entry points.
fn configuration_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = vec![];
    for p in entry_points(root) {
        if let Ok(text) = std::fs::read_to_string(&p) {
            for n in env_defaults_in_python(&text, "DJANGO_CONFIGURATION") {
                if !names.contains(&n) && !n.contains('.') {
                    names.push(n);
                }
            }
        }
    }
    names
}

/// `file` has a top-level `class <name>` (a cheap text test before any parse).
fn top_level_class(file: &Path, name: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|t| t.lines().any(|l| l.strip_prefix("class ").and_then(|r| r.strip_prefix(name)).is_some_and(|r| r.starts_with(['(', ':']))))
}

/// The settings of django-configurations' class `class` of the module `file`: the module's
/// top level, then the bodies of the class's bases (last base first, so that the class and
/// its first bases override) and of the class itself, read as top-level statements.
fn read_configuration(root: &Path, file: &Path, class: &str) -> DjangoSettings {
    let mut st = State::default();
    let mut stack = vec![];
    exec_file(root, file, &mut st, &mut stack);
    exec_class(root, file, class, &mut st, 0);
    summarize(file, &st)
}

/// Runs the body of `class` (declared at the top level of `file`, or imported into it by a
/// `from … import`) after its bases'. A base that cannot be read (a library's mixin, an
/// attribute) and the hooks that may change any setting (`setup`, `pre_setup`, `post_setup`)
/// make everything unknown.
fn exec_class(root: &Path, file: &Path, class: &str, st: &mut State, depth: usize) {
    if depth >= MAX_DEPTH {
        st.havoc();
        return;
    }
    let Some((text, tree)) = read_python(file) else {
        st.havoc();
        return;
    };
    let rd = Reader { root, file, src: &text, depth: std::cell::Cell::new(0) };
    let top = tree.root_node();
    let mut c = top.walk();
    let stmts: Vec<Node> = top.named_children(&mut c).collect();
    let def = stmts.iter().find_map(|n| {
        let d = if n.kind() == "decorated_definition" { n.child_by_field_name("definition")? } else { *n };
        (d.kind() == "class_definition" && d.child_by_field_name("name").is_some_and(|x| rd.text(x) == class)).then_some(d)
    });
    let Some(def) = def else {
        // `from .base import Base`: the class of that module.
        let source = stmts.iter().filter(|n| n.kind() == "import_from_statement").find_map(|n| {
            let mut c = n.walk();
            let imports = n.children_by_field_name("name", &mut c).any(|x| x.kind() == "dotted_name" && rd.text(x) == class);
            imports.then(|| n.child_by_field_name("module_name").and_then(|m| rd.resolve(rd.text(m)))).flatten()
        });
        match source {
            Some(f) => exec_class(root, &f, class, st, depth + 1),
            None => st.havoc(),
        }
        return;
    };
    if let Some(bases) = def.child_by_field_name("superclasses") {
        let mut c = bases.walk();
        let bases: Vec<Node> = bases.named_children(&mut c).filter(|b| b.kind() != "comment").collect();
        for b in bases.into_iter().rev() {
            match (b.kind(), rd.text(b)) {
                ("keyword_argument", _) | (_, "Configuration" | "object") => {}
                ("identifier", name) => exec_class(root, file, name, st, depth + 1),
                _ => st.havoc(),
            }
        }
    }
    let Some(body) = def.child_by_field_name("body") else { return };
    let mut c = body.walk();
    let mut stack = vec![];
    for stmt in body.named_children(&mut c) {
        let d = if stmt.kind() == "decorated_definition" { stmt.child_by_field_name("definition") } else { Some(stmt) };
        let hook = d.filter(|d| d.kind() == "function_definition").and_then(|d| d.child_by_field_name("name")).is_some_and(|n| {
            matches!(rd.text(n), "setup" | "pre_setup" | "post_setup")
        });
        if hook {
            st.havoc();
            continue;
        }
        rd.statement(stmt, st, &mut stack);
    }
}

/// The settings module files that apply to the project at `root`.
fn settings_modules(root: &Path) -> Vec<PathBuf> {
    let mut names: Vec<String> = vec![];
    for p in entry_points(root) {
        if let Ok(text) = std::fs::read_to_string(&p) {
            for n in dsm_in_python(&text) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    if names.is_empty() {
        for cfg in ["pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"] {
            if let Some(n) = std::fs::read_to_string(root.join(cfg)).ok().and_then(|t| dsm_in_ini(&t)) {
                names.push(n);
                break;
            }
        }
    }
    if !names.is_empty() {
        let mut files = vec![];
        for n in &names {
            match module_file(root, n) {
                Some(f) => files.push(f),
                // A named module we cannot find: its settings are unknown.
                None => return vec![],
            }
        }
        return files;
    }
    // Convention: `<pkg>/settings.py`, else the modules of `<pkg>/settings/`.
    let mut found = vec![];
    for base in [root.to_path_buf(), root.join("src")] {
        for pkg in subdirs(&base) {
            let f = pkg.join("settings.py");
            if f.is_file() {
                found.push(f);
            }
        }
    }
    if found.is_empty() {
        for base in [root.to_path_buf(), root.join("src")] {
            for pkg in subdirs(&base) {
                let d = pkg.join("settings");
                let Ok(rd) = std::fs::read_dir(&d) else { continue };
                let mut mods: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "py"))
                    .filter(|p| p.file_name().is_some_and(|n| n != "__init__.py"))
                    .collect();
                if mods.is_empty() && d.join("__init__.py").is_file() {
                    mods.push(d.join("__init__.py"));
                }
                mods.sort();
                found.extend(mods);
            }
        }
    }
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.')))
        .collect();
    out.sort();
    out
}

/// `DJANGO_SETTINGS_MODULE` values set in Python source: `setdefault("DJANGO_SETTINGS_MODULE",
/// "x.y")` or `["DJANGO_SETTINGS_MODULE"] = "x.y"`.
pub fn dsm_in_python(text: &str) -> Vec<String> {
    env_defaults_in_python(text, "DJANGO_SETTINGS_MODULE")
}

/// The values the environment variable `key` is given in Python source (as
/// [`dsm_in_python`]).
fn env_defaults_in_python(text: &str, key: &str) -> Vec<String> {
    let mut out = vec![];
    for (i, _) in text.match_indices(key) {
        let rest = &text[i + key.len()..];
        let rest = rest.trim_start_matches(['"', '\'']).trim_start();
        let rest = if let Some(r) = rest.strip_prefix(',') {
            r
        } else if let Some(r) = rest.strip_prefix(']') {
            match r.trim_start().strip_prefix('=') {
                Some(r) if !r.starts_with('=') => r,
                _ => continue,
            }
        } else {
            continue;
        };
        if let Some(s) = leading_string(rest.trim_start()) {
            if is_module_name(&s) && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// A string literal at the start of `s` (no prefix, no escapes).
fn leading_string(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some(body[..end].to_string())
}

fn is_module_name(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// pytest-django's `DJANGO_SETTINGS_MODULE = x.y` (ini / cfg) or `DJANGO_SETTINGS_MODULE =
/// "x.y"` (pyproject's `[tool.pytest.ini_options]`).
pub fn dsm_in_ini(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        if k.trim() != "DJANGO_SETTINGS_MODULE" {
            return None;
        }
        let v = v.split('#').next()?.trim().trim_matches(['"', '\'']);
        is_module_name(v).then(|| v.to_string())
    })
}

/// `a.b.c` → `root/a/b/c.py` or `root/a/b/c/__init__.py` (also under `root/src`).
fn module_file(root: &Path, module: &str) -> Option<PathBuf> {
    let rel: PathBuf = module.split('.').collect();
    for base in [root.to_path_buf(), root.join("src")] {
        let f = base.join(&rel).with_extension("py");
        if f.is_file() {
            return Some(f);
        }
        let i = base.join(&rel).join("__init__.py");
        if i.is_file() {
            return Some(i);
        }
    }
    None
}

/// A value as far as a literal reading knows it.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    /// Keys in order; `complete`: no `**` splat or non-literal key.
    Dict(Vec<(String, Value)>, bool),
    /// A list or tuple literal (items in order).
    List(Vec<Value>),
    /// A literal we do not care about (numbers, None …).
    Other,
    Unknown,
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items, _) => items.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The names of a module being read; `all_unknown`: some name may have been set by something
/// unreadable (a star import, `globals()`, split-settings' `include(…)`), so every name not
/// set since is unknown, not unset ([`State::havoc`]).
#[derive(Clone, Default, PartialEq)]
struct State {
    names: BTreeMap<String, Value>,
    all_unknown: bool,
}

impl State {
    /// Something unreadable may have set any name: everything known so far is unknown.
    fn havoc(&mut self) {
        self.names.clear();
        self.all_unknown = true;
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        match self.names.get(name) {
            Some(v) => Some(v.clone()),
            None if self.all_unknown => Some(Value::Unknown),
            None => None,
        }
    }
}

const MAX_DEPTH: usize = 8;

fn read_module(root: &Path, file: &Path) -> DjangoSettings {
    let mut st = State::default();
    let mut stack = vec![];
    exec_file(root, file, &mut st, &mut stack);
    summarize(file, &st)
}

/// The text of the Python file `file` (bytes that are not UTF-8 replaced) and its parse;
/// `None` when it cannot be read.
fn read_python(file: &Path) -> Option<(String, tree_sitter::Tree)> {
    let bytes = std::fs::read(file).ok()?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let tree = syntax::parse(Lang::Python, &text, None);
    Some((text, tree))
}

fn exec_file(root: &Path, file: &Path, st: &mut State, stack: &mut Vec<PathBuf>) {
    if stack.len() >= MAX_DEPTH || stack.iter().any(|p| p == file) {
        st.havoc();
        return;
    }
    let Some((text, tree)) = read_python(file) else {
        st.havoc();
        return;
    };
    stack.push(file.to_path_buf());
    let rd = Reader { root, file, src: &text, depth: std::cell::Cell::new(0) };
    let root_node = tree.root_node();
    let mut c = root_node.walk();
    for stmt in root_node.named_children(&mut c) {
        rd.statement(stmt, st, stack);
    }
    stack.pop();
}

struct Reader<'a> {
    root: &'a Path,
    file: &'a Path,
    src: &'a str,
    /// Recursion depth of the expression walks: settings files are input like any other, and
    /// a 10,000-deep nested literal must not overflow the stack (past [`MAX_NESTING`] the
    /// value is unknown).
    depth: std::cell::Cell<u32>,
}

/// Nesting past which an expression or a target is not followed (unknown).
const MAX_NESTING: u32 = 64;

impl Reader<'_> {
    /// Runs `f` one level deeper, or returns `fallback` past [`MAX_NESTING`].
    fn nested<T>(&self, fallback: T, f: impl FnOnce() -> T) -> T {
        if self.depth.get() >= MAX_NESTING {
            return fallback;
        }
        self.depth.set(self.depth.get() + 1);
        let out = f();
        self.depth.set(self.depth.get() - 1);
        out
    }

    fn text(&self, n: Node) -> &str {
        &self.src[n.byte_range()]
    }

    fn statement(&self, stmt: Node, st: &mut State, stack: &mut Vec<PathBuf>) {
        match stmt.kind() {
            "expression_statement" => {
                let Some(e) = stmt.named_child(0) else { return };
                match e.kind() {
                    "assignment" => self.assignment(e, st),
                    "augmented_assignment" => self.augmented(e, st),
                    _ => self.effects(e, st),
                }
            }
            "import_from_statement" => self.import_from(stmt, st, stack, false),
            "import_statement" => {
                let mut c = stmt.walk();
                for n in stmt.children_by_field_name("name", &mut c) {
                    let bound = match n.kind() {
                        "aliased_import" => n.child_by_field_name("alias").map(|a| self.text(a).to_string()),
                        _ => self.text(n).split('.').next().map(str::to_string),
                    };
                    if let Some(b) = bound {
                        st.names.insert(b, Value::Other);
                    }
                }
            }
            "function_definition" | "class_definition" | "decorated_definition" => {
                let def = if stmt.kind() == "decorated_definition" { stmt.child_by_field_name("definition") } else { Some(stmt) };
                if let Some(name) = def.and_then(|d| d.child_by_field_name("name")) {
                    st.names.insert(self.text(name).to_string(), Value::Other);
                }
            }
            "comment" | "pass_statement" | "future_import_statement" => {}
            // if / try / for / while / with / match …: whatever they may bind is unknown.
            _ => self.forget_all_in(stmt, st, stack),
        }
    }

    fn assignment(&self, a: Node, st: &mut State) {
        if self.depth.get() >= MAX_NESTING {
            st.havoc();
            return;
        }
        self.nested((), || self.assignment_inner(a, st));
    }

    fn assignment_inner(&self, a: Node, st: &mut State) {
        let (Some(left), right) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { return };
        let value = match right {
            Some(r) if r.kind() == "assignment" => {
                // a = b = value
                self.assignment(r, st);
                self.rightmost(r).map_or(Value::Unknown, |v| self.eval(v, st))
            }
            Some(r) => self.eval(r, st),
            None => return, // an annotation alone binds nothing
        };
        self.assign(left, value, st);
    }

    /// `NAME += [..]` on a known list extends it; anything else forgets the target.
    fn augmented(&self, e: Node, st: &mut State) {
        let Some(l) = e.child_by_field_name("left") else { return };
        let op = e.child_by_field_name("operator").map(|o| self.text(o)).unwrap_or("");
        if l.kind() == "identifier" && op == "+=" {
            let name = self.text(l).to_string();
            let right = e.child_by_field_name("right").map_or(Value::Unknown, |r| self.eval(r, st));
            if let (Some(Value::List(mut a)), Value::List(b)) = (st.lookup(&name), right) {
                a.extend(b);
                st.names.insert(name, Value::List(a));
                return;
            }
        }
        self.forget_target(l, st);
    }

    fn rightmost<'t>(&self, mut a: Node<'t>) -> Option<Node<'t>> {
        while a.kind() == "assignment" {
            a = a.child_by_field_name("right")?;
        }
        Some(a)
    }

    fn assign(&self, target: Node, value: Value, st: &mut State) {
        match target.kind() {
            "identifier" => {
                st.names.insert(self.text(target).to_string(), value);
            }
            "subscript" => {
                // NAME["a"]["b"] = value
                let mut keys = vec![];
                let mut n = target;
                while n.kind() == "subscript" {
                    let key = n.child_by_field_name("subscript").and_then(|k| self.string(k));
                    match key {
                        Some(k) => keys.push(k),
                        None => return self.forget_target(target, st),
                    }
                    n = match n.child_by_field_name("value") {
                        Some(v) => v,
                        None => return,
                    };
                }
                if n.kind() != "identifier" {
                    return;
                }
                keys.reverse();
                if keys.len() > MAX_NESTING as usize {
                    return self.forget_target(target, st);
                }
                let name = self.text(n).to_string();
                let mut base = st.lookup(&name).unwrap_or(Value::Unknown);
                set_path(&mut base, &keys, value);
                st.names.insert(name, base);
            }
            _ => self.forget_target(target, st),
        }
    }

    /// `NAME["a"]["b"]` (literal keys) on a name bound to a known dictionary: that key's value
    /// becomes unknown, the rest of the dictionary stays. False (nothing done) for any other
    /// target.
    fn forget_key(&self, target: Node, st: &mut State) -> bool {
        let mut keys = vec![];
        let mut n = target;
        while n.kind() == "subscript" {
            match n.child_by_field_name("subscript").and_then(|k| self.string(k)) {
                Some(k) => keys.push(k),
                None => return false,
            }
            match n.child_by_field_name("value") {
                Some(v) => n = v,
                None => return false,
            }
        }
        if n.kind() != "identifier" || keys.is_empty() || keys.len() > MAX_NESTING as usize {
            return false;
        }
        keys.reverse();
        let name = self.text(n).to_string();
        let Some(mut base) = st.lookup(&name).filter(|v| matches!(v, Value::Dict(..))) else { return false };
        set_path(&mut base, &keys, Value::Unknown);
        st.names.insert(name, base);
        true
    }

    /// The base name of a target (`A`, `A[…]`, `A.b`, tuples) becomes unknown (every name,
    /// when nested too deep to follow).
    fn forget_target(&self, target: Node, st: &mut State) {
        if self.depth.get() >= MAX_NESTING {
            st.havoc();
            return;
        }
        self.nested((), || self.forget_target_inner(target, st));
    }

    fn forget_target_inner(&self, target: Node, st: &mut State) {
        match target.kind() {
            "identifier" => {
                st.names.insert(self.text(target).to_string(), Value::Unknown);
            }
            "subscript" | "attribute" => {
                let base = target.child_by_field_name("value").or_else(|| target.child_by_field_name("object"));
                if let Some(b) = base {
                    self.forget_target(b, st);
                }
            }
            _ => {
                let mut c = target.walk();
                for ch in target.named_children(&mut c) {
                    self.forget_target(ch, st);
                }
            }
        }
    }

    /// An expression statement: `CACHES.update(…)` makes `CACHES` unknown; `globals()`,
    /// `vars()`, `exec(…)` and split-settings' `include(…)` make every name set so far unknown.
    fn effects(&self, e: Node, st: &mut State) {
        let mut stack = vec![e];
        while let Some(n) = stack.pop() {
            if n.kind() == "call" {
                if let Some(f) = n.child_by_field_name("function") {
                    match f.kind() {
                        "identifier" if matches!(self.text(f), "globals" | "vars" | "exec" | "locals" | "setattr") => {
                            st.havoc();
                        }
                        // django-split-settings' `include(…)` runs other files into this
                        // module's names. (Other module-level calls, `load_dotenv()`,
                        // `ignore_logger(…)`, are taken to leave the names alone.)
                        "identifier" if n.id() == e.id() && self.text(f) == "include" => {
                            st.havoc();
                        }
                        "attribute" if !self.list_method(n, f, st) => {
                            if let Some(o) = f.child_by_field_name("object") {
                                self.forget_target(o, st);
                            }
                        }
                        _ => {}
                    }
                }
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
    }

    /// `NAME.append(x)` / `NAME.insert(i, x)` on a known list (a statement of its own):
    /// applied; false for anything else.
    fn list_method(&self, call: Node, f: Node, st: &mut State) -> bool {
        let (Some(o), Some(m), Some(args)) =
            (f.child_by_field_name("object"), f.child_by_field_name("attribute"), call.child_by_field_name("arguments"))
        else {
            return false;
        };
        if o.kind() != "identifier" || call.parent().is_none_or(|p| p.kind() != "expression_statement") {
            return false;
        }
        let name = self.text(o).to_string();
        let Some(Value::List(mut items)) = st.lookup(&name) else { return false };
        let mut c = args.walk();
        let a: Vec<Node> = args.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
        match (self.text(m), a.as_slice()) {
            ("append", [x]) => items.push(self.eval(*x, st)),
            ("insert", [i, x]) => {
                let at = self.text(*i).parse::<usize>().ok().filter(|at| *at <= items.len());
                match at {
                    Some(at) => items.insert(at, self.eval(*x, st)),
                    None => return false,
                }
            }
            _ => return false,
        }
        st.names.insert(name, Value::List(items));
        true
    }

    /// A compound statement: every name it may bind becomes unknown; a star import inside
    /// is optional (it may fail and be caught).
    fn forget_all_in(&self, stmt: Node, st: &mut State, stack: &mut Vec<PathBuf>) {
        let mut todo = vec![stmt];
        while let Some(n) = todo.pop() {
            match n.kind() {
                "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" => {
                    if let Some(l) = n.child_by_field_name("left") {
                        // `NAME["k"] = …` under an `if`: only that key of a known dictionary
                        // becomes unknown (`DB["CONN_HEALTH_CHECKS"] = …` keeps its
                        // `ATOMIC_REQUESTS`).
                        if !(n.kind() == "assignment" && self.forget_key(l, st)) {
                            self.forget_target(l, st);
                        }
                    }
                }
                "as_pattern_target" | "named_expression" => {
                    if let Some(t) = n.child_by_field_name("name").or_else(|| n.named_child(0)) {
                        self.forget_target(t, st);
                    }
                }
                "import_from_statement" => self.import_from(n, st, stack, true),
                "import_statement" | "function_definition" | "class_definition" | "global_statement" => {
                    // Binds its own names (functions, modules): not settings we read, except
                    // `global` inside a function, which may set any.
                    if n.kind() == "global_statement" {
                        st.havoc();
                    }
                    continue;
                }
                "call" => self.effects(n, st),
                _ => {}
            }
            let mut c = n.walk();
            todo.extend(n.named_children(&mut c));
        }
    }

    fn import_from(&self, stmt: Node, st: &mut State, stack: &mut Vec<PathBuf>, optional: bool) {
        let Some(module) = stmt.child_by_field_name("module_name") else { return };
        let mut c = stmt.walk();
        let star = stmt.named_children(&mut c).any(|n| n.kind() == "wildcard_import");
        if !star {
            // `from .base import MIDDLEWARE` (then `MIDDLEWARE.append(…)`, a common way to
            // split settings): a name imported from a settings file of the project takes the
            // value that file gives it; from anywhere else (or when that file cannot be read)
            // it is unknown. An optional import (inside `try`) is unknown too.
            let source = if optional { None } else { self.resolve(self.text(module)) };
            let mut from = State::default();
            if let Some(file) = &source {
                exec_file(self.root, file, &mut from, stack);
            }
            let mut c = stmt.walk();
            for n in stmt.children_by_field_name("name", &mut c) {
                let (name, bound) = match n.kind() {
                    "aliased_import" => (n.child_by_field_name("name"), n.child_by_field_name("alias")),
                    _ => (Some(n), Some(n)),
                };
                if let Some(b) = bound {
                    let value = match (&source, name) {
                        (Some(_), Some(name)) => from.lookup(self.text(name)).unwrap_or(Value::Unknown),
                        _ => Value::Unknown,
                    };
                    st.names.insert(self.text(b).to_string(), value);
                }
            }
            return;
        }
        let Some(file) = self.resolve(self.text(module)) else {
            // `from somewhere_else import *` (a library, or a file not in the repository).
            st.havoc();
            return;
        };
        if optional {
            let before = st.clone();
            let mut after = st.clone();
            exec_file(self.root, &file, &mut after, stack);
            for (k, v) in &after.names {
                if before.names.get(k) != Some(v) {
                    st.names.insert(k.clone(), Value::Unknown);
                }
            }
            if after.all_unknown {
                st.havoc();
            }
        } else {
            exec_file(self.root, &file, st, stack);
        }
    }

    /// A module named in `from <m> import *`: relative to this file, or absolute from the root.
    fn resolve(&self, m: &str) -> Option<PathBuf> {
        let dots = m.chars().take_while(|c| *c == '.').count();
        if dots == 0 {
            return module_file(self.root, m);
        }
        let mut dir = self.file.parent()?.to_path_buf();
        for _ in 1..dots {
            dir = dir.parent()?.to_path_buf();
        }
        let rest = &m[dots..];
        if rest.is_empty() {
            let i = dir.join("__init__.py");
            return i.is_file().then_some(i);
        }
        let rel: PathBuf = rest.split('.').collect();
        let f = dir.join(&rel).with_extension("py");
        if f.is_file() {
            return Some(f);
        }
        let i = dir.join(&rel).join("__init__.py");
        i.is_file().then_some(i)
    }

    /// A plain string literal (concatenations of them too); `None` for anything else.
    fn string(&self, n: Node) -> Option<String> {
        self.nested(None, || self.string_inner(n))
    }

    fn string_inner(&self, n: Node) -> Option<String> {
        match n.kind() {
            "string" => {
                let mut out = String::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    match ch.kind() {
                        "string_start" => {
                            let prefix = self.text(ch).trim_end_matches(['"', '\'']).to_ascii_lowercase();
                            if prefix.contains('f') || prefix.contains('b') {
                                return None;
                            }
                        }
                        "string_content" => out.push_str(self.text(ch)),
                        "string_end" => {}
                        _ => return None, // interpolation, escapes
                    }
                }
                Some(out)
            }
            "concatenated_string" => {
                let mut out = String::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    out.push_str(&self.string(ch)?);
                }
                Some(out)
            }
            "parenthesized_expression" => n.named_child(0).and_then(|x| self.string(x)),
            _ => None,
        }
    }

    fn eval(&self, n: Node, st: &State) -> Value {
        self.nested(Value::Unknown, || self.eval_inner(n, st))
    }

    fn eval_inner(&self, n: Node, st: &State) -> Value {
        if let Some(s) = self.string(n) {
            return Value::Str(s);
        }
        match n.kind() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "list" | "tuple" => {
                let mut c = n.walk();
                let items: Vec<Value> = n
                    .named_children(&mut c)
                    .filter(|i| i.kind() != "comment")
                    .map(|i| if i.kind() == "list_splat" { Value::Unknown } else { self.eval(i, st) })
                    .collect();
                Value::List(items)
            }
            "binary_operator" => {
                // [a] + [b] (MIDDLEWARE = BASE_MIDDLEWARE + [...])
                let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else {
                    return Value::Unknown;
                };
                let op = n.child_by_field_name("operator").map(|o| self.text(o)).unwrap_or("");
                match (op, self.eval(l, st), self.eval(r, st)) {
                    ("+", Value::List(mut a), Value::List(b)) => {
                        a.extend(b);
                        Value::List(a)
                    }
                    _ => Value::Unknown,
                }
            }
            "none" | "integer" | "float" | "set" => Value::Other,
            "parenthesized_expression" => n.named_child(0).map_or(Value::Unknown, |x| self.eval(x, st)),
            "identifier" => st.lookup(self.text(n)).unwrap_or(Value::Unknown),
            "dictionary" => {
                let mut items = vec![];
                let mut complete = true;
                let mut c = n.walk();
                for p in n.named_children(&mut c) {
                    match p.kind() {
                        "pair" => {
                            let key = p.child_by_field_name("key").and_then(|k| self.string(k));
                            let val = p.child_by_field_name("value").map_or(Value::Unknown, |v| self.eval(v, st));
                            match key {
                                Some(k) => items.push((k, val)),
                                None => complete = false,
                            }
                        }
                        "comment" => {}
                        _ => complete = false, // **splat
                    }
                }
                Value::Dict(items, complete)
            }
            "call" => {
                // dict(default={…}) with keyword arguments only.
                let f = n.child_by_field_name("function");
                if f.is_some_and(|f| f.kind() == "identifier" && self.text(f) == "dict" && st.lookup("dict").is_none()) {
                    let mut items = vec![];
                    let mut complete = true;
                    if let Some(args) = n.child_by_field_name("arguments") {
                        let mut c = args.walk();
                        for a in args.named_children(&mut c) {
                            if a.kind() == "keyword_argument" {
                                let (Some(k), Some(v)) = (a.child_by_field_name("name"), a.child_by_field_name("value"))
                                else {
                                    continue;
                                };
                                items.push((self.text(k).to_string(), self.eval(v, st)));
                            } else if a.kind() != "comment" {
                                complete = false;
                            }
                        }
                    }
                    return Value::Dict(items, complete);
                }
                Value::Unknown
            }
            _ => Value::Unknown,
        }
    }
}

/// Sets `base[k0][k1]… = value` where `base` is a known dictionary; otherwise `base` stays
/// (or becomes) unknown.
fn set_path(base: &mut Value, keys: &[String], value: Value) {
    let Some((first, rest)) = keys.split_first() else {
        *base = value;
        return;
    };
    let Value::Dict(items, complete) = base else {
        *base = Value::Unknown;
        return;
    };
    if let Some(slot) = items.iter_mut().rev().find(|(k, _)| k == first) {
        set_path(&mut slot.1, rest, value);
    } else if rest.is_empty() {
        items.push((first.clone(), value));
    } else if *complete {
        // CACHES["x"]["BACKEND"] = … on a missing alias: KeyError at import; unknown.
        *base = Value::Unknown;
    } else {
        *base = Value::Unknown;
    }
}

fn summarize(file: &Path, st: &State) -> DjangoSettings {
    // A module that sets none of the settings every project has is not where the settings
    // are (an empty package `__init__.py` filled in at run time, django-configurations'
    // classes): every value is unknown rather than Django's default.
    const CORE: &[&str] =
        &["INSTALLED_APPS", "DATABASES", "SECRET_KEY", "ROOT_URLCONF", "MIDDLEWARE", "CACHES", "SESSION_ENGINE"];
    if !st.all_unknown && !CORE.iter().any(|k| st.names.contains_key(*k)) {
        return DjangoSettings {
            modules: vec![file.to_path_buf()],
            caches: None,
            session_engine: SessionEngine::Unknown,
            databases: None,
            middleware: None,
            auth_user_model: None,
        };
    }
    let caches = match st.lookup("CACHES") {
        None => Some(BTreeMap::from([("default".to_string(), Backend::LocMem)])),
        Some(Value::Dict(items, complete)) if complete => Some(
            items
                .iter()
                .map(|(alias, v)| {
                    let b = match v.get("BACKEND") {
                        Some(Value::Str(s)) => Backend::from_class(s),
                        _ => Backend::Unknown,
                    };
                    (alias.clone(), b)
                })
                .collect(),
        ),
        Some(_) => None,
    };
    let session_engine = match st.lookup("SESSION_ENGINE") {
        None => SessionEngine::Db,
        Some(Value::Str(s)) => SessionEngine::from_module(&s),
        Some(_) => SessionEngine::Unknown,
    };
    let databases = match st.lookup("DATABASES") {
        None => Some(BTreeMap::new()),
        Some(Value::Dict(items, complete)) if complete => Some(
            items
                .iter()
                .map(|(alias, v)| {
                    let engine = match v.get("ENGINE") {
                        Some(Value::Str(s)) => Some(s.clone()),
                        _ => None,
                    };
                    let atomic_requests = match (v, v.get("ATOMIC_REQUESTS")) {
                        (_, Some(Value::Bool(b))) => Some(*b),
                        (Value::Dict(_, true), None) => Some(false),
                        _ => None,
                    };
                    (alias.clone(), Database { engine, atomic_requests })
                })
                .collect(),
        ),
        Some(_) => None,
    };
    let middleware = match st.lookup("MIDDLEWARE") {
        None => Some(vec![]),
        Some(Value::List(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        Some(_) => None,
    };
    let auth_user_model = match st.lookup("AUTH_USER_MODEL") {
        None => Some("auth.User".to_string()),
        Some(Value::Str(s)) => Some(s),
        Some(_) => None,
    };
    DjangoSettings { modules: vec![file.to_path_buf()], caches, session_engine, databases, middleware, auth_user_model }
}

/// Two settings modules that may both apply: known only where they agree — except that a
/// cache alias that is a `DatabaseCache` under either stays `Database` (the call queries when
/// the app runs with that module).
fn merge(a: DjangoSettings, b: DjangoSettings) -> DjangoSettings {
    let caches = match (a.caches, b.caches) {
        (None, None) => None,
        (x, y) => {
            let empty = BTreeMap::new();
            let (xs, ys) = (x.as_ref().unwrap_or(&empty), y.as_ref().unwrap_or(&empty));
            let mut out = BTreeMap::new();
            for k in xs.keys().chain(ys.keys()) {
                let v = match (xs.get(k), ys.get(k)) {
                    (Some(Backend::Database), _) | (_, Some(Backend::Database)) => Backend::Database,
                    (Some(p), Some(q)) if p == q => p.clone(),
                    _ => Backend::Unknown,
                };
                out.insert(k.clone(), v);
            }
            Some(out)
        }
    };
    let session_engine = if a.session_engine == b.session_engine { a.session_engine } else { SessionEngine::Unknown };
    let databases = match (a.databases, b.databases) {
        (Some(x), Some(y)) if x == y => Some(x),
        _ => None,
    };
    let middleware = if a.middleware == b.middleware { a.middleware } else { None };
    let auth_user_model = if a.auth_user_model == b.auth_user_model { a.auth_user_model } else { None };
    let mut modules = a.modules;
    modules.extend(b.modules);
    DjangoSettings { modules, caches, session_engine, databases, middleware, auth_user_model }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let f = dir.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, t).unwrap();
        }
        dir
    }

    const MANAGE: &str = "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\n";

    #[test]
    fn dsm_forms() {
        assert_eq!(dsm_in_python(MANAGE), vec!["shop.settings"]);
        assert_eq!(dsm_in_python("os.environ['DJANGO_SETTINGS_MODULE'] = 'a.b'"), vec!["a.b"]);
        assert_eq!(dsm_in_python("if os.environ['DJANGO_SETTINGS_MODULE'] == 'a.b': pass"), Vec::<String>::new());
        assert_eq!(dsm_in_ini("[pytest]\nDJANGO_SETTINGS_MODULE = cfg.settings.test\n"), Some("cfg.settings.test".into()));
        assert_eq!(dsm_in_ini("[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = \"x.s\"\n"), Some("x.s".into()));
    }

    #[test]
    fn literal_caches() {
        let p = project(&[
            ("manage.py", MANAGE),
            (
                "shop/settings.py",
                "CACHES = {\n  'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': env('REDIS')},\n  'db': dict(BACKEND='django.core.cache.backends.db.DatabaseCache'),\n}\nCACHES['local'] = {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}\nSESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'ATOMIC_REQUESTS': True}}\n",
            ),
        ]);
        let s = find_and_read(&p.path().join("shop")).unwrap();
        assert_eq!(s.cache("default"), Backend::Redis);
        assert_eq!(s.cache("db"), Backend::Database);
        assert_eq!(s.cache("local"), Backend::LocMem);
        assert_eq!(s.cache("other"), Backend::Unknown);
        assert_eq!(s.session_engine, SessionEngine::SignedCookies);
        assert_eq!(s.databases.unwrap()["default"].atomic_requests, Some(true));
    }

    #[test]
    fn a_key_set_under_if_keeps_the_rest_of_the_dict() {
        // revel-backend's settings: a key added under `if` to the dict `DATABASES` is built from.
        let p = project(&[
            ("manage.py", MANAGE),
            (
                "shop/settings.py",
                "DB = {'ENGINE': 'django.db.backends.postgresql', 'ATOMIC_REQUESTS': True}\nif not POOL:\n    DB['CONN_HEALTH_CHECKS'] = True\n    DB['OPTIONS'] = {}\nelse:\n    OTHER['ATOMIC_REQUESTS'] = False\nDEFAULT = DB\nDATABASES = {'default': DEFAULT}\n",
            ),
        ]);
        let s = find_and_read(&p.path().join("shop")).unwrap();
        assert_eq!(s.databases.unwrap()["default"].atomic_requests, Some(true));
        // The same key itself set under `if`: unknown.
        let p = project(&[
            ("manage.py", MANAGE),
            (
                "shop/settings.py",
                "DB = {'ENGINE': 'x', 'ATOMIC_REQUESTS': True}\nif DEBUG:\n    DB['ATOMIC_REQUESTS'] = False\nDATABASES = {'default': DB}\n",
            ),
        ]);
        let s = find_and_read(&p.path().join("shop")).unwrap();
        assert_eq!(s.databases.unwrap()["default"].atomic_requests, None);
    }

    #[test]
    fn deep_nesting_is_unknown_not_a_crash() {
        let deep = |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
        let texts = [
            format!("CACHES = {}\n", deep("[", "]", 20_000)),
            format!("CACHES = {}\n", deep("(", ")", 20_000)),
            format!("CACHES = {}\n", deep("{'a': ", "}", 20_000)),
            format!("{}CACHES = 1\n", "a = ".repeat(20_000)),
            format!("CACHES{} = 1\n", "['k']".repeat(20_000)),
            format!("({}) = 1, 2\n", deep("(", ")", 5_000).replace('1', "CACHES, b")),
        ];
        for t in texts {
            let p = project(&[("manage.py", MANAGE), ("shop/settings.py", &t)]);
            let s = std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || find_and_read(p.path()).map(|s| (s.cache("default"), s.cache("a"))))
                .unwrap()
                .join()
                .expect("no stack overflow");
            assert_eq!(s, Some((Backend::Unknown, Backend::Unknown)), "{}", &t[..40]);
        }
    }

    #[test]
    fn middleware_lists() {
        let read = |settings: &str| {
            let p = project(&[("manage.py", MANAGE), ("shop/settings.py", settings)]);
            find_and_read(p.path()).unwrap().middleware
        };
        let a = "'django.contrib.auth.middleware.AuthenticationMiddleware'";
        let l = "'django.contrib.auth.middleware.LoginRequiredMiddleware'";
        assert_eq!(read(&format!("MIDDLEWARE = [{a}]\nMIDDLEWARE += [{l}]\n")).unwrap().len(), 2);
        assert_eq!(read(&format!("BASE = ({a},)\nMIDDLEWARE = list(BASE)\n")), None);
        assert_eq!(read(&format!("MIDDLEWARE = [{a}]\nMIDDLEWARE.append({l})\nMIDDLEWARE.insert(0, 'x.Y')\n")).unwrap()[0], "x.Y");
        assert_eq!(read(&format!("MIDDLEWARE = [{a}] + EXTRA\n")), None);
        assert_eq!(read(&format!("MIDDLEWARE = [{a}, env('M')]\n")), None);
        assert_eq!(read("SECRET_KEY = 'x'\n"), Some(vec![]));
        assert_eq!(read("X = 1\n"), None);
    }

    #[test]
    fn names_imported_from_a_settings_module() {
        // courtlistener's shape: a package whose parts import MIDDLEWARE from a sibling and
        // append to it; the package star-imports them all.
        let a = "'django.contrib.auth.middleware.AuthenticationMiddleware'";
        let read = |security: &str| {
            let p = project(&[
                ("manage.py", MANAGE),
                ("shop/settings/__init__.py", "from .django import *\nfrom .project.security import *\n"),
                ("shop/settings/django.py", &format!("MIDDLEWARE = [{a}]\nDEBUG = False\n")),
                ("shop/settings/project/__init__.py", ""),
                ("shop/settings/project/security.py", security),
            ]);
            find_and_read(p.path()).unwrap().middleware
        };
        let m = read("from ..django import DEBUG, MIDDLEWARE\nif DEBUG:\n    MIDDLEWARE.append('debug_toolbar.M')\n");
        assert!(m.is_some_and(|m| m.first().is_some_and(|x| x.ends_with("AuthenticationMiddleware"))));
        assert_eq!(read("from ..django import MIDDLEWARE as M\nM.append('x.Y')\n").map(|m| m.len()), Some(1));
        assert_eq!(read("from somewhere import MIDDLEWARE\n"), None, "outside the project: unknown");
        assert_eq!(read("from ..django import NOT_THERE as MIDDLEWARE\n"), None);
        assert_eq!(read("try:\n    from ..django import MIDDLEWARE\nexcept ImportError:\n    MIDDLEWARE = []\n"), None);
    }

    #[test]
    fn auth_user_model() {
        let read = |settings: &str| {
            let p = project(&[("manage.py", MANAGE), ("shop/settings.py", settings)]);
            find_and_read(p.path()).unwrap().auth_user_model
        };
        assert_eq!(read("SECRET_KEY = 'x'\nAUTH_USER_MODEL = 'people.Member'\n").as_deref(), Some("people.Member"));
        assert_eq!(read("SECRET_KEY = 'x'\n").as_deref(), Some("auth.User"));
        assert_eq!(read("SECRET_KEY = 'x'\nAUTH_USER_MODEL = env('USER_MODEL')\n"), None);
        assert_eq!(read("X = 1\n"), None);
    }

    #[test]
    fn django_configurations_classes() {
        const MANAGE_CONF: &str = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.local')\nos.environ.setdefault('DJANGO_CONFIGURATION', 'Local')\n";
        const BASE: &str = "from configurations import Configuration, values\n\nclass Base(Configuration):\n    SECRET_KEY = values.Value()\n    AUTH_USER_MODEL = 'people.Member'\n    CACHES = {'default': {'BACKEND': 'django.core.cache.backends.dummy.DummyCache'}}\n";
        let read = |local: &str| {
            let p = project(&[("manage.py", MANAGE_CONF), ("shop/base.py", BASE), ("shop/local.py", local)]);
            find_and_read(p.path()).unwrap()
        };
        let s = read("from shop.base import Base\n\nclass Local(Base):\n    DEBUG = True\n");
        assert_eq!(s.auth_user_model.as_deref(), Some("people.Member"), "inherited from the imported base");
        assert_eq!(s.cache("default"), Backend::Dummy);
        let s = read("from .base import Base\n\nclass Local(Base):\n    CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache'}}\n");
        assert_eq!(s.cache("default"), Backend::Database, "the class overrides its base");
        let s = read("from configurations import Configuration\n\nclass Local(Configuration):\n    SECRET_KEY = 'x'\n");
        assert_eq!(s.auth_user_model.as_deref(), Some("auth.User"), "Django's default");
        let s = read("from shop.base import Base\nfrom somelib import Mixin\n\nclass Local(Mixin, Base):\n    DEBUG = True\n");
        assert_eq!(s.auth_user_model, None, "a base that cannot be read");
        let s = read("from shop.base import Base\n\nclass Local(Base):\n    @classmethod\n    def post_setup(cls):\n        pass\n");
        assert_eq!(s.auth_user_model, None, "a hook may change any setting");
        let s = read("from shop.base import Base\n\nclass Other(Base):\n    DEBUG = True\n");
        assert_eq!(s.auth_user_model, None, "the named class is not in the module");
    }

    #[test]
    fn unknowns() {
        let read = |settings: &str| {
            let p = project(&[("manage.py", MANAGE), ("shop/settings.py", settings), ("shop/base.py", "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.dummy.DummyCache'}}\n")]);
            find_and_read(p.path()).unwrap()
        };
        assert_eq!(read("SECRET_KEY = 'x'\n").cache("default"), Backend::LocMem, "Django's default");
        assert_eq!(read("X = 1\n").caches, None, "not a settings module");
        assert_eq!(read("from configurations import Configuration\nclass Dev(Configuration):\n    DEBUG = True\n").caches, None);
        assert_eq!(read("CACHES = env.cache()\n").caches, None);
        assert_eq!(read("CACHES = {'default': {'BACKEND': os.environ.get('B')}}\n").cache("default"), Backend::Unknown);
        assert_eq!(read("if DEBUG:\n    CACHES = {}\n").caches, None);
        assert_eq!(read("from .base import *\n").cache("default"), Backend::Dummy);
        assert_eq!(read("from .base import *\nCACHES['default']['BACKEND'] = 'django.core.cache.backends.db.DatabaseCache'\n").cache("default"), Backend::Database);
        assert_eq!(read("from .base import *\nCACHES.update(x)\n").caches, None);
        assert_eq!(read("from .nothere import *\n").caches, None);
        assert_eq!(read("try:\n    from .local_settings import *\nexcept ImportError:\n    pass\n").caches, None);
        assert_eq!(read("from .base import *\ntry:\n    from .base import *\nexcept ImportError:\n    pass\n").cache("default"), Backend::Dummy);
        assert_eq!(read("from environ import *\n").caches, None);
        assert_eq!(read("CACHES = {**BASE}\n").caches, None);
        // django-split-settings: `include()` runs other files into this module.
        assert_eq!(read("from split_settings.tools import include\ninclude('base.py')\n").caches, None);
        assert_eq!(read("CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache'}}\ninclude('x.py')\n").caches, None);
        assert_eq!(read("from .base import *\nfrom .nothere import *\n").caches, None, "an unreadable star import may overwrite");
        assert_eq!(read("from .base import *\nload_dotenv()\n").cache("default"), Backend::Dummy);
        // Calls nested in a statement's arguments do not count.
        assert_eq!(read("from .base import *\nsentry_sdk.init(dsn=env('DSN'), integrations=[DjangoIntegration()])\n").cache("default"), Backend::Dummy);
    }

    #[test]
    fn several_modules_agree_or_unknown() {
        let redis = "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache'}}\n";
        let p = project(&[
            ("manage.py", "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cfg.settings.local')\n"),
            ("cfg/asgi.py", "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cfg.settings.production')\n"),
            ("cfg/settings/__init__.py", ""),
            ("cfg/settings/local.py", "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}\n"),
            ("cfg/settings/production.py", redis),
        ]);
        let s = find_and_read(p.path()).unwrap();
        assert_eq!(s.modules.len(), 2);
        assert_eq!(s.cache("default"), Backend::Unknown);
        // A database cache under either module queries there.
        std::fs::write(p.path().join("cfg/settings/production.py"), "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache'}}\n").unwrap();
        assert_eq!(find_and_read(p.path()).unwrap().cache("default"), Backend::Database);
        // By convention, without manage.py: every module of the settings package.
        let q = project(&[("pytest.ini", "[pytest]\n"), ("app/settings/base.py", redis), ("app/settings/dev.py", "from .base import *\n")]);
        assert_eq!(find_and_read(q.path()).unwrap().cache("default"), Backend::Redis);
        // pytest-django's setting.
        let r = project(&[("pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = app.test_settings\n"), ("app/test_settings.py", redis)]);
        assert_eq!(find_and_read(r.path()).unwrap().cache("default"), Backend::Redis);
        // A named module that is not there.
        let s = project(&[("manage.py", MANAGE)]);
        assert_eq!(find_and_read(s.path()), None);
    }
}
