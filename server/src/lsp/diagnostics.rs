//! Analysis of open documents, cached per (settings generation, version); push
//! (`publishDiagnostics`) and pull (`textDocument/diagnostic`).
//!
//! Invariant: a document's `deps` cover every file its current findings rest on — a
//! focused analysis adds to them (the findings it reused rest on the previous ones), a full
//! analysis replaces them.
//!
//! Each analysis starts from the snapshot the previous one left (same settings generation)
//! and re-analyses only the edited function when that provably gives the findings of a full
//! analysis (`analysis::incremental`); the result is the same either way. That focused attempt
//! (about a millisecond on a 120 KB file) runs in the handler, on the server's own thread,
//! for texts up to [`IN_PLACE_MAX_BYTES`]; a full analysis runs on the blocking pool, so a long
//! one never holds up the handling of other messages. A panic is caught on either path and
//! costs only that analysis (logged; no findings until the next one).
//!
//! A document larger than `max-file-size` (config key, or the editor's `maxFileSize`; default
//! 10 MB) is not analysed: it gets no diagnostics, and one `window/showMessage` (type Info)
//! says so, once per document and size limit (it is still parsed, for its edits).

use super::{convert, State};
use crate::config::Settings;
use crate::analysis::incremental::{analyze_incremental, full, try_focused};
use crate::analysis::Analysis;
use crate::semantic::outside::Outside;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// Texts up to this size get their focused analysis on the handler's thread (about a
/// millisecond for 120 KB); larger ones are analysed on the blocking pool only, so that no
/// handler holds the server's loop for long.
const IN_PLACE_MAX_BYTES: usize = 512 * 1024;

/// The message of a caught panic.
fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    let msg = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
    format!("panicked: {}", msg.unwrap_or_else(|| "unknown panic".into()))
}

/// Settings for a document; a config error is shown once and the defaults (with the editor's
/// overrides) are used.
pub fn settings_for(s: &Arc<State>, uri: &Uri) -> Arc<Settings> {
    let cache = s.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
    let path = match uri.to_file_path() {
        Some(p) => p.into_owned(),
        None => s.facts().roots.first().cloned().unwrap_or_else(|| std::env::current_dir().unwrap_or_default()).join("untitled"),
    };
    match cache.for_file(&path) {
        Ok(settings) => settings,
        Err(e) => {
            let msg = format!("awaitguard: {e} (using default settings)");
            if s.shown_errors.lock().unwrap_or_else(|e| e.into_inner()).insert(msg.clone()) {
                s.show(MessageType::ERROR, msg.clone());
                s.log(MessageType::ERROR, msg);
            }
            Arc::new(Settings::resolve(None, cache.overrides(), None).unwrap_or_default())
        }
    }
}

