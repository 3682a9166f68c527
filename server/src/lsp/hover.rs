//! `textDocument/hover`: on a finding, the message and the rule's documentation (markdown).

use super::{convert, diagnostics, State};
use crate::rules;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub async fn hover(s: &Arc<State>, p: HoverParams) -> Result<Option<Hover>> {
    let uri = p.text_document_position_params.text_document.uri;
    let Some((version, analysis)) = diagnostics::current(s, &uri).await else { return Ok(None) };
    let enc = s.facts().encoding;
    let Some(st) = s.docs.get(&uri) else { return Ok(None) };
    if st.doc.version != version {
        return Ok(None);
    }
    let at = convert::offset(&st.doc, p.text_document_position_params.position, enc);
    let hits: Vec<_> = analysis.findings.iter().filter(|f| f.range.start <= at && at <= f.range.end).collect();
    let Some(first) = hits.first() else { return Ok(None) };
    let mut md = String::new();
    let mut seen = vec![];
    for f in &hits {
        md.push_str(&format!("**{}** `{}`: {}\n\n", f.code, f.name, f.message));
    }
    for f in &hits {
        if seen.contains(&f.code) {
            continue;
        }
        seen.push(f.code);
        if let Some(r) = rules::by_code(f.code) {
            md.push_str("---\n\n");
            md.push_str(r.meta().doc);
            md.push('\n');
        }
    }
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: Some(convert::range(&st.doc, &first.range, enc)),
    }))
}
