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
//!
//! **Scans** ([`PyScan`]) answer what a module is walked for when only names are asked — its
//! imports, the names of its top-level `class`/`def` statements, the words of its text —
//! from a line scanner, without a parse. Invariant: a scan equals what the parsed summary
//! says for those questions (the scanner declines any shape it does not read exactly, and
//! the summary then gives the scan; tested on every Python file of the test suite, and once
//! on 30,037 files of real code). A module's facts for one name (is `published` a manager
//! attribute in what this file imports) are read from the summaries of the reached modules
//! whose text has that word only ([`resolve_module_word`]): no module's facts can hold a
//! name its text lacks.

use super::FileView;
use crate::semantic::outside::{ClassFacts, FnFacts, Loc, ModuleFacts, PyDef};
use crate::semantic::python::last_name;
use crate::semantic::summary::{LocalFn, Work};
use crate::semantic::python::Skip;
use crate::semantic::PyModel;
use rustc_hash::{FxHashMap, FxHashSet};
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
    /// SQLAlchemy / SQLModel mapped attributes declared in the body (AG104).
    pub sqla_attrs: Vec<crate::semantic::sqla::MappedAttr>,
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
    /// Module-level names that are FastAPI dependencies giving a session (a function that
    /// yields one, an `Annotated[…, Depends(…)]` alias), from this file alone.
    pub sqla_deps: FxHashMap<String, crate::semantic::sqla::DepFacts>,
    /// Module-level dependency functions that yield a session made by a factory imported
    /// from elsewhere: name → (the factory's import path, opened by `begin()`, commits).
    pub sqla_dep_via: FxHashMap<String, (String, bool, bool)>,
    /// Module-level names assigned a peewee database constructor (`db = SqliteDatabase(…)`).
    pub pw_dbs: FxHashMap<String, crate::semantic::peewee::PwDb>,
    /// Module-level classes with a `class Meta: database = …`: what it names.
    pub pw_meta: FxHashMap<String, crate::semantic::peewee::MetaDb>,
}

/// The summary of a Python source text. Parsed sparsely: the bodies of sync functions are
/// left out (a helper's body is read only when something asks what it does:
/// [`body_of`]), except methods that return a chain from `self` (custom querysets).
pub fn summarize(text: &str) -> PySummary {
    summarize_with(text, true)
}

/// [`summarize`], with or without blanking data tables ([`sparse::mask_data`]): the
/// summaries are equal (tested).
fn summarize_with(text: &str, data_tables: bool) -> PySummary {
    use crate::analysis::sparse;
    let index = crate::text::LineIndex::new(text);
    let mut hot: Vec<usize> = text.match_indices("return self").chain(text.match_indices("return super(")).map(|(i, _)| i).collect();
    // AG204: a sync `__aenter__` and the `__init__` that assigns `self._atomic = atomic()`.
    if text.contains("__aenter__") {
        hot.extend(text.match_indices("__enter__").chain(text.match_indices("atomic(")).map(|(i, _)| i));
        hot.sort_unstable();
    }
    // FastAPI dependencies that yield a SQLAlchemy session (a sync `def get_db()` too).
    if text.contains("sqlalchemy") || text.contains("sqlmodel") {
        hot.extend(text.match_indices("yield").map(|(i, _)| i));
        hot.sort_unstable();
    }
    let masked = sparse::mask(text, &hot, &sparse::event_positions(text), &[]);
    let masked = if data_tables { sparse::mask_data(text, masked) } else { masked };
    let sparse_tree = masked.and_then(|masked| {
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
                if m.node_text(right).contains("Depends") {
                    let name = m.node_text(left).to_string();
                    s.sqla_dep_via.remove(&name);
                    match m.module_dep_facts(&name) {
                        Some(d) => s.sqla_deps.insert(name, d),
                        None => {
                            // `SessionDep = Annotated[AsyncSession, Depends(get_session)]` whose
                            // `get_session` opens a factory of another module.
                            let via = m
                                .depends_target(right)
                                .filter(|d| d.kind() == "identifier")
                                .and_then(|d| m.module_def_named(m.node_text(d)))
                                .and_then(|def| m.dependency_factory_import(def));
                            if let Some(via) = via {
                                s.sqla_dep_via.insert(name.clone(), via);
                            }
                            s.sqla_deps.remove(&name)
                        }
                    };
                }
                let pw = (right.kind() == "call")
                    .then(|| right.child_by_field_name("function"))
                    .flatten()
                    .and_then(|f| m.resolve_dotted(m.node_text(f)))
                    .and_then(|p| crate::semantic::peewee::ctor_db(&p));
                match pw {
                    Some(k) => s.pw_dbs.insert(m.node_text(left).to_string(), k),
                    None => s.pw_dbs.remove(m.node_text(left)),
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
                if m.imports_sqla() {
                    if let Some(d) = m.dependency_facts(def, 0) {
                        s.sqla_deps.insert(name.clone(), d);
                    } else if let Some(via) = m.dependency_factory_import(def) {
                        s.sqla_dep_via.insert(name.clone(), via);
                    }
                }
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
                let sqla_attrs = if m.imports_sqla() { m.mapped_attrs(def) } else { vec![] };
                if let Some(meta) = crate::semantic::peewee::class_meta_db(&m, def) {
                    s.pw_meta.insert(name.clone(), meta);
                }
                s.classes.insert(
                    name,
                    PyClass { bases, manager_attrs, a_methods, defers_on_commit, name_range, fields, homemade_atomic, sqla_attrs },
                );
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

/// What a module is walked for when only its names are asked (re-exports, the modules its
/// facts gather): its imports, the names its top-level `class`/`def` statements define, and
/// a hash of every identifier-like word of its text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PyScan {
    /// local name → dotted import path, as [`PySummary::imports`].
    pub imports: FxHashMap<String, String>,
    /// Names of top-level classes and functions (as the keys of [`PySummary::classes`] and
    /// [`PySummary::functions`]).
    pub defs: FxHashSet<String>,
    /// The text has a word module facts are made of ([`may_have_facts`]).
    pub facts_words: bool,
    /// Hashes of the words of the text (runs of identifier characters, strings and comments
    /// included) when `facts_words`: a module whose facts hold a name has that name among
    /// its words.
    words: FxHashSet<u64>,
}

impl PyScan {
    /// False when the text cannot have `word` as a word (true: it may).
    pub fn may_have_word(&self, word: &str) -> bool {
        self.words.contains(&super::hash_text(word))
    }

    fn from_summary(s: &PySummary, text: &str) -> PyScan {
        let facts_words = may_have_facts(text);
        let words = if facts_words { words_of(text) } else { FxHashSet::default() };
        PyScan { imports: s.imports.clone(), defs: s.classes.keys().chain(s.functions.keys()).cloned().collect(), facts_words, words }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The hashes of the words of `text`. A word ends only at an ASCII byte, so every word is a
/// slice of `text` at character boundaries: it is hashed as that `&str`, not re-validated.
fn words_of(text: &str) -> FxHashSet<u64> {
    // [`is_word_byte`] as a table: this loop sees every byte of the module.
    const WORD: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let c = i as u8;
            t[i] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
            i += 1;
        }
        t
    };
    let b = text.as_bytes();
    let mut out = FxHashSet::default();
    let mut start = None;
    let mut i = 0;
    while i < b.len() {
        match (WORD[b[i] as usize], start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.insert(super::hash_text(&text[s..i]));
                start = None;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        out.insert(super::hash_text(&text[s..]));
    }
    out
}

/// The [`PyScan`] of a text: from a line scanner (no parse) when the text has only shapes it
/// reads exactly like the parsed [`PySummary`]; from [`summarize`] otherwise.
pub fn scan(text: &str) -> PyScan {
    match scan_lines(text) {
        Some((imports, defs)) => {
            let facts_words = may_have_facts(text);
            let words = if facts_words { words_of(text) } else { FxHashSet::default() };
            PyScan { imports, defs, facts_words, words }
        }
        None => PyScan::from_summary(&summarize(text), text),
    }
}

/// One token of the line scanner.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Punct(u8),
    /// A string literal (its text is never looked at).
    Str,
}

/// A logical segment of a statement: its tokens, and whether it starts a line at column 0.
struct Segment<'a> {
    toks: Vec<Tok<'a>>,
    top: bool,
}

/// Splits `text` into statement segments (at newlines and `;` outside brackets, and after a
/// `:` outside brackets, so `try: import x` gives `import x`). `None`: a shape the scanner
/// does not read (an unterminated string or bracket, a stray byte).
fn segments(text: &str) -> Option<Vec<Segment<'_>>> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut cur = Segment { toks: vec![], top: true };
    let mut depth: i32 = 0;
    let mut i = 0;
    let mut line_start = true;
    fn flush<'a>(cur: &mut Segment<'a>, out: &mut Vec<Segment<'a>>, top: bool) {
        let done = std::mem::replace(cur, Segment { toks: vec![], top });
        if !done.toks.is_empty() {
            out.push(done);
        }
    }
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                i += 1;
                if depth == 0 {
                    flush(&mut cur, &mut out, true);
                    line_start = true;
                }
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                if line_start && cur.toks.is_empty() && depth == 0 {
                    cur.top = false;
                }
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\\' => {
                // A line continuation.
                if b.get(i + 1) == Some(&b'\n') {
                    i += 2;
                } else if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                    i += 3;
                } else {
                    return None;
                }
                continue;
            }
            _ => {}
        }
        line_start = false;
        if c == b'"' || c == b'\'' {
            i = skip_string(b, i)?;
            cur.toks.push(Tok::Str);
            continue;
        }
        if is_word_byte(c) {
            let s = i;
            while i < b.len() && is_word_byte(b[i]) {
                i += 1;
            }
            let w = &text[s..i];
            // A keyword glued to a byte order mark or a non-ASCII space: not read here.
            if !w.is_ascii() && ["import", "from", "class", "def"].iter().any(|k| w.contains(k)) {
                return None;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                if !matches!(w.to_ascii_lowercase().as_str(), "r" | "u" | "b" | "f" | "t" | "br" | "rb" | "fr" | "rf" | "tr" | "rt") {
                    return None;
                }
                i = skip_string(b, i)?;
                cur.toks.push(Tok::Str);
                continue;
            }
            cur.toks.push(Tok::Word(w));
            continue;
        }
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
        i += 1;
        if depth == 0 && (c == b';' || (c == b':' && b.get(i) != Some(&b'='))) {
            cur.toks.push(Tok::Punct(c));
            flush(&mut cur, &mut out, false);
            continue;
        }
        cur.toks.push(Tok::Punct(c));
    }
    if depth != 0 {
        return None;
    }
    flush(&mut cur, &mut out, false);
    Some(out)
}

