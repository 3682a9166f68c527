//! Workspace: which files to analyse (walk with `ignore`, honouring `.gitignore`), and which
//! settings apply to each (config discovery per folder, cached).
//!
//! Invariant: settings for a file depend only on the config files above it, its path relative
//! to that config (per-file globs) and the overrides; the cache is keyed by folder (as the path
//! names it: the current folder, read once, makes it absolute) and can be cleared when config
//! files change.

use crate::config::paths::PathRules;
use crate::config::{self, ConfigError, FileConfig, Overrides, Settings};
use crate::syntax::Lang;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What applies to the files of one folder: its settings and its config's path rules.
#[derive(Debug)]
struct Folder {
    settings: Arc<Settings>,
    paths: Option<Arc<PathRules>>,
}

/// Resolves and caches [`Settings`] per folder; applies `per-file-ignores` and
/// `allow-async-unsafe` per file, and answers `exclude`.
pub struct SettingsCache {
    overrides: Overrides,
    /// `--config PATH`: used for every file instead of discovery.
    explicit: Option<(PathBuf, FileConfig)>,
    /// `--isolated`: ignore config files.
    isolated: bool,
    cache: Mutex<FxHashMap<PathBuf, Result<Arc<Folder>, ConfigError>>>,
    /// The same before version detection ([`SettingsCache::enabled_for_file`]).
    undetected: Mutex<FxHashMap<PathBuf, Result<Arc<Folder>, ConfigError>>>,
    /// Django/Celery version detection, memoised per folder.
    detector: config::detect::Detector,
    /// Resolved folders by (config, detected Django version, detected Celery version).
    resolved: Mutex<FxHashMap<ResolvedKey, Result<Arc<Folder>, ConfigError>>>,
    /// Config discovery, memoised per folder: the config that applies there, if any.
    discovered: Mutex<FxHashMap<PathBuf, Discovered>>,
    /// The current folder when the cache was made: relative paths are made absolute against it
    /// without a `getcwd` per file.
    cwd: Option<PathBuf>,
}

/// What a folder's settings are made of besides the overrides: the config file that applies
/// (its path), the Django and Celery versions detected above the folder, and what the rules
/// need of the project's Django settings module.
type ResolvedKey = (
    Option<PathBuf>,
    Option<crate::dialects::Version>,
    bool,
    Option<crate::dialects::Version>,
    Option<(crate::dialects::Version, crate::dialects::Version)>,
    config::detect::DjangoFacts,
);

/// The outcome of config discovery for one folder.
type Discovered = Result<Option<Arc<(PathBuf, FileConfig)>>, ConfigError>;