/// The analysis of the document's current version (cached). `None`: the document is not open.
/// A file matched by the config's `exclude` globs gets no findings, as in `check`.
pub async fn current(s: &Arc<State>, uri: &Uri) -> Option<(i32, Arc<Analysis>)> {
    let generation = s.generation();
    let (text, lang, tree, index, version, prev, epoch) = {
        let st = s.docs.get(uri)?;
        if let Some((g, v, a)) = &st.analysis {
            if *g == generation && *v == st.doc.version {
                return Some((*v, a.clone()));
            }
        }
        let d = &st.doc;
        let prev = st.snapshot.as_ref().filter(|(g, _)| *g == generation).map(|(_, p)| p.clone());
        (d.text.clone(), d.lang, d.tree.clone(), d.index.clone(), d.version, prev, st.deps_epoch)
    };
    let view = uri.to_file_path().map(|p| s.project.view(&p));
    let excluded = uri.to_file_path().is_some_and(|p| s.settings.read().unwrap_or_else(|e| e.into_inner()).is_excluded(&p))
        // A Rust file no Cargo target compiles gets no findings, as in `check`.
        || (lang == crate::syntax::Lang::Rust && view.as_ref().is_some_and(|v| v.rs_unreached(v.file()).is_some()));
    let analysis = if s.editor.read().unwrap_or_else(|e| e.into_inner()).enable && !excluded {
        let settings = settings_for(s, uri);
        if settings.too_large(text.len() as u64) {
            let msg = format!(
                "awaitguard: {} is {}, over the max-file-size limit of {}: not checked (raise `max-file-size` in the config or the `maxFileSize` setting to check it)",
                uri.to_file_path().map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string()),
                crate::config::show_size(text.len() as u64),
                crate::config::show_size(settings.max_file_size)
            );
            // Once per document and limit (not on every keystroke).
            let key = format!("max-file-size {} {}", uri.as_str(), settings.max_file_size);
            if s.shown_errors.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
                s.show(MessageType::INFO, msg.clone());
                s.log(MessageType::INFO, msg);
            }
            let analysis = Arc::new(Analysis::default());
            if let Some(mut st) = s.docs.get_mut(uri) {
                if st.doc.version == version {
                    st.analysis = Some((generation, version, analysis.clone()));
                    st.snapshot = None;
                }
            }
            return Some((version, analysis));
        }
        // The focused attempt is short: it runs here, saving two thread hops per keystroke. A
        // full analysis (its fallback, or any analysis of a large text) runs on the blocking
        // pool. Panics are caught either way.
        let attempt = if text.len() <= IN_PLACE_MAX_BYTES {
            let outside = view.as_ref().map(|v| v as &dyn Outside);
            let run = || try_focused(prev.as_deref(), text, lang, &tree, &index, &settings, outside);
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(Ok(done)) => Ok(done),
                Ok(Err((text, why))) => Err(Ok((text, Some(why)))),
                Err(p) => Err(Err(panic_text(&p))),
            }
        } else {
            Err(Ok((text, None)))
        };
        let res = match attempt {
            Ok(done) => Ok((done, view)),
            Err(Ok((text, why))) => tokio::task::spawn_blocking(move || {
                let outside = view.as_ref().map(|v| v as &dyn Outside);
                let done = match why {
                    Some(why) => full(text, lang, &tree, &index, &settings, outside, why),
                    None => analyze_incremental(prev.as_deref(), text, lang, &tree, &index, &settings, outside),
                };
                (done, view)
            })
            .await
            .map_err(|e| e.to_string()),
            Err(Err(panicked)) => Err(panicked),
        };
        match res {
            Ok(((a, snapshot, path), view)) => {
                if let Some(mut st) = s.docs.get_mut(uri) {
                    if st.deps_epoch == epoch {
                        st.snapshot = Some((generation, Arc::new(snapshot)));
                    }
                    if let Some(v) = view {
                        // A focused (or unchanged) analysis keeps the previous findings of every
                        // other function, and so the files they rest on: the previous
                        // dependencies stay. Only a full analysis replaces them.
                        let mut deps = v.dependencies();
                        if !matches!(path, crate::analysis::incremental::Path::Full(_)) {
                            deps.extend(st.deps.iter().cloned());
                            deps.sort();
                            deps.dedup();
                        }
                        st.deps = deps;
                    }
                }
                a
            }
            Err(e) => {
                s.log(MessageType::ERROR, format!("awaitguard: analysis of {} failed: {e}", uri.as_str()));
                Analysis::default()
            }
        }
    } else {
        Analysis::default()
    };
    for e in &analysis.errors {
        s.log(MessageType::ERROR, format!("awaitguard: {}: {e}", uri.as_str()));
    }
    let analysis = Arc::new(analysis);
    if let Some(mut st) = s.docs.get_mut(uri) {
        if st.doc.version == version && st.deps_epoch == epoch {
            st.analysis = Some((generation, version, analysis.clone()));
        }
    }
    Some((version, analysis))
}

/// Push mode: analyse and publish, if the version is still current when done.
///
/// Single flight per document: when a publication loop is already running for `uri`, this
/// only asks it to go round once more and returns at once. The loop analyses whatever is
/// current when it starts a round, so versions superseded meanwhile are never analysed.
pub async fn publish(s: &Arc<State>, uri: Uri) {
    if s.facts().pull {
        return;
    }
    {
        let Some(mut st) = s.docs.get_mut(&uri) else { return };
        if st.publishing {
            st.republish = true;
            return;
        }
        st.publishing = true;
        st.republish = false;
    }
    loop {
        publish_current(s, &uri).await;
        let Some(mut st) = s.docs.get_mut(&uri) else { return };
        if !st.republish {
            st.publishing = false;
            return;
        }
        st.republish = false;
    }
}

/// One round of [`publish`]: analyse the current version, publish it if still current.
async fn publish_current(s: &Arc<State>, uri: &Uri) {
    let Some((version, analysis)) = current(s, uri).await else { return };
    let enc = s.facts().encoding;
    let _order = s.publish_lock.lock().await;
    let diags = {
        let Some(st) = s.docs.get(uri) else { return };
        if st.doc.version != version {
            return; // a newer version is (or will be) published instead
        }
        convert::diagnostics(&st, &analysis.findings, enc, &s.places(&uri))
    };
    s.client.publish_diagnostics(uri.clone(), diags, Some(version)).await;
}

