//! Output formats for `check`: text (with the source line and a caret span, and a summary per
//! rule), concise, JSON, SARIF 2.1.0, GitHub workflow annotations, GitLab Code Quality, JUnit
//! XML, reviewdog's rdjson; and `--statistics`.
//!
//! Columns are 1-based and count Unicode scalar values (characters); SARIF says so with
//! `columnKind: unicodeCodePoints`. rdjson alone counts UTF-8 bytes, as its format defines.
//! Paths in SARIF, GitLab and rdjson output are relative to the current folder when below it.

use crate::fix::Applicability;
use crate::rules::{Finding, Severity};
use crate::text::{Encoding, LineIndex};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

/// One checked file.
pub struct FileReport {
    pub path: PathBuf,
    pub text: String,
    pub index: LineIndex,
    pub findings: Vec<Finding>,
}


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

/// The ANSI colour of a severity.
fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info | Severity::Hint => "1;36",
    }
}

/// Writes `path:line:col: SEVERITY: CODE [*] message` (the compilers' form, which editors'
/// error formats read; `[*]`: `--fix` fixes it); returns the 1-based line.
fn header(
    out: &mut impl Write,
    paint: &Paint,
    r: &FileReport,
    f: &crate::rules::Finding,
    safe: bool,
) -> io::Result<usize> {
    let (line, col) = line_col(&r.index, &r.text, f.range.start);
    writeln!(
        out,
        "{}:{line}:{col}: {} {} {}{}",
        paint.wrap("1", &r.path.display().to_string()),
        paint.wrap(severity_color(f.severity), &format!("{}:", f.severity.as_str())),
        paint.wrap("1", f.code),
        if safe { "[*] " } else { "" },
        f.message
    )?;
    Ok(line)
}

/// `clean` is false when the run had errors: then no "All checks passed!".
pub fn text(out: &mut impl Write, reports: &[FileReport], color: bool, clean: bool) -> io::Result<()> {
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
            let line = header(out, &paint, r, f, safe)?;
            // The source line with a caret span under the finding (first line only).
            let lrange = r.index.line_range(&r.text, line - 1);
            let src_line = &r.text[lrange.clone()];
            let end = f.range.end.min(lrange.end).max(f.range.start);
            let pad = r.text[lrange.start..f.range.start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect::<String>();
            let width = r.text[f.range.start..end].chars().count().max(1);
            let gutter = " ".repeat(line.to_string().len());
            writeln!(out, "{gutter} |")?;
            writeln!(out, "{line} | {src_line}")?;
            writeln!(out, "{gutter} | {pad}{}", paint.wrap(severity_color(f.severity), &"^".repeat(width)))?;
            for l in &f.related {
                let (rl, rc) = related_line_col(r, l);
                writeln!(out, "{gutter} = {}: {}:{rl}:{rc}: {}", paint.wrap("1", "note"), shown(&l.path), l.what)?;
            }
            writeln!(out)?;
        }
    }
    if total == 0 {
        if clean {
            writeln!(out, "All checks passed!")?;
        }
    } else {
        let noun = if total == 1 { "problem" } else { "problems" };
        writeln!(out, "Found {total} {noun} ({fixable} with a safe fix).")?;
        for s in stats(reports) {
            writeln!(out, "{:>5}  {}  {}", s.count, paint.wrap("1", s.code), s.name)?;
        }
        if fixable > 0 {
            writeln!(out, "[*] {fixable} fixable with `awaitguard check --fix`.")?;
        }
    }
    Ok(())
}

/// One line per finding: `path:line:col: SEVERITY: CODE [*] message`, then the summary line.
pub fn concise(out: &mut impl Write, reports: &[FileReport], color: bool, clean: bool) -> io::Result<()> {
    let paint = Paint(color);
    let mut total = 0;
    for r in reports {
        for f in &r.findings {
            total += 1;
            let safe = f.fixes.iter().any(|x| x.applicability == Applicability::Safe);
            header(out, &paint, r, f, safe)?;
        }
    }
    match total {
        0 if !clean => Ok(()),
        0 => writeln!(out, "All checks passed!"),
        1 => writeln!(out, "Found 1 problem."),
        n => writeln!(out, "Found {n} problems."),
    }
}

/// Findings per rule, most frequent first.
#[derive(Serialize)]
pub struct RuleStat {
    pub code: &'static str,
    pub name: &'static str,
    pub count: usize,
    /// How many of them have a safe fix.
    pub fixable: usize,
}

