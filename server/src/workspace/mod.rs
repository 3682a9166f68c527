//! Workspace: which files to analyse (walk with `ignore`, honouring `.gitignore`), and which
//! settings apply to each (config discovery per folder, cached).
//!
//! Invariant: settings for a file depend only on the config files above it and the
//! overrides; the cache is keyed by folder and can be cleared when config files change.

use crate::config::{self, ConfigError, FileConfig, Overrides, Settings};
use crate::syntax::Lang;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Resolves and caches [`Settings`] per folder.
pub struct SettingsCache {
    overrides: Overrides,
    /// `--config PATH`: used for every file instead of discovery.
    explicit: Option<(PathBuf, FileConfig)>,
    /// `--isolated`: ignore config files.
    isolated: bool,
    cache: Mutex<HashMap<PathBuf, Result<Arc<Settings>, ConfigError>>>,
}

impl SettingsCache {
    pub fn new(overrides: Overrides, explicit: Option<(PathBuf, FileConfig)>, isolated: bool) -> Self {
        SettingsCache { overrides, explicit, isolated, cache: Mutex::new(HashMap::new()) }
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Settings for a file at `path` (which need not exist: an unsaved buffer's path).
    pub fn for_file(&self, path: &Path) -> Result<Arc<Settings>, ConfigError> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(hit) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&dir) {
            return hit.clone();
        }
        let res = self.resolve(&dir).map(Arc::new);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(dir, res.clone());
        res
    }

    fn resolve(&self, dir: &Path) -> Result<Settings, ConfigError> {
        let found = if self.isolated {
            None
        } else if let Some(e) = &self.explicit {
            Some(e.clone())
        } else {
            config::discover(dir)?
        };
        let detected = if self.isolated { None } else { config::detect::django_version(dir).map(|(v, _)| v) };
        Settings::resolve(found.as_ref().map(|(p, c)| (p.as_path(), c)), &self.overrides, detected)
    }

    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
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
    let mut files = vec![];
    let mut errors = vec![];
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => {
                // A dangling symlink or a missing path.
                errors.push(WalkError { path: p.clone(), message: e.to_string() });
                continue;
            }
            Ok(m) if m.is_file() => {
                if Lang::from_path(p).is_some() {
                    files.push(p.clone());
                }
                continue;
            }
            Ok(_) => {}
        }
        let walker = ignore::WalkBuilder::new(p)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let path = e.path();
                    let is_file = e.file_type().is_some_and(|t| t.is_file() || t.is_symlink());
                    if is_file && Lang::from_path(path).is_some() {
                        files.push(path.to_path_buf());
                    }
                }
                Err(err) => errors.push(WalkError { path: p.clone(), message: err.to_string() }),
            }
        }
    }
    files.dedup();
    (files, errors)
}
