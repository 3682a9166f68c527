//! Configuration: `[tool.awaitguard]` in the nearest `pyproject.toml` that has one, or an
//! `awaitguard.toml` / `.awaitguard.toml` (which win in the same folder), overridden by the
//! CLI's flags or the editor's settings ([`Overrides`]).
//!
//! Invariants:
//! - A bad config is an error value naming the file (and the line, from the TOML parser),
//!   never a panic. The server falls back to defaults and says so; the CLI exits 2.
//! - Unknown keys are errors (a typo must not silently turn a rule off).
//! - Resolution is pure: [`Settings::resolve`] takes the parsed pieces, reads nothing.

pub mod detect;
mod lines;
pub mod paths;
pub mod probe;

use crate::dialects::{django, Version};
use crate::rules::RULES;
pub use crate::settings::{Settings, Severity, SOO_RULES};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The `[tool.awaitguard]` table (or the whole `awaitguard.toml`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, String>>,
    pub django_version: Option<String>,
    /// Celery version for its version gates (`delay_on_commit` needs ≥ 5.4); default: detected.
    pub celery_version: Option<String>,
    /// Globs (relative to the config file's folder) → selectors not reported in those files.
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// Globs of files and folders never checked (even when named on the command line).
    pub exclude: Option<Vec<String>>,
    /// Globs of files that run with `DJANGO_ALLOW_ASYNC_UNSAFE` set (see [`SOO_RULES`]).
    pub allow_async_unsafe: Option<Vec<String>>,
    /// Opt-in: report (AG107, at this severity) cache calls on a redis / memcached / file
    /// backend, which block the event loop without querying. Default: not reported.
    pub blocking_cache_severity: Option<String>,
    /// 1-based line of each key's value in the config file (`select`, `severity.AG101`,
    /// `per-file-ignores.tests/*`), for error messages. Filled by [`load`] / [`discover`].
    #[serde(skip)]
    pub lines: BTreeMap<String, usize>,
}

/// The rule that reports setting `DJANGO_ALLOW_ASYNC_UNSAFE`.
pub const ESCAPE_RULE: &str = "AG307";

/// Settings from outside the file: CLI flags or editor settings. `None` = not set.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, String>>,
    pub django_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    /// 1-based line of the offending key, when known (TOML syntax errors carry theirs in the
    /// message).
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: {}", p.display(), self.message),
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.message),
            (None, _) => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(path: Option<&Path>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.map(Path::to_path_buf), line: None, message: message.into() }
}

/// An error about `key` of the config file `fc` read from `path` (the line comes from
/// `fc.lines`; `key` may be `table.key`, falling back to the table's line).
pub(crate) fn key_err(path: Option<&Path>, fc: Option<&FileConfig>, key: &str, message: impl Into<String>) -> ConfigError {
    let line = fc.and_then(|fc| {
        fc.lines.get(key).or_else(|| key.split_once('.').and_then(|(t, _)| fc.lines.get(t))).copied()
    });
    ConfigError { path: path.map(Path::to_path_buf), line: path.and(line), message: message.into() }
}

/// Codes matched by a selector: a code (`AG101`), a prefix (`AG1`, `AG`), `ALL`, or a name.
pub fn select(selector: &str) -> Option<Vec<&'static str>> {
    let s = selector.trim();
    let all = s.eq_ignore_ascii_case("ALL");
    let codes: Vec<&'static str> = RULES
        .iter()
        .map(|r| r.meta())
        .filter(|m| {
            all || m.name == s
                || (s.len() >= 2 && m.code.len() >= s.len() && m.code[..s.len()].eq_ignore_ascii_case(s))
        })
        .map(|m| m.code)
        .collect();
    // A well-formed code of a rule not implemented yet selects nothing but is not an error.
    if codes.is_empty() && !is_code_shaped(s) {
        None
    } else {
        Some(codes)
    }
}

fn is_code_shaped(s: &str) -> bool {
    s.len() >= 2 && s[..2].eq_ignore_ascii_case("AG") && s[2..].chars().all(|c| c.is_ascii_digit()) && s.len() <= 5
}

