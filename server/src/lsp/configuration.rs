//! Editor settings: from `initializationOptions`, `workspace/configuration` (section
//! `awaitguard`) and `workspace/didChangeConfiguration`; config-file changes from
//! `workspace/didChangeWatchedFiles`. Any change re-analyses open documents; watched-file
//! events invalidate at once and re-analyse once per batch (a short debounce), so a storm of
//! them costs a few analyses of each open document, not one per event.
//!
//! Accepted shapes: `{settings: {...}}`, `{awaitguard: {...}}` or the settings object itself,
//! with keys `enable`, `select`, `ignore`, `severity`, `djangoVersion`, `maxFileSize` (bytes, or
//! a string such as `"10MB"`; 0: no limit), `ruleDocsUrl` (the base URL of the rule pages that
//! diagnostics link to; `"off"`: no links; `""`: the default). A value of the wrong type, an unknown rule selector
//! or a bad size is reported (`window/showMessage`) and the defaults are used; it never stops
//! the server.

use super::{diagnostics, EditorSettings, State};
use crate::config::{Overrides, Settings};
use crate::workspace::SettingsCache;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tower_lsp_server::ls_types::*;

/// The settings object inside what a client sent, if there is one.
fn section(v: &Value) -> Option<&Value> {
    let obj = v.as_object()?;
    if let Some(inner) = obj.get("settings").filter(|x| x.is_object()) {
        return section(inner).or(Some(inner));
    }
    if let Some(inner) = obj.get("awaitguard").filter(|x| x.is_object()) {
        return Some(inner);
    }
    const KEYS: &[&str] = &["enable", "select", "ignore", "severity", "djangoVersion", "django-version", "fixAll", "path", "trace", "maxFileSize", "max-file-size", "ruleDocsUrl"];
    obj.keys().any(|k| KEYS.contains(&k.as_str())).then_some(v)
}

fn string_list(v: &Value, key: &str, problems: &mut Vec<String>) -> Option<Vec<String>> {
    match v.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()),
        Value::Array(a) if a.iter().all(Value::is_string) => {
            Some(a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        }
        other => {
            problems.push(format!("`{key}` must be a list of rule codes, got {other}"));
            None
        }
    }
}

/// Parses an editor settings value; returns the settings and the problems found.
pub fn parse(v: &Value) -> (EditorSettings, Vec<String>) {
    let mut problems = vec![];
    let mut out = EditorSettings::default();
    let Some(v) = section(v) else { return (out, problems) };
    match v.get("enable") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => out.enable = *b,
        Some(other) => problems.push(format!("`enable` must be true or false, got {other}")),
    }
    let select = string_list(v, "select", &mut problems).filter(|l| !l.is_empty());
    let ignore = string_list(v, "ignore", &mut problems);
    let severity = match v.get("severity") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let mut map = BTreeMap::new();
            for (k, x) in m {
                match x.as_str() {
                    Some(s) => {
                        map.insert(k.clone(), s.to_string());
                    }
                    None => problems.push(format!("`severity.{k}` must be a string, got {x}")),
                }
            }
            Some(map)
        }
        Some(other) => {
            problems.push(format!("`severity` must be an object, got {other}"));
            None
        }
    };
    let django_version = match v.get("djangoVersion").or_else(|| v.get("django-version")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!("`djangoVersion` must be a string, got {other}"));
            None
        }
    };
    let max_file_size = match v.get("maxFileSize").or_else(|| v.get("max-file-size")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().map(|n| n.to_string()),
        Some(other) => {
            problems.push(format!("`maxFileSize` must be a number of bytes or a string such as \"10MB\", got {other}"));
            None
        }
    };
    out.rule_docs_url = match v.get("ruleDocsUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.trim() == "off" => Some(String::new()),
        Some(Value::String(s)) if format!("{}/AG101.md", s.trim().trim_end_matches('/')).parse::<Uri>().is_ok() => Some(s.trim().to_string()),
        Some(other) => {
            problems.push(format!("`ruleDocsUrl` must be a URL, \"off\" (no links) or \"\" (the default), got {other}"));
            None
        }
    };
    out.overrides = Overrides { select, ignore, severity, django_version, max_file_size };
    // Validate selectors and values now, so a bad one is reported and dropped, not fatal.
    if let Err(e) = Settings::resolve(None, &out.overrides, None) {
        problems.push(e.message);
        out.overrides = Overrides::default();
    }
    (out, problems)
}

