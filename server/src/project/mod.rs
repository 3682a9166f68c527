//! The project model: what one file's analysis can learn about the rest of the project —
//! Python module resolution and per-file summaries (classes, Django models and their
//! managers and relations, functions and what they return or do), Rust module resolution and
//! summaries ([`rust`]).
//!
//! Shape (rust-analyzer's, in small): a [`Project`] holds the file texts it was told about
//! (open documents overlay the disk) and, per file, a **summary** computed from that file's
//! text alone, on demand, memoised by the text's hash. Questions that cross files
//! ([`crate::semantic::outside::Outside`]) are answered by a [`FileView`] — the project seen
//! from one file — which resolves names through the summaries at query time and records
//! every file it read, so the server knows which open documents depend on which files.
//!
//! Why not salsa: the dependency graph here is two levels deep (a file's findings ← the
//! summaries of the files it reaches; a summary ← its own text), so "recompute a summary when
//! its text's hash changes, and re-analyse the open files that read it" is all the
//! invalidation needed; a summary that comes out equal after an edit changes nothing
//! (early cut-off, by comparing summaries). salsa (what rust-analyzer and ty are built on)
//! would bring durability, cancellation and LRU we do not need yet, a database lifetime
//! through every rule, and an API that still changes between minor versions. Revisit when
//! summaries start to depend on each other (then per-query memoisation pays).
//!
//! Invariants:
//! - A summary depends only on its own file's text: [`Project::py_summary`] of the same
//!   text is the same, however the project got there (fresh or through edits).
//! - Everything crossing files is resolved at query time with bounded depth: cycles (import
//!   cycles, recursive helpers) end in "unknown".
//! - Answers that depend only on the texts and their key — another module's class and
//!   function facts at a resolution depth, the module walks — are shared by every view for
//!   one generation of the texts ([`FileView::shared`]): any change of a text bumps the
//!   generation, so a shared answer never outlives the texts it was computed from; a tracked
//!   view served from the memo records the files its computation read, as if it had
//!   computed it.
//! - Names that resolve outside the project roots are unknown, and unknown means silent.
//! - Nothing is executed; files are only read.

pub mod python;
pub mod rust;
pub mod settings;