/// The index after the string literal whose opening quote is at `i`.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    let q = b[i];
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    i += if triple { 3 } else { 1 };
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => {
                if !triple {
                    return Some(i + 1);
                }
                if b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                    return Some(i + 3);
                }
                i += 1;
            }
            b'\n' if !triple => return None,
            _ => i += 1,
        }
    }
    None
}

fn is_ident(w: &str) -> bool {
    !w.is_empty() && !w.as_bytes()[0].is_ascii_digit()
}

/// A dotted name starting at `toks[0]`: its text and the tokens it took.
fn dotted(toks: &[Tok]) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut k = 0;
    loop {
        match toks.get(k) {
            Some(Tok::Word(w)) if is_ident(w) => s.push_str(w),
            _ => return None,
        }
        k += 1;
        if toks.get(k) == Some(&Tok::Punct(b'.')) {
            s.push('.');
            k += 1;
        } else {
            return Some((s, k));
        }
    }
}

/// Imports and top-level definitions found by reading statement segments. `None`: a shape
/// it does not read exactly.
fn scan_lines(text: &str) -> Option<(FxHashMap<String, String>, FxHashSet<String>)> {
    // Spaces inside a dotted name are part of the parsed name's text: not read here.
    let mut imports = FxHashMap::default();
    let mut defs = FxHashSet::default();
    for seg in segments(text)? {
        let t = &seg.toks;
        match t.first() {
            Some(Tok::Word("import")) => {
                let mut k = 1;
                loop {
                    let (path, n) = dotted(&t[k..])?;
                    k += n;
                    if t.get(k) == Some(&Tok::Word("as")) {
                        let Some(Tok::Word(a)) = t.get(k + 1) else { return None };
                        imports.insert(a.to_string(), path);
                        k += 2;
                    } else {
                        let first = path.split('.').next().unwrap_or("").to_string();
                        imports.insert(first.clone(), first);
                    }
                    match t.get(k) {
                        Some(Tok::Punct(b',')) => k += 1,
                        None | Some(Tok::Punct(b';')) => break,
                        _ => return None,
                    }
                }
            }
            Some(Tok::Word("from")) => {
                let mut k = 1;
                let mut module = String::new();
                while t.get(k) == Some(&Tok::Punct(b'.')) {
                    module.push('.');
                    k += 1;
                }
                if let Some(Tok::Word(w)) = t.get(k) {
                    if *w != "import" {
                        let (p, n) = dotted(&t[k..])?;
                        module.push_str(&p);
                        k += n;
                    }
                }
                if module.is_empty() || t.get(k) != Some(&Tok::Word("import")) {
                    return None;
                }
                k += 1;
                if module == "__future__" {
                    continue;
                }
                let paren = t.get(k) == Some(&Tok::Punct(b'('));
                if paren {
                    k += 1;
                }
                if t.get(k) == Some(&Tok::Punct(b'*')) {
                    k += 1;
                } else {
                    loop {
                        if paren && t.get(k) == Some(&Tok::Punct(b')')) {
                            break;
                        }
                        let (name, n) = dotted(&t[k..])?;
                        k += n;
                        let local = if t.get(k) == Some(&Tok::Word("as")) {
                            let Some(Tok::Word(a)) = t.get(k + 1) else { return None };
                            k += 2;
                            a.to_string()
                        } else {
                            name.clone()
                        };
                        let full = if module.ends_with('.') { format!("{module}{name}") } else { format!("{module}.{name}") };
                        imports.insert(local, full);
                        if t.get(k) == Some(&Tok::Punct(b',')) {
                            k += 1;
                        } else {
                            break;
                        }
                    }
                }
                if paren {
                    if t.get(k) != Some(&Tok::Punct(b')')) {
                        return None;
                    }
                    k += 1;
                }
                if !matches!(t.get(k), None | Some(Tok::Punct(b';'))) {
                    return None;
                }
            }
            Some(Tok::Word(w)) if seg.top && matches!(*w, "class" | "def" | "async") => {
                let k = if *w == "async" {
                    if t.get(1) != Some(&Tok::Word("def")) {
                        continue;
                    }
                    2
                } else {
                    1
                };
                let Some(Tok::Word(name)) = t.get(k) else { return None };
                defs.insert(name.to_string());
            }
            _ => {
                // `import`/`from` elsewhere in a segment: a shape not read here.
                if t.iter().skip(1).any(|x| *x == Tok::Word("import")) {
                    return None;
                }
            }
        }
    }
    Some((imports, defs))
}

