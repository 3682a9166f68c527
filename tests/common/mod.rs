//! Shared test helpers: fixture analysis and a real-binary LSP client.
#![allow(dead_code)]

pub mod cli;
pub mod invariants;
pub mod lsp;
pub mod model_invariants;

use awaitguard::config::{Overrides, Settings};
use awaitguard::analysis::analyze;
use awaitguard::rules::Finding;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use std::path::{Path, PathBuf};

pub fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Settings for a fixture: only the rule named by the file's stem (`AG101_x.py` → AG101),
/// plus `# awaitguard-test: key=value` header lines (`django-version=4.0`).
pub fn fixture_settings(path: &Path, text: &str) -> Settings {
    let mut settings = Settings::resolve(None, &fixture_overrides(path, text), None).expect("fixture settings");
    settings.celery_version = header(text)
        .into_iter()
        .find(|(k, _)| k == "celery-version")
        .and_then(|(_, v)| awaitguard::dialects::Version::parse(&v));
    // `sqlx-version=0.8.6`: the sqlx a Cargo.lock would pin.
    settings.sqlx_versions = header(text)
        .into_iter()
        .find(|(k, _)| k == "sqlx-version")
        .and_then(|(_, v)| awaitguard::dialects::Version::parse(&v))
        .map(|v| (v, v));
    // `blocking-cache-severity=warning`: the config's opt-in for redis / memcached / file caches.
    settings.blocking_cache = header(text)
        .into_iter()
        .find(|(k, _)| k == "blocking-cache-severity")
        .map(|(_, v)| awaitguard::settings::Severity::parse(&v).expect("a severity"));
    // `login-required-middleware=true`: MIDDLEWARE holds LoginRequiredMiddleware.
    settings.login_required_middleware = header(text).iter().any(|(k, v)| k == "login-required-middleware" && v == "true");
    // `django-version-floor=true`: the version is a detected range's lower bound, not a pin.
    settings.django_version_is_floor = header(text).iter().any(|(k, v)| k == "django-version-floor" && v == "true");
    // `user-resolving-middleware=true`: MIDDLEWARE holds a sync middleware that reads the user.
    settings.user_resolving_middleware = header(text).iter().any(|(k, v)| k == "user-resolving-middleware" && v == "true");
    // `session-engine=db`: what loading a session does under the SESSION_ENGINE a settings
    // module would give (`db`, `cached_db`: queries; `cache`, `file`: blocks; `cache_on_db`: the
    // cache engine on DatabaseCache; `signed_cookies`: no I/O; `unknown`).
    if let Some((_, v)) = header(text).into_iter().find(|(k, _)| k == "session-engine") {
        use awaitguard::settings::CacheKind;
        settings.session_kind = match v.as_str() {
            "db" | "cached_db" | "cache_on_db" => CacheKind::Database,
            "cache" | "file" => CacheKind::Blocking,
            "signed_cookies" => CacheKind::NoIo,
            "unknown" => CacheKind::Unknown,
            _ => panic!("bad session-engine `{v}`"),
        };
    }
    // `atomic-requests=default,other`: the DATABASES aliases with ATOMIC_REQUESTS true.
    if let Some((_, v)) = header(text).into_iter().find(|(k, _)| k == "atomic-requests") {
        settings.atomic_requests = std::sync::Arc::new(v.split(',').map(str::to_string).collect());
    }
    // `caches=default:database,sessions:redis`: the CACHES a settings module would give.
    if let Some((_, v)) = header(text).into_iter().find(|(k, _)| k == "caches") {
        use awaitguard::settings::CacheKind;
        let map = v
            .split(',')
            .map(|kv| {
                let (alias, kind) = kv.split_once(':').unwrap_or_else(|| panic!("bad caches header `{kv}`"));
                let kind = match kind {
                    "database" => CacheKind::Database,
                    "locmem" | "dummy" => CacheKind::NoIo,
                    "redis" | "memcached" | "file" => CacheKind::Blocking,
                    "unknown" => CacheKind::Unknown,
                    _ => panic!("bad cache kind `{kind}`"),
                };
                (alias.to_string(), kind)
            })
            .collect();
        settings.caches = Some(std::sync::Arc::new(map));
    }
    settings
}

/// The `key=value` pairs of a fixture's `awaitguard-test:` header lines.
fn header(text: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for line in text.lines().take(5) {
        // At the start of the line, or in a trailing comment (`"""doc"""  # awaitguard-test: …`).
        let l = match line.find("# awaitguard-test:") {
            Some(i) => &line[i + 2..],
            None => line.trim_start_matches(['#', '/', ' ']),
        };
        if let Some(rest) = l.strip_prefix("awaitguard-test:") {
            for kv in rest.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("bad fixture header `{kv}`"));
                out.push((k.to_string(), v.to_string()));
            }
        }
    }
    out
}

/// The overrides behind [`fixture_settings`].
pub fn fixture_overrides(path: &Path, text: &str) -> Overrides {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let code = stem.split(['_', '.']).next().unwrap().to_string();
    let mut over = Overrides { select: Some(vec![code]), ..Default::default() };
    for (k, v) in header(text) {
        match k.as_str() {
            "django-version" => over.django_version = Some(v),
            "select" => over.select = Some(v.split(',').map(str::to_string).collect()),
            "celery-version"
            | "caches"
            | "login-required-middleware"
            | "user-resolving-middleware"
            | "django-version-floor"
            | "blocking-cache-severity"
            | "sqlx-version"
            | "session-engine"
            | "atomic-requests" => {}
            _ => panic!("unknown fixture header `{k}`"),
        }
    }
    over
}

pub fn lang_of(path: &Path) -> Lang {
    Lang::from_path(path).expect("fixture language")
}

pub fn analyze_text(text: &str, lang: Lang, settings: &Settings) -> Vec<Finding> {
    let tree = syntax::parse(lang, text, None);
    let index = LineIndex::new(text);
    let a = analyze(text, lang, &tree, &index, settings);
    assert!(a.errors.is_empty(), "internal errors: {:?}", a.errors);
    a.findings
}

/// Copies the folder `from` (recursively) to `to`: fixture projects into temporary folders.
#[allow(dead_code)] // not every test binary that includes this module copies projects
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