impl Settings {
    /// Resolves settings: file config, then overrides, then the detected Django version
    /// when none is configured.
    pub fn resolve(
        file: Option<(&Path, &FileConfig)>,
        over: &Overrides,
        detected_django: Option<Version>,
    ) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        let sel = |list: &[String], path: Option<&Path>, fc: Option<&FileConfig>, key: &str| {
            select_all(list).map_err(|item| key_err(path, fc, key, format!("`{key}`: unknown rule selector `{item}`")))
        };
        let mut django_version = None;
        if let Some((path, fc)) = file {
            let (p, c) = (Some(path), Some(fc));
            if let Some(list) = &fc.select {
                s.selected = Some(sel(list, p, c, "select")?.into_iter().collect());
            }
            if let Some(list) = &fc.extend_select {
                let more = sel(list, p, c, "extend-select")?;
                if let Some(set) = &mut s.selected {
                    set.extend(more);
                }
            }
            if let Some(list) = &fc.ignore {
                s.ignored.extend(sel(list, p, c, "ignore")?);
            }
            if let Some(map) = &fc.severity {
                apply_severity(&mut s, map, p, c, "severity")?;
            }
            if let Some(v) = &fc.django_version {
                django_version = Some(parse_version(v, p, c, "django-version")?);
            }
            if let Some(v) = &fc.celery_version {
                s.celery_version = Some(parse_version(v, p, c, "celery-version")?);
            }
            if let Some(v) = &fc.blocking_cache_severity {
                let k = "blocking-cache-severity";
                s.blocking_cache = Some(Severity::parse(&v.to_ascii_lowercase()).ok_or_else(|| {
                    key_err(p, c, k, format!("`{k}`: `{v}` is not a severity (error, warning, info, hint)"))
                })?);
            }
        }
        if let Some(list) = &over.select {
            s.selected = Some(sel(list, None, None, "select")?.into_iter().collect());
            s.ignored.clear();
        }
        if let Some(list) = &over.ignore {
            s.ignored.extend(sel(list, None, None, "ignore")?);
        }
        if let Some(map) = &over.severity {
            apply_severity(&mut s, map, None, None, "severity")?;
        }
        if let Some(v) = over.django_version.as_deref().filter(|v| !v.trim().is_empty()) {
            django_version = Some(parse_version(v, None, None, "django version")?);
        }
        s.django_version = django_version.or(detected_django).unwrap_or(django::NEWEST);
        Ok(s)
    }
}

/// Codes selected by a list of selectors; `Err(item)` names the first unknown one.
pub fn select_all(list: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = vec![];
    for item in list {
        match select(item) {
            Some(codes) => out.extend(codes),
            None => return Err(item.clone()),
        }
    }
    Ok(out)
}

fn apply_severity(
    s: &mut Settings,
    map: &BTreeMap<String, String>,
    path: Option<&Path>,
    fc: Option<&FileConfig>,
    key: &str,
) -> Result<(), ConfigError> {
    for (sel, sev) in map {
        let k = format!("{key}.{sel}");
        let codes = select(sel).ok_or_else(|| key_err(path, fc, &k, format!("`{key}`: unknown rule selector `{sel}`")))?;
        let sev = Severity::parse(&sev.to_ascii_lowercase()).ok_or_else(|| {
            key_err(path, fc, &k, format!("`{k}`: `{sev}` is not a severity (error, warning, info, hint)"))
        })?;
        for c in codes {
            s.severity.insert(c, sev);
        }
    }
    Ok(())
}

fn parse_version(v: &str, path: Option<&Path>, fc: Option<&FileConfig>, key: &str) -> Result<Version, ConfigError> {
    Version::parse(v)
        .ok_or_else(|| key_err(path, fc, key, format!("`{key}`: `{v}` is not a version (e.g. \"4.2\" or \"5.1.3\")")))
}