/// Words without which a text's [`ModuleFacts`] are empty: a manager attribute is assigned
/// a `…Manager(…)`, `….as_manager()` or `….from_queryset(…)(…)` call; a relation is a
/// `ForeignKey`, `ManyToManyField` or `GenericRelation` field; a queryset method belongs to a
/// class whose base ends in `QuerySet` or `Manager` (see `PyModel::note_relation_field`,
/// `is_manager_ctor`, `PyModel::queryset_methods`).
const FACTS_WORDS: &[&str] = &["Manager", "as_manager", "from_queryset", "QuerySet", "ForeignKey", "ManyToManyField", "GenericRelation"];

/// False when the text cannot declare any [`ModuleFacts`] (a line scan, no parse).
pub fn may_have_facts(text: &str) -> bool {
    static WORDS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| aho_corasick::AhoCorasick::new(FACTS_WORDS).expect("plain words"));
    WORDS.is_match(text)
}

/// What the function `name` of a Python source text does, its body read (`Class.method` for
/// a method of a top-level class): the last `def` of that name among the module-level
/// functions (or among the methods directly in the bodies of the top-level classes named
/// `Class`), as executing the module binds it last; `None` when there is none. `tree` is the
/// full parse of `text`. Each function is read on a model of its own: what one function's
/// facts say does not depend on which other functions of the file were asked about before,
/// and a helper asked about reads only its own body (not every function of its file). That
/// model walks the other functions' bodies only where they hold an event word
/// ([`PyModel::build_skipping`]), so it costs the module's skeleton plus one body; its
/// file-wide facts are the full model's (`tests` below compare every function of a module).
pub fn body_of(text: &str, tree: &tree_sitter::Tree, name: &str) -> Option<LocalFn> {
    let (class, fname) = match name.split_once('.') {
        Some((c, f)) => (Some(c), f),
        None => (None, name),
    };
    let named = |d: tree_sitter::Node, want: &str| d.child_by_field_name("name").is_some_and(|n| &text[n.byte_range()] == want);
    fn as_def(n: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
        match n.kind() {
            "decorated_definition" => n.child_by_field_name("definition"),
            _ => Some(n),
        }
    }
    // The units: module-level functions and the methods of module-level classes.
    let root = tree.root_node();
    let mut c = root.walk();
    let mut units = vec![];
    let mut found = None;
    for node in root.named_children(&mut c) {
        let Some(def) = as_def(node) else { continue };
        match def.kind() {
            "function_definition" => {
                units.push(def);
                if class.is_none() && named(def, fname) {
                    found = Some(def);
                }
            }
            "class_definition" => {
                let Some(body) = def.child_by_field_name("body") else { continue };
                let mine = class.is_some_and(|cname| named(def, cname));
                let mut c = body.walk();
                for d in body.named_children(&mut c).filter_map(as_def).filter(|d| d.kind() == "function_definition") {
                    units.push(d);
                    if mine && named(d, fname) {
                        found = Some(d);
                    }
                }
            }
            _ => {}
        }
    }
    let def = found?;
    // Every other unit's body is skipped but for the nodes holding an event word (a superset
    // of the model's events there): the file-wide facts are those of the full model, and the
    // function's own body is walked whole.
    let events = crate::analysis::sparse::event_positions(text);
    let skip: Vec<Skip> = units
        .iter()
        .filter(|u| u.id() != def.id())
        .filter_map(|u| u.child_by_field_name("body"))
        .map(|b| {
            let r = b.byte_range();
            let from = events.partition_point(|&e| e < r.start);
            let to = events.partition_point(|&e| e < r.end);
            Skip { body: r, events: &events[from..to], head: None }
        })
        .collect();
    let index = crate::text::LineIndex::new(text);
    let m = PyModel::build_skipping(text, tree, &index, &skip);
    let f = m.local_fn(def);
    // Reading it consulted another function of the file (what a local helper it returns
    // from produces): that body was skipped, so read again on the full model.
    let skipped = |r: &std::ops::Range<usize>| skip.iter().any(|s| r.start < s.body.end && s.body.start < r.end);
    let reached = m.local_fns.borrow().values().any(|g| skipped(&g.def_range)) || m.read_bodies.borrow().iter().any(skipped);
    if reached {
        return Some(PyModel::build(text, tree, &index).local_fn(def));
    }
    Some(f)
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

/// [`resolve_sqla`] for a FastAPI dependency (`app.deps.get_session`, `app.deps.SessionDep`).
pub fn resolve_sqla_dep(view: &FileView, dotted: &str) -> Option<crate::semantic::sqla::DepFacts> {
    let (file, attrs) = locate(view, &view.file, dotted)?;
    let [name] = attrs.as_slice() else { return None };
    view.note(&file);
    let summary = view.project.py_summary(&file)?;
    if let Some(d) = summary.sqla_deps.get(name) {
        return Some(*d);
    }
    // `async with async_session() as s: yield s`, the factory imported from a third module.
    let (factory, begun, commits) = summary.sqla_dep_via.get(name)?;
    let (ffile, fattrs) = locate(view, &file, factory)?;
    let [fname] = fattrs.as_slice() else { return None };
    view.note(&ffile);
    match view.project.py_summary(&ffile)?.sqla.get(fname).copied()? {
        crate::semantic::sqla::SqlaKind::Factory { asyncio, sqlmodel, expire } => Some(crate::semantic::sqla::DepFacts {
            kind: crate::semantic::sqla::SqlaKind::Session { asyncio, sqlmodel, expire },
            commits: *commits || *begun,
        }),
        _ => None,
    }
}

/// The peewee kind of `dotted` seen from `from`: a module-level database or model class of
/// a project module, followed through that module's imports and bases (bounded by `depth`).
pub fn resolve_peewee(view: &FileView, from: &Path, dotted: &str, depth: u32) -> Option<crate::semantic::peewee::PwKind> {
    use crate::semantic::peewee::{resolve, MetaDb, PwDb, PwKind, PwScope, MAX_DEPTH};
    struct Scope<'a> {
        view: &'a FileView,
        file: PathBuf,
        s: Arc<PySummary>,
    }
    impl PwScope for Scope<'_> {
        fn db_named(&self, name: &str) -> Option<PwDb> {
            self.s.pw_dbs.get(name).copied()
        }
        fn class_named(&self, name: &str) -> Option<(Vec<String>, Option<MetaDb>)> {
            let c = self.s.classes.get(name)?;
            Some((c.bases.clone(), self.s.pw_meta.get(name).cloned()))
        }
        fn import_path(&self, name: &str) -> Option<String> {
            self.s.imports.get(name).cloned()
        }
        fn follow(&self, dotted: &str, depth: u32) -> Option<PwKind> {
            resolve_peewee(self.view, &self.file, dotted, depth)
        }
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let (file, attrs) = locate(view, from, dotted)?;
    let [name] = attrs.as_slice() else { return None };
    view.note(&file);
    let s = view.project.py_summary(&file)?;
    let scope = Scope { view, file, s };
    resolve(&scope, name, depth + 1)
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

/// [`resolve_module`] for one name: of the facts it gathers, those of the modules whose text
/// has the word `word` (the others cannot hold `word`). The modules are those
/// [`resolve_module`] walks and notes, found through their [`PyScan`]s (no parse) once per
/// view and import path ([`module_closure`]); a module is summarised only when it has the word.
pub fn resolve_module_word(view: &FileView, dotted: &str, word: &str) -> Option<Arc<ModuleFacts>> {
    // Every facts' answer at hand serves (it holds the modules without the word too).
    for key in [dotted.to_string(), format!("!mod {dotted}"), format!("!mod {word} {dotted}")] {
        if let Some(hit) = view.answers.lock().unwrap().get(&key).cloned() {
            return match hit {
                Some(PyDef::Module(f)) => Some(f),
                _ => None,
            };
        }
    }
    let answer = module_closure(view, dotted).map(|modules| {
        let mut out = ModuleFacts::default();
        for (f, scan) in modules.iter() {
            if !(scan.facts_words && scan.may_have_word(word)) {
                continue;
            }
            if let Some(s) = view.project.py_summary(f) {
                out.absorb(&s.facts);
            }
        }
        out.sort_dedup();
        Arc::new(out)
    });
    view.answers.lock().unwrap().insert(format!("!mod {word} {dotted}"), answer.clone().map(PyDef::Module));
    answer
}

/// The modules whose facts [`resolve_module`] gathers for `dotted` (`None`: it names no
/// module), memoised in the view.
fn module_closure(view: &FileView, dotted: &str) -> Option<Modules> {
    if let Some(hit) = view.py_closures.lock().unwrap().get(dotted) {
        return hit.clone();
    }
    let answer = locate(view, &view.file, dotted).and_then(|(file, attrs)| module_chain(view, &file, &attrs, 0));
    view.py_closures.lock().unwrap().insert(dotted.to_string(), answer.clone());
    answer
}

/// Module files with their scans.
pub(crate) type Modules = Arc<Vec<(PathBuf, Arc<PyScan>)>>;

/// [`attr_chain_as`] with `modules_only`, through [`PyScan`]s: the modules whose facts make
/// those of the module the attributes `attrs` name in `file` ([`deep_modules`]).
fn module_chain(view: &FileView, file: &Path, attrs: &[String], depth: u32) -> Option<Modules> {
    if depth > MAX_DEPTH {
        return None;
    }
    view.note(file);
    let scan = view.project.py_scan(file)?;
    let Some((name, rest)) = attrs.split_first() else {
        return Some(deep_modules_shared(view, file, &scan, depth));
    };
    if scan.defs.contains(name) {
        return None;
    }
    if let Some(target) = scan.imports.get(name) {
        let (f, a) = locate(view, file, &dotted_with(target, rest))?;
        return module_chain(view, &f, &a, depth + 1);
    }
    let sub = package_submodule(view, file, name)?;
    module_chain(view, &sub, rest, depth + 1)
}

/// `target` followed by the attributes `rest`, dotted.
fn dotted_with(target: &str, rest: &[String]) -> String {
    let mut dotted = target.to_string();
    for r in rest {
        dotted.push('.');
        dotted.push_str(r);
    }
    dotted
}

/// The submodule `name` of the package whose `__init__.py` is `file`, when `file` is one (a
/// submodule the `__init__.py` does not import: `import pkg.sub`); the files looked at are
/// noted in `view`.
fn package_submodule(view: &FileView, file: &Path, name: &str) -> Option<PathBuf> {
    if !file.ends_with("__init__.py") {
        return None;
    }
    let pkg = file.parent()?;
    let mut noted = vec![];
    let sub = module_file(&view.project, &pkg.join("__init__.py"), 1, &[name], &mut noted);
    for p in &noted {
        view.note(p);
    }
    sub
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
    // A module passed through for a name it imports (a re-export) is read by its scan, not
    // summarised: the scan's imports and top-level names equal the summary's.
    if let Some((name, rest)) = attrs.split_first() {
        let scan = view.project.py_scan(file)?;
        if !scan.defs.contains(name) {
            if let Some(target) = scan.imports.get(name) {
                let mut dotted = target.clone();
                for r in rest {
                    dotted.push('.');
                    dotted.push_str(r);
                }
                return resolve_as(view, file, &dotted, depth + 1, kind, modules_only);
            }
        }
    }
    let summary = view.project.py_summary(file)?;
    let Some((name, rest)) = attrs.split_first() else {
        return Some(PyDef::Module(deep_facts(view, file, &summary, depth)));
    };
    if let Some(class) = summary.classes.get(name) {
        if modules_only {
            return None;
        }
        if let [method] = rest {
            // A method declared in the class body.
            let qualified = format!("{name}.{method}");
            if let Some(f) = view.project.py_body(file, &qualified)? {
                return Some(PyDef::Function(fn_facts(view, file, &summary, &qualified, &f, depth, kind)));
            }
            // Else inherited: with one base the resolution order is the chain of bases, so the
            // base's method (declared or inherited) is the one. Several bases: unknown.
            let [base] = &class.bases[..] else { return None };
            let chain: Vec<String> = base.split('.').map(str::to_string).chain([method.clone()]).collect();
            if chain[0] == *name {
                return None;
            }
            return attr_chain_as(view, file, &chain, depth + 1, kind, modules_only);
        }
        return rest.is_empty().then(|| PyDef::Class(class_facts(view, file, &summary, name, class, depth)));
    }
    if let Some(f) = summary.functions.get(name) {
        if modules_only {
            return None;
        }
        return rest.is_empty().then(|| PyDef::Function(fn_facts(view, file, &summary, name, f, depth, kind)));
    }
    if let Some(target) = summary.imports.get(name) {
        return resolve_as(view, file, &dotted_with(target, rest), depth + 1, kind, modules_only);
    }
    let sub = package_submodule(view, file, name)?;
    attr_chain_as(view, &sub, rest, depth + 1, kind, modules_only)
}

/// How many import levels the facts of a module gather: its own models, the modules it
/// imports, and theirs (a view imports a service that imports the models with the
/// `related_name`; `models.py` imports the custom querysets).
const FACTS_DEPTH: u32 = 2;

/// The facts of `file`'s models and of the project modules it imports, to [`FACTS_DEPTH`].
fn deep_facts(view: &FileView, file: &Path, summary: &PySummary, depth: u32) -> Arc<ModuleFacts> {
    let mut out = ModuleFacts {
        circuit_breakers: summary.facts.circuit_breakers.clone(),
        ninja_routers: summary.facts.ninja_routers.clone(),
        ..Default::default()
    };
    let load = |g: &Path| view.project.py_summary(g).map(|sg| sg.clone_facts_and_imports());
    walk_fact_modules(view, file, summary.clone_facts_and_imports(), depth, load, summary_imports, |_, (facts, _)| {
        out.absorb(facts)
    });
    out.sort_dedup();
    Arc::new(out)
}

/// The import paths of a summary's module, sorted (as [`PySummary::clone_facts_and_imports`] gives them).
fn summary_imports(t: &(Arc<ModuleFacts>, Vec<String>)) -> Vec<&str> {
    t.1.iter().map(String::as_str).collect()
}

/// The import paths of a scanned module, sorted.
fn scan_imports(scan: &Arc<PyScan>) -> Vec<&str> {
    let mut imports: Vec<&str> = scan.imports.values().map(String::as_str).collect();
    imports.sort();
    imports
}

/// The one import walk of [`deep_facts`] and [`deep_modules`]: `file` (loaded as `start`)
/// first, then depth first the project modules each visited module imports (in `imports`
/// order), each module once, to [`FACTS_DEPTH`] levels (fewer when `depth` nears
/// [`MAX_DEPTH`]). Every located module is noted on `view`; one at the last level is loaded
/// only when its text may have facts. `visit` sees every loaded module, in walk order.
fn walk_fact_modules<T>(
    view: &FileView,
    file: &Path,
    start: T,
    depth: u32,
    load: impl Fn(&Path) -> Option<T>,
    imports: for<'a> fn(&'a T) -> Vec<&'a str>,
    mut visit: impl FnMut(&Path, &T),
) {
    let mut seen = vec![file.to_path_buf()];
    let mut todo = vec![(file.to_path_buf(), start, 0u32)];
    while let Some((f, t, level)) = todo.pop() {
        visit(&f, &t);
        if level >= FACTS_DEPTH || depth + level >= MAX_DEPTH {
            continue;
        }
        // A module at the last level gives its facts only (not its imports): one whose text
        // has none of the words facts are made of gives none, and is not summarised.
        let leaf = level + 1 >= FACTS_DEPTH || depth + level + 1 >= MAX_DEPTH;
        for path in imports(&t) {
            let Some((g, _)) = locate(view, &f, path) else { continue };
            if seen.contains(&g) {
                continue;
            }
            seen.push(g.clone());
            view.note(&g);
            if leaf && !view.project.py_may_have_facts(&g) {
                continue;
            }
            if let Some(sg) = load(&g) {
                todo.push((g, sg, level + 1));
            }
        }
    }
}