/// `path` made absolute against `cwd` (not canonical: symlinks stay), so that config discovery
/// walks above the current folder and globs see the path relative to the config file.
fn absolute(cwd: Option<&Path>, path: &Path) -> PathBuf {
    let joined;
    let path = match cwd {
        Some(cwd) if path.is_relative() => {
            joined = cwd.join(path);
            &joined
        }
        _ => path,
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl SettingsCache {
    pub fn new(overrides: Overrides, explicit: Option<(PathBuf, FileConfig)>, isolated: bool) -> Self {
        SettingsCache {
            overrides,
            explicit,
            isolated,
            cache: Default::default(),
            undetected: Default::default(),
            detector: Default::default(),
            resolved: Default::default(),
            discovered: Default::default(),
            cwd: std::env::current_dir().ok(),
        }
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// What applies to the files of `path`'s folder; with Django/Celery versions detected from
    /// the lock and requirements files above it when `detect`. Cached by the folder as
    /// written in `path` (made absolute only on a miss: the current folder is fixed).
    fn folder(&self, path: &Path, detect: bool) -> Result<Arc<Folder>, ConfigError> {
        let raw_dir = path.parent().unwrap_or(Path::new(""));
        let cache = if detect { &self.cache } else { &self.undetected };
        if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(raw_dir) {
            return hit.clone();
        }
        let abs = absolute(self.cwd.as_deref(), path);
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let res = self.resolve(&dir, detect);
        cache.lock().unwrap_or_else(|e| e.into_inner()).insert(raw_dir.to_path_buf(), res.clone());
        res
    }

    fn settings_of(&self, path: &Path, detect: bool) -> Result<Arc<Settings>, ConfigError> {
        let folder = self.folder(path, detect)?;
        let Some(rules) = &folder.paths else { return Ok(folder.settings.clone()) };
        match rules.for_file(&folder.settings, &absolute(self.cwd.as_deref(), path)) {
            Some(s) => Ok(Arc::new(s)),
            None => Ok(folder.settings.clone()),
        }
    }

    /// Settings for a file at `path` (which need not exist: an unsaved buffer's path).
    pub fn for_file(&self, path: &Path) -> Result<Arc<Settings>, ConfigError> {
        self.settings_of(path, true)
    }

    /// [`Self::for_file`] without version detection: the same enabled rules (which do not
    /// depend on versions) and errors, but versions only from the config and the overrides.
    /// Enough for the trigger pre-filter, and it lists no folder for lock files.
    pub fn enabled_for_file(&self, path: &Path) -> Result<Arc<Settings>, ConfigError> {
        self.settings_of(path, false)
    }

    /// Whether the file or folder at `path` is excluded by the `exclude` globs of the config
    /// that applies to it. A config error answers `false` (it is reported by [`Self::for_file`]).
    pub fn is_excluded(&self, path: &Path) -> bool {
        match self.folder(path, false) {
            Ok(f) => f.paths.as_ref().is_some_and(|p| p.is_excluded(&absolute(self.cwd.as_deref(), path))),
            Err(_) => false,
        }
    }

    fn resolve(&self, dir: &Path, detect: bool) -> Result<Arc<Folder>, ConfigError> {
        let found = if self.isolated {
            None
        } else if let Some(e) = &self.explicit {
            Some(Arc::new(e.clone()))
        } else {
            self.discover(dir)?
        };
        let detect = detect && !self.isolated;
        let detected = if detect { self.detector.version_pinned(dir, "django") } else { None };
        let django = detected.map(|(v, _)| v);
        let django_floor = detected.is_some_and(|(_, pinned)| !pinned);
        // A config's `celery-version` wins over detection.
        let celery = if detect && found.as_ref().is_none_or(|f| f.1.celery_version.is_none()) {
            self.detector.version(dir, "celery").map(|(v, _)| v)
        } else {
            None
        };
        // sqlx from the nearest Cargo.lock (AG512, AG513).
        let sqlx = if detect { self.detector.cargo_versions(dir, "sqlx") } else { None };
        // What the rules need of the project's Django settings module (CACHES, MIDDLEWARE).
        let django_facts = if detect { self.detector.django(dir) } else { Default::default() };
        // Folders that share a config and the detected versions share their settings: most of
        // a tree's folders resolve to the same.
        let key = (found.as_ref().map(|f| f.0.clone()), django, django_floor, celery, sqlx, django_facts.clone());
        if let Some(hit) = self.resolved.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return hit.clone();
        }
        let res = (|| {
            let mut settings = Settings::resolve(found.as_deref().map(|(p, c)| (p.as_path(), c)), &self.overrides, django)?;
            if settings.celery_version.is_none() {
                settings.celery_version = celery;
            }
            // A configured version (file or override) is taken as given; a detected range's
            // floor is marked as such.
            let configured = found.as_ref().is_some_and(|f| f.1.django_version.is_some())
                || self.overrides.django_version.as_deref().is_some_and(|v| !v.trim().is_empty());
            settings.django_version_is_floor = django_floor && !configured;
            settings.sqlx_versions = sqlx;
            settings.caches = django_facts.caches.clone();
            settings.login_required_middleware = django_facts.login_required_middleware;
            settings.auth_user_model = django_facts.auth_user_model.clone();
            settings.user_resolving_middleware = django_facts.user_resolving_middleware;
            settings.session_kind = django_facts.session_kind.unwrap_or(crate::settings::CacheKind::Unknown);
            settings.atomic_requests = std::sync::Arc::new(django_facts.atomic_requests.clone());
            let paths = match &found {
                Some(f) => Some(PathRules::new(&f.0, &f.1)?).filter(|r| !r.is_empty()).map(Arc::new),
                None => None,
            };
            Ok(Arc::new(Folder { settings: Arc::new(settings), paths }))
        })();
        self.resolved.lock().unwrap_or_else(|e| e.into_inner()).insert(key, res.clone());
        res
    }

    /// [`config::discover`] memoised per folder: each folder above `dir` is looked at once for
    /// the whole tree, through the listing version detection made of it if there is one, else
    /// by looking for the config names (a folder the walk only passes through, such as the
    /// hundreds of `locale/*/` folders of a Django project, is not listed twice).
    fn discover(&self, dir: &Path) -> Discovered {
        let mut visited = vec![];
        let mut result = Ok(None);
        for d in dir.ancestors() {
            if let Some(hit) = self.discovered.lock().unwrap_or_else(|e| e.into_inner()).get(d) {
                result = hit.clone();
                break;
            }
            visited.push(d.to_path_buf());
            let listing = self.detector.probe().cached(d).unwrap_or_else(|| Arc::new(config::probe::Listing::unknown()));
            match config::discover_in(d, &listing) {
                Ok(None) => {}
                found => {
                    result = found.map(|f| f.map(Arc::new));
                    break;
                }
            }
        }
        let mut memo = self.discovered.lock().unwrap_or_else(|e| e.into_inner());
        for d in visited {
            memo.insert(d, result.clone());
        }
        result
    }

    /// What applies to a file at `path`, piece by piece (for `check --show-settings`): the
    /// config file, the detected versions and the files they came from, whether `exclude`
    /// matches it, and the resolved settings.
    pub fn explain(&self, path: &Path) -> Result<Explained, ConfigError> {
        let abs = absolute(self.cwd.as_deref(), path);
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = if self.isolated {
            None
        } else if let Some(e) = &self.explicit {
            Some(e.clone())
        } else {
            self.discover(&dir)?.map(|f| (*f).clone())
        };
        let detect = |pkg| if self.isolated { None } else { self.detector.version(&dir, pkg) };
        let settings = self.for_file(path)?;
        Ok(Explained {
            config,
            django_detected: detect("django"),
            celery_detected: detect("celery"),
            excluded: self.is_excluded(path),
            settings,
        })
    }

    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.undetected.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.discovered.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.resolved.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.detector.clear();
    }
}

/// What [`SettingsCache::explain`] found for one file.
#[derive(Debug)]
pub struct Explained {
    /// The config file that applies (its path and contents), if any.
    pub config: Option<(PathBuf, FileConfig)>,
    /// Django and Celery versions detected from lock/requirements files, with the file.
    pub django_detected: Option<(crate::dialects::Version, PathBuf)>,
    pub celery_detected: Option<(crate::dialects::Version, PathBuf)>,
    pub excluded: bool,
    pub settings: Arc<Settings>,
}

/// A path that could not be walked.
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Expands the given paths into the source files to check. Files named explicitly are always
/// included (when their language is known); folders are walked honouring `.gitignore`,
/// `.ignore` and hidden-file rules, in a stable (sorted) order.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<WalkError>) {
    discover_filtered(paths, None)
}

