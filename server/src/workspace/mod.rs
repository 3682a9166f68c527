//! Workspace: which files to analyse (walk with `ignore`, honouring `.gitignore`), and which
//! settings apply to each (config discovery per folder, cached).
//!
//! Invariant: settings for a file depend only on the config files above it, its path relative
//! to that config (per-file globs) and the overrides; the cache is keyed by (absolute) folder
//! and can be cleared when config files change.

use crate::config::paths::PathRules;
use crate::config::{self, ConfigError, FileConfig, Overrides, Settings};
use crate::syntax::Lang;
use std::collections::HashMap;
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
    cache: Mutex<HashMap<PathBuf, Result<Arc<Folder>, ConfigError>>>,
    /// The same before version detection ([`SettingsCache::enabled_for_file`]).
    undetected: Mutex<HashMap<PathBuf, Result<Arc<Folder>, ConfigError>>>,
    /// Django/Celery version detection, memoised per folder.
    detector: config::detect::Detector,
    /// Config discovery, memoised per folder: the config that applies there, if any.
    discovered: Mutex<HashMap<PathBuf, Discovered>>,
    /// The current folder when the cache was made: relative paths are made absolute against it
    /// without a `getcwd` per file.
    cwd: Option<PathBuf>,
}

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
            cache: Mutex::new(HashMap::new()),
            undetected: Mutex::new(HashMap::new()),
            detector: Default::default(),
            discovered: Default::default(),
            cwd: std::env::current_dir().ok(),
        }
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// What applies to the files of `abs`'s folder; with Django/Celery versions detected from
    /// the lock and requirements files above it when `detect`.
    fn folder(&self, abs: &Path, detect: bool) -> Result<Arc<Folder>, ConfigError> {
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let cache = if detect { &self.cache } else { &self.undetected };
        if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&dir) {
            return hit.clone();
        }
        let res = self.resolve(&dir, detect).map(Arc::new);
        cache.lock().unwrap_or_else(|e| e.into_inner()).insert(dir, res.clone());
        res
    }

    fn settings_of(&self, path: &Path, detect: bool) -> Result<Arc<Settings>, ConfigError> {
        let abs = absolute(self.cwd.as_deref(), path);
        let folder = self.folder(&abs, detect)?;
        match folder.paths.as_ref().and_then(|p| p.for_file(&folder.settings, &abs)) {
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
        let abs = absolute(self.cwd.as_deref(), path);
        match self.folder(&abs, false) {
            Ok(f) => f.paths.as_ref().is_some_and(|p| p.is_excluded(&abs)),
            Err(_) => false,
        }
    }

    fn resolve(&self, dir: &Path, detect: bool) -> Result<Folder, ConfigError> {
        let found = if self.isolated {
            None
        } else if let Some(e) = &self.explicit {
            Some(Arc::new(e.clone()))
        } else {
            self.discover(dir)?
        };
        let detect = detect && !self.isolated;
        let detected = if detect { self.detector.version(dir, "django").map(|(v, _)| v) } else { None };
        let mut settings = Settings::resolve(found.as_deref().map(|(p, c)| (p.as_path(), c)), &self.overrides, detected)?;
        if settings.celery_version.is_none() && detect {
            settings.celery_version = self.detector.version(dir, "celery").map(|(v, _)| v);
        }
        let paths = match &found {
            Some(f) => Some(PathRules::new(&f.0, &f.1)?).filter(|r| !r.is_empty()).map(Arc::new),
            None => None,
        };
        Ok(Folder { settings: Arc::new(settings), paths })
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

    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.undetected.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.discovered.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.detector.clear();
    }
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

/// [`discover`], leaving out every file or folder for which `exclude` answers true (named
/// files included, so that `exclude` holds for pre-commit, which names files).
pub fn discover_filtered(paths: &[PathBuf], exclude: Option<Exclude>) -> (Vec<PathBuf>, Vec<WalkError>) {
    let mut files = vec![];
    let errors = discover_each(paths, exclude, |p| files.push(p));
    (files, errors)
}

/// [`discover_filtered`], handing each file to `found` as soon as the walk reaches it, in the
/// same order (so that files can be checked while the walk goes on).
pub fn discover_each(paths: &[PathBuf], exclude: Option<Exclude>, mut found: impl FnMut(PathBuf)) -> Vec<WalkError> {
    let mut errors = vec![];
    // Consecutive duplicates (a path named twice) are handed over once.
    let mut last: Option<PathBuf> = None;
    let mut push = |p: PathBuf| {
        if last.as_ref() != Some(&p) {
            last = Some(p.clone());
            found(p);
        }
    };
    let excluded = |p: &Path| exclude.as_ref().is_some_and(|f| f(p));
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => {
                // A dangling symlink or a missing path.
                errors.push(WalkError { path: p.clone(), message: e.to_string() });
                continue;
            }
            Ok(m) if m.is_file() => {
                if Lang::from_path(p).is_some() && !excluded(p) {
                    push(p.clone());
                }
                continue;
            }
            Ok(_) => {}
        }
        let mut builder = ignore::WalkBuilder::new(p);
        builder.require_git(false).sort_by_file_name(|a, b| a.cmp(b));
        if let Some(f) = exclude.clone() {
            // The roots the user named are walked even when a glob matches them; files in no
            // language we check are dropped below anyway, without resolving their folder's
            // settings.
            builder.filter_entry(move |e| {
                let dropped_anyway = e.file_type().is_some_and(|t| t.is_file()) && Lang::from_path(e.path()).is_none();
                e.depth() == 0 || dropped_anyway || !f(e.path())
            });
        }
        for entry in builder.build() {
            match entry {
                Ok(e) => {
                    let path = e.path();
                    let is_file = e.file_type().is_some_and(|t| t.is_file() || t.is_symlink());
                    if is_file && Lang::from_path(path).is_some() {
                        push(path.to_path_buf());
                    }
                }
                Err(err) => errors.push(WalkError { path: p.clone(), message: err.to_string() }),
            }
        }
    }
    errors
}