/// [`deep_modules`], shared by the views of one generation of the texts (the walk depends on
/// the module and the depth only), its notes replayed. Every depth that lets the walk reach
/// [`FACTS_DEPTH`] levels walks alike ([`walk_depth_key`]): those share one entry.
fn deep_modules_shared(view: &FileView, file: &Path, scan: &Arc<PyScan>, depth: u32) -> Modules {
    let key = (file.to_path_buf(), walk_depth_key(depth));
    view.shared(&view.project.py_closures, key, || Arc::new(deep_modules(view, file, scan, depth)))
}

/// The key of a walk from `depth` ([`walk_fact_modules`] reads `depth` only through
/// `depth + level >= MAX_DEPTH` and `depth + level + 1 >= MAX_DEPTH` for levels below
/// [`FACTS_DEPTH`]): while `depth + FACTS_DEPTH <= MAX_DEPTH` neither test can hold where the
/// level tests do not already, so all those depths walk as depth 0 does.
fn walk_depth_key(depth: u32) -> u32 {
    if depth + FACTS_DEPTH <= MAX_DEPTH {
        0
    } else {
        depth
    }
}

/// The modules [`deep_facts`] takes facts of: the same walk, imports read from [`PyScan`]s.
fn deep_modules(view: &FileView, file: &Path, scan: &Arc<PyScan>, depth: u32) -> Vec<(PathBuf, Arc<PyScan>)> {
    let mut out = vec![];
    let load = |g: &Path| view.project.py_scan(g);
    walk_fact_modules(view, file, scan.clone(), depth, load, scan_imports, |f, scan| out.push((f.to_path_buf(), scan.clone())));
    out
}