use crate::semantic::outside::{Outside, PyDef, RsDef};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The project model. Shared (`Arc`) between threads: every table is behind a lock, and no
/// lock is held while a summary is computed.
#[derive(Default)]
pub struct Project {
    /// Folders that bound the project (workspace folders, `check`'s arguments' roots).
    roots: RwLock<Vec<PathBuf>>,
    /// Open documents' texts: they win over the disk.
    overlay: RwLock<FxHashMap<PathBuf, Arc<str>>>,
    /// Files read from disk so far: the hash of their text (`None`: not a readable UTF-8
    /// file). Texts are not kept: a summary is memoised by this hash, so a large workspace
    /// costs its summaries, not its sources.
    disk: RwLock<FxHashMap<PathBuf, Option<u64>>>,
    /// Python summaries by path, with the hash of the text they were computed from.
    py: Mutex<FxHashMap<PathBuf, (u64, Arc<python::PySummary>)>>,
    /// Whether a Python file's text may declare module facts ([`python::may_have_facts`]),
    /// by path, with the hash of the text.
    py_facts_words: Mutex<FxHashMap<PathBuf, (u64, Arc<bool>)>>,
    /// Python scans ([`python::PyScan`]: imports, top-level names, words; no parse) by path,
    /// with the hash of the text.
    py_scan: Mutex<FxHashMap<PathBuf, (u64, Arc<python::PyScan>)>>,
    /// Full parses of the Python files whose functions were asked about ([`Project::py_body`]),
    /// by path, with the hash of the text; forgotten all at once when their texts pass
    /// `tree_budget` bytes (a parse is then made again when asked).
    py_trees: Mutex<FxHashMap<PathBuf, (u64, Arc<(Arc<str>, tree_sitter::Tree)>)>>,
    /// How many bytes of text the parses of `py_trees` may hold (0: [`PY_TREES_BUDGET`]).
    tree_budget: std::sync::atomic::AtomicUsize,
    /// What one function of a Python file does ([`python::body_of`]), by (path, name), with
    /// the hash of the text it was read from.
    py_fn_bodies: Mutex<FxHashMap<(PathBuf, String), (u64, Option<crate::semantic::summary::LocalFn>)>>,
    /// The modules whose facts a module's facts gather ([`python::resolve_module_word`]), by
    /// (module file, resolution depth), shared by every view ([`FileView::shared`]).
    pub(crate) py_closures: Mutex<FxHashMap<(PathBuf, u32), Shared<python::Modules>>>,
    /// The facts of a module's classes ([`python::DefKey`]: module file, class name,
    /// resolution depth), shared by every view ([`FileView::shared`]).
    pub(crate) py_classes: Mutex<FxHashMap<python::DefKey, Shared<Arc<crate::semantic::outside::ClassFacts>>>>,
    /// The facts of a module's functions and methods (`Class.method`) by module file, name,
    /// resolution depth and the kind of work looked for, shared likewise.
    pub(crate) py_fns: Mutex<FxHashMap<python::DefKey, Shared<Arc<crate::semantic::outside::FnFacts>>>>,
    /// Module lookups by (importing file's folder, dotted path): the module file and the
    /// attributes after it, and every path the answer rests on. Forgotten whenever the set of
    /// files may have changed.
    located: RwLock<FxHashMap<(PathBuf, String), Located>>,
    /// Rust summaries likewise.
    rs: Mutex<FxHashMap<PathBuf, (u64, Arc<rust::RsSummary>)>>,
    /// Rust syntax trees of the files other files' questions are answered from, by the hash
    /// of the text they were parsed from (a tree depends on its text alone).
    rs_trees: Mutex<FxHashMap<PathBuf, (u64, Arc<(Arc<str>, tree_sitter::Tree)>)>>,
    /// Rust answers shared between views, valid for one generation of the texts: only
    /// answers computed without meeting a cycle or the depth bound (so they are the same
    /// whichever file asked first), with the files they read.
    pub(crate) rs_defs: Mutex<FxHashMap<rust::Target, (u64, Option<RsDef>, Arc<Vec<PathBuf>>)>>,
    /// Bumped whenever a text may have changed.
    generation: std::sync::atomic::AtomicU64,
}

type Located = (Option<(PathBuf, Vec<String>)>, Arc<Vec<PathBuf>>);

/// An answer shared by the views of one generation of the texts ([`FileView::shared`]).
pub(crate) struct Shared<V> {
    /// The generation it was computed in; it serves only that generation.
    generation: u64,
    value: V,
    /// The paths noted while computing it, replayed in every view that uses it; `None` when
    /// computed by an untracked view (which records none): it then serves untracked views
    /// only.
    noted: Option<Arc<Vec<PathBuf>>>,
}