pub fn stats(reports: &[FileReport]) -> Vec<RuleStat> {
    let mut by: std::collections::BTreeMap<&'static str, RuleStat> = Default::default();
    for f in reports.iter().flat_map(|r| &r.findings) {
        let s = by.entry(f.code).or_insert(RuleStat { code: f.code, name: f.name, count: 0, fixable: 0 });
        s.count += 1;
        if f.fixes.iter().any(|x| x.applicability == Applicability::Safe) {
            s.fixable += 1;
        }
    }
    let mut v: Vec<RuleStat> = by.into_values().collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    v
}

pub fn statistics_text(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    for s in stats(reports) {
        let fix = if s.fixable > 0 { format!("[*] {} fixable", s.fixable) } else { String::new() };
        writeln!(out, "{:>5}  {:<6} {:<32} {fix}", s.count, s.code, s.name)?;
    }
    Ok(())
}

pub fn statistics_json(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &stats(reports))?;
    writeln!(out)
}

/// Escapes GitHub workflow-command data (`%`, CR, LF); properties also escape `:` and `,`.
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => o.push_str("%25"),
            '\r' => o.push_str("%0D"),
            '\n' => o.push_str("%0A"),
            ':' if property => o.push_str("%3A"),
            ',' if property => o.push_str("%2C"),
            c => o.push(c),
        }
    }
    o
}

/// GitHub Actions annotations: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::msg`.
pub fn github(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    for r in reports {
        let path = r.path.display().to_string();
        let path = path.strip_prefix("./").unwrap_or(&path);
        for f in &r.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Hint => "notice",
            };
            let (line, col) = line_col(&r.index, &r.text, f.range.start);
            let (end_line, end_col) = line_col(&r.index, &r.text, f.range.end);
            writeln!(
                out,
                "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
                gh_escape(path, true),
                gh_escape(&format!("{} ({})", f.code, f.name), true),
                gh_escape(&format!("{} {}", f.code, f.message), false),
            )?;
        }
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
    /// Places in other files the finding rests on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated>,
}

#[derive(Serialize)]
struct JsonRelated {
    path: String,
    line: usize,
    column: usize,
    offset: usize,
    message: String,
}

/// The 1-based line and column of a related location: in the report's own text when it is
/// in the same file, else read from its file (0:0 when unreadable).
fn related_line_col(r: &FileReport, loc: &crate::semantic::outside::Loc) -> (usize, usize) {
    if loc.path == r.path {
        return line_col(&r.index, &r.text, loc.range.start.min(r.text.len()));
    }
    match std::fs::read_to_string(&loc.path) {
        Ok(text) => line_col(&LineIndex::new(&text), &text, loc.range.start.min(text.len())),
        Err(_) => (0, 0),
    }
}

/// A related location's path as shown: relative to the current folder when below it.
fn shown(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd).unwrap_or(path).display().to_string()
}

