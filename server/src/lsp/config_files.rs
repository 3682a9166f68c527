//! Open configuration files of no checked language — `.env*`, Dockerfile, docker-compose,
//! pytest config (`pytest.ini`, `pyproject.toml`, `setup.cfg`, `tox.ini`) — which only AG307
//! reads (`rules::ag307_async_unsafe_escape::ConfigKind`).
//!
//! Invariants:
//! - **By file name.** A document is one of these when its URI's file name is a
//!   `ConfigKind` and it is not a Python or Rust document; the `languageId` editors send for
//!   them (`dotenv`, `dockerfile`, `yaml`, `ini`, `toml`, `plaintext` …) is not looked at.
//!   Every other document of no checked language is ignored, and never gets diagnostics.
//! - **Same findings as `check`.** The findings are those of `check` for the same text and
//!   config: none when the editor turned the server off, when the file is excluded or over
//!   `max-file-size`, or when AG307 is not enabled for it (`select`/`ignore`,
//!   `per-file-ignores`, `allow-async-unsafe`); severities as configured; suppression
//!   comments as the rule reads them.
//! - **Cheap, so in the handler.** The scan is one pass over the lines: it runs in the
//!   handler after the edit is applied (edits in wire order, as for source documents), and a
//!   result is published only if the document's version and the settings generation are
//!   still the ones scanned, under `publish_lock`. A panic costs only that scan (logged).

use super::{convert, diagnostics, State};
use crate::rules::ag307_async_unsafe_escape::{config_findings, ConfigKind};
use crate::text::{Change, Encoding, LineIndex};
use std::sync::Arc;
use tower_lsp_server::ls_types::*;

/// An open configuration file: its text, line index and version.
#[derive(Clone)]
pub(crate) struct ConfigDoc {
    pub text: String,
    pub index: LineIndex,
    pub version: i32,
}

/// Whether the document at `uri` is a configuration file AG307 reads (by its file name).
pub(crate) fn is_config(uri: &Uri) -> bool {
    ConfigKind::of(std::path::Path::new(uri.path().as_str())).is_some()
}

/// `didOpen` of a configuration file.
pub(crate) async fn did_open(s: &Arc<State>, doc: TextDocumentItem) {
    let index = LineIndex::new(&doc.text);
    s.configs.insert(doc.uri.clone(), ConfigDoc { text: doc.text, index, version: doc.version });
    publish(s, doc.uri).await;
}

/// `didChange` of an open configuration file: the changes are applied before the first
/// `.await`.
pub(crate) async fn did_change(s: &Arc<State>, uri: Uri, version: i32, changes: Vec<Change>) {
    let enc = s.facts().encoding;
    {
        let Some(mut d) = s.configs.get_mut(&uri) else { return };
        apply(&mut d, &changes, enc);
        d.version = version;
    }
    publish(s, uri).await;
}

/// Applies `changes` in order; out-of-range positions are clamped, a reversed range is
/// normalised (as for source documents).
fn apply(d: &mut ConfigDoc, changes: &[Change], enc: Encoding) {
    for change in changes {
        match change.range {
            None => d.text = change.text.clone(),
            Some((a, b)) => {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let start = d.index.offset(&d.text, a, enc);
                let end = d.index.offset(&d.text, b, enc).max(start);
                d.text.replace_range(start..end, &change.text);
            }
        }
        d.index = LineIndex::new(&d.text);
    }
}

/// The diagnostics of the open configuration file `uri` now, with the version and settings
/// generation they are for; `None`: it is not open.
fn current(s: &Arc<State>, uri: &Uri) -> Option<(i32, u64, Vec<Diagnostic>)> {
    let generation = s.generation();
    let doc = s.configs.get(uri)?.clone();
    let findings = match uri.to_file_path() {
        Some(path) if s.editor.read().unwrap_or_else(|e| e.into_inner()).enable => {
            let path = path.into_owned();
            let excluded = s.settings.read().unwrap_or_else(|e| e.into_inner()).is_excluded(&path);
            let settings = diagnostics::settings_for(s, uri);
            if excluded || settings.too_large(doc.text.len() as u64) || !settings.is_enabled(crate::config::ESCAPE_RULE) {
                vec![]
            } else {
                let run = || config_findings(&path, &doc.text, &settings);
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                    Ok(f) => f,
                    Err(_) => {
                        s.log(MessageType::ERROR, format!("awaitguard: the scan of {} panicked", uri.as_str()));
                        vec![]
                    }
                }
            }
        }
        // Not a file (an unsaved buffer): no folder, so no config to say the rule is on there.
        _ => vec![],
    };
    let enc = s.facts().encoding;
    let places = s.places(uri);
    let diags = findings.iter().map(|f| convert::diagnostic_in(&doc.text, &doc.index, doc.version, f, enc, &places)).collect();
    Some((doc.version, generation, diags))
}

/// Push mode: scan and publish, if the version and settings are still the ones scanned.
pub(crate) async fn publish(s: &Arc<State>, uri: Uri) {
    if s.facts().pull {
        return;
    }
    let Some((version, generation, diags)) = current(s, &uri) else { return };
    let _order = s.publish_lock.lock().await;
    let still = s.configs.get(&uri).is_some_and(|d| d.version == version) && s.generation() == generation;
    if still {
        s.client.publish_diagnostics(uri, diags, Some(version)).await;
    }
}

/// Publishes every open configuration file again (push; a pull client is asked to pull
/// again by the caller).
pub(crate) fn republish_all(s: &Arc<State>) {
    if s.facts().pull {
        return;
    }
    for uri in s.configs.iter().map(|e| e.key().clone()).collect::<Vec<_>>() {
        let s = s.clone();
        tokio::spawn(async move { publish(&s, uri).await });
    }
}

/// Pull mode: the report of an open configuration file (`None`: it is not open).
pub(crate) fn pull(s: &Arc<State>, uri: &Uri, previous: Option<&str>) -> Option<DocumentDiagnosticReport> {
    let (version, generation, items) = current(s, uri)?;
    let result_id = format!("{generation}:{version}");
    if previous == Some(result_id.as_str()) {
        return Some(DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
            related_documents: None,
            unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id },
        }));
    }
    Some(DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
        related_documents: None,
        full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id: Some(result_id), items },
    }))
}
