//! The resolved settings one file is analysed with, and severities: a leaf that rules,
//! config, the analysis pipeline and both front ends share.
//!
//! Invariants:
//! - Nothing here reads files or knows the rule registry: `config` resolves files and
//!   selectors into a [`Settings`]; rules only read it. (This is what keeps `config` and
//!   `rules` from importing each other.)
//! - [`Settings::is_enabled`] is asked only about codes of implemented rules.

use crate::dialects::{django, Version};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What a Django cache alias's backend does on a call, as far as the project's settings
/// module says (read by `project::settings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CacheKind {
    /// `DatabaseCache`: queries, so `SynchronousOnlyOperation` in async code.
    Database,
    /// locmem / dummy: no I/O.
    NoIo,
    /// redis / memcached / file: blocking I/O, but no query.
    Blocking,
    /// Another backend, or a value that is not a literal.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "info" | "information" => Some(Severity::Info),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// Rules whose *error* severity comes from Django raising `SynchronousOnlyOperation`. In a
/// file matched by `allow-async-unsafe` (which runs with `DJANGO_ALLOW_ASYNC_UNSAFE` set) the
/// call does not raise, but it still runs blocking database I/O on the event loop: these
/// findings are capped at *warning*. The transaction rules (AG201–AG207) are not capped: with
/// the variable set, `atomic()` in async code silently stops protecting the awaited writes,
/// which is worse than the exception. AG307 (the escape itself) is not reported there.
pub const SOO_RULES: &[&str] = &["AG101", "AG102", "AG103", "AG104", "AG105", "AG106", "AG107", "AG108", "AG304"];

/// The resolved settings one file is analysed with.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `None`: every rule (the default); `Some`: only these codes.
    pub(crate) selected: Option<HashSet<&'static str>>,
    /// Codes turned off (after `selected`).
    pub(crate) ignored: HashSet<&'static str>,
    pub severity: HashMap<&'static str, Severity>,
    pub django_version: Version,
    /// `django_version` is only the lowest version a detected range allows (`Django>=3.1` in a
    /// library's or an application's requirements), not a pin: the project may run any newer
    /// version. Rules may take it for fixes (never emit an API the floor lacks), never to
    /// claim that an API is missing (AG109).
    pub django_version_is_floor: bool,
    /// Celery version, when configured or detected (`None`: unknown, so no Celery-version-gated
    /// API is suggested).
    pub celery_version: Option<Version>,
    /// The sqlx versions (lowest, highest) pinned in the project's `Cargo.lock` (`None`:
    /// unknown, so the sqlx-version-gated rules AG512 and AG513 stay silent).
    pub sqlx_versions: Option<(Version, Version)>,
    /// The file runs with `DJANGO_ALLOW_ASYNC_UNSAFE` set (`allow-async-unsafe` globs).
    pub allow_async_unsafe: bool,
    /// The project's `CACHES`, alias → what its backend does, from its Django settings module;
    /// `None` when no settings module was read (or `CACHES` is not a literal): unknown.
    pub caches: Option<Arc<BTreeMap<String, CacheKind>>>,
    /// The project's `MIDDLEWARE` has Django's `LoginRequiredMiddleware` (after
    /// `AuthenticationMiddleware`): its sync `process_view` resolves `request.user` (in a
    /// thread) before every view not marked `@login_not_required`.
    pub login_required_middleware: bool,
    /// The project's `AUTH_USER_MODEL` (`app_label.Model`), from its settings module; `None`:
    /// unknown (AG104 then takes Django's `auth.User`).
    pub auth_user_model: Option<String>,
    /// The project's `MIDDLEWARE` has, after `AuthenticationMiddleware`, a sync third-party
    /// middleware that reads `request.user` before every view (`config::detect::USER_RESOLVING_MW`):
    /// the lazy user is resolved in a worker thread before an async view runs.
    pub user_resolving_middleware: bool,
    /// `blocking-cache-severity`: AG107 reports cache calls on a blocking, non-database
    /// backend (redis, memcached, file) at this severity; `None` (the default): not reported.
    pub blocking_cache: Option<Severity>,
    /// What loading the session does under the project's `SESSION_ENGINE` (AG106): a
    /// database-backed engine queries ([`CacheKind::Database`]; also the `cache` engine when
    /// every cache alias is a `DatabaseCache`), the `cache` / `file` engines block
    /// ([`CacheKind::Blocking`]), `signed_cookies` does no I/O ([`CacheKind::NoIo`]);
    /// [`CacheKind::Unknown`] when no settings module was read or the value is not a literal.
    pub session_kind: CacheKind,
    /// The `DATABASES` aliases whose `ATOMIC_REQUESTS` is known to be true in the project's
    /// settings module (AG206); empty: none known.
    pub atomic_requests: Arc<Vec<String>>,
    /// Files larger than this many bytes are not analysed (`max-file-size`; 0: no limit).
    pub max_file_size: u64,
}

/// The default `max-file-size`: 10 MB (10 × 2^20 bytes). Analysing holds the whole syntax
/// tree, about 30 times the text: a 24 MB file peaked at about 750 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// Rules that run only when selected (by code, prefix, name or `ALL`), never by default.
pub const OPT_IN: &[&str] = &["AG900"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            selected: None,
            ignored: HashSet::new(),
            severity: HashMap::new(),
            django_version: django::NEWEST,
            django_version_is_floor: false,
            celery_version: None,
            sqlx_versions: None,
            allow_async_unsafe: false,
            caches: None,
            login_required_middleware: false,
            auth_user_model: None,
            user_resolving_middleware: false,
            blocking_cache: None,
            session_kind: CacheKind::Unknown,
            atomic_requests: Arc::new(vec![]),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl Settings {
    /// Whether a file of `bytes` bytes is over `max_file_size` (and so not analysed).
    pub fn too_large(&self, bytes: u64) -> bool {
        self.max_file_size != 0 && bytes > self.max_file_size
    }

    pub fn is_enabled(&self, code: &str) -> bool {
        let selected = match &self.selected {
            None => !OPT_IN.contains(&code),
            Some(s) => s.contains(code),
        };
        selected && !self.ignored.contains(code)
    }

    /// What the backend of cache `alias` does (`None`: any alias); unknown when the settings
    /// module was not read. For an unknown alias: [`CacheKind::Database`] only when every alias
    /// is a database cache.
    pub fn cache_kind(&self, alias: Option<&str>) -> CacheKind {
        let Some(caches) = &self.caches else { return CacheKind::Unknown };
        match alias {
            Some(a) => caches.get(a).copied().unwrap_or(CacheKind::Unknown),
            None => {
                let mut kinds = caches.values();
                match kinds.next() {
                    Some(&k) if kinds.all(|&o| o == k) => k,
                    _ => CacheKind::Unknown,
                }
            }
        }
    }

    /// Turns a rule off for this file (`per-file-ignores`).
    pub fn disable(&mut self, code: &'static str) {
        self.ignored.insert(code);
    }

    /// The severity a finding of `code` is reported with, given the rule's own severity for
    /// it: the configured `severity` wins; then `allow-async-unsafe` caps [`SOO_RULES`] at
    /// warning.
    pub fn effective_severity(&self, code: &str, rule_severity: Severity) -> Severity {
        let sev = self.severity.get(code).copied().unwrap_or(rule_severity);
        if self.allow_async_unsafe && SOO_RULES.contains(&code) {
            sev.min(Severity::Warning)
        } else {
            sev
        }
    }
}
