//! Suppression comments on the line where a finding starts:
//! `# awaitguard: ignore[AG101]`, `# awaitguard: ignore[sync-orm-call, AG102]`, a bare
//! `# awaitguard: ignore`, `# noqa: AG101` and a bare `# noqa` (Python); `// awaitguard: …`
//! (Rust). Codes and kebab names are both accepted, case-insensitively for codes.
//!
//! The comment of a finding sits on its first line unless that line ends inside a multi-line
//! string or with a `\` continuation: then it sits where the string or the continued line
//! ends ([`comment_line`], as ruff places `noqa`), and suppression, `--add-noqa`, the editor's
//! "Disable … for this line" and AG900 all use that line.

use crate::rules::Finding;
use crate::text::LineIndex;
use std::collections::HashMap;
use std::ops::Range;

/// What a suppression comment covers.
#[derive(Debug, PartialEq, Eq)]
pub enum Covers {
    All,
    Codes(Vec<String>),
}

/// Whether a Rust file may hold a directive AG900 judges: the pre-filter's and the pipeline's
/// test for running AG900 on a Rust file ([`crate::rules::ag900_unused_suppression`]).
pub fn mentions_directive(src: &str) -> bool {
    let b = src.as_bytes();
    memchr_ci(b, b"awaitguard") || memchr_ci(b, b"noqa")
}

fn memchr_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Parses one comment's text. `None`: not a suppression.
pub fn parse(comment: &str) -> Option<Covers> {
    let rust = comment.starts_with("//");
    let body = comment.trim_start_matches(['#', '/']).trim();
    // A comment may hold several directives ("# type: ignore  # noqa: AG101",
    // "// noqa: AG501 // why").
    let mut covers: Option<Covers> = None;
    let parts: Vec<&str> = if rust { body.split("//").collect() } else { body.split('#').collect() };
    for part in parts.into_iter().map(str::trim) {
        let one = directive(part);
        covers = match (covers, one) {
            (c, None) => c,
            (Some(Covers::All), _) | (_, Some(Covers::All)) => Some(Covers::All),
            (Some(Covers::Codes(mut a)), Some(Covers::Codes(b))) => {
                a.extend(b);
                Some(Covers::Codes(a))
            }
            (None, Some(c)) => Some(c),
        };
    }
    covers
}

fn directive(part: &str) -> Option<Covers> {
    let lower = part.to_ascii_lowercase();
    if let Some(r) = lower.strip_prefix("awaitguard:") {
        let skip = part.len() - r.len();
        let rest = part[skip..].trim_start();
        let rest = rest.strip_prefix("ignore").or_else(|| rest.strip_prefix("IGNORE"))?;
        if rest.trim().is_empty() {
            return Some(Covers::All);
        }
        let list = rest.trim_start().strip_prefix('[')?;
        return Some(Covers::Codes(split_codes(list.split(']').next().unwrap_or(""))));
    }
    if lower.starts_with("noqa") {
        let rest = &part[4..];
        if rest.trim().is_empty() {
            return Some(Covers::All);
        }
        if let Some(list) = rest.trim_start().strip_prefix(':') {
            return Some(Covers::Codes(split_codes(list)));
        }
        if rest.starts_with(char::is_whitespace) {
            return Some(Covers::All);
        }
    }
    None
}

