//! Detects the project's Django (and Celery) version from its lock and requirements files, for version
//! gates (RULES.md §0.6). Exact pins (lock files) win over ranges; for a range the *lowest*
//! allowed version is taken, so a fix never uses an API the oldest supported Django lacks.
//!
//! Search: from a folder upwards, the first folder holding any of `uv.lock`, `poetry.lock`,
//! `pdm.lock`, `Pipfile.lock`, `requirements*.txt`, `pyproject.toml` is the project root;
//! only that folder is read.

use super::probe::{Listing, Probe};
use crate::dialects::Version;
use crate::project::settings::{self as django_settings, Backend};
use crate::settings::CacheKind;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const LOCKS: &[&str] = &["uv.lock", "poetry.lock", "pdm.lock"];

/// The detected Django version and the file it came from.
pub fn django_version(start: &Path) -> Option<(Version, PathBuf)> {
    package_version(start, "django")
}

/// The detected version of a PyPI package (`django`, `celery`) and the file it came from.
/// Uncached; a workspace uses a [`Detector`].
pub fn package_version(start: &Path, pkg: &'static str) -> Option<(Version, PathBuf)> {
    Detector::default().version(start, pkg)
}

/// Detection memoised per folder: checking every folder of a large tree reads each ancestor
/// (`/tmp`, `/home`, `/` …) once per package, not once per folder below it.
#[derive(Default)]
pub struct Detector {
    seen: Mutex<HashMap<(PathBuf, &'static str), Detected>>,
    /// Each folder is listed once, for every package and for config discovery.
    probe: Probe,
    /// What the rules need of the project's Django settings module, per project root.
    django: Mutex<HashMap<PathBuf, DjangoFacts>>,
}

/// What the cache aliases of a project do; `None`: unknown (no settings module read).
pub type Caches = Option<Arc<BTreeMap<String, CacheKind>>>;

/// What the rules need of a project's Django settings module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DjangoFacts {
    pub caches: Caches,
    /// `MIDDLEWARE` holds `LoginRequiredMiddleware` after `AuthenticationMiddleware` (in every
    /// settings module that applies).
    pub login_required_middleware: bool,
    /// `AUTH_USER_MODEL` (`app_label.Model`); `None`: unknown or no settings module.
    pub auth_user_model: Option<String>,
}

const AUTH_MW: &str = "django.contrib.auth.middleware.AuthenticationMiddleware";
const LOGIN_REQUIRED_MW: &str = "django.contrib.auth.middleware.LoginRequiredMiddleware";

/// What a cache backend does on a call.
pub fn cache_kind(b: &Backend) -> CacheKind {
    match b {
        Backend::Database => CacheKind::Database,
        Backend::LocMem | Backend::Dummy => CacheKind::NoIo,
        Backend::Redis | Backend::Memcached | Backend::File => CacheKind::Blocking,
        Backend::Other(_) | Backend::Unknown => CacheKind::Unknown,
    }
}

/// A detected version and the file it came from, or nothing.
type Detected = Option<(Version, PathBuf)>;

impl Detector {
    pub fn version(&self, start: &Path, pkg: &'static str) -> Option<(Version, PathBuf)> {
        let mut visited = vec![];
        let mut result = None;
        for dir in start.ancestors() {
            if let Some(hit) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&(dir.to_path_buf(), pkg)) {
                result = hit.clone();
                break;
            }
            visited.push(dir.to_path_buf());
            match scan_dir(dir, pkg, &self.probe.listing(dir)) {
                Scan::Found(v, p) => {
                    result = Some((v, p));
                    break;
                }
                Scan::Root => break,
                Scan::Continue => {}
            }
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for d in visited {
            seen.insert((d, pkg), result.clone());
        }
        result
    }

