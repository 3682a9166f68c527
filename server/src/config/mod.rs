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
pub use crate::settings::{Settings, Severity, DEFAULT_MAX_FILE_SIZE, SOO_RULES};
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
    /// Files larger than this are not analysed (bytes, or `"10MB"`; `0`: no limit).
    pub max_file_size: Option<SizeValue>,
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
    /// `--max-file-size` / the editor's `maxFileSize`: bytes or `"10MB"`.
    pub max_file_size: Option<String>,
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
/// `None` when it matches no implemented rule (a typo such as `AG999` or `sync-orm-cal`, or
/// the code of a rule that is only planned): an error, since selecting nothing would silently
/// turn every rule off.
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
    (!codes.is_empty()).then_some(codes)
}

/// Levenshtein distance (characters, ASCII case ignored).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known code or rule name closest to an unknown selector (for "did you mean"): codes are
/// compared with codes, names with names.
pub fn closest_selector(selector: &str) -> Option<&'static str> {
    let s = selector.trim();
    let code_like = s.len() >= 2 && s[..2].eq_ignore_ascii_case("AG");
    RULES
        .iter()
        .map(|r| r.meta())
        .map(|m| if code_like { m.code } else { m.name })
        .map(|c| (distance(s, c), c))
        .filter(|(d, c)| code_like || *d <= c.len().max(3) / 2)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// "unknown rule selector `X` (did you mean `Y`?)": the message for a selector that selects no
/// implemented rule.
pub fn unknown_selector_message(key: &str, selector: &str) -> String {
    let hint = match closest_selector(selector) {
        Some(c) => format!(" (did you mean `{c}`? `awaitguard rule --all` lists every rule)"),
        None => " (`awaitguard rule --all` lists every rule)".to_string(),
    };
    let planned = if select_planned(selector) { "; that rule is planned but not implemented yet" } else { "" };
    format!("`{key}`: unknown rule selector `{}`{planned}{hint}", selector.trim())
}

/// Whether a selector is the code of a rule the catalogue plans but this version lacks.
fn select_planned(selector: &str) -> bool {
    const PLANNED: &[&str] = &[];
    PLANNED.iter().any(|c| c.eq_ignore_ascii_case(selector.trim()))
}

/// A byte size: an integer (bytes) or a string such as `"10MB"`, `"512 KB"`, `"1.5 MiB"`,
/// `"2000000"`. Units are powers of 1024 (`KB` = `KiB` = 1024 bytes; `MB` = `MiB`; `GB`
/// = `GiB`). `0` means no limit.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.replace('_', "").parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    if mult == 1 && num.fract() != 0.0 {
        return None; // a fraction of a byte
    }
    let bytes = num * mult as f64;
    (bytes < u64::MAX as f64).then_some(bytes.round() as u64)
}

/// A size for messages: `10.0 MB`, `512.0 KB`, `900 bytes` (powers of 1024, as [`parse_size`]).
pub fn show_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// The `max-file-size` value as written: an integer or a string.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    Bytes(i64),
    Text(String),
}

impl SizeValue {
    fn shown(&self) -> String {
        match self {
            SizeValue::Bytes(n) => n.to_string(),
            SizeValue::Text(s) => format!("\"{s}\""),
        }
    }

    fn bytes(&self) -> Option<u64> {
        match self {
            SizeValue::Bytes(n) => u64::try_from(*n).ok(),
            SizeValue::Text(s) => parse_size(s),
        }
    }
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
            select_all(list).map_err(|item| key_err(path, fc, key, unknown_selector_message(key, &item)))
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
            if let Some(v) = &fc.max_file_size {
                s.max_file_size = v.bytes().ok_or_else(|| {
                    key_err(p, c, "max-file-size", format!("`max-file-size`: {} is not a size (bytes, or e.g. \"10MB\", \"512KB\"; 0: no limit)", v.shown()))
                })?;
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
        if let Some(v) = over.max_file_size.as_deref().filter(|v| !v.trim().is_empty()) {
            s.max_file_size = parse_size(v).ok_or_else(|| {
                err(None, format!("max file size: `{v}` is not a size (bytes, or e.g. \"10MB\", \"512KB\"; 0: no limit)"))
            })?;
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
        let codes = select(sel).ok_or_else(|| key_err(path, fc, &k, unknown_selector_message(key, sel)))?;
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
        assert_eq!(select("AG999"), None, "a code-shaped typo is an error, not an empty selection");
        assert_eq!(select("AG6"), None);
        assert_eq!(select("E501"), None);
        assert_eq!(closest_selector("AG999"), Some("AG109"));
        assert_eq!(closest_selector("sync-orm-cal"), Some("sync-orm-call"));
        assert_eq!(closest_selector("completely-different-thing-here"), None);
        let m = unknown_selector_message("select", "AG299");
        assert!(m.contains("`AG299`") && m.contains("did you mean `AG"), "{m}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MB"), Some(10 << 20));
        assert_eq!(parse_size("10 mb"), Some(10 << 20));
        assert_eq!(parse_size("512KiB"), Some(512 << 10));
        assert_eq!(parse_size("1.5M"), Some(3 << 19));
        assert_eq!(parse_size("2000"), Some(2000));
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("1.5"), None);
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("10 parsecs"), None);
        assert_eq!(show_size(10 << 20), "10.0 MB");
        assert_eq!(show_size(1536), "1.5 KB");
        let fc: FileConfig = toml::from_str("max-file-size = \"2MB\"\n").unwrap();
        let s = Settings::resolve(Some((Path::new("a.toml"), &fc)), &Overrides::default(), None).unwrap();
        assert_eq!(s.max_file_size, 2 << 20);
        let fc: FileConfig = toml::from_str("max-file-size = 1000\n").unwrap();
        let s = Settings::resolve(Some((Path::new("a.toml"), &fc)), &Overrides::default(), None).unwrap();
        assert_eq!(s.max_file_size, 1000);
        let over = Overrides { max_file_size: Some("1KB".into()), ..Default::default() };
        assert_eq!(Settings::resolve(Some((Path::new("a.toml"), &fc)), &over, None).unwrap().max_file_size, 1024);
        let fc: FileConfig = toml::from_str("max-file-size = \"huge\"\n").unwrap();
        assert!(Settings::resolve(Some((Path::new("a.toml"), &fc)), &Overrides::default(), None).is_err());
        assert_eq!(Settings::default().max_file_size, DEFAULT_MAX_FILE_SIZE);
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