impl PySummary {
    fn clone_facts_and_imports(&self) -> (Arc<ModuleFacts>, Vec<String>) {
        let mut imports: Vec<String> = self.imports.values().cloned().collect();
        imports.sort();
        (self.facts.clone(), imports)
    }
}

/// What the project memoises class and function facts by ([`super::Project::py_classes`],
/// [`super::Project::py_fns`]): the module file, the name in it (`Class.method` for a method),
/// the resolution depth the facts were asked at (the depth bound makes facts asked deeper
/// possibly poorer, so depths are not folded), and the kind of work looked for ([`work_tag`];
/// 0 for classes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DefKey {
    file: PathBuf,
    name: String,
    depth: u32,
    kind: u8,
}

/// [`Work`] as [`fn_facts`] computes it: facts asked for [`Work::Db`] and [`Work::Dispatch`]
/// are the same (both are filled), [`Work::AsyncToSync`] fills another field.
fn work_tag(kind: Work) -> u8 {
    match kind {
        Work::Db | Work::Dispatch => 0,
        Work::AsyncToSync => 1,
    }
}

/// The facts of the class `name` of `file` (`summary` is `file`'s, `class` its entry), shared
/// by the views of one generation ([`FileView::shared`]): they depend on the texts, the
/// class and the depth only.
fn class_facts(view: &FileView, file: &Path, summary: &PySummary, name: &str, class: &PyClass, depth: u32) -> Arc<ClassFacts> {
    let key = DefKey { file: file.to_path_buf(), name: name.to_string(), depth, kind: 0 };
    view.shared(&view.project.py_classes, key, || Arc::new(class_facts_of(view, file, summary, name, class, depth)))
}

