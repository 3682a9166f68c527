//! Suppression comments on the line where a finding starts:
//! `# awaitguard: ignore[AG101]`, `# awaitguard: ignore[sync-orm-call, AG102]`, a bare
//! `# awaitguard: ignore`, `# noqa: AG101` and a bare `# noqa` (Python); `// awaitguard: …`
//! (Rust). Codes and kebab names are both accepted, case-insensitively for codes.

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

/// Parses one comment's text. `None`: not a suppression.
pub fn parse(comment: &str) -> Option<Covers> {
    let body = comment.trim_start_matches(['#', '/']).trim();
    // A comment may hold several directives ("# type: ignore  # noqa: AG101").
    let mut covers: Option<Covers> = None;
    for part in body.split('#').map(str::trim) {
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

/// True when a comment on the finding's first line suppresses it. `comments` maps a line to
/// its comment ranges (from the tree); without it (Rust for now), the line is scanned.
pub fn is_suppressed(
    src: &str,
    index: &LineIndex,
    comments: Option<&HashMap<usize, Vec<Range<usize>>>>,
    f: &Finding,
) -> bool {
    let line = index.line_of(f.range.start);
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
/// `None` where a comment cannot go (the line ends inside a string, or with a `\`).
pub fn suppress_edit(
    src: &str,
    index: &LineIndex,
    tree: &tree_sitter::Tree,
    lang: crate::syntax::Lang,
    line: usize,
    code: &str,
) -> Option<crate::fix::Edit> {
    use crate::fix::Edit;
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
    if text.trim_end().ends_with('\\') {
        return None;
    }
    // Inside a multi-line string or comment-less token spanning the line end?
    if trimmed_end > range.start {
        let node = tree.root_node().descendant_for_byte_range(trimmed_end - 1, trimmed_end)?;
        let mut n = Some(node);
        while let Some(x) = n {
            if matches!(x.kind(), "string" | "string_content" | "raw_string_literal" | "string_literal" | "block_comment")
                && x.end_byte() > range.end
            {
                return None;
            }
            n = x.parent();
        }
    }
    Some(Edit::insert(trimmed_end, format!("  {marker} awaitguard: ignore[{code}]")))
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
}


