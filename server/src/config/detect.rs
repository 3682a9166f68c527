//! Detects the project's Django (and Celery) version from its lock and requirements files, for version
//! gates (RULES.md §0.6). Exact pins (lock files) win over ranges; for a range the *lowest*
//! allowed version is taken, so a fix never uses an API the oldest supported Django lacks.
//! A range's lower bound is not a pin, though (a library's `Django>=3.1`, an application's
//! unpinned `Django>=4.0`: newer versions are installed as well): [`Detector::version_pinned`]
//! tells the two apart, so a rule that reports a *missing* API (AG109) stays silent on a floor.
//!
//! Search: from a folder upwards, the first folder holding any of `uv.lock`, `poetry.lock`,
//! `pdm.lock`, `Pipfile.lock`, `requirements*.txt`, `pyproject.toml` is the project root;
//! only that folder is read.
//!
//! Rust: the versions of a crate (sqlx, for AG512 and AG513) come from the nearest
//! `Cargo.lock` above the file (a workspace's lock covers its members), as the lowest and
//! highest version it pins; no lock, or a lock without the crate, is unknown.

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
    /// `Cargo.lock` path and crate → the (lowest, highest) version it pins.
    cargo: Mutex<HashMap<(PathBuf, String), Option<(Version, Version)>>>,
}

/// The (lowest, highest) version of `krate` among a `Cargo.lock`'s `[[package]]` entries.
pub fn cargo_lock_versions(text: &str, krate: &str) -> Option<(Version, Version)> {
    let mut found: Option<(Version, Version)> = None;
    for pkg in text.split("[[package]]").skip(1) {
        let field = |k: &str| {
            pkg.lines().find_map(|l| {
                let (a, b) = l.split_once('=')?;
                (a.trim() == k).then(|| b.trim().trim_matches('"').to_string())
            })
        };
        if field("name").as_deref() != Some(krate) {
            continue;
        }
        let Some(v) = field("version").and_then(|v| Version::parse(&v)) else { continue };
        found = Some(match found {
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
            None => (v, v),
        });
    }
    found
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
    /// `MIDDLEWARE` holds, after `AuthenticationMiddleware`, a sync middleware known to read
    /// `request.user` before it calls the view, for every view ([`USER_RESOLVING_MW`]).
    pub user_resolving_middleware: bool,
    /// What loading a session does under `SESSION_ENGINE` ([`session_kind`]).
    pub session_kind: Option<CacheKind>,
    /// The `DATABASES` aliases with `ATOMIC_REQUESTS` known true.
    pub atomic_requests: Vec<String>,
}

/// Third-party middleware that is sync-only (so Django runs it in a worker thread) and reads
/// `request.user` before calling the view, whatever the view: the lazy user is resolved
/// (its query run off the loop) before an async view reads it.
/// - django-pghistory's `HistoryMiddleware` puts the user's pk into its tracking context
///   (`request.user` read for the tracked methods, by default every method that writes
///   or reads: GET, POST, PUT, PATCH, DELETE).
pub const USER_RESOLVING_MW: &[&str] = &["pghistory.middleware.HistoryMiddleware"];

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

/// What loading a session does under `SESSION_ENGINE`, given the settings: the `cache` engine
/// queries only when every cache alias is a `DatabaseCache` (the alias it uses,
/// `SESSION_CACHE_ALIAS`, is not read), else it blocks; unknown engines and values are unknown.
pub fn session_kind(s: &django_settings::DjangoSettings) -> CacheKind {
    use django_settings::SessionEngine as E;
    match &s.session_engine {
        E::SignedCookies => CacheKind::NoIo,
        E::Db | E::CachedDb | E::Other(_) => CacheKind::Database,
        E::File => CacheKind::Blocking,
        E::Cache => match &s.caches {
            Some(c) if !c.is_empty() && c.values().all(|b| *b == Backend::Database) => CacheKind::Database,
            _ => CacheKind::Blocking,
        },
        E::Unknown => CacheKind::Unknown,
    }
}

/// A detected version, the file it came from, and whether it is an exact pin (a lock file,
/// `==`, a bare Poetry version) rather than a range's lower bound; or nothing.
type Detected = Option<(Version, PathBuf, bool)>;

