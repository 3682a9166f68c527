//! Path-dependent configuration: `exclude`, `per-file-ignores` and `allow-async-unsafe` globs.
//!
//! Globs are relative to the folder of the config file that declares them. A glob with a `/`
//! is matched against the file's path relative to that folder and against each of its parent
//! folders (`tests/fixtures` covers everything below it; `tests/*.py`, `**/migrations/*`); a
//! glob without `/` is matched against each single path component (`conftest.py`,
//! `migrations`, `test_*.py`). `*` never crosses a `/`; `**` does. Files outside the config's
//! folder match nothing.

use super::{key_err, select_all, ConfigError, FileConfig, Settings, ESCAPE_RULE};
use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};

#[derive(Debug)]
struct Pattern {
    glob: GlobMatcher,
    anchored: bool,
}

impl Pattern {
    fn matches(&self, rel: &Path) -> bool {
        if self.anchored {
            rel.ancestors().filter(|a| !a.as_os_str().is_empty()).any(|a| self.glob.is_match(a))
        } else {
            rel.components().any(|c| self.glob.is_match(c.as_os_str()))
        }
    }
}

/// The path rules of one config file.
#[derive(Debug, Default)]
pub struct PathRules {
    root: PathBuf,
    exclude: Vec<Pattern>,
    per_file_ignores: Vec<(Pattern, Vec<&'static str>)>,
    allow_async_unsafe: Vec<Pattern>,
}

fn pattern(raw: &str, path: &Path, fc: &FileConfig, key: &str) -> Result<Pattern, ConfigError> {
    let p = raw.trim();
    let p = p.strip_prefix("./").or_else(|| p.strip_prefix('/')).unwrap_or(p);
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        return Err(key_err(Some(path), Some(fc), key, format!("`{key}`: empty glob")));
    }
    let glob = GlobBuilder::new(p)
        .literal_separator(true)
        .build()
        .map_err(|e| key_err(Some(path), Some(fc), key, format!("`{key}`: bad glob `{raw}`: {}", e.kind())))?;
    Ok(Pattern { glob: glob.compile_matcher(), anchored: p.contains('/') })
}

impl PathRules {
    /// Compiles the globs of `fc`, read from the config file at `path`.
    pub fn new(path: &Path, fc: &FileConfig) -> Result<PathRules, ConfigError> {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let root = abs.parent().map(Path::to_path_buf).unwrap_or_default();
        let list = |globs: &Option<Vec<String>>, key: &str| -> Result<Vec<Pattern>, ConfigError> {
            globs.iter().flatten().map(|g| pattern(g, path, fc, key)).collect()
        };
        let mut per_file_ignores = vec![];
        for (glob, sels) in fc.per_file_ignores.iter().flatten() {
            let key = format!("per-file-ignores.{glob}");
            let codes = select_all(sels)
                .map_err(|item| key_err(Some(path), Some(fc), &key, super::unknown_selector_message(&key, &item)))?;
            per_file_ignores.push((pattern(glob, path, fc, &key)?, codes));
        }
        Ok(PathRules {
            root,
            exclude: list(&fc.exclude, "exclude")?,
            per_file_ignores,
            allow_async_unsafe: list(&fc.allow_async_unsafe, "allow-async-unsafe")?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.exclude.is_empty() && self.per_file_ignores.is_empty() && self.allow_async_unsafe.is_empty()
    }

    fn relative<'p>(&self, abs: &'p Path) -> Option<&'p Path> {
        abs.strip_prefix(&self.root).ok().filter(|r| !r.as_os_str().is_empty())
    }

    /// Whether the file or folder at `abs` (absolute) is excluded.
    pub fn is_excluded(&self, abs: &Path) -> bool {
        self.relative(abs).is_some_and(|rel| self.exclude.iter().any(|p| p.matches(rel)))
    }

    /// The settings for the file at `abs` (absolute), or `None` when no glob applies and
    /// `base` stands as is.
    pub fn for_file(&self, base: &Settings, abs: &Path) -> Option<Settings> {
        let rel = self.relative(abs)?;
        let ignored: Vec<&'static str> =
            self.per_file_ignores.iter().filter(|(p, _)| p.matches(rel)).flat_map(|(_, c)| c.iter().copied()).collect();
        let unsafe_env = self.allow_async_unsafe.iter().any(|p| p.matches(rel));
        if ignored.is_empty() && !unsafe_env {
            return None;
        }
        let mut s = base.clone();
        for c in ignored {
            s.disable(c);
        }
        if unsafe_env {
            s.allow_async_unsafe = true;
            s.disable(ESCAPE_RULE);
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_text: &str) -> Result<PathRules, ConfigError> {
        let mut fc: FileConfig = toml::from_str(toml_text).unwrap();
        fc.lines = super::super::lines::key_lines(toml_text, false);
        PathRules::new(Path::new("/p/awaitguard.toml"), &fc)
    }

    #[test]
    fn globs() {
        let r = rules("exclude = [\"migrations\", \"tests/fixtures\", \"gen/*.py\"]\n").unwrap();
        assert!(r.is_excluded(Path::new("/p/app/migrations/0001.py")));
        assert!(r.is_excluded(Path::new("/p/app/migrations")));
        assert!(r.is_excluded(Path::new("/p/tests/fixtures/a/b.py")));
        assert!(r.is_excluded(Path::new("/p/gen/x.py")));
        assert!(!r.is_excluded(Path::new("/p/gen/sub/x.py")));
        assert!(!r.is_excluded(Path::new("/p/app/views.py")));
        assert!(!r.is_excluded(Path::new("/elsewhere/migrations/x.py")));
    }

    #[test]
    fn per_file() {
        let r = rules("allow-async-unsafe = [\"tests/**\"]\n[per-file-ignores]\n\"scripts/*\" = [\"AG101\"]\n").unwrap();
        let base = Settings::default();
        let s = r.for_file(&base, Path::new("/p/scripts/x.py")).unwrap();
        assert!(!s.is_enabled("AG101"));
        let s = r.for_file(&base, Path::new("/p/tests/a/test_x.py")).unwrap();
        assert!(s.allow_async_unsafe && s.is_enabled("AG101"));
        use crate::rules::Severity;
        assert_eq!(s.effective_severity("AG101", Severity::Error), Severity::Warning);
        assert_eq!(s.effective_severity("AG202", Severity::Error), Severity::Error);
        assert!(r.for_file(&base, Path::new("/p/app/x.py")).is_none());
    }

    #[test]
    fn errors_name_key_and_line() {
        let e = rules("select = []\nexclude = [\"a[\"]\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.to_string().contains("exclude") && e.to_string().starts_with("/p/awaitguard.toml:2:"), "{e}");
        let e = rules("\n[per-file-ignores]\n\"x/*\" = [\"nope\"]\n").unwrap_err();
        assert!(e.to_string().contains(":3:") && e.to_string().contains("nope"), "{e}");
    }
}