/// Where a settings value came from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    InitializationOptions,
    /// A `didChangeConfiguration` payload.
    Push,
    /// The answer to a `workspace/configuration` request sent when `pushed_settings` was this.
    Fetch(u64),
}

/// Applies a settings value. Returns true when something changed. A fetched value is dropped
/// when a push was applied after its request was sent; the check and the apply happen under
/// the same lock, so a push on another thread cannot slip in between.
pub fn apply_settings_value(s: &Arc<State>, v: &Value, source: Source) -> bool {
    if section(v).is_none() {
        return false;
    }
    let (new, problems) = parse(v);
    let mut cur = s.editor.write().unwrap_or_else(|e| e.into_inner());
    match source {
        Source::Fetch(seen) if s.pushed_settings.load(Ordering::SeqCst) != seen => return false,
        Source::Push => {
            s.pushed_settings.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    }
    if !problems.is_empty() {
        let msg = format!("awaitguard: invalid settings: {}", problems.join("; "));
        s.show(MessageType::ERROR, msg.clone());
        s.log(MessageType::ERROR, msg);
    }
    if cur.enable == new.enable && cur.overrides == new.overrides && cur.rule_docs_url == new.rule_docs_url {
        return false;
    }
    *s.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(SettingsCache::new(new.overrides.clone(), None, false));
    *cur = new;
    s.generation.fetch_add(1, Ordering::SeqCst);
    true
}

/// Asks the client for the `awaitguard` section (spawned: never awaited on the hot path).
/// The answer is dropped if a `didChangeConfiguration` payload was applied meanwhile: it is
/// newer than what the client answered.
pub fn spawn_fetch(s: &Arc<State>) {
    let s = s.clone();
    let seen = s.pushed_settings.load(Ordering::SeqCst);
    tokio::spawn(async move {
        let item = ConfigurationItem { scope_uri: None, section: Some("awaitguard".into()) };
        if let Ok(values) = s.client.configuration(vec![item]).await {
            if let Some(v) = values.into_iter().next().filter(Value::is_object) {
                let wrapped = serde_json::json!({ "awaitguard": v });
                if apply_settings_value(&s, &wrapped, Source::Fetch(seen)) {
                    diagnostics::refresh_all(&s);
                }
            }
        }
    });
}

pub async fn did_change_configuration(s: &Arc<State>, p: DidChangeConfigurationParams) {
    if section(&p.settings).is_some() {
        if apply_settings_value(s, &p.settings, Source::Push) {
            diagnostics::refresh_all(s);
        }
    } else if s.facts().configuration {
        spawn_fetch(s);
    }
}

/// How long the batch worker waits after the first event of a batch before acting on it:
/// a storm of events (a checkout, a build writing files) becomes a few batches, each
/// re-analysing the affected open documents once.
const WATCHED_DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(30);

/// `didChangeWatchedFiles` events recorded by the handler and not yet acted on.
#[derive(Default)]
pub struct WatchedQueue {
    /// Open documents invalidated by a change and not yet published again (deduplicated).
    uris: Vec<Uri>,
    /// Settings were invalidated: every open document is published again.
    all: bool,
    /// A batch worker is scheduled or running: the handler only records.
    scheduled: bool,
}

/// Acts on the cheap part of the changes at once, in wire order: the project model forgets
/// what it read at or below each path, settings are dropped when a config file changed, and
/// the analyses of the affected open documents are dropped — so a request or an edit handled
/// after this event never sees the old files. The costly part, analysing and publishing
/// those documents again, is recorded and done once per batch by [`watched_batch`].
pub async fn did_change_watched_files(s: &Arc<State>, p: DidChangeWatchedFilesParams) {
    let mut uris: Vec<Uri> = vec![];
    // An empty notification re-reads settings, as it always did.
    let mut config = p.changes.is_empty();
    for change in &p.changes {
        let Some(path) = change.uri.to_file_path().map(|p| crate::project::normalize(&p)) else { continue };
        // A source file, a folder (deleted, renamed, created: it can no longer be told from a
        // file) or another file: the project model forgets what it read at or below it.
        s.project.changed_on_disk(&path);
        let is_source = crate::syntax::Lang::from_path(&path).is_some();
        if is_source {
            // The open documents that read it are analysed again.
            uris.extend(diagnostics::dependents(s, &path, &change.uri));
        }
        // Config files, and the Python files the Django settings are read from.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let settings_py = matches!(name, "settings.py" | "manage.py" | "asgi.py" | "wsgi.py")
            || path.parent().is_some_and(|d| d.ends_with("settings"));
        if !is_source || settings_py {
            config = true;
        }
    }
    if config {
        s.settings.read().unwrap_or_else(|e| e.into_inner()).clear();
        s.shown_errors.lock().unwrap_or_else(|e| e.into_inner()).clear();
        s.generation.fetch_add(1, Ordering::SeqCst);
        uris = s.docs.iter().map(|e| e.key().clone()).collect();
    }
    // Open configuration files (`config_files`) have no analysis to drop; a settings change
    // publishes them again with the rest.
    if uris.is_empty() && !(config && !s.configs.is_empty()) {
        return;
    }
    diagnostics::invalidate(s, &uris);
    let spawn = {
        let mut q = s.watched.lock().unwrap_or_else(|e| e.into_inner());
        if config {
            q.all = true;
        } else {
            for uri in uris {
                if !q.uris.contains(&uri) {
                    q.uris.push(uri);
                }
            }
        }
        !std::mem::replace(&mut q.scheduled, true)
    };
    if spawn {
        let s = s.clone();
        tokio::spawn(async move { watched_batch(&s).await });
    }
}

/// The batch worker: after [`WATCHED_DEBOUNCE`], takes everything queued and publishes those
/// documents again, each once; goes round again while events keep arriving. Invariant: every
/// recorded document is published by a round that starts after it was recorded (the handler
/// spawns a worker whenever none is scheduled, and the worker clears `scheduled` only under
/// the lock, with the queue empty), so after a storm every open document is published from
/// an analysis of the final files.
async fn watched_batch(s: &Arc<State>) {
    loop {
        tokio::time::sleep(WATCHED_DEBOUNCE).await;
        let uris = {
            let mut q = s.watched.lock().unwrap_or_else(|e| e.into_inner());
            if q.uris.is_empty() && !q.all {
                q.scheduled = false;
                return;
            }
            let uris = std::mem::take(&mut q.uris);
            if std::mem::replace(&mut q.all, false) {
                // Every document open now (some may have opened since the event).
                super::config_files::republish_all(s);
                s.docs.iter().map(|e| e.key().clone()).collect()
            } else {
                uris
            }
        };
        diagnostics::republish(s, uris);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_and_bad_values() {
        let (e, p) = parse(&json!({"settings": {"ignore": ["AG101"], "djangoVersion": "4.2"}}));
        assert!(p.is_empty());
        assert_eq!(e.overrides.ignore, Some(vec!["AG101".into()]));
        let (e, p) = parse(&json!({"awaitguard": {"enable": false}}));
        assert!(p.is_empty() && !e.enable);
        let (_, p) = parse(&json!({"enable": "yes", "select": 3}));
        assert_eq!(p.len(), 2);
        let (e, p) = parse(&json!({"select": ["NOPE"]}));
        assert_eq!(p.len(), 1);
        assert_eq!(e.overrides, Overrides::default());
        // A code-shaped typo is a bad setting too: shown, and the defaults are used.
        let (e, p) = parse(&json!({"select": ["AG999"], "ignore": ["AG202"]}));
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("AG999") && p[0].contains("did you mean"), "{p:?}");
        assert_eq!(e.overrides, Overrides::default());
        let (e, p) = parse(&json!({"ruleDocsUrl": "https://example.org/rules/"}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(e.rule_docs_url.as_deref(), Some("https://example.org/rules/"));
        let (e, p) = parse(&json!({"ruleDocsUrl": "off"}));
        assert!(p.is_empty() && e.rule_docs_url.as_deref() == Some(""));
        let (e, p) = parse(&json!({"ruleDocsUrl": ""}));
        assert!(p.is_empty() && e.rule_docs_url.is_none());
        let (e, p) = parse(&json!({"ruleDocsUrl": 3}));
        assert_eq!(p.len(), 1);
        assert!(e.rule_docs_url.is_none());
        let (e, p) = parse(&json!({"maxFileSize": "2MB"}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(e.overrides.max_file_size.as_deref(), Some("2MB"));
        let (e, p) = parse(&json!({"maxFileSize": 1000}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(e.overrides.max_file_size.as_deref(), Some("1000"));
        let (e, p) = parse(&json!({"maxFileSize": "huge"}));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(e.overrides, Overrides::default());
        let (_, p) = parse(&json!({"maxFileSize": -3}));
        assert_eq!(p.len(), 1, "{p:?}");
    }
}
