//! Output formats for `check`: text (with the source line and a caret span) and JSON.

use super::check::FileReport;
use crate::fix::Applicability;
use crate::text::{Encoding, LineIndex};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};

pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal()
}

struct Paint(bool);
impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(index: &LineIndex, text: &str, offset: usize) -> (usize, usize) {
    let p = index.position(text, offset, Encoding::Utf32);
    (p.line as usize + 1, p.col as usize + 1)
}

pub fn text(out: &mut impl Write, reports: &[FileReport], color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let mut total = 0;
    let mut fixable = 0;
    for r in reports {
        for f in &r.findings {
            total += 1;
            let safe = f.fixes.iter().any(|x| x.applicability == Applicability::Safe);
            if safe {
                fixable += 1;
            }
            let (line, col) = line_col(&r.index, &r.text, f.range.start);
            writeln!(
                out,
                "{}:{line}:{col}: {} {}{}",
                paint.wrap("1", &r.path.display().to_string()),
                paint.wrap("1;31", f.code),
                if safe { "[*] " } else { "" },
                f.message
            )?;
            // The source line with a caret span under the finding (first line only).
            let lrange = r.index.line_range(&r.text, line - 1);
            let src_line = &r.text[lrange.clone()];
            let end = f.range.end.min(lrange.end).max(f.range.start);
            let pad = r.text[lrange.start..f.range.start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect::<String>();
            let width = r.text[f.range.start..end].chars().count().max(1);
            let gutter = " ".repeat(line.to_string().len());
            writeln!(out, "{gutter} |")?;
            writeln!(out, "{line} | {src_line}")?;
            writeln!(out, "{gutter} | {pad}{}", paint.wrap("31", &"^".repeat(width)))?;
            writeln!(out)?;
        }
    }
    if total == 0 {
        writeln!(out, "All checks passed!")?;
    } else {
        let noun = if total == 1 { "problem" } else { "problems" };
        writeln!(out, "Found {total} {noun} ({fixable} with a safe fix).")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonLoc {
    line: usize,
    column: usize,
    offset: usize,
}

#[derive(Serialize)]
struct JsonRange {
    start: JsonLoc,
    end: JsonLoc,
}

#[derive(Serialize)]
struct JsonEdit {
    range: JsonRange,
    content: String,
}

#[derive(Serialize)]
struct JsonFix {
    title: String,
    applicability: Applicability,
    edits: Vec<JsonEdit>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: String,
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    range: JsonRange,
    fixes: Vec<JsonFix>,
}

fn range(r: &FileReport, range: &std::ops::Range<usize>) -> JsonRange {
    let loc = |o: usize| {
        let (line, column) = line_col(&r.index, &r.text, o);
        JsonLoc { line, column, offset: o }
    };
    JsonRange { start: loc(range.start), end: loc(range.end) }
}

pub fn json(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    let mut all = vec![];
    for r in reports {
        for f in &r.findings {
            all.push(JsonFinding {
                path: r.path.display().to_string(),
                code: f.code,
                name: f.name,
                severity: f.severity.as_str(),
                message: &f.message,
                range: range(r, &f.range),
                fixes: f
                    .fixes
                    .iter()
                    .map(|x| JsonFix {
                        title: x.title.clone(),
                        applicability: x.applicability,
                        edits: x.edits.iter().map(|e| JsonEdit { range: range(r, &e.range), content: e.text.clone() }).collect(),
                    })
                    .collect(),
            });
        }
    }
    serde_json::to_writer_pretty(&mut *out, &all)?;
    writeln!(out)
}