pub fn hash_text(text: &str) -> u64 {
    let mut h = FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

impl Project {
    pub fn new(roots: Vec<PathBuf>) -> Arc<Project> {
        Arc::new(Project { roots: RwLock::new(roots.into_iter().map(|r| normalize(&r)).collect()), ..Default::default() })
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        self.roots.read().unwrap().clone()
    }

    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        self.bump();
        *self.roots.write().unwrap() = roots.into_iter().map(|r| normalize(&r)).collect();
        self.located.write().unwrap().clear();
    }

    pub(crate) fn locate_memo(&self, dir: &Path, dotted: &str) -> Option<(Option<(PathBuf, Vec<String>)>, Arc<Vec<PathBuf>>)> {
        self.located.read().unwrap().get(&(dir.to_path_buf(), dotted.to_string())).cloned()
    }

    pub(crate) fn remember_locate(&self, dir: PathBuf, dotted: String, found: Option<(PathBuf, Vec<String>)>, noted: Vec<PathBuf>) {
        self.located.write().unwrap().insert((dir, dotted), (found, Arc::new(noted)));
    }

    fn bump(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The generation of the texts: it changes whenever a text may have changed.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// True when `path` lies under one of the roots.
    pub fn contains(&self, path: &Path) -> bool {
        self.roots.read().unwrap().iter().any(|r| path.starts_with(r))
    }

    /// An open document's text (it wins over the disk until [`Project::close`]).
    pub fn open(&self, path: &Path, text: Arc<str>) {
        self.bump();
        let p = normalize(path);
        // A file that did not exist before may change which module an import names.
        let known = self.overlay.read().unwrap().contains_key(&p) || matches!(self.disk.read().unwrap().get(&p), Some(Some(_)));
        if !known {
            self.located.write().unwrap().clear();
        }
        self.overlay.write().unwrap().insert(p, text);
    }

    /// The document is closed: the disk's text counts again.
    pub fn close(&self, path: &Path) {
        self.bump();
        let p = normalize(path);
        self.overlay.write().unwrap().remove(&p);
        self.disk.write().unwrap().remove(&p);
        self.located.write().unwrap().clear();
    }

    /// The file changed, appeared or went away on disk: forget what was read of it.
    pub fn changed_on_disk(&self, path: &Path) {
        self.bump();
        let p = normalize(path);
        let mut disk = self.disk.write().unwrap();
        // A folder (deleted, renamed): everything below it.
        disk.retain(|k, _| !k.starts_with(&p));
        self.located.write().unwrap().clear();
    }

    /// Forget every disk text (a workspace folder was removed or added).
    pub fn forget_disk(&self) {
        self.bump();
        self.disk.write().unwrap().clear();
        self.located.write().unwrap().clear();
    }

    /// The text of `path`: the open document's, else the file's on disk (read now; its hash
    /// is remembered until [`Project::changed_on_disk`]). `None`: no such readable UTF-8 file.
    pub fn text(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(t) = self.overlay.read().unwrap().get(path) {
            return Some(t.clone());
        }
        if let Some(None) = self.disk.read().unwrap().get(path) {
            return None;
        }
        let text = read_source(path);
        self.disk.write().unwrap().insert(path.to_path_buf(), text.as_deref().map(hash_text));
        text
    }

    /// The hash of `path`'s current text, reading the file only the first time.
    fn text_hash(&self, path: &Path) -> Option<u64> {
        if let Some(t) = self.overlay.read().unwrap().get(path) {
            return Some(hash_text(t));
        }
        if let Some(h) = self.disk.read().unwrap().get(path) {
            return *h;
        }
        self.text(path).map(|t| hash_text(&t))
    }

    /// True when `path` is a file the project can read (open, or on disk).
    pub fn exists(&self, path: &Path) -> bool {
        self.text_hash(path).is_some()
    }

    /// What `compute` makes of the current text of `path`, memoised in `memo` by the text's
    /// hash (a file read from disk is read again only when its hash is not known yet or the
    /// memo holds another text's result).
    fn memoised<T>(&self, memo: &Mutex<FxHashMap<PathBuf, (u64, Arc<T>)>>, path: &Path, compute: impl FnOnce(&str) -> T) -> Option<Arc<T>> {
        // A disk file whose hash is not known yet is read once here (not once for the hash
        // and again for the text).
        let known = !matches!(self.disk.read().unwrap().get(path), None) || self.overlay.read().unwrap().contains_key(path);
        if known {
            let h = self.text_hash(path)?;
            if let Some((hash, v)) = memo.lock().unwrap().get(path) {
                if *hash == h {
                    return Some(v.clone());
                }
            }
        }
        let text = self.text(path)?;
        let h = hash_text(&text);
        if let Some((hash, v)) = memo.lock().unwrap().get(path) {
            if *hash == h {
                return Some(v.clone());
            }
        }
        let v = Arc::new(compute(&text));
        memo.lock().unwrap().insert(path.to_path_buf(), (h, v.clone()));
        Some(v)
    }

    /// The summary of the Python file at `path`, computed from its current text.
    pub fn py_summary(&self, path: &Path) -> Option<Arc<python::PySummary>> {
        self.memoised(&self.py, path, python::summarize)
    }

    /// False when the Python file at `path` cannot declare module facts (its text has none
    /// of the words they are made of), decided without a parse; also false when unreadable.
    pub fn py_may_have_facts(&self, path: &Path) -> bool {
        let summarised = self.py.lock().unwrap().get(path).cloned();
        if let Some((h, v)) = summarised {
            // Summarised already (and so read): its facts are at hand.
            if self.text_hash(path) == Some(h) {
                return !v.facts.is_empty();
            }
        }
        self.memoised(&self.py_facts_words, path, python::may_have_facts).is_some_and(|b| *b)
    }

    /// The imports, top-level names and words of the Python file at `path`, read without a
    /// parse when the line scanner can ([`python::scan`]).
    pub fn py_scan(&self, path: &Path) -> Option<Arc<python::PyScan>> {
        self.memoised(&self.py_scan, path, python::scan)
    }

    /// What the function `name` (`Class.method` for a method) of the Python file at `path`
    /// does, its body read ([`python::body_of`]): `None` when the file cannot be read,
    /// `Some(None)` when it has no such function. Memoised by (path, name) and the text's hash;
    /// the file is parsed once for all its functions asked while its parse is kept.
    pub fn py_body(&self, path: &Path, name: &str) -> Option<Option<crate::semantic::summary::LocalFn>> {
        let h = self.text_hash(path)?;
        let key = (path.to_path_buf(), name.to_string());
        if let Some((hash, f)) = self.py_fn_bodies.lock().unwrap().get(&key) {
            if *hash == h {
                return Some(f.clone());
            }
        }
        let parsed = self.py_tree(path)?;
        let f = python::body_of(&parsed.0, &parsed.1, name);
        self.py_fn_bodies.lock().unwrap().insert(key, (hash_text(&parsed.0), f.clone()));
        Some(f)
    }

    /// Keep parses of up to `bytes` bytes of text for [`Project::py_body`] (a one-off run such
    /// as `check` trades memory for not parsing a helper module again).
    pub fn keep_parses(&self, bytes: usize) {
        self.tree_budget.store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// The text of the Python file at `path` and its full parse, kept in [`Project::py_trees`].
    fn py_tree(&self, path: &Path) -> Option<Arc<(Arc<str>, tree_sitter::Tree)>> {
        let known = self.text_hash(path)?;
        if let Some((hash, t)) = self.py_trees.lock().unwrap().get(path) {
            if *hash == known {
                return Some(t.clone());
            }
        }
        let text = self.text(path)?;
        let h = hash_text(&text);
        let tree = crate::syntax::parse(crate::syntax::Lang::Python, &text, None);
        let t = Arc::new((text, tree));
        let mut trees = self.py_trees.lock().unwrap();
        let held: usize = trees.values().map(|(_, t)| t.0.len()).sum();
        let budget = match self.tree_budget.load(std::sync::atomic::Ordering::Relaxed) {
            0 => PY_TREES_BUDGET,
            b => b,
        };
        if held + t.0.len() > budget {
            trees.clear();
        }
        trees.insert(path.to_path_buf(), (h, t.clone()));
        Some(t)
    }

    /// How many Python summaries are held (for progress and benchmarks).
    pub fn py_summary_count(&self) -> usize {
        self.py.lock().unwrap().len()
    }

    /// The summary of the Rust file at `path`.
    pub fn rs_summary(&self, path: &Path) -> Option<Arc<rust::RsSummary>> {
        self.memoised(&self.rs, path, rust::summarize)
    }

    /// The text and syntax tree of the Rust file at `path` (`extra`: the text with its
    /// `lazy_static!` items appended as plain statics), memoised by the text's hash.
    pub(crate) fn rs_tree(&self, path: &Path, extra: bool) -> Option<Arc<(Arc<str>, tree_sitter::Tree)>> {
        let key = if extra { path.with_extension("rs#lazy") } else { path.to_path_buf() };
        let known = self.text_hash(path)? ^ u64::from(extra);
        if let Some((hash, t)) = self.rs_trees.lock().unwrap().get(&key) {
            if *hash == known {
                return Some(t.clone());
            }
        }
        let text = self.text(path)?;
        let h = hash_text(&text) ^ u64::from(extra);
        let text: Arc<str> = if extra { Arc::from(format!("{text}{}", rust::lazy_static_items(&text))) } else { text };
        let tree = crate::syntax::parse(crate::syntax::Lang::Rust, &text, None);
        let t = Arc::new((text, tree));
        self.rs_trees.lock().unwrap().insert(key, (h, t.clone()));
        Some(t)
    }

    /// The project seen from the file at `path`.
    pub fn view(self: &Arc<Self>, path: &Path) -> FileView {
        FileView {
            project: self.clone(),
            file: normalize(path),
            read: Mutex::new(FxHashSet::default()),
            answers: Default::default(),
            py_closures: Default::default(),
            py_frames: Default::default(),
            track: true,
            rs_modules: Default::default(),
            rs_memo: Default::default(),
            rs_targets: Default::default(),
            rs_sums: Mutex::default(),
            rs_exists: Mutex::default(),
            rs_lookups: Default::default(),
            rs_frames: Mutex::default(),
        }
    }

    /// [`Project::view`] without recording dependencies (for `check`, where nothing changes).
    pub fn view_untracked(self: &Arc<Self>, path: &Path) -> FileView {
        FileView { track: false, ..self.view(path) }
    }
}

/// How many bytes of text the kept parses of [`Project::py_trees`] may hold by default (a
/// tree takes about 20 times its text): what a long-running server keeps. `check` raises it
/// ([`Project::keep_parses`]).
pub const PY_TREES_BUDGET: usize = 1024 * 1024;

/// Files larger than this are not read into the model: a module of several megabytes is
/// data (netbox's 6 MB `un_locode.py`), not models or helpers, and parsing it costs hundreds
/// of megabytes for a moment.
pub const MAX_SUMMARY_BYTES: u64 = 2 * 1024 * 1024;

/// Reads a source file as Python decodes it (a BOM dropped); files over
/// [`MAX_SUMMARY_BYTES`] count as unreadable (unknown).
fn read_source(path: &Path) -> Option<Arc<str>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SUMMARY_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    // Decoded as Python and `check` decode it (UTF-8, or a PEP 263 coding declaration).
    let s = crate::text::source::Source::decode(bytes).ok()?;
    Some(Arc::from(s.text))
}

/// An absolute path with `.` and `..` folded (no file-system access: symlinks are kept).
pub fn normalize(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The project seen from one file: answers [`Outside`] questions and records the files it
/// read to answer them ([`FileView::dependencies`]).
pub struct FileView {
    project: Arc<Project>,
    file: PathBuf,
    read: Mutex<FxHashSet<PathBuf>>,
    /// Answers already given, by import path.
    pub(crate) answers: Mutex<FxHashMap<String, Option<PyDef>>>,
    /// The modules whose facts an import path's module gathers, by import path
    /// ([`python::resolve_module_word`]).
    pub(crate) py_closures: Mutex<FxHashMap<String, Option<python::Modules>>>,
    /// Python: the module walks being computed (innermost last), with the paths each noted.
    pub(crate) py_frames: Mutex<Vec<Vec<PathBuf>>>,
    /// Record the files read ([`FileView::dependencies`]): the server needs them, `check`
    /// does not.
    track: bool,
    /// Rust: the module of each file asked about.
    rs_modules: rust::Memo<PathBuf, Option<rust::Module>>,
    /// Rust: the answers given so far (a view lives for one analysis, so answers do not go
    /// stale).
    rs_memo: rust::Memo<(PathBuf, String), Option<RsDef>>,
    rs_targets: rust::Memo<rust::Target, Option<RsDef>>,
    rs_sums: Mutex<FxHashMap<PathBuf, Option<Arc<rust::RsSummary>>>>,
    rs_exists: Mutex<FxHashMap<PathBuf, bool>>,
    rs_lookups: rust::Memo<(rust::Module, String), Option<rust::Target>>,
    /// Rust: the answers being computed (innermost last): the files each read, and whether
    /// it met a cycle or the depth bound (then it is not shared with other views).
    pub(crate) rs_frames: Mutex<Vec<(FxHashSet<PathBuf>, bool)>>,
}

impl FileView {
    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn project(&self) -> &Arc<Project> {
        &self.project
    }

    /// The other files whose content the answers so far rested on (or that were looked for
    /// and not found: creating one may change an answer).
    pub fn dependencies(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.read.lock().unwrap().iter().filter(|p| **p != self.file).cloned().collect();
        v.sort();
        v
    }

    pub(crate) fn note(&self, path: &Path) {
        if self.track {
            self.read.lock().unwrap().insert(path.to_path_buf());
            // Python frames record notes for tracked views only (see [`FileView::shared`]).
            for reads in self.py_frames.lock().unwrap().iter_mut() {
                reads.push(path.to_path_buf());
            }
        }
        for (reads, _) in self.rs_frames.lock().unwrap().iter_mut() {
            reads.insert(path.to_path_buf());
        }
    }

    /// `compute()`, shared through `memo` by every view of the project for one generation of
    /// the texts. Only for answers that are a function of `key` and the texts alone (not of
    /// the view's file or of what the view asked before). A tracked view replays the paths
    /// the computation noted, so its dependencies are those it would have recorded computing
    /// the answer itself; an untracked view (`check`) records no notes, and its answers serve
    /// untracked views only. The generation is read before computing: an answer that an edit
    /// overtook is stored under the old generation and never served.
    pub(crate) fn shared<K: std::hash::Hash + Eq, V: Clone>(&self, memo: &Mutex<FxHashMap<K, Shared<V>>>, key: K, compute: impl FnOnce() -> V) -> V {
        let generation = self.project.generation();
        if let Some(hit) = memo.lock().unwrap().get(&key) {
            if hit.generation == generation && (hit.noted.is_some() || !self.track) {
                if self.track {
                    for p in hit.noted.iter().flat_map(|n| n.iter()) {
                        self.note(p);
                    }
                }
                return hit.value.clone();
            }
        }
        let (value, noted) = if self.track {
            self.py_frames.lock().unwrap().push(vec![]);
            let value = compute();
            let mut noted = self.py_frames.lock().unwrap().pop().unwrap_or_default();
            noted.sort_unstable();
            noted.dedup();
            (value, Some(Arc::new(noted)))
        } else {
            (compute(), None)
        };
        memo.lock().unwrap().insert(key, Shared { generation, value: value.clone(), noted });
        value
    }

    /// The answers being computed rest on a cycle or the depth bound.
    pub(crate) fn taint(&self) {
        for (_, tainted) in self.rs_frames.lock().unwrap().iter_mut() {
            *tainted = true;
        }
    }
}

impl Outside for FileView {
    fn py_def(&self, dotted: &str) -> Option<PyDef> {
        python::resolve_def(self, dotted)
    }

    fn py_module_facts(&self, dotted: &str) -> Option<Arc<crate::semantic::outside::ModuleFacts>> {
        python::resolve_module(self, dotted)
    }

    fn py_module_facts_with(&self, dotted: &str, word: &str) -> Option<Arc<crate::semantic::outside::ModuleFacts>> {
        python::resolve_module_word(self, dotted, word)
    }

    fn py_def_work(&self, dotted: &str, kind: crate::semantic::summary::Work) -> Option<PyDef> {
        python::resolve_def_work(self, dotted, kind)
    }

    fn py_app_model(&self, label: &str, name: &str) -> Option<PyDef> {
        python::resolve_app_model(self, label, name)
    }

    fn py_sqla(&self, dotted: &str) -> Option<crate::semantic::sqla::SqlaKind> {
        python::resolve_sqla(self, dotted)
    }

    fn py_sqla_dep(&self, dotted: &str) -> Option<crate::semantic::sqla::DepFacts> {
        python::resolve_sqla_dep(self, dotted)
    }

    fn py_peewee(&self, dotted: &str, depth: u32) -> Option<crate::semantic::peewee::PwKind> {
        python::resolve_peewee(self, &self.file.clone(), dotted, depth)
    }

    fn rs_def(&self, path: &str) -> Option<RsDef> {
        self.rs_def_from(&self.file.clone(), path, 0)
    }

    fn rs_converts_from(&self, path: &str, source: &str) -> Option<bool> {
        self.rs_converts_from_at(&self.file.clone(), path, source)
    }

    fn rs_here(&self) -> Option<PathBuf> {
        Some(self.file.clone())
    }
}