/// A predicate on paths (files and folders) to leave out of a walk.
pub type Exclude = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// A predicate on file paths of no checked language that a walk keeps anyway (AG307's
/// configuration files, only when that rule is enabled). With one, a folder walk also lists
/// hidden files (`.env`), never hidden folders.
pub type Extra = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// [`discover`], leaving out every file or folder for which `exclude` answers true (named
/// files included, so that `exclude` holds for pre-commit, which names files).
pub fn discover_filtered(paths: &[PathBuf], exclude: Option<Exclude>) -> (Vec<PathBuf>, Vec<WalkError>) {
    let (found, errors) = visit_parallel(paths, exclude, |_| ());
    (found.into_iter().map(|(p, ())| p).collect(), errors)
}

/// [`discover_filtered`], handing each file to `visit` as soon as the walk reaches it, on every
/// core: the folders are read in parallel (each by whichever thread is free) and each file is
/// visited by the thread that found it, so that checking overlaps the walk. The results come
/// back in the order of [`discover_filtered`], whatever the threads did:
/// - the roots in the order given, each file once (at its first place: a file under two of the
///   roots named is visited again, but reported once);
/// - a folder's files in the order of a depth-first walk with each folder's entries sorted by
///   name, which is the order of their paths (`Path`'s order compares component by component).
///
/// The parallel walk also finds each folder's `.gitignore`, `.ignore` and `.git` in its
/// listing, where a serial walk looks for each of them by name.
pub fn visit_parallel<T: Send>(
    paths: &[PathBuf],
    exclude: Option<Exclude>,
    visit: impl Fn(&Path) -> T + Sync,
) -> (Vec<(PathBuf, T)>, Vec<WalkError>) {
    visit_parallel_extra(paths, exclude, None, visit)
}

