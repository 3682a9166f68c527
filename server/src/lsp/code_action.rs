//! `textDocument/codeAction`: a quick fix per fix of each awaitguard diagnostic (from
//! `Diagnostic.data`, no re-analysis), "Disable CODE for this line", and
//! `source.fixAll.awaitguard` (every safe fix, applied to a fixpoint, as one minimal edit).

use super::convert::{self, DiagData};
use super::{diagnostics, State, FIX_ALL_KIND};
use crate::fix::{self, Applicability};
use crate::analysis::{self, suppression};
use std::collections::HashMap;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// Builds a workspace edit for one document, versioned when the client supports it.
pub fn workspace_edit(s: &State, uri: &Uri, version: i32, edits: Vec<TextEdit>) -> WorkspaceEdit {
    if s.facts().document_changes {
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version: Some(version) },
                edits: edits.into_iter().map(OneOf::Left).collect(),
            }])),
            ..Default::default()
        }
    } else {
        WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..Default::default() }
    }
}

/// The "fix all" edit for the document's current text: `(version, edit)`, or `None`.
pub async fn fix_all_edit(s: &Arc<State>, uri: &Uri) -> Option<(i32, TextEdit)> {
    let (text, lang, version) = {
        let st = s.docs.get(uri)?;
        (st.doc.text.clone(), st.doc.lang, st.doc.version)
    };
    if !s.editor.read().unwrap_or_else(|e| e.into_inner()).enable {
        return None;
    }
    let settings = diagnostics::settings_for(s, uri);
    let src = text.clone();
    let new = tokio::task::spawn_blocking(move || analysis::fix_all(&src, lang, &settings, false)).await.ok()??;
    let edit = fix::diff_edit(&text, &new)?;
    let st = s.docs.get(uri)?;
    if st.doc.version != version {
        return None;
    }
    Some((version, convert::text_edit(&st.doc, &edit, s.facts().encoding)))
}

fn wants(only: Option<&Vec<CodeActionKind>>, kind: &CodeActionKind) -> bool {
    match only {
        None => true,
        Some(list) => list.iter().any(|k| kind.as_str() == k.as_str() || kind.as_str().starts_with(&format!("{}.", k.as_str()))),
    }
}

pub async fn code_action(s: &Arc<State>, p: CodeActionParams) -> Result<Option<CodeActionResponse>> {
    let uri = p.text_document.uri;
    let only = p.context.only.as_ref();
    let mut actions: Vec<CodeActionOrCommand> = vec![];
    let Some((version, analysis)) = diagnostics::current(s, &uri).await else { return Ok(None) };
    let enc = s.facts().encoding;
    if wants(only, &CodeActionKind::QUICKFIX) {
        let Some(st) = s.docs.get(&uri) else { return Ok(None) };
        for diag in p.context.diagnostics.iter().filter(|d| d.source.as_deref() == Some("awaitguard")) {
            let code = match &diag.code {
                Some(NumberOrString::String(c)) => c.clone(),
                _ => continue,
            };
            // Fixes from the diagnostic's data when it is of the current version; otherwise
            // from the current analysis, matched by code and range.
            let data: Option<DiagData> = diag.data.clone().and_then(|d| serde_json::from_value(d).ok());
            let fixes: Vec<convert::DataFix> = match data {
                Some(d) if d.version == st.doc.version => d.fixes,
                _ => analysis
                    .findings
                    .iter()
                    .filter(|f| f.code == code && convert::range(&st.doc, &f.range, enc) == diag.range)
                    .flat_map(|f| f.fixes.iter())
                    .map(|x| convert::DataFix {
                        title: x.title.clone(),
                        applicability: x.applicability,
                        edits: x.edits.iter().map(|e| convert::text_edit(&st.doc, e, enc)).collect(),
                    })
                    .collect(),
            };
            for f in fixes {
                let safe = f.applicability == Applicability::Safe;
                let title = if safe { f.title.clone() } else { format!("{} (unsafe: review)", f.title) };
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diag.clone()]),
                    edit: Some(workspace_edit(s, &uri, version, f.edits)),
                    is_preferred: Some(safe),
                    ..Default::default()
                }));
            }
            let start = convert::offset(&st.doc, diag.range.start, enc);
            let line = st.doc.index.line_of(start);
            // AG900 is judged after suppression: a comment cannot silence it (remove it instead).
            let suppressible = code != "AG900";
            if let Some(e) = suppression::suppress_edit(&st.doc.text, &st.doc.index, &st.doc.tree, st.doc.lang, line, &code).filter(|_| suppressible) {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Disable {code} for this line"),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diag.clone()]),
                    edit: Some(workspace_edit(s, &uri, version, vec![convert::text_edit(&st.doc, &e, enc)])),
                    is_preferred: Some(false),
                    ..Default::default()
                }));
            }
        }
    }
    let any_safe = analysis.findings.iter().any(|f| f.fixes.iter().any(|x| x.applicability == Applicability::Safe));
    if wants(only, &FIX_ALL_KIND) && (only.is_some() || any_safe) {
        if let Some((v, edit)) = fix_all_edit(s, &uri).await {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "awaitguard: Fix all auto-fixable problems".into(),
                kind: Some(FIX_ALL_KIND),
                edit: Some(workspace_edit(s, &uri, v, vec![edit])),
                ..Default::default()
            }));
        }
    }
    Ok(Some(actions))
}
