//! `textDocument/hover`: on a finding, its rule's documentation (markdown), once per rule.
//! The message is not repeated: editors show the diagnostic's message beside the hover.

use super::{convert, diagnostics, State};
use crate::rules;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub async fn hover(s: &Arc<State>, p: HoverParams) -> Result<Option<Hover>> {
    let uri = p.text_document_position_params.text_document.uri;
    // The position refers to the text as it was when the request arrived: keep that text, so
    // a change arriving during the analysis does not turn the answer into `null`. `current`
    // analyses that same version (nothing is awaited in between).
    let Some(snapshot) = s.docs.get(&uri).map(|st| (st.doc.text.clone(), st.doc.index.clone(), st.doc.version)) else {
        return Ok(None);
    };
    let Some((version, analysis)) = diagnostics::current(s, &uri).await else { return Ok(None) };
    let (text, index, snapshot_version) = snapshot;
    if snapshot_version != version {
        return Ok(None);
    }
    let enc = s.facts().encoding;
    let at = index.offset(&text, convert::pos_in(p.text_document_position_params.position), enc);
    let hits: Vec<_> = analysis.findings.iter().filter(|f| f.range.start <= at && at <= f.range.end).collect();
    let Some(first) = hits.first() else { return Ok(None) };
    let mut md = String::new();
    let mut seen = vec![];
    for f in &hits {
        if seen.contains(&f.code) {
            continue;
        }
        seen.push(f.code);
        if let Some(r) = rules::by_code(f.code) {
            if !md.is_empty() {
                md.push_str("\n---\n\n");
            }
            md.push_str(r.meta().doc);
        }
    }
    if md.is_empty() {
        return Ok(None);
    }
    let pos = |o: usize| {
        let p = index.position(&text, o, enc);
        Position { line: p.line, character: p.col }
    };
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: Some(Range { start: pos(first.range.start), end: pos(first.range.end) }),
    }))
}