/// [`visit_parallel`], also keeping the files `extra` accepts ([`Extra`]).
pub fn visit_parallel_extra<T: Send>(
    paths: &[PathBuf],
    exclude: Option<Exclude>,
    extra: Option<Extra>,
    visit: impl Fn(&Path) -> T + Sync,
) -> (Vec<(PathBuf, T)>, Vec<WalkError>) {
    use rayon::prelude::*;
    let keep = |p: &Path| Lang::from_path(p).is_some() || extra.as_ref().is_some_and(|x| x(p));
    let mut errors = vec![];
    let mut out: Vec<(PathBuf, T)> = vec![];
    let mut seen: FxHashSet<PathBuf> = FxHashSet::default();
    let excluded = |p: &Path| exclude.as_ref().is_some_and(|f| f(p));
    // Consecutive named files are visited together.
    let mut files: Vec<PathBuf> = vec![];
    let flush = |files: &mut Vec<PathBuf>, out: &mut Vec<(PathBuf, T)>| {
        let batch: Vec<(PathBuf, T)> = std::mem::take(files)
            .into_par_iter()
            .map(|p| {
                let t = visit(&p);
                (p, t)
            })
            .collect();
        out.extend(batch);
    };
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => {
                // A dangling symlink or a missing path.
                errors.push(WalkError { path: p.clone(), message: e.to_string() });
            }
            Ok(m) if m.is_file() => {
                if keep(p) && !excluded(p) && seen.insert(p.clone()) {
                    files.push(p.clone());
                }
            }
            Ok(_) => {
                flush(&mut files, &mut out);
                let (mut found, mut errs) = walk_folder(p, exclude.clone(), extra.clone(), &visit);
                found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                found.retain(|(p, _)| seen.insert(p.clone()));
                out.extend(found);
                errs.sort_unstable_by(|a, b| a.message.cmp(&b.message));
                errors.extend(errs);
            }
        }
    }
    flush(&mut files, &mut out);
    (out, errors)
}

/// One folder root of [`visit_parallel`], unordered.
fn walk_folder<T: Send>(
    root: &Path,
    exclude: Option<Exclude>,
    extra: Option<Extra>,
    visit: &(impl Fn(&Path) -> T + Sync),
) -> (Vec<(PathBuf, T)>, Vec<WalkError>) {
    let mut builder = ignore::WalkBuilder::new(root);
    builder.require_git(false);
    if extra.is_some() {
        builder.hidden(false);
    }
    if exclude.is_some() || extra.is_some() {
        let extra = extra.clone();
        // The root the user named is walked even when a glob matches it; files in no
        // language we check are dropped below anyway, without resolving their folder's
        // settings.
        builder.filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let is_file = e.file_type().is_some_and(|t| t.is_file());
            let hidden = e.file_name().to_str().is_some_and(|n| n.starts_with('.'));
            // Hidden entries are walked only for `extra` (its hidden files, no hidden folder).
            if extra.is_some() && hidden && !(is_file && extra.as_ref().is_some_and(|x| x(e.path()))) {
                return false;
            }
            let dropped_anyway = is_file && Lang::from_path(e.path()).is_none() && !extra.as_ref().is_some_and(|x| x(e.path()));
            dropped_anyway || exclude.as_ref().is_none_or(|f| !f(e.path()))
        });
    }
    let shared = Shared { root, visit, extra, found: Mutex::new(vec![]), errors: Mutex::new(vec![]) };
    builder.build_parallel().visit(&mut &shared);
    (shared.found.into_inner().unwrap_or_else(|e| e.into_inner()), shared.errors.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// What the threads of one [`walk_folder`] share: each collects on its own and adds its
/// findings here once, when it ends.
struct Shared<'a, T, F> {
    root: &'a Path,
    visit: &'a F,
    extra: Option<Extra>,
    found: Mutex<Vec<(PathBuf, T)>>,
    errors: Mutex<Vec<WalkError>>,
}