/// A related location with its line and column.
fn related_json(r: &FileReport, loc: &crate::semantic::outside::Loc) -> JsonRelated {
    let (line, column) = related_line_col(r, loc);
    JsonRelated { path: shown(&loc.path), line, column, offset: loc.range.start, message: loc.what.clone() }
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
                related: f.related.iter().map(|l| related_json(r, l)).collect(),
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

/// SARIF `level` of a severity.
fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

/// Percent-encodes a path for a URI (RFC 3986 unreserved characters and `/` stay).
fn uri_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// The SARIF artifact location of a path: relative to `%SRCROOT%` (the current folder) when
/// below it, else an absolute `file://` URI.
fn artifact(path: &std::path::Path, root: &std::path::Path) -> serde_json::Value {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match abs.strip_prefix(root) {
        Ok(rel) => serde_json::json!({ "uri": uri_path(rel), "uriBaseId": "%SRCROOT%" }),
        Err(_) => serde_json::json!({ "uri": format!("file://{}", uri_path(&abs)) }),
    }
}

fn sarif_region(r: &FileReport, range: &std::ops::Range<usize>) -> serde_json::Value {
    let (sl, sc) = line_col(&r.index, &r.text, range.start);
    let (el, ec) = line_col(&r.index, &r.text, range.end);
    serde_json::json!({ "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec })
}

/// A SARIF 2.1.0 log: one run, every rule's metadata (id, name, descriptions, help text in
/// plain text and markdown, default level), one result per finding with its location and
/// fixes. `ok` is false when the run had errors (`invocations[0].executionSuccessful`).
pub fn sarif(out: &mut impl Write, reports: &[FileReport], ok: bool) -> io::Result<()> {
    use serde_json::json;
    let root = std::env::current_dir().unwrap_or_default();
    let rules: Vec<_> = crate::rules::RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": m.summary },
                "help": { "text": m.doc, "markdown": m.doc },
                "defaultConfiguration": { "level": sarif_level(m.severity) },
                "properties": { "tags": ["awaitguard", format!("{:?}", m.lang).to_lowercase()] },
            })
        })
        .collect();
    let index_of = |code: &str| crate::rules::RULES.iter().position(|r| r.meta().code == code);
    let mut results = vec![];
    for r in reports {
        let loc = artifact(&r.path, &root);
        for f in &r.findings {
            let mut res = json!({
                "ruleId": f.code,
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
                "locations": [{ "physicalLocation": { "artifactLocation": loc, "region": sarif_region(r, &f.range) } }],
            });
            if let Some(i) = index_of(f.code) {
                res["ruleIndex"] = json!(i);
            }
            if !f.related.is_empty() {
                res["relatedLocations"] = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let (line, col) = related_line_col(r, l);
                        json!({
                            "id": i,
                            "physicalLocation": {
                                "artifactLocation": artifact(&l.path, &root),
                                "region": { "startLine": line.max(1), "startColumn": col.max(1) },
                            },
                            "message": { "text": l.what },
                        })
                    })
                    .collect();
            }
            if !f.fixes.is_empty() {
                res["fixes"] = f
                    .fixes
                    .iter()
                    .map(|x| {
                        json!({
                            "description": { "text": format!("{} ({})", x.title, match x.applicability {
                                Applicability::Safe => "safe",
                                Applicability::Unsafe => "unsafe",
                            }) },
                            "artifactChanges": [{
                                "artifactLocation": loc,
                                "replacements": x.edits.iter().map(|e| json!({
                                    "deletedRegion": sarif_region(r, &e.range),
                                    "insertedContent": { "text": e.text },
                                })).collect::<Vec<_>>(),
                            }],
                        })
                    })
                    .collect();
            }
            results.push(res);
        }
    }
    let mut root_uri = uri_path(&root);
    if !root_uri.ends_with('/') {
        root_uri.push('/');
    }
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "awaitguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": format!("file://{root_uri}") } },
            "invocations": [{ "executionSuccessful": ok }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// A path for machine formats: relative to `root` (the current folder) when below it, with
/// `/` separators; else as given.
fn rel_path(path: &std::path::Path, root: &std::path::Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let p = abs.strip_prefix(root).map(std::path::Path::to_path_buf).unwrap_or(abs);
    p.to_string_lossy().replace('\\', "/")
}

/// 64-bit FNV-1a: a fingerprint that stays the same across runs, platforms and versions.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// GitLab Code Quality severity of a finding: errors (exceptions or broken transactions at
/// run time) are `critical`, warnings `major`, info `minor`, hints `info`.
fn gitlab_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "minor",
        Severity::Hint => "info",
    }
}