/// Finds the config file that applies to files in `dir`: walking up, the first folder with an
/// `awaitguard.toml`, `.awaitguard.toml`, or a `pyproject.toml` that has `[tool.awaitguard]`.
pub fn discover(dir: &Path) -> Result<Option<(PathBuf, FileConfig)>, ConfigError> {
    for d in dir.ancestors() {
        if let Some(found) = discover_in(d, &probe::Listing::unknown())? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// [`discover`] in the one folder `d` (whose `listing` rules out names it lacks): its config,
/// or `None` to go on upwards.
pub fn discover_in(d: &Path, listing: &probe::Listing) -> Result<Option<(PathBuf, FileConfig)>, ConfigError> {
    for name in ["awaitguard.toml", ".awaitguard.toml"] {
        let p = d.join(name);
        if listing.may_have(name) && p.is_file() {
            return load(&p).map(Some);
        }
    }
    let p = d.join("pyproject.toml");
    if listing.may_have("pyproject.toml") && p.is_file() {
        let text = read(&p)?;
        let doc: toml::Table = toml::from_str(&text).map_err(|e| toml_err(&p, &text, &e))?;
        if doc.get("tool").and_then(|t| t.get("awaitguard")).is_some() {
            // Re-parse the table alone to get precise errors for unknown keys.
            let mut cfg = parse_pyproject_section(&text).map_err(|e| toml_err(&p, &text, &e))?;
            cfg.lines = lines::key_lines(&text, true);
            return Ok(Some((p, cfg)));
        }
    }
    Ok(None)
}

/// Loads an explicit config file (`--config PATH`): an `awaitguard.toml`, or a
/// `pyproject.toml` (its `[tool.awaitguard]` table).
pub fn load(path: &Path) -> Result<(PathBuf, FileConfig), ConfigError> {
    let text = read(path)?;
    let pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let mut cfg = if pyproject {
        parse_pyproject_section(&text).map_err(|e| toml_err(path, &text, &e))?
    } else {
        toml::from_str::<FileConfig>(&text).map_err(|e| toml_err(path, &text, &e))?
    };
    cfg.lines = lines::key_lines(&text, pyproject);
    Ok((path.to_path_buf(), cfg))
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}
#[derive(Deserialize)]
struct Tool {
    awaitguard: Option<FileConfig>,
}

fn parse_pyproject_section(text: &str) -> Result<FileConfig, toml::de::Error> {
    let p: Pyproject = toml::from_str(text)?;
    Ok(p.tool.and_then(|t| t.awaitguard).unwrap_or_default())
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|e| err(Some(p), format!("cannot read: {e}")))
}

/// A TOML error as `path:line: message` (`path:line: column C: message` for syntax errors).
fn toml_err(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let Some(span) = e.span() else {
        return err(Some(path), e.message().to_string());
    };
    let start = span.start.min(text.len());
    let line = text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count() + 1;
    let col = text[..crate::text::floor_char_boundary(text, start)].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let mut message = e.message().trim().replace('\n', " ");
    // Name the key whose value is wrong (`exclude = "x"`: "invalid type …" names no key).
    let line_text = text[..crate::text::floor_char_boundary(text, start)].rsplit('\n').next().unwrap_or("");
    if let Some((key, _)) = line_text.split_once('=') {
        let key = key.trim().trim_matches(['"', '\'']);
        if !key.is_empty() && !message.contains(&format!("`{key}`")) {
            message = format!("`{key}`: {message}");
        }
    }
    ConfigError { path: Some(path.to_path_buf()), line: Some(line), message: format!("column {col}: {message}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(select("AG101"), Some(vec!["AG101"]));
        assert_eq!(select("sync-orm-call"), Some(vec!["AG101"]));
        assert!(select("AG").unwrap().contains(&"AG101"));
        assert_eq!(select("AG999"), Some(vec![]));
        assert_eq!(select("E501"), None);
    }

    #[test]
    fn resolve_order() {
        let fc = FileConfig { ignore: Some(vec!["AG101".into()]), django_version: Some("4.0".into()), ..Default::default() };
        let s = Settings::resolve(Some((Path::new("x.toml"), &fc)), &Overrides::default(), Some(Version(5, 0, 0))).unwrap();
        assert!(!s.is_enabled("AG101"));
        assert_eq!(s.django_version, Version(4, 0, 0));
        let over = Overrides { select: Some(vec!["AG101".into()]), ..Default::default() };
        let s = Settings::resolve(Some((Path::new("x.toml"), &fc)), &over, None).unwrap();
        assert!(s.is_enabled("AG101"));
        let bad = FileConfig { select: Some(vec!["nope".into()]), ..Default::default() };
        let e = Settings::resolve(Some((Path::new("p.toml"), &bad)), &Overrides::default(), None).unwrap_err();
        assert!(e.to_string().contains("p.toml") && e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn blocking_cache_severity() {
        let fc = FileConfig { blocking_cache_severity: Some("Warning".into()), ..Default::default() };
        let s = Settings::resolve(Some((Path::new("x.toml"), &fc)), &Overrides::default(), None).unwrap();
        assert_eq!(s.blocking_cache, Some(Severity::Warning));
        assert_eq!(Settings::default().blocking_cache, None);
        let bad = FileConfig { blocking_cache_severity: Some("loud".into()), ..Default::default() };
        let e = Settings::resolve(Some((Path::new("p.toml"), &bad)), &Overrides::default(), None).unwrap_err();
        assert!(e.to_string().contains("blocking-cache-severity"), "{e}");
    }

    #[test]
    fn unknown_key_names_line() {
        let text = "select = [\"AG101\"]\nbogus = 1\n";
        let e = toml::from_str::<FileConfig>(text).unwrap_err();
        let m = toml_err(Path::new("a.toml"), text, &e).to_string();
        assert!(m.starts_with("a.toml:2: column 1: unknown field `bogus`"), "{m}");
    }
}