struct Visitor<'a, T, F> {
    shared: &'a Shared<'a, T, F>,
    found: Vec<(PathBuf, T)>,
    errors: Vec<WalkError>,
}

impl<'s, T: Send, F: Fn(&Path) -> T + Sync> ignore::ParallelVisitorBuilder<'s> for &'s Shared<'s, T, F> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(Visitor { shared: *self, found: vec![], errors: vec![] })
    }
}

impl<T: Send, F: Fn(&Path) -> T + Sync> ignore::ParallelVisitor for Visitor<'_, T, F> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> ignore::WalkState {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file() || t.is_symlink());
                if is_file && (Lang::from_path(e.path()).is_some() || self.shared.extra.as_ref().is_some_and(|x| x(e.path()))) {
                    let path = e.into_path();
                    let t = (self.shared.visit)(&path);
                    self.found.push((path, t));
                }
            }
            Err(err) => self.errors.push(WalkError { path: self.shared.root.to_path_buf(), message: err.to_string() }),
        }
        ignore::WalkState::Continue
    }
}

impl<T, F> Drop for Visitor<'_, T, F> {
    fn drop(&mut self) {
        self.shared.found.lock().unwrap_or_else(|e| e.into_inner()).append(&mut self.found);
        self.shared.errors.lock().unwrap_or_else(|e| e.into_inner()).append(&mut self.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serial walk whose order [`visit_parallel`] promises: depth first, each folder's
    /// entries sorted by name.
    fn serial(root: &Path) -> Vec<PathBuf> {
        let mut b = ignore::WalkBuilder::new(root);
        b.require_git(false).sort_by_file_name(|a, b| a.cmp(b));
        b.build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && Lang::from_path(e.path()).is_some())
            .map(|e| e.into_path())
            .collect()
    }

    #[test]
    fn parallel_walk_keeps_the_serial_order_and_visits_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Names where a folder sorts before a file it prefixes (`a/` < `a.py`), case, `_`,
        // digits, nesting, and files of no checked language.
        for f in ["a.py", "a/z.py", "a/b/c.py", "a-b.py", "A.py", "_x.py", "0.rs", "a/readme.txt", "b/a.py", "b/b.pyi", "ab/x.py", "z.py", "ignored/x.py"] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x = 1\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        let want = serial(root);
        assert!(want.len() >= 10 && !want.iter().any(|p| p.starts_with(root.join("ignored"))), "{want:?}");
        for _ in 0..20 {
            assert_eq!(discover(&[root.to_path_buf()]).0, want);
        }
        // A root named twice, and a file under a root named after it: each file once, at its
        // first place.
        let named = root.join("b/a.py");
        let (files, errors) = discover(&[named.clone(), root.to_path_buf(), root.join("b"), root.to_path_buf()]);
        assert!(errors.is_empty());
        let mut expected = vec![named.clone()];
        expected.extend(want.iter().filter(|p| **p != named).cloned());
        assert_eq!(files, expected);
        // The visitor sees each file once, even when two roots reach it.
        let seen = Mutex::new(vec![]);
        let (found, _) = visit_parallel(&[root.join("b"), root.to_path_buf()], None, |p| seen.lock().unwrap().push(p.to_path_buf()));
        assert_eq!(found.len(), want.len());
        assert_eq!(seen.into_inner().unwrap().len(), want.len() + 2, "b/'s two files are visited again under the root");
    }
}

/// The folders that bound the project model for a `check` of `paths`: for each, the nearest
/// enclosing folder that holds a `.git`, else the nearest with a `pyproject.toml`,
/// `setup.cfg`, `setup.py`, `manage.py` or `Cargo.toml`, else the path's own folder.
pub fn project_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = vec![];
    for p in paths {
        let p = crate::project::normalize(p);
        let dir = if p.is_dir() { p.clone() } else { p.parent().map(Path::to_path_buf).unwrap_or(p.clone()) };
        let git = dir.ancestors().find(|d| d.join(".git").exists());
        let marker = || {
            dir.ancestors().find(|d| {
                ["pyproject.toml", "setup.cfg", "setup.py", "manage.py", "Cargo.toml"].iter().any(|m| d.join(m).is_file())
            })
        };
        let root = git.or_else(marker).unwrap_or(&dir).to_path_buf();
        if !out.contains(&root) {
            out.push(root);
        }
    }
    out
}