fn split_codes(s: &str) -> Vec<String> {
    s.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

impl Covers {
    pub fn covers(&self, code: &str, name: &str) -> bool {
        match self {
            Covers::All => true,
            Covers::Codes(list) => list.iter().any(|c| c.eq_ignore_ascii_case(code) || c == name),
        }
    }
}

/// The line where the suppression comment of a finding that starts on `line` sits, as ruff
/// places `noqa`: a line that ends inside a multi-line string (or block comment) hands over
/// to the line where that token ends, and a line that ends with a `\` continuation to the
/// next one, until a line ends in code or in a comment. `None` when no such line follows
/// (the file ends first).
pub fn comment_line(src: &str, index: &LineIndex, tree: &tree_sitter::Tree, mut line: usize) -> Option<usize> {
    // Each step moves to a later line: at most one step per line.
    while line < index.line_count() {
        let range = index.line_range(src, line);
        let text = &src[range.clone()];
        let trimmed_end = range.start + text.trim_end().len();
        if trimmed_end == range.start {
            return Some(line);
        }
        let node = tree.root_node().descendant_for_byte_range(trimmed_end - 1, trimmed_end)?;
        let mut spanning = None;
        let mut n = Some(node);
        while let Some(x) = n {
            if matches!(x.kind(), "comment" | "line_comment") {
                return Some(line);
            }
            if matches!(x.kind(), "string" | "string_content" | "raw_string_literal" | "string_literal" | "block_comment")
                && x.end_byte() > range.end
            {
                spanning = Some(x.end_byte());
            }
            n = x.parent();
        }
        line = match spanning {
            Some(end) => index.line_of(end - 1).max(line + 1),
            None if text.trim_end().ends_with('\\') => line + 1,
            None => return Some(line),
        };
    }
    None
}

/// True when a suppression comment on the finding's comment line ([`comment_line`]: its first
/// line, or where a multi-line string or `\` continuation there ends) suppresses it.
/// `comments` maps a line to its comment ranges (from the tree); without it, the line is
/// scanned.
pub fn is_suppressed(
    src: &str,
    index: &LineIndex,
    tree: &tree_sitter::Tree,
    comments: Option<&HashMap<usize, Vec<Range<usize>>>>,
    f: &Finding,
) -> bool {
    let first = index.line_of(f.range.start);
    let line = comment_line(src, index, tree, first).unwrap_or(first);
    match comments {
        Some(map) => map
            .get(&line)
            .is_some_and(|cs| cs.iter().any(|r| parse(&src[r.clone()]).is_some_and(|c| c.covers(f.code, f.name)))),
        None => {
            let text = &src[index.line_range(src, line)];
            text.find("//").is_some_and(|i| parse(&text[i..]).is_some_and(|c| c.covers(f.code, f.name)))
        }
    }
}

/// The edit that suppresses `code` on `line`: adds the code to an existing
/// `awaitguard: ignore[…]` comment there, or appends `  # awaitguard: ignore[CODE]`.
/// The comment goes on the line's [`comment_line`] (after the multi-line string or `\`
/// continuation the line ends in); `None` when there is none.
pub fn suppress_edit(
    src: &str,
    index: &LineIndex,
    tree: &tree_sitter::Tree,
    lang: crate::syntax::Lang,
    line: usize,
    code: &str,
) -> Option<crate::fix::Edit> {
    use crate::fix::Edit;
    let line = comment_line(src, index, tree, line)?;
    let range = index.line_range(src, line);
    let text = &src[range.clone()];
    let marker = if lang == crate::syntax::Lang::Python { "#" } else { "//" };
    // Extend an existing directive.
    if let Some(i) = text.find("awaitguard: ignore[") {
        let open = range.start + i + "awaitguard: ignore[".len();
        let close = src[open..range.end].find(']')? + open;
        let list = &src[open..close];
        if list.split(',').any(|c| c.trim().eq_ignore_ascii_case(code)) {
            return None;
        }
        let sep = if list.trim().is_empty() { "" } else { ", " };
        return Some(Edit::insert(close, format!("{sep}{code}")));
    }
    let trimmed_end = range.start + text.trim_end().len();
    Some(Edit::insert(trimmed_end, format!("  {marker} awaitguard: ignore[{code}]")))
}

/// `--add-noqa`: the edits that suppress every finding of `findings` on its first line, one
/// edit per line. An existing `awaitguard: ignore[…]` there is extended, else an existing
/// `# noqa: …` with codes, else `  # awaitguard: ignore[CODES]` is appended. Codes already
/// listed are not repeated. A finding whose first line ends inside a multi-line string or
/// with a `\` continuation gets its code on its [`comment_line`], where [`is_suppressed`]
/// looks. Returns the edits and how many codes they add.
pub fn add_noqa_edits(
    src: &str,
    index: &LineIndex,
    tree: &tree_sitter::Tree,
    lang: crate::syntax::Lang,
    findings: &[Finding],
) -> (Vec<crate::fix::Edit>, usize) {
    use crate::fix::Edit;
    let mut by_line: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    // AG900 is judged after suppression: a comment cannot silence it.
    for f in findings.iter().filter(|f| f.code != "AG900") {
        let first = index.line_of(f.range.start);
        let Some(line) = comment_line(src, index, tree, first) else { continue };
        let codes = by_line.entry(line).or_default();
        if !codes.contains(&f.code) {
            codes.push(f.code);
        }
    }
    let mut edits = vec![];
    let mut added = 0;
    for (line, mut codes) in by_line {
        codes.sort_unstable();
        let range = index.line_range(src, line);
        let text = &src[range.clone()];
        let listed = |list: &str, c: &str| list.split([',', ' ']).any(|x| x.trim().eq_ignore_ascii_case(c));
        // 1. `awaitguard: ignore[…]`.
        if let Some(i) = text.find("awaitguard: ignore[") {
            let open = range.start + i + "awaitguard: ignore[".len();
            let Some(close) = src[open..range.end].find(']').map(|c| c + open) else { continue };
            let list = &src[open..close];
            let new: Vec<&str> = codes.iter().copied().filter(|c| !listed(list, c)).collect();
            if new.is_empty() {
                continue;
            }
            let sep = if list.trim().is_empty() { "" } else { ", " };
            added += new.len();
            edits.push(Edit::insert(close, format!("{sep}{}", new.join(", "))));
            continue;
        }
        // 2. `# noqa: X, Y` (codes up to the next `#` or the line end).
        let lower = text.to_ascii_lowercase();
        if let Some(i) = lower.find("noqa:").filter(|&i| text[..i].trim_end().ends_with(['#', '/'])) {
            let start = i + "noqa:".len();
            let end = text[start..].find('#').map(|e| start + e).unwrap_or(text.trim_end().len());
            let list_text = text[start..end].trim_end();
            let new: Vec<&str> = codes.iter().copied().filter(|c| !listed(list_text, c)).collect();
            if new.is_empty() {
                continue;
            }
            let at = range.start + start + list_text.len();
            let sep = if list_text.trim().is_empty() { " " } else { ", " };
            added += new.len();
            edits.push(Edit::insert(at, format!("{sep}{}", new.join(", "))));
            continue;
        }
        // 3. A new comment (the checks of [`suppress_edit`]).
        if let Some(mut e) = suppress_edit(src, index, tree, lang, line, codes[0]) {
            added += codes.len();
            e.text = e.text.replacen(&format!("[{}]", codes[0]), &format!("[{}]", codes.join(", ")), 1);
            edits.push(e);
        }
    }
    (edits, added)
}

/// One code (or rule name) listed in a directive, with where it sits in the text.
struct Listed {
    span: Range<usize>,
    text: String,
}

/// A directive with a list: `awaitguard: ignore[…]` or `noqa: …`, inside one comment.
struct Directive {
    /// From its `#` to its end (trailing spaces excluded).
    span: Range<usize>,
    items: Vec<Listed>,
}

/// The directives with a code list of the comment at `range` (bare forms have none); each
/// starts at a `marker` (`#` in Python, `//` in Rust).
fn directives(src: &str, range: Range<usize>, marker: &str) -> Vec<Directive> {
    let text = &src[range.clone()];
    let hashes: Vec<usize> = text.match_indices(marker).map(|(i, _)| i).collect();
    let mut out = vec![];
    for (k, &h) in hashes.iter().enumerate() {
        let end = hashes.get(k + 1).copied().unwrap_or(text.len());
        let at = h;
        let h = h + marker.len() - 1;
        let part = &text[h + 1..end];
        let lead = part.len() - part.trim_start().len();
        let body = part.trim_start();
        let lower = body.to_ascii_lowercase();
        let list: Option<Range<usize>> = if let Some(r) = lower.strip_prefix("awaitguard:") {
            let after = body.len() - r.len();
            let r2 = body[after..].trim_start();
            let at = body.len() - r2.len();
            r2.to_ascii_lowercase().strip_prefix("ignore").and_then(|r3| {
                let r3t = r3.trim_start();
                let open = at + "ignore".len() + (r3.len() - r3t.len());
                r3t.strip_prefix('[').and_then(|inner| inner.find(']').map(|c| open + 1..open + 1 + c))
            })
        } else if lower.starts_with("noqa") && body[4..].trim_start().starts_with(':') {
            let colon = 4 + (body[4..].len() - body[4..].trim_start().len()) + 1;
            Some(colon..body.trim_end().len())
        } else {
            None
        };
        let Some(list) = list else { continue };
        let base = range.start + h + 1 + lead;
        let mut items = vec![];
        let l = &body[list.clone()];
        let mut i = 0;
        for tok in l.split([',', ' ', '\t']) {
            if !tok.is_empty() {
                items.push(Listed { span: base + list.start + i..base + list.start + i + tok.len(), text: tok.to_string() });
            }
            i += tok.len() + 1;
        }
        let d_end = range.start + h + 1 + part.trim_end().len();
        out.push(Directive { span: range.start + at..d_end, items });
    }
    out
}

/// AG900: the suppression comments of `comments` (by line) whose listed codes of enabled
/// rules of `lang` suppressed nothing. `used` holds `(line, code, name)` of every finding that
/// a suppression removed, `line` being where its comment sits ([`comment_line`]).
pub fn unused(
    src: &str,
    lang: crate::syntax::Lang,
    comments: &HashMap<usize, Vec<Range<usize>>>,
    used: &[(usize, &str, &str)],
    settings: &crate::settings::Settings,
) -> Vec<Finding> {
    use crate::fix::{Applicability, Edit, Fix};
    let meta = &crate::rules::ag900_unused_suppression::META;
    let rule_of = |t: &str| {
        crate::rules::RULES.iter().map(|r| r.meta()).find(|m| m.code.eq_ignore_ascii_case(t) || m.name == t)
    };
    let mut lines: Vec<&usize> = comments.keys().collect();
    lines.sort();
    let mut out = vec![];
    for &line in lines {
        for range in &comments[&line] {
            if lang == crate::syntax::Lang::Rust && !src[range.clone()].starts_with("//") {
                continue; // block comments hold no directive
            }
            let marker = if lang == crate::syntax::Lang::Python { "#" } else { "//" };
            let ds = directives(src, range.clone(), marker);
            let mut edits = vec![];
            let mut names = vec![];
            for d in &ds {
                let unused: Vec<bool> = d
                    .items
                    .iter()
                    .map(|it| {
                        rule_of(&it.text).is_some_and(|m| {
                            m.lang == lang
                                && m.code != meta.code
                                && settings.is_enabled(m.code)
                                && !used.iter().any(|(l, c, _)| *l == line && *c == m.code)
                        })
                    })
                    .collect();
                if !unused.iter().any(|&u| u) {
                    continue;
                }
                names.extend(d.items.iter().zip(&unused).filter(|(_, &u)| u).map(|(it, _)| format!("`{}`", it.text)));
                if unused.iter().all(|&u| u) {
                    // The whole directive goes, with the spaces before it; other text of
                    // the comment (`# type: ignore`) stays.
                    let before = src[..d.span.start].trim_end_matches([' ', '\t']).len();
                    edits.push(Edit::replace(before..d.span.end, ""));
                    continue;
                }
                let kept: Vec<usize> = (0..d.items.len()).filter(|&i| !unused[i]).collect();
                for (i, it) in d.items.iter().enumerate().filter(|(i, _)| unused[*i]) {
                    // The item and the separator after it; the last item the one before it.
                    let range = if let Some(next) = d.items.get(i + 1) {
                        it.span.start..next.span.start
                    } else {
                        let prev = (0..i).rev().find(|j| kept.contains(j)).map(|j| d.items[j].span.end).unwrap_or(it.span.start);
                        prev..it.span.end
                    };
                    edits.push(Edit::replace(range, ""));
                }
            }
            if names.is_empty() {
                continue;
            }
            // Removals within one list may touch (two neighbours): merge them.
            edits.sort_by_key(|e| e.range.start);
            let mut merged: Vec<Edit> = vec![];
            for e in edits {
                match merged.last_mut() {
                    Some(last) if e.range.start <= last.range.end => last.range.end = last.range.end.max(e.range.end),
                    _ => merged.push(e),
                }
            }
            let fixes = if merged.is_empty() {
                vec![]
            } else {
                vec![Fix { title: "Remove the unused suppression".into(), applicability: Applicability::Safe, edits: merged }]
            };
            let message = format!("Unused suppression of {}", names.join(", "));
            out.push(Finding::new(meta, range.clone(), message, fixes));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(parse("# awaitguard: ignore[AG101]"), Some(Covers::Codes(vec!["AG101".into()])));
        assert_eq!(parse("# awaitguard: ignore[sync-orm-call, AG102]"), Some(Covers::Codes(vec!["sync-orm-call".into(), "AG102".into()])));
        assert_eq!(parse("# awaitguard: ignore"), Some(Covers::All));
        assert_eq!(parse("# noqa: AG101"), Some(Covers::Codes(vec!["AG101".into()])));
        assert_eq!(parse("# noqa:AG101,AG102"), Some(Covers::Codes(vec!["AG101".into(), "AG102".into()])));
        assert_eq!(parse("# noqa"), Some(Covers::All));
        assert_eq!(parse("# type: ignore  # noqa: AG101"), Some(Covers::Codes(vec!["AG101".into()])));
        assert_eq!(parse("# a normal comment"), None);
        assert_eq!(parse("# noqantastic"), None);
        assert!(!parse("# noqa: E501").unwrap().covers("AG101", "sync-orm-call"));
        assert_eq!(parse("// awaitguard: ignore[AG501]"), Some(Covers::Codes(vec!["AG501".into()])));
    }

    #[test]
    fn rust_directives_end_at_the_next_line_comment_marker() {
        assert_eq!(parse("// noqa: AG501 // why"), Some(Covers::Codes(vec!["AG501".into()])));
        let src = "x; // awaitguard: ignore[AG501, AG502] // note\n";
        let ds = directives(src, 3..src.len() - 1, "//");
        assert_eq!(ds.len(), 1);
        assert_eq!(&src[ds[0].span.clone()], "// awaitguard: ignore[AG501, AG502]");
        assert_eq!(ds[0].items.iter().map(|i| &src[i.span.clone()]).collect::<Vec<_>>(), ["AG501", "AG502"]);
    }

    fn line_for(lang: crate::syntax::Lang, src: &str, line: usize) -> Option<usize> {
        let tree = crate::syntax::parse(lang, src, None);
        comment_line(src, &LineIndex::new(src), &tree, line)
    }

    #[test]
    fn comment_line_follows_multi_line_strings_and_continuations() {
        use crate::syntax::Lang::{Python, Rust};
        let py = "a = f(\"\"\"x\ny\n\"\"\")\nb = g(1) + \\\n    h(\n    2)\nc = 1  # note \\\nd = f\"\"\"{\n1}\"\"\"; e = \"\"\"\n\"\"\"\n";
        assert_eq!(line_for(Python, py, 0), Some(2), "the string's last line");
        assert_eq!(line_for(Python, py, 3), Some(4), "after the continuation, not to the bracket's end");
        assert_eq!(line_for(Python, py, 6), Some(6), "a `\\` in a comment continues nothing");
        assert_eq!(line_for(Python, py, 7), Some(9), "an f-string, then a second string on its end line");
        assert_eq!(line_for(Python, "a = 1 + \\", 0), None, "nothing follows");
        let rs = "fn f() {\n    q(r\"x\n    y\").run(); // c\n    let s = \"a\\\n    b\";\n}\n";
        assert_eq!(line_for(Rust, rs, 1), Some(2));
        assert_eq!(line_for(Rust, rs, 2), Some(2));
        assert_eq!(line_for(Rust, rs, 3), Some(4), "a `\\` inside a string literal");
    }
}


