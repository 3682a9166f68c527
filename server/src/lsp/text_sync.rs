//! `didOpen` / `didChange` / `didClose` / `didSave`. Each applies its change and reparses
//! *before* its first `.await` (wire order; see the module docs of `lsp`).

use super::{config_files, diagnostics, DocState, State};
use crate::syntax::Lang;
use crate::text::{Change, Document};
use std::sync::Arc;
use tower_lsp_server::ls_types::*;

fn lang_of(uri: &Uri, language_id: &str) -> Option<Lang> {
    Lang::from_language_id(language_id).or_else(|| {
        let path = uri.path().as_str();
        Lang::from_path(std::path::Path::new(path))
    })
}

pub async fn did_open(s: &Arc<State>, p: DidOpenTextDocumentParams) {
    let doc = p.text_document;
    let Some(lang) = lang_of(&doc.uri, &doc.language_id) else {
        // Not Python or Rust: a configuration file AG307 reads (by name), or nothing to check.
        if config_files::is_config(&doc.uri) {
            config_files::did_open(s, doc).await;
        }
        return;
    };
    if let Some(path) = doc.uri.to_file_path() {
        s.project.open(&path, Arc::from(doc.text.as_str()));
    }
    let state = DocState {
        doc: Document::new(doc.text, doc.version, lang),
        analysis: None,
        snapshot: None,
        publishing: false,
        republish: false,
        deps: vec![],
        deps_epoch: 0,
    };
    let path = doc.uri.to_file_path().map(|p| crate::project::normalize(&p));
    s.docs.insert(doc.uri.clone(), state);
    if let Some(path) = path {
        diagnostics::refresh_dependents(s, &path, &doc.uri);
    }
    diagnostics::publish(s, doc.uri).await;
}

pub async fn did_change(s: &Arc<State>, p: DidChangeTextDocumentParams) {
    s.edited();
    let uri = p.text_document.uri;
    let enc = s.facts().encoding;
    if s.configs.contains_key(&uri) {
        let changes = p.content_changes.into_iter().map(|c| Change { range: c.range.map(|r| (super::convert::pos_in(r.start), super::convert::pos_in(r.end))), text: c.text }).collect();
        config_files::did_change(s, uri, p.text_document.version, changes).await;
        return;
    }
    {
        let Some(mut st) = s.docs.get_mut(&uri) else {
            s.log(MessageType::WARNING, format!("awaitguard: didChange for a document that is not open: {}", uri.as_str()));
            return;
        };
        if p.text_document.version < st.doc.version {
            s.log(
                MessageType::WARNING,
                format!(
                    "awaitguard: didChange version {} is older than {} for {}; applied anyway",
                    p.text_document.version,
                    st.doc.version,
                    uri.as_str()
                ),
            );
        }
        let changes: Vec<Change> = p
            .content_changes
            .into_iter()
            .map(|c| Change {
                range: c.range.map(|r| (super::convert::pos_in(r.start), super::convert::pos_in(r.end))),
                text: c.text,
            })
            .collect();
        st.doc.apply_changes(&changes, enc, p.text_document.version);
        st.analysis = None;
    }
    diagnostics::text_changed(s, &uri);
    diagnostics::publish(s, uri).await;
}

pub async fn did_close(s: &Arc<State>, p: DidCloseTextDocumentParams) {
    let uri = p.text_document.uri;
    let removed = s.docs.remove(&uri).is_some() | s.configs.remove(&uri).is_some();
    if let Some(path) = uri.to_file_path() {
        s.project.close(&path);
        diagnostics::refresh_dependents(s, &crate::project::normalize(&path), &uri);
    }
    if removed && !s.facts().pull {
        let _order = s.publish_lock.lock().await;
        s.client.publish_diagnostics(uri, vec![], None).await;
    }
}

pub async fn did_save(s: &Arc<State>, p: DidSaveTextDocumentParams) {
    // The text is unchanged; a saved config file changes settings, which the file watcher
    // reports. Nothing to do for sources.
    let _ = (s, p);
}