/// The text of the open document `uri` changed: the project model sees the new text, and
/// the open documents whose analysis read this file are analysed again. Any change counts:
/// answers rest on function bodies read on demand (what a helper returns, whether it
/// blocks), not only on the file's summary, and the related locations they carry move with
/// the text. (Comparing summaries cut nothing off: their ranges move with every keystroke
/// above a definition.) A file no open document read costs nothing more per keystroke.
pub fn text_changed(s: &Arc<State>, uri: &Uri) {
    let Some(path) = uri.to_file_path().map(|p| crate::project::normalize(&p)) else { return };
    let Some(text) = s.docs.get(uri).map(|st| Arc::<str>::from(st.doc.text.as_str())) else { return };
    let dependents = dependents(s, &path, uri);
    let changed = !dependents.is_empty() && s.project.text(&path).as_deref() != Some(&*text);
    s.project.open(&path, text);
    if changed {
        reanalyse(s, dependents);
    }
}

/// Open documents (other than `uri`) whose newest analysis read `path`.
pub(crate) fn dependents(s: &Arc<State>, path: &std::path::Path, uri: &Uri) -> Vec<Uri> {
    s.docs.iter().filter(|e| e.key() != uri && e.deps.iter().any(|d| d.starts_with(path))).map(|e| e.key().clone()).collect()
}

/// `path` appeared, changed or went away (opened, closed, on disk): analyse its dependents
/// again.
pub fn refresh_dependents(s: &Arc<State>, path: &std::path::Path, uri: &Uri) {
    let dependents = dependents(s, path, uri);
    if !dependents.is_empty() {
        reanalyse(s, dependents);
    }
}

/// Drops the analyses (and snapshots: other files' answers changed) of `uris` and publishes
/// them again (push), or asks the client to pull again.
pub(crate) fn reanalyse(s: &Arc<State>, uris: Vec<Uri>) {
    invalidate(s, &uris);
    republish(s, uris);
}

/// Drops the analyses and snapshots of `uris` (cheap): the next analysis of each, whoever
/// asks for it, is a full one on the current files and settings.
pub(crate) fn invalidate(s: &Arc<State>, uris: &[Uri]) {
    for uri in uris {
        if let Some(mut st) = s.docs.get_mut(uri) {
            st.analysis = None;
            st.snapshot = None;
            st.deps_epoch += 1;
        }
    }
}

/// Publishes `uris` again (push), or asks the client to pull again: the costly half of
/// [`reanalyse`].
pub(crate) fn republish(s: &Arc<State>, uris: Vec<Uri>) {
    let facts = s.facts();
    if facts.pull {
        if facts.refresh {
            let client = s.client.clone();
            tokio::spawn(async move {
                let _ = client.workspace_diagnostic_refresh().await;
            });
        }
        return;
    }
    for uri in uris {
        let s = s.clone();
        tokio::spawn(async move { publish(&s, uri).await });
    }
}

/// Re-analyse everything open after a settings change (or ask a pull client to pull again).
pub fn refresh_all(s: &Arc<State>) {
    let uris: Vec<Uri> = s.docs.iter().map(|e| e.key().clone()).collect();
    reanalyse(s, uris);
    super::config_files::republish_all(s);
}

/// Pull mode: `textDocument/diagnostic`.
pub async fn pull(s: &Arc<State>, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
    let uri = params.text_document.uri;
    let enc = s.facts().encoding;
    if let Some(report) = super::config_files::pull(s, &uri, params.previous_result_id.as_deref()) {
        return Ok(DocumentDiagnosticReportResult::Report(report));
    }
    let report = match current(s, &uri).await {
        None => FullDocumentDiagnosticReport { result_id: None, items: vec![] },
        Some((version, analysis)) => {
            let result_id = format!("{}:{}", s.generation(), version);
            if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
                return Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Unchanged(
                    RelatedUnchangedDocumentDiagnosticReport {
                        related_documents: None,
                        unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id },
                    },
                )));
            }
            let items = match s.docs.get(&uri) {
                Some(st) if st.doc.version == version => convert::diagnostics(&st, &analysis.findings, enc, &s.places(&uri)),
                // Changed while we analysed: analyse the newest text instead.
                _ => return Box::pin(pull_again(s, uri, enc)).await,
            };
            FullDocumentDiagnosticReport { result_id: Some(result_id), items }
        }
    };
    Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
        related_documents: None,
        full_document_diagnostic_report: report,
    })))
}

async fn pull_again(s: &Arc<State>, uri: Uri, enc: crate::text::Encoding) -> Result<DocumentDiagnosticReportResult> {
    // Bounded: take whatever is current after one more analysis.
    let (items, result_id) = match current(s, &uri).await {
        Some((version, analysis)) => match s.docs.get(&uri) {
            Some(st) if st.doc.version == version => {
                (convert::diagnostics(&st, &analysis.findings, enc, &s.places(&uri)), Some(format!("{}:{}", s.generation(), version)))
            }
            _ => (vec![], None),
        },
        None => (vec![], None),
    };
    Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
        related_documents: None,
        full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id, items },
    })))
}
