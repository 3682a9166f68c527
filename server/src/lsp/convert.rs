//! Conversions between the analysis (bytes) and LSP (positions in the negotiated encoding).

use super::DocState;
use crate::fix::{Applicability, Edit};
use crate::rules::{Finding, Severity};
use crate::text::{Document, Encoding, LineIndex, Pos};
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::*;

pub fn encoding_kind(e: Encoding) -> PositionEncodingKind {
    match e {
        Encoding::Utf8 => PositionEncodingKind::UTF8,
        Encoding::Utf16 => PositionEncodingKind::UTF16,
        Encoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// Picks utf-16 when offered (or nothing is said), else utf-8, else utf-32.
pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
    let Some(list) = offered.filter(|l| !l.is_empty()) else { return Encoding::Utf16 };
    if list.contains(&PositionEncodingKind::UTF16) {
        Encoding::Utf16
    } else if list.contains(&PositionEncodingKind::UTF8) {
        Encoding::Utf8
    } else if list.contains(&PositionEncodingKind::UTF32) {
        Encoding::Utf32
    } else {
        Encoding::Utf16
    }
}

pub fn pos_in(p: Position) -> Pos {
    Pos { line: p.line, col: p.character }
}

pub fn range(doc: &Document, r: &std::ops::Range<usize>, enc: Encoding) -> Range {
    range_in(&doc.text, &doc.index, r, enc)
}

/// A position in a text that is not a parsed document (a configuration file).
pub fn position_in(text: &str, index: &LineIndex, offset: usize, enc: Encoding) -> Position {
    let p = index.position(text, offset.min(text.len()), enc);
    Position { line: p.line, character: p.col }
}

/// [`range`] in a text that is not a parsed document (a configuration file).
pub fn range_in(text: &str, index: &LineIndex, r: &std::ops::Range<usize>, enc: Encoding) -> Range {
    Range { start: position_in(text, index, r.start, enc), end: position_in(text, index, r.end, enc) }
}

pub fn offset(doc: &Document, p: Position, enc: Encoding) -> usize {
    doc.index.offset(&doc.text, pos_in(p), enc)
}

pub fn text_edit(doc: &Document, e: &Edit, enc: Encoding) -> TextEdit {
    TextEdit { range: range(doc, &e.range, enc), new_text: e.text.clone() }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// The fixes of a diagnostic, carried in `Diagnostic.data` so code actions need no analysis.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct DiagData {
    pub version: i32,
    pub fixes: Vec<DataFix>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct DataFix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<TextEdit>,
}

/// Where a finding's related locations are: the document's URI (a location with no path is
/// in it) and the project, whose texts (open documents, else the disk) give the positions of
/// locations in other files.
pub struct Places<'a> {
    pub uri: &'a Uri,
    pub project: &'a crate::project::Project,
    /// The base URL of the rule pages, when diagnostics carry `codeDescription` links.
    pub docs: Option<String>,
}

/// The related locations of `f` as LSP `relatedInformation`, positions in `enc`; a location
/// whose file cannot be read is left out.
pub fn related_information(doc: &Document, f: &Finding, enc: Encoding, places: &Places) -> Option<Vec<DiagnosticRelatedInformation>> {
    if f.related.is_empty() {
        return None;
    }
    let this = places.uri.to_file_path().map(|p| crate::project::normalize(&p));
    let out: Vec<DiagnosticRelatedInformation> = f
        .related
        .iter()
        .filter_map(|l| {
            let same = l.path.as_os_str().is_empty() || this.as_deref() == Some(l.path.as_path());
            let (uri, range) = if same {
                (places.uri.clone(), range(doc, &l.range, enc))
            } else {
                let text = places.project.text(&l.path)?;
                let index = crate::text::LineIndex::new(&text);
                let at = |o: usize| {
                    let p = index.position(&text, o.min(text.len()), enc);
                    Position { line: p.line, character: p.col }
                };
                (Uri::from_file_path(&l.path)?, Range { start: at(l.range.start), end: at(l.range.end) })
            };
            Some(DiagnosticRelatedInformation { location: Location { uri, range }, message: l.what.clone() })
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

pub fn diagnostic(doc: &Document, f: &Finding, enc: Encoding, places: &Places) -> Diagnostic {
    let mut d = diagnostic_in(&doc.text, &doc.index, doc.version, f, enc, places);
    d.related_information = related_information(doc, f, enc, places);
    d
}

/// A finding in a text that is not a parsed document (a configuration file) as a diagnostic:
/// its fixes in `data`, no related locations.
pub fn diagnostic_in(text: &str, index: &LineIndex, version: i32, f: &Finding, enc: Encoding, places: &Places) -> Diagnostic {
    let data = DiagData {
        version,
        fixes: f
            .fixes
            .iter()
            .map(|x| DataFix {
                title: x.title.clone(),
                applicability: x.applicability,
                edits: x.edits.iter().map(|e| TextEdit { range: range_in(text, index, &e.range, enc), new_text: e.text.clone() }).collect(),
            })
            .collect(),
    };
    Diagnostic {
        range: range_in(text, index, &f.range, enc),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.code.to_string())),
        code_description: places.docs.as_deref().and_then(|base| {
            let href = format!("{}/{}.md", base.trim_end_matches('/'), f.code);
            href.parse::<Uri>().ok().map(|href| CodeDescription { href })
        }),
        source: Some("awaitguard".into()),
        message: f.message.clone(),
        related_information: None,
        tags: None,
        data: serde_json::to_value(data).ok(),
    }
}

pub fn diagnostics(state: &DocState, findings: &[Finding], enc: Encoding, places: &Places) -> Vec<Diagnostic> {
    findings.iter().map(|f| diagnostic(&state.doc, f, enc, places)).collect()
}