    /// What the rules need of the settings module of the Django project holding `dir`
    /// (`project::settings`), memoised per project root.
    pub fn django(&self, dir: &Path) -> DjangoFacts {
        let has = |d: &Path, name: &str| self.probe.listing(d).may_have(name) && d.join(name).exists();
        let Some(root) = django_settings::project_root_by(dir, &has) else { return DjangoFacts::default() };
        if let Some(hit) = self.django.lock().unwrap_or_else(|e| e.into_inner()).get(&root) {
            return hit.clone();
        }
        let read = django_settings::read_root(&root);
        let facts = DjangoFacts {
            caches: read
                .as_ref()
                .and_then(|s| s.caches.as_ref())
                .map(|c| Arc::new(c.iter().map(|(k, b)| (k.clone(), cache_kind(b))).collect())),
            login_required_middleware: read.as_ref().and_then(|s| s.middleware.as_ref()).is_some_and(|m| {
                let auth = m.iter().position(|x| x == AUTH_MW);
                let login = m.iter().position(|x| x == LOGIN_REQUIRED_MW);
                matches!((auth, login), (Some(a), Some(l)) if a < l)
            }),
            auth_user_model: read.as_ref().and_then(|s| s.auth_user_model.clone()),
        };
        self.django.lock().unwrap_or_else(|e| e.into_inner()).insert(root, facts.clone());
        facts
    }

    /// The folder listings this detector uses (shared with config discovery).
    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    /// Forgets everything (a lock or requirements file changed).
    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.django.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.probe.clear();
    }
}

enum Scan {
    Found(Version, PathBuf),
    /// The project root (project files or `.git`) without the package: stop here.
    Root,
    Continue,
}

/// One folder; `listing` rules out the files it lacks (they are not even tried).
fn scan_dir(dir: &Path, pkg: &str, listing: &Listing) -> Scan {
    let read = |name: &str| if listing.may_have(name) { read_text(&dir.join(name)) } else { None };
    let mut any = false;
    // One file, read when the listing may have it (`any` records that it was there); `Some`
    // ends the scan with its version.
    let from_file = |name: &str, parse: fn(&str, &str) -> Option<Version>, any: &mut bool| {
        let text = read(name)?;
        *any = true;
        parse(&text, pkg).map(|v| Scan::Found(v, dir.join(name)))
    };
    for lock in LOCKS {
        if let Some(found) = from_file(lock, from_toml_lock, &mut any) {
            return found;
        }
    }
    if let Some(found) = from_file("Pipfile.lock", from_pipfile_lock, &mut any) {
        return found;
    }
    if let Some(reqs) = listing.requirements(dir) {
        let mut best: Option<(Version, PathBuf)> = None;
        for p in reqs {
            any = true;
            if let Some(text) = read_text(&p) {
                for line in text.lines() {
                    if let Some(v) = from_requirement(line, pkg) {
                        if best.as_ref().is_none_or(|(b, _)| v < *b) {
                            best = Some((v, p.clone()));
                        }
                    }
                }
            }
        }
        if let Some((v, p)) = best {
            return Scan::Found(v, p);
        }
    }
    if let Some(found) = from_file("pyproject.toml", from_pyproject, &mut any) {
        return found;
    }
    if any || (listing.may_have(".git") && dir.join(".git").exists()) { Scan::Root } else { Scan::Continue }
}

/// A text file as written on Windows too: UTF-8 (a BOM is dropped), or UTF-16 with a BOM
/// (`pip freeze > requirements.txt` in PowerShell writes UTF-16 LE). `None` when unreadable
/// or not text.
pub fn read_text(p: &Path) -> Option<String> {
    decode_text(&std::fs::read(p).ok()?)
}

fn decode_text(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        char::decode_utf16(units).collect::<Result<String, _>>().ok()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

fn is_pkg(name: &str, pkg: &str) -> bool {
    name.trim().eq_ignore_ascii_case(pkg)
}

fn from_toml_lock(text: &str, pkg: &str) -> Option<Version> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let pkgs = doc.get("package")?.as_array()?;
    pkgs.iter().find_map(|p| {
        let name = p.get("name")?.as_str()?;
        if is_pkg(name, pkg) { Version::parse(p.get("version")?.as_str()?) } else { None }
    })
}

fn from_pipfile_lock(text: &str, pkg: &str) -> Option<Version> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    for section in ["default", "develop"] {
        if let Some(obj) = doc.get(section).and_then(|s| s.as_object()) {
            for (k, v) in obj {
                if is_pkg(k, pkg) {
                    if let Some(ver) = v.get("version").and_then(|v| v.as_str()) {
                        return lower_bound(ver);
                    }
                }
            }
        }
    }
    None
}

/// A PEP 508 requirement line: `django==4.2.7`, `Django>=4.2,<5`, `django[argon2]~=5.0`.
pub fn from_requirement(line: &str, pkg: &str) -> Option<Version> {
    let line = line.split('#').next()?.trim();
    let line = line.split(';').next()?.trim();
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(line.len());
    if !is_pkg(&line[..end], pkg) {
        return None;
    }
    let mut rest = &line[end..];
    if rest.starts_with('[') {
        rest = &rest[rest.find(']')? + 1..];
    }
    lower_bound(rest.trim().trim_start_matches('(').trim_end_matches(')'))
}