fn class_facts_of(view: &FileView, file: &Path, summary: &PySummary, name: &str, class: &PyClass, depth: u32) -> ClassFacts {
    let mut facts = ClassFacts {
        name: name.to_string(),
        manager_attrs: class.manager_attrs.clone(),
        fields: class.fields.clone(),
        a_methods: class.a_methods.clone(),
        defers_on_commit: class.defers_on_commit,
        homemade_atomic: class.homemade_atomic,
        sqla_attrs: class.sqla_attrs.clone(),
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
                facts.sqla_attrs.extend(b.sqla_attrs.iter().cloned());
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
            // `class A(B)` / `class B(A)` in one module (which Python cannot even define):
            // unknown, not an endless walk.
            if on_local_cycle(summary, head) {
                return None;
            }
            return Some(PyDef::Class(class_facts(view, file, summary, head, c, depth + 1)));
        }
    }
    let target = summary.imports.get(head)?;
    let dotted = match tail {
        Some(t) => format!("{target}.{t}"),
        None => target.clone(),
    };
    resolve_from(view, file, &dotted, depth + 1)
}

/// The facts of the function `f` of `file`, named `name` there (`Class.method` for a
/// method), its work of kind `kind` looked for; shared like [`class_facts`].
/// The class `start` of `summary`'s module reaches itself through the bare-name bases its
/// module declares (a class naming itself as a base is skipped, as [`class_facts`] does).
fn on_local_cycle(summary: &PySummary, start: &str) -> bool {
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut todo = vec![start];
    while let Some(n) = todo.pop() {
        let Some(c) = summary.classes.get(n) else { continue };
        for b in c.bases.iter().map(String::as_str).filter(|b| *b != n && summary.classes.contains_key(*b)) {
            if b == start {
                return true;
            }
            if seen.insert(b) {
                todo.push(b);
            }
        }
    }
    false
}

fn fn_facts(view: &FileView, file: &Path, summary: &PySummary, name: &str, f: &LocalFn, depth: u32, kind: Work) -> Arc<FnFacts> {
    let key = DefKey { file: file.to_path_buf(), name: name.to_string(), depth, kind: work_tag(kind) };
    view.shared(&view.project.py_fns, key, || Arc::new(fn_facts_of(view, file, summary, f, depth, kind)))
}

