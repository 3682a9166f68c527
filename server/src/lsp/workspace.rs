//! Workspace-wide features of the project model: `workspace/diagnostic` (every checkable file
//! of the workspace folders, unopened ones included), `workspace/didChangeWorkspaceFolders`,
//! and the warm-up that reads the workspace's Python summaries after `initialized`, with
//! `$/progress` when the client supports `window.workDoneProgress`.
//!
//! Invariants:
//! - An unopened file's findings are those `check` gives it (same analysis, same project
//!   model); an open file's are its document's (`diagnostics::current`).
//! - Long work yields between chunks: `$/cancelRequest` (which drops the handler's future)
//!   stops a workspace diagnostic between two chunks, and other messages are handled
//!   meanwhile.
//! - The warm-up steps aside for edits: between two files it waits while an edit arrived
//!   in the last 20 ms (at most 50 ms per file), so typing in an open document does not
//!   share the cores with it; it never changes what a summary says.

use super::{convert, diagnostics, State};
use crate::analysis::{analyze_with, triggers};
use crate::syntax::Lang;
use crate::text::{Document, Encoding};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::*;

/// Files analysed between two yields (and two partial results).
const CHUNK: usize = 64;

/// `$/progress` carrying partial results (the typed notification only carries work-done
/// progress).
enum PartialResult {}

impl Notification for PartialResult {
    type Params = serde_json::Value;
    const METHOD: &'static str = "$/progress";
}

/// The checkable files of the workspace folders (`.gitignore` and `exclude` honoured).
async fn workspace_files(s: &Arc<State>) -> Vec<PathBuf> {
    let roots = s.facts().roots;
    if roots.is_empty() {
        return vec![];
    }
    let cache = s.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
    let exclude: crate::workspace::Exclude = Arc::new(move |p: &Path| cache.is_excluded(p));
    tokio::task::spawn_blocking(move || crate::workspace::discover_filtered(&roots, Some(exclude)).0).await.unwrap_or_default()
}

/// The diagnostics of an unopened file, as `check` finds them.
fn file_diagnostics(s: &Arc<State>, path: &Path, uri: &Uri, enc: Encoding) -> Vec<Diagnostic> {
    let Some(lang) = Lang::from_path(path) else { return vec![] };
    let settings = diagnostics::settings_for(s, uri);
    // Over `max-file-size`: not read, no diagnostics (as `check` skips it).
    if std::fs::metadata(path).is_ok_and(|m| settings.too_large(m.len())) {
        return vec![];
    }
    let Ok(bytes) = std::fs::read(path) else { return vec![] };
    // Decoded as `check` decodes it (PEP 263); a file that does not decode has no findings.
    let Ok(text) = crate::text::source::Source::decode(bytes).map(|s| s.text) else { return vec![] };
    if !triggers::may_fire(&text, lang, &settings) {
        return vec![];
    }
    let doc = Document::new(text, 0, lang);
    let view = s.project.view(path);
    if lang == crate::syntax::Lang::Rust && view.rs_unreached(path).is_some() {
        return vec![];
    }
    let run = || analyze_with(&doc.text, lang, &doc.tree, &doc.index, &settings, Some(&view));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(a) => a.findings.iter().map(|f| convert::diagnostic(&doc, f, enc, &s.places(uri))).collect(),
        Err(_) => vec![],
    }
}