/// The lowest version a specifier set allows: `==4.2.7`, `>=4.2,<5`, `~=5.0`, `^4.2`, `4.2.*`.
pub fn lower_bound(spec: &str) -> Option<Version> {
    let mut best: Option<Version> = None;
    for part in spec.split(',') {
        let p = part.trim();
        let v = if let Some(r) = p.strip_prefix("===").or_else(|| p.strip_prefix("==")) {
            Version::parse(r.trim_end_matches(".*"))
        } else if let Some(r) = p.strip_prefix(">=").or_else(|| p.strip_prefix("~=")) {
            Version::parse(r)
        } else if let Some(r) = p.strip_prefix('>') {
            Version::parse(r)
        } else if let Some(r) = p.strip_prefix('^').or_else(|| p.strip_prefix('~')) {
            Version::parse(r)
        } else if p.starts_with(|c: char| c.is_ascii_digit()) {
            Version::parse(p.trim_end_matches(".*"))
        } else {
            None
        };
        if let Some(v) = v {
            best = Some(best.map_or(v, |b| b.max(v)));
        }
    }
    best
}

fn from_pyproject(text: &str, pkg: &str) -> Option<Version> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    if let Some(deps) = doc.get("project").and_then(|p| p.get("dependencies")).and_then(|d| d.as_array()) {
        if let Some(v) = deps.iter().filter_map(|d| d.as_str()).find_map(|d| from_requirement(d, pkg)) {
            return Some(v);
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry")).and_then(|p| p.get("dependencies"))?.as_table()?;
    poetry.iter().find_map(|(k, v)| {
        if !is_pkg(k, pkg) {
            return None;
        }
        let spec = v.as_str().or_else(|| v.get("version").and_then(|x| x.as_str()))?;
        lower_bound(spec)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        assert_eq!(from_requirement("django==4.2.7", "django"), Some(Version(4, 2, 7)));
        assert_eq!(from_requirement("Django>=4.1,<5.0  # web", "django"), Some(Version(4, 1, 0)));
        assert_eq!(from_requirement("django[argon2]~=5.0", "django"), Some(Version(5, 0, 0)));
        assert_eq!(from_requirement("django-environ==0.11", "django"), None);
        assert_eq!(from_requirement("django<5", "django"), None);
        assert_eq!(lower_bound("^4.2"), Some(Version(4, 2, 0)));
    }

    #[test]
    fn utf16_and_bom_requirements() {
        let text = "django==4.2.7\r\ncelery>=5.3\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let mut u8bom = vec![0xEF, 0xBB, 0xBF];
        u8bom.extend(text.as_bytes());
        for bytes in [le, be, u8bom] {
            let t = decode_text(&bytes).unwrap();
            assert_eq!(t.lines().find_map(|l| from_requirement(l, "django")), Some(Version(4, 2, 7)));
        }
        assert_eq!(decode_text(&[0xFF, 0xFE, 0x00, 0xD8]), None, "a lone surrogate is not text");
        let dir = tempfile::tempdir().unwrap();
        let mut le = vec![0xFF, 0xFE];
        le.extend("Django~=5.0\n".encode_utf16().flat_map(|u| u.to_le_bytes()));
        std::fs::write(dir.path().join("requirements.txt"), le).unwrap();
        assert_eq!(django_version(dir.path()).map(|(v, _)| v), Some(Version(5, 0, 0)));
    }

    #[test]
    fn locks() {
        let uv = "version = 1\n[[package]]\nname = \"asgiref\"\nversion = \"3.8.1\"\n[[package]]\nname = \"django\"\nversion = \"5.0.4\"\n";
        assert_eq!(from_toml_lock(uv, "django"), Some(Version(5, 0, 4)));
        let pip = r#"{"default": {"django": {"version": "==4.2.11"}}}"#;
        assert_eq!(from_pipfile_lock(pip, "django"), Some(Version(4, 2, 11)));
        let pp = "[project]\ndependencies = [\"Django>=5.1\"]\n";
        assert_eq!(from_pyproject(pp, "django"), Some(Version(5, 1, 0)));
    }
}