/// GitLab Code Quality report (a JSON array of issues: `description`, `check_name`,
/// `fingerprint`, `severity`, `location.path`, `location.lines.begin`/`end`). The fingerprint
/// hashes the rule, the path, the message and the text of the finding's line (not its number,
/// so that an edit above does not make it a new issue), plus a counter for identical ones.
pub fn gitlab(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    use serde_json::json;
    let root = std::env::current_dir().unwrap_or_default();
    let mut seen: std::collections::HashMap<u64, usize> = Default::default();
    let mut issues = vec![];
    for r in reports {
        let path = rel_path(&r.path, &root);
        for f in &r.findings {
            let (begin, _) = line_col(&r.index, &r.text, f.range.start);
            let (end, _) = line_col(&r.index, &r.text, f.range.end);
            let line_text = r.text[r.index.line_range(&r.text, begin - 1)].trim();
            let base = fnv1a(&[f.code, &path, &f.message, line_text]);
            let n = seen.entry(base).or_insert(0);
            *n += 1;
            let fingerprint = format!("{:016x}", fnv1a(&[&format!("{base:016x}"), &n.to_string()]));
            issues.push(json!({
                "type": "issue",
                "description": format!("{} {}", f.code, f.message),
                "check_name": f.code,
                "categories": ["Bug Risk"],
                "fingerprint": fingerprint,
                "severity": gitlab_severity(f.severity),
                "location": { "path": path, "lines": { "begin": begin, "end": end } },
            }));
        }
    }
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

/// Escapes text for XML 1.0 (attribute values and content alike); characters XML cannot hold
/// (most C0 controls) are dropped.
fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML (the Jenkins/GitLab/Azure reading): one `<testsuite>` per file with findings, one
/// failed `<testcase>` per finding (`classname` the path, `name` the rule and position, a
/// `<failure>` with the rule as `type` and the message); no findings: one passing test case.
pub fn junit(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    let total: usize = reports.iter().map(|r| r.findings.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let tests = total.max(1);
    writeln!(out, r#"<testsuites name="awaitguard" tests="{tests}" failures="{total}" errors="0">"#)?;
    if total == 0 {
        writeln!(out, r#"  <testsuite name="awaitguard" tests="1" failures="0" errors="0" skipped="0">"#)?;
        writeln!(out, r#"    <testcase name="no problems found" classname="awaitguard"/>"#)?;
        writeln!(out, "  </testsuite>")?;
    }
    for r in reports.iter().filter(|r| !r.findings.is_empty()) {
        let path = xml_escape(&r.path.display().to_string());
        let n = r.findings.len();
        writeln!(out, r#"  <testsuite name="{path}" tests="{n}" failures="{n}" errors="0" skipped="0">"#)?;
        for f in &r.findings {
            let (line, col) = line_col(&r.index, &r.text, f.range.start);
            writeln!(
                out,
                r#"    <testcase name="{} ({}) at {line}:{col}" classname="{path}" file="{path}" line="{line}">"#,
                f.code, f.name
            )?;
            writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                xml_escape(&f.message),
                f.code,
                xml_escape(&format!("{}:{line}:{col}: {}: {} {}", r.path.display(), f.severity.as_str(), f.code, f.message))
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// reviewdog's Diagnostic Format severity.
fn rd_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info | Severity::Hint => "INFO",
    }
}

/// 1-based line and 1-based column in UTF-8 bytes (rdjson's positions).
fn rd_position(r: &FileReport, offset: usize) -> serde_json::Value {
    let p = r.index.position(&r.text, offset, Encoding::Utf8);
    serde_json::json!({ "line": p.line + 1, "column": p.col + 1 })
}

/// reviewdog Diagnostic Format, `rdjson` (a `DiagnosticResult`): each diagnostic has its
/// message, location (path, range with an exclusive end), severity, code and, for a finding
/// with a fix, the first fix's edits as suggestions.
pub fn rdjson(out: &mut impl Write, reports: &[FileReport]) -> io::Result<()> {
    use serde_json::json;
    let root = std::env::current_dir().unwrap_or_default();
    let mut diagnostics = vec![];
    for r in reports {
        let path = rel_path(&r.path, &root);
        for f in &r.findings {
            let range = |rg: &std::ops::Range<usize>| json!({ "start": rd_position(r, rg.start), "end": rd_position(r, rg.end) });
            let mut d = json!({
                "message": f.message,
                "location": { "path": path, "range": range(&f.range) },
                "severity": rd_severity(f.severity),
                "source": { "name": "awaitguard" },
                "code": { "value": f.code },
            });
            let fix = f.fixes.iter().find(|x| x.applicability == Applicability::Safe).or(f.fixes.first());
            if let Some(x) = fix {
                d["suggestions"] = x.edits.iter().map(|e| json!({ "range": range(&e.range), "text": e.text })).collect();
            }
            diagnostics.push(d);
        }
    }
    let doc = json!({
        "source": { "name": "awaitguard" },
        "severity": if reports.iter().any(|r| !r.findings.is_empty()) { "ERROR" } else { "INFO" },
        "diagnostics": diagnostics,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escaping() {
        assert_eq!(gh_escape("50% done\r\nnext", false), "50%25 done%0D%0Anext");
        assert_eq!(gh_escape("a:b,c", true), "a%3Ab%2Cc");
        assert_eq!(gh_escape("a:b,c", false), "a:b,c");
    }

    #[test]
    fn xml_escaping() {
        assert_eq!(xml_escape("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;");
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fnv1a(&["a"]), fnv1a(&["a"]));
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_path(std::path::Path::new("a b/ü#.py")), "a%20b/%C3%BC%23.py");
    }
}