/// `workspace/diagnostic`: a full report for every checkable file. With a partial-result
/// token the reports go out as `$/progress` partial results, a chunk at a time, and the
/// response itself is empty; with a work-done token, progress is reported.
pub async fn workspace_diagnostic(s: &Arc<State>, params: WorkspaceDiagnosticParams) -> Result<WorkspaceDiagnosticReportResult> {
    let enc = s.facts().encoding;
    let files = workspace_files(s).await;
    let progress = match params.work_done_progress_params.work_done_token {
        Some(token) => Some(
            s.client.progress(token, "awaitguard: checking the workspace").with_percentage(0).begin().await,
        ),
        None => None,
    };
    let partial = params.partial_result_params.partial_result_token;
    let mut all = vec![];
    let total = files.len().max(1);
    for (i, chunk) in files.chunks(CHUNK).enumerate() {
        let mut items = vec![];
        for path in chunk {
            let Some(uri) = Uri::from_file_path(path) else { continue };
            let (version, diags) = match diagnostics::current(s, &uri).await {
                Some((version, analysis)) => match s.docs.get(&uri) {
                    Some(st) => (Some(version as i64), convert::diagnostics(&st, &analysis.findings, enc, &s.places(&uri))),
                    None => continue,
                },
                None => {
                    let (s2, p2, u2) = (s.clone(), path.clone(), uri.clone());
                    let d = tokio::task::spawn_blocking(move || file_diagnostics(&s2, &p2, &u2, enc)).await.unwrap_or_default();
                    (None, d)
                }
            };
            items.push(WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                uri,
                version,
                full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id: None, items: diags },
            }));
        }
        if let Some(p) = &progress {
            let done = ((i + 1) * CHUNK).min(total);
            p.report_with_message(format!("{done}/{total} files"), (done * 100 / total) as u32).await;
        }
        match &partial {
            Some(token) => {
                let value = serde_json::to_value(WorkspaceDiagnosticReportPartialResult { items }).unwrap_or_default();
                s.client.send_notification::<PartialResult>(serde_json::json!({"token": token, "value": value})).await;
            }
            None => all.extend(items),
        }
        tokio::task::yield_now().await;
    }
    if let Some(p) = progress {
        p.finish_with_message(format!("{} files", files.len())).await;
    }
    Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items: all }))
}

/// `workspace/didChangeWorkspaceFolders`: the project's roots follow, what was read from
/// disk is forgotten, and every open document is analysed again.
pub async fn did_change_workspace_folders(s: &Arc<State>, p: DidChangeWorkspaceFoldersParams) {
    let mut roots = s.facts().roots;
    for gone in &p.event.removed {
        if let Some(path) = gone.uri.to_file_path() {
            roots.retain(|r| r != path.as_ref());
        }
    }
    for added in &p.event.added {
        if let Some(path) = added.uri.to_file_path() {
            if !roots.iter().any(|r| r == path.as_ref()) {
                roots.push(path.into_owned());
            }
        }
    }
    s.project.set_roots(roots.clone());
    s.project.forget_disk();
    s.facts.write().unwrap_or_else(|e| e.into_inner()).roots = roots;
    let uris: Vec<Uri> = s.docs.iter().map(|e| e.key().clone()).collect();
    diagnostics::reanalyse(s, uris);
    warm_up(s);
}

/// Reads the summaries of the workspace's Python files on the blocking pool, reporting
/// `$/progress` when the client supports it. Later analyses then find them memoised.
pub fn warm_up(s: &Arc<State>) {
    let s = s.clone();
    tokio::spawn(async move {
        let token = ProgressToken::String(format!("awaitguard-model-{}", s.generation()));
        let progress = if s.facts().work_done_progress && s.client.create_work_done_progress(token.clone()).await.is_ok() {
            Some(s.client.progress(token, "awaitguard: reading the project").with_percentage(0).begin().await)
        } else {
            None
        };
        let files: Vec<PathBuf> = workspace_files(&s).await.into_iter().filter(|p| p.extension().is_some_and(|e| e == "py")).collect();
        let total = files.len().max(1);
        for (i, chunk) in files.chunks(CHUNK * 4).enumerate() {
            let (state, chunk) = (s.clone(), chunk.to_vec());
            let _ = tokio::task::spawn_blocking(move || {
                use rayon::prelude::*;
                chunk.par_iter().for_each(|f| {
                    // A keystroke's analysis first (see `State::yield_to_edits`).
                    state.yield_to_edits();
                    state.project.py_summary(&crate::project::normalize(f));
                });
            })
            .await;
            if let Some(p) = &progress {
                let done = ((i + 1) * CHUNK * 4).min(total);
                p.report_with_message(format!("{done}/{total} Python files"), (done * 100 / total) as u32).await;
            }
        }
        if let Some(p) = progress {
            p.finish_with_message(format!("{} Python files", files.len())).await;
        }
    });
}