fn fn_facts_of(view: &FileView, file: &Path, summary: &PySummary, f: &LocalFn, depth: u32, kind: Work) -> FnFacts {
    let read;
    let f = if f.body_read {
        f
    } else {
        read = view.project.py_body(file, &f.name).flatten().unwrap_or_else(|| f.clone());
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
        params: f.params.clone(),
        defaults: f.defaults.clone(),
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
            Some(self.view.project.py_body(self.file, name).flatten().unwrap_or_else(|| g.clone()))
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
    facts.param_reads = f.body_read.then(|| f.param_reads.clone());
    facts.produces_items = f
        .produces_items
        .iter()
        .filter_map(|(i, p)| produced_model(view, file, summary, p, depth).map(|p| (*i, Arc::new(p))))
        .collect();
    facts.on_commit_task = f.task_base.as_deref().is_some_and(|b| class_defers(view, file, summary, b, depth));
    facts.project_dispatcher = f.task_decorators.iter().any(|d| project_dispatcher(view, file, summary, d, depth));
    let mut callees = Here { view, file, summary, depth };
    match kind {
        // A function's database work and its task dispatch are asked together (AG108, AG208).
        Work::Db | Work::Dispatch => {
            // One walk (the ways, guards kept); its first way is the database work. A second
            // walk here would be repeated at every level of the helpers it resolves.
            facts.db_alts = crate::semantic::summary::db_alts(f, file, depth, MAX_DEPTH, &mut callees);
            facts.db_work = facts.db_alts.first().map(|a| a.chain.clone()).unwrap_or_default();
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
    if let Some((callee, instance)) = &p.via {
        // A chain started by a function of a third module: its own summary, with the calls
        // this one appends.
        let (head, tail) = callee.split_once('.').map_or((callee.as_str(), None), |(h, t)| (h, Some(t)));
        let target = summary.imports.get(head)?;
        let dotted = tail.map_or_else(|| target.clone(), |t| format!("{target}.{t}"));
        let PyDef::Function(g) = resolve_kind(view, file, &dotted, depth + 1, Work::Db)? else { return None };
        if g.generator || (g.is_async && !g.offloaded) != *instance {
            return None;
        }
        let r = g.produces.as_ref().filter(|r| r.instance == *instance)?;
        let mut merged = (**r).clone();
        merged.named.extend(p.named.iter().cloned());
        merged.set_kwargs.extend(p.set_kwargs.iter().cloned());
        merged.instance = p.instance;
        return Some(merged);
    }
    if let Some(c) = summary.classes.get(&p.model) {
        let facts = class_facts(view, file, summary, &p.model, c, depth + 1);
        facts.is_model.then_some(())?;
        out.fields = facts.fields.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with data tables (and literals that are not data) around the shapes summaries
    /// record: blanking the tables changes no summary, and the big pure ones are blanked.
    #[test]
    fn data_tables_change_no_summary() {
        let rows: String = (0..900).map(|i| format!("    ('AD-{i:03}', u\"Escàs {i}\", {i}.5e-3, None, -{i}),  # row\n")).collect();
        let text = format!(
            "from django.db import models\nfrom .managers import LiveManager\n\nCODES = (\n{rows})\n\
             CALLS = [\n{rows}    dict(a=1),\n]\nNAMES = [\n{rows}    LiveManager,\n]\nSMALL = ('a', 'b')\n\
             FSTR = (\n{rows}    f'{{CODES}}',\n)\n\n\
             class Book(models.Model):\n    TABLE = {{\n{rows}    }}\n    author = models.ForeignKey('Author', related_name='books', on_delete=models.CASCADE)\n    live = LiveManager()\n\n\
             def recent():\n    return Book.objects.filter(x=1)\n\nUser = models.get_user_model()\n"
        );
        assert!(text.len() > 4 * DATA_LITERAL_MIN_FOR_TEST);
        let masked = crate::analysis::sparse::mask_data(&text, None).expect("CODES is a data table");
        assert_eq!(masked.text.len(), text.len());
        assert_eq!(masked.ranges.len(), 1, "only CODES: calls, names, f-strings and class bodies stay");
        assert!(masked.text.contains("CODES = (\n      ") && masked.text.contains("dict(a=1)") && masked.text.contains("'AD-000'"));
        let index = crate::text::LineIndex::new(&masked.text);
        let tree = crate::syntax::parse_ranges(crate::syntax::Lang::Python, &masked.text, &masked.included(&index));
        assert!(tree.is_some_and(|t| !t.root_node().has_error()), "the masked text parses cleanly");
        assert_eq!(summarize_with(&text, true), summarize_with(&text, false));
    }

    const DATA_LITERAL_MIN_FOR_TEST: usize = crate::analysis::sparse::DATA_LITERAL_MIN;

    /// [`words_of`] hashes the same words as splitting the bytes at every non-word byte.
    #[test]
    fn words_of_matches_byte_split() {
        for text in ["", "a", " a", "a ", "Foo.bar(baz_2)\n# é café ünï\n\"x y\"", "QuerySet\u{00a0}Manager", "x\n\ny", &(0u8..128).map(|c| format!("w{}w ", c as char)).collect::<String>()] {
            let split: FxHashSet<u64> = text
                .as_bytes()
                .split(|b| !is_word_byte(*b))
                .filter(|w| !w.is_empty())
                .map(|w| super::super::hash_text(std::str::from_utf8(w).unwrap()))
                .collect();
            assert_eq!(words_of(text), split, "{text:?}");
        }
    }

    /// A temporary project with one package `pkg` holding `__init__.py` and `files`: the
    /// folder (keep it alive) and the package's path.
    fn package(pkg: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(pkg);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("__init__.py"), "").unwrap();
        for (name, text) in files {
            std::fs::write(path.join(name), text).unwrap();
        }
        (dir, path)
    }

    /// Every depth [`walk_depth_key`] folds to 0 walks (modules and notes) as depth 0 does;
    /// one past it walks fewer modules, so the key keeps it apart.
    #[test]
    fn walk_depth_key_folds_equal_walks_only() {
        let (dir, pkg) = package(
            "app",
            &[("a.py", "from app.b import B\n"), ("b.py", "from app.c import C\nclass B(QuerySet):\n    pass\n"), ("c.py", "class C(Manager):\n    pass\n")],
        );
        let project = super::super::Project::new(vec![dir.path().to_path_buf()]);
        let a = super::super::normalize(&pkg.join("a.py"));
        let walk = |depth: u32| {
            let view = project.view(&a);
            let scan = view.project.py_scan(&a).unwrap();
            view.py_frames.lock().unwrap().push(vec![]);
            let files: Vec<PathBuf> = deep_modules(&view, &a, &scan, depth).into_iter().map(|(f, _)| f).collect();
            let noted = view.py_frames.lock().unwrap().pop().unwrap();
            (files, noted)
        };
        let base = walk(0);
        assert_eq!(base.0.len(), 3, "{:?}", base.0);
        for depth in 0..=MAX_DEPTH {
            if walk_depth_key(depth) == 0 {
                assert_eq!(walk(depth), base, "depth {depth}");
            }
        }
        let past = MAX_DEPTH - FACTS_DEPTH + 1;
        assert_ne!(walk_depth_key(past), 0);
        assert_ne!(walk(past).0, base.0);
    }

    /// Class and function facts answered from the project-wide memo equal those a view
    /// computes itself, and a tracked view so answered records the same dependencies; an
    /// untracked view's answers (no notes) are not served to a tracked view.
    #[test]
    fn shared_facts_equal_own_and_replay_dependencies() {
        let (dir, pkg) = package(
            "shop",
            &[
                ("base.py", "from django.db import models\nclass Stamped(models.Model):\n    pass\n"),
                ("models.py", "from shop.base import Stamped\nclass Book(Stamped):\n    pass\n"),
                ("db.py", "def raw():\n    from shop.models import Book\n    return Book.objects.get(pk=1)\n"),
                ("services.py", "from shop.db import raw\ndef load():\n    return raw()\n"),
            ],
        );
        for (i, user) in ["a.py", "b.py"].iter().enumerate() {
            std::fs::write(pkg.join(user), format!("from shop.services import load\nfrom shop.models import Book\nX = {i}\n")).unwrap();
        }
        let ask = |project: &Arc<super::super::Project>, user: &str, tracked: bool| {
            let path = super::super::normalize(&pkg.join(user));
            let view = if tracked { project.view(&path) } else { project.view_untracked(&path) };
            let answers = (resolve_def(&view, "shop.services.load"), resolve_def(&view, "shop.models.Book"));
            (answers, view.dependencies())
        };
        let fresh = |user: &str| ask(&super::super::Project::new(vec![dir.path().to_path_buf()]), user, true);
        let (own_a, own_b) = (fresh("a.py"), fresh("b.py"));
        assert!(matches!(&own_b.0 .0, Some(PyDef::Function(f)) if !f.db_work.is_empty()), "{:?}", own_b.0 .0);
        assert!(matches!(&own_b.0 .1, Some(PyDef::Class(c)) if c.is_model));
        assert!(own_b.1.iter().any(|p| p.ends_with("db.py")) && own_b.1.iter().any(|p| p.ends_with("base.py")), "{:?}", own_b.1);
        // One project: b.py is answered from what a.py's view computed.
        let project = super::super::Project::new(vec![dir.path().to_path_buf()]);
        assert_eq!(ask(&project, "a.py", true), own_a);
        assert!(!project.py_fns.lock().unwrap().is_empty() && !project.py_classes.lock().unwrap().is_empty());
        assert_eq!(ask(&project, "b.py", true), own_b);
        // Untracked first: same answers, no dependencies; a tracked view after it still
        // records its own.
        let project = super::super::Project::new(vec![dir.path().to_path_buf()]);
        let untracked = ask(&project, "a.py", false);
        assert_eq!(untracked.0, own_a.0);
        assert!(untracked.1.is_empty());
        assert_eq!(ask(&project, "b.py", true), own_b);
    }

    /// [`body_of`] finds the `def` the module binds last: module-level functions (decorated
    /// or not) by name, methods of top-level classes as `Class.method`; not nested `def`s, not
    /// methods of nested classes, not a class's method asked by its bare name.
    #[test]
    fn body_of_finds_the_binding_def() {
        let text = "def helper():\n    return 1\n\n@decorate\ndef helper():\n    Book.objects.get(pk=1)\n\ndef outer():\n    def inner():\n        pass\n\nclass Shop:\n    def close(self):\n        pass\n    @staticmethod\n    def close(self):\n        Book.objects.all().delete()\n    class Meta:\n        def hidden(self):\n            pass\n";
        let tree = crate::syntax::parse(crate::syntax::Lang::Python, text, None);
        let helper = body_of(text, &tree, "helper").expect("helper");
        assert!(helper.body_read && helper.decorators == ["decorate"] && helper.calls.len() == 1, "{helper:?}");
        let close = body_of(text, &tree, "Shop.close").expect("Shop.close");
        assert!(close.decorators == ["staticmethod"] && close.calls.len() == 1, "{close:?}");
        assert!(body_of(text, &tree, "outer").is_some());
        for absent in ["inner", "close", "hidden", "Meta.hidden", "Shop.hidden", "Nope.close"] {
            assert!(body_of(text, &tree, absent).is_none(), "{absent}");
        }
    }

    /// [`body_of`]'s model skips the other functions' bodies: what it says of every function
    /// of every Python file of the test tree (and of this crate's own offloading shapes) is
    /// what the full model of the file says of it.
    #[test]
    fn body_of_equals_the_full_model_on_every_test_file() {
        fn files(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "py") {
                    out.push(p);
                }
            }
        }
        let mut paths = vec![];
        files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"), &mut paths);
        let extra = "from asgiref.sync import sync_to_async\nimport threading\n\ndef run():\n    import os\n    t = threading.Thread(target=work)\n    return sync_to_async(fetch)()\n\ndef work():\n    Book.objects.get(pk=1)\n\ndef fetch():\n    return Book.objects.all()\n\nclass Shop:\n    def a(self):\n        def inner():\n            return sync_to_async(self.b)\n        return inner\n    def b(self):\n        return Book.objects.count()\n";
        let mut texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
        texts.push(extra.to_string());
        let mut compared = 0;
        for text in &texts {
            let tree = crate::syntax::parse(crate::syntax::Lang::Python, text, None);
            let index = crate::text::LineIndex::new(text);
            let root = tree.root_node();
            let mut c = root.walk();
            let mut last: std::collections::BTreeMap<String, tree_sitter::Node> = Default::default();
            fn def_of(n: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
                match n.kind() {
                    "decorated_definition" => n.child_by_field_name("definition"),
                    _ => Some(n),
                }
            }
            let name_of = |d: tree_sitter::Node| d.child_by_field_name("name").map(|n| text[n.byte_range()].to_string());
            for node in root.named_children(&mut c) {
                let Some(def) = def_of(node) else { continue };
                match def.kind() {
                    "function_definition" => {
                        last.extend(name_of(def).map(|n| (n, def)));
                    }
                    "class_definition" => {
                        let (Some(cname), Some(body)) = (name_of(def), def.child_by_field_name("body")) else { continue };
                        let mut c = body.walk();
                        for d in body.named_children(&mut c).filter_map(def_of).filter(|d| d.kind() == "function_definition") {
                            last.extend(name_of(d).map(|n| (format!("{cname}.{n}"), d)));
                        }
                    }
                    _ => {}
                }
            }
            for (name, def) in last {
                let full = PyModel::build(text, &tree, &index);
                assert_eq!(body_of(text, &tree, &name), Some(full.local_fn(def)), "{name} in:\n{text}");
                compared += 1;
            }
        }
        assert!(compared > 200, "only {compared} functions compared");
    }

    /// Classes of one module that name each other as bases (`class A(B)`, `class B(A)`) are
    /// answered (their bases unknown), not walked until the stack overflows; a class whose
    /// chain only enters such a cycle too.
    #[test]
    fn local_base_cycle_ends() {
        let models = "from django.db import models\nclass A(B):\n    pass\nclass B(A):\n    pass\nclass C(B):\n    pass\nclass D(models.Model):\n    pass\nclass E(D):\n    pass\n";
        let (dir, pkg) = package("app", &[("models.py", models), ("views.py", "X = 1\n")]);
        let project = super::super::Project::new(vec![dir.path().to_path_buf()]);
        let view = project.view(&pkg.join("views.py"));
        for name in ["A", "B", "C"] {
            assert!(matches!(resolve_def(&view, &format!("app.models.{name}")), Some(PyDef::Class(_))), "{name}");
        }
        assert!(matches!(resolve_def(&view, "app.models.E"), Some(PyDef::Class(c)) if c.is_model));
    }

    fn py_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                py_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "py") {
                out.push(p);
            }
        }
    }

    /// The line scanner's imports and top-level names against the parsed summary's, on a
    /// text: `Some(read)` (read: the scanner read it, not the fallback), `Err` on a mismatch.
    fn compare(text: &str) -> Result<bool, String> {
        let parsed = summarize(text);
        let Some((imports, defs)) = scan_lines(text) else { return Ok(false) };
        let want_defs: FxHashSet<String> = parsed.classes.keys().chain(parsed.functions.keys()).cloned().collect();
        if imports != parsed.imports {
            return Err(format!("imports: scanned {imports:?}, parsed {:?}", parsed.imports));
        }
        if defs != want_defs {
            return Err(format!("defs: scanned {defs:?}, parsed {want_defs:?}"));
        }
        Ok(true)
    }

    fn compare_tree(root: &Path) -> (usize, usize, Vec<String>) {
        let mut files = vec![];
        py_files(root, &mut files);
        let (mut compared, mut read, mut bad) = (0, 0, vec![]);
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            compared += 1;
            match compare(&text) {
                Ok(r) => read += usize::from(r),
                Err(e) => bad.push(format!("{}: {e}", f.display())),
            }
        }
        (compared, read, bad)
    }

    /// The scanner finds exactly what the parsed summary finds, on every Python file of the
    /// test suite (fixture projects and single-file fixtures); `AWAITGUARD_SCAN_CORPUS`
    /// names another tree to compare on (a one-off run over real code).
    #[test]
    fn scanner_equals_parsed_summary() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let (compared, read, bad) = compare_tree(&root);
        assert!(compared > 100 && read * 10 >= compared * 9, "{compared} files, {read} scanned");
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        if let Ok(extra) = std::env::var("AWAITGUARD_SCAN_CORPUS") {
            let (compared, read, bad) = compare_tree(Path::new(&extra));
            eprintln!("{extra}: {compared} files compared, {read} read by the scanner, {} mismatches", bad.len());
            assert!(bad.is_empty(), "{}", bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n"));
        }
    }

    #[test]
    fn scanner_shapes() {
        let text = "\"\"\"import nothing\n  from x import y\"\"\"\nfrom __future__ import annotations\nimport a.b.c, d as e\nfrom . import (f,\n  g as h,  # comment\n)\nfrom ..m import \\\n  i\ntry: import j\nexcept ImportError: j = None\nif TYPE_CHECKING:\n    from .models import K\ns = f'{x}' ; from p import *\n@dec\nclass L(Base): pass\nasync def m(): import n\ndef o():\n    def inner(): pass\n";
        let (imports, defs) = scan_lines(text).expect("read");
        let want: FxHashMap<String, String> = [("a", "a"), ("e", "d"), ("f", ".f"), ("h", ".g"), ("i", "..m.i"), ("j", "j"), ("K", ".models.K"), ("n", "n")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(imports, want);
        assert_eq!(defs, ["L", "m", "o"].iter().map(|s| s.to_string()).collect());
        assert_eq!(compare(text), Ok(true));
        // Shapes left to the parse.
        assert!(scan_lines("x = 'unterminated\n").is_none());
        assert!(scan_lines("\u{feff}import os\n").is_none());
    }
}