impl Detector {
    pub fn version(&self, start: &Path, pkg: &'static str) -> Option<(Version, PathBuf)> {
        self.detect(start, pkg).map(|(v, p, _)| (v, p))
    }

    /// The detected version and whether it is an exact pin (`false`: the lowest version a
    /// range allows; the project may run any newer one).
    pub fn version_pinned(&self, start: &Path, pkg: &'static str) -> Option<(Version, bool)> {
        self.detect(start, pkg).map(|(v, _, pinned)| (v, pinned))
    }

    fn detect(&self, start: &Path, pkg: &'static str) -> Detected {
        let mut visited = vec![];
        let mut result = None;
        for dir in start.ancestors() {
            if let Some(hit) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&(dir.to_path_buf(), pkg)) {
                result = hit.clone();
                break;
            }
            visited.push(dir.to_path_buf());
            match scan_dir(dir, pkg, &self.probe.listing(dir)) {
                Scan::Found(v, p, pinned) => {
                    result = Some((v, p, pinned));
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

    /// The versions (lowest, highest) of crate `krate` pinned in the nearest `Cargo.lock`
    /// above `start` (a workspace's lock covers its members); `None` when there is no lock
    /// or it does not list the crate. Memoised per lock file.
    pub fn cargo_versions(&self, start: &Path, krate: &str) -> Option<(Version, Version)> {
        let lock = start.ancestors().map(|d| d.join("Cargo.lock")).find(|p| p.is_file())?;
        let key = (lock.clone(), krate.to_string());
        if let Some(hit) = self.cargo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return *hit;
        }
        let found = std::fs::read_to_string(&lock).ok().and_then(|t| cargo_lock_versions(&t, krate));
        self.cargo.lock().unwrap_or_else(|e| e.into_inner()).insert(key, found);
        found
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
            user_resolving_middleware: read.as_ref().and_then(|s| s.middleware.as_ref()).is_some_and(|m| {
                let auth = m.iter().position(|x| x == AUTH_MW);
                let resolving = m.iter().rposition(|x| USER_RESOLVING_MW.contains(&x.as_str()));
                matches!((auth, resolving), (Some(a), Some(r)) if a < r)
            }),
            session_kind: read.as_ref().map(session_kind),
            atomic_requests: read
                .as_ref()
                .and_then(|s| s.databases.as_ref())
                .map(|d| d.iter().filter(|(_, db)| db.atomic_requests == Some(true)).map(|(a, _)| a.clone()).collect())
                .unwrap_or_default(),
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
        self.cargo.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.probe.clear();
    }
}

enum Scan {
    /// The version, its file, and whether it is an exact pin.
    Found(Version, PathBuf, bool),
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
    let from_file = |name: &str, parse: fn(&str, &str) -> Option<(Version, bool)>, any: &mut bool| {
        let text = read(name)?;
        *any = true;
        parse(&text, pkg).map(|(v, pinned)| Scan::Found(v, dir.join(name), pinned))
    };
    // A lock file names the installed version: a pin.
    let toml_lock: fn(&str, &str) -> Option<(Version, bool)> = |t, p| from_toml_lock(t, p).map(|v| (v, true));
    let pipfile_lock: fn(&str, &str) -> Option<(Version, bool)> = |t, p| from_pipfile_lock(t, p).map(|v| (v, true));
    for lock in LOCKS {
        if let Some(found) = from_file(lock, toml_lock, &mut any) {
            return found;
        }
    }
    if let Some(found) = from_file("Pipfile.lock", pipfile_lock, &mut any) {
        return found;
    }
    if let Some(reqs) = listing.requirements(dir) {
        // The lowest version any line allows; a pin only when that line pins it.
        let mut best: Option<(Version, PathBuf, bool)> = None;
        for p in reqs {
            any = true;
            if let Some(text) = read_text(&p) {
                for line in text.lines() {
                    if let Some((v, pinned)) = requirement(line, pkg) {
                        if best.as_ref().is_none_or(|(b, _, _)| v < *b) {
                            best = Some((v, p.clone(), pinned));
                        }
                    }
                }
            }
        }
        if let Some((v, p, pinned)) = best {
            return Scan::Found(v, p, pinned);
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
    requirement(line, pkg).map(|(v, _)| v)
}

/// [`from_requirement`], and whether the line pins one version (`==4.2.7`, `===4.2.7`; not
/// `==4.2.*`).
fn requirement(line: &str, pkg: &str) -> Option<(Version, bool)> {
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
    let spec = rest.trim().trim_start_matches('(').trim_end_matches(')');
    Some((lower_bound(spec)?, is_exact(spec)))
}

/// The specifier set names one version: a part `==X` or `===X` without a wildcard.
fn is_exact(spec: &str) -> bool {
    spec.split(',').any(|p| {
        let p = p.trim();
        p.strip_prefix("===").or_else(|| p.strip_prefix("==")).is_some_and(|r| !r.contains('*'))
    })
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

fn from_pyproject(text: &str, pkg: &str) -> Option<(Version, bool)> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    if let Some(deps) = doc.get("project").and_then(|p| p.get("dependencies")).and_then(|d| d.as_array()) {
        if let Some(v) = deps.iter().filter_map(|d| d.as_str()).find_map(|d| requirement(d, pkg)) {
            return Some(v);
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry")).and_then(|p| p.get("dependencies"))?.as_table()?;
    poetry.iter().find_map(|(k, v)| {
        if !is_pkg(k, pkg) {
            return None;
        }
        let spec = v.as_str().or_else(|| v.get("version").and_then(|x| x.as_str()))?;
        // Poetry reads a bare version (`"4.2.1"`) as `==4.2.1`.
        let bare = spec.trim().starts_with(|c: char| c.is_ascii_digit()) && !spec.contains(['*', ',', '<', '>']);
        Some((lower_bound(spec)?, bare || is_exact(spec)))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cargo_lock_gives_the_lowest_and_highest_pin_of_a_crate() {
        let lock = "version = 4\n\n[[package]]\nname = \"sqlx\"\nversion = \"0.8.6\"\n\n[[package]]\nname = \"sqlx-core\"\nversion = \"0.5.0\"\n\n[[package]]\nname = \"sqlx\"\nversion = \"0.7.4\"\n";
        assert_eq!(super::cargo_lock_versions(lock, "sqlx"), Some((Version(0, 7, 4), Version(0, 8, 6))));
        assert_eq!(super::cargo_lock_versions(lock, "diesel"), None);
        let dir = std::env::temp_dir().join(format!("ag-cargo-lock-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("crates/api/src")).unwrap();
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
        let d = Detector::default();
        assert_eq!(d.cargo_versions(&dir.join("crates/api/src"), "sqlx"), Some((Version(0, 7, 4), Version(0, 8, 6))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
        assert_eq!(from_pyproject(pp, "django").map(|(v, _)| v), Some(Version(5, 1, 0)));
    }

    #[test]
    fn pins_and_floors() {
        assert_eq!(requirement("django==4.2.7", "django"), Some((Version(4, 2, 7), true)));
        assert_eq!(requirement("Django>=3.1", "django"), Some((Version(3, 1, 0), false)));
        assert_eq!(requirement("django==4.2.*", "django"), Some((Version(4, 2, 0), false)));
        assert_eq!(requirement("django~=4.2,<5", "django"), Some((Version(4, 2, 0), false)));
        assert_eq!(from_pyproject("[project]\ndependencies = [\"Django >=3.1\"]\n", "django"), Some((Version(3, 1, 0), false)));
        let poetry = "[tool.poetry.dependencies]\ndjango = \"4.1.2\"\n";
        assert_eq!(from_pyproject(poetry, "django"), Some((Version(4, 1, 2), true)));
        let poetry = "[tool.poetry.dependencies]\ndjango = \"^4.1\"\n";
        assert_eq!(from_pyproject(poetry, "django"), Some((Version(4, 1, 0), false)));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "Django>=4.0\n").unwrap();
        assert_eq!(Detector::default().version_pinned(dir.path(), "django"), Some((Version(4, 0, 0), false)));
        std::fs::write(dir.path().join("uv.lock"), "[[package]]\nname = \"django\"\nversion = \"4.0.1\"\n").unwrap();
        assert_eq!(Detector::default().version_pinned(dir.path(), "django"), Some((Version(4, 0, 1), true)));
    }
}
