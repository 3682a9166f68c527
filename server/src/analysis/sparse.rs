//! Sparse parsing for `check`: the bodies of sync functions that no rule can look at are
//! blanked out before parsing, so tree-sitter parses (and the model and queries walk) only
//! what can matter.
//!
//! A *unit* is a module-level `def` or a `def` directly in the body of a module-level
//! `class` (as in [`crate::analysis::incremental`]). [`mask`] replaces the body of a sync unit
//! with `pass` followed by spaces (newlines kept, so the text keeps its length and its line
//! structure) when:
//! - the unit (decorators, header and body) holds no *hot* position: an occurrence of a
//!   trigger of a rule that runs on the file ([`crate::analysis::triggers::hot_positions`]);
//! - its body holds no *event* word ([`crate::semantic::python::EVENT_WORDS`]): nothing in
//!   it reaches the file-wide facts of the semantic model (imports, nested definitions,
//!   offloaded names), so it contributes only facts local to itself;
//! - its body starts on a line of its own and is at least 4 bytes long.
//!
//! A sync unit with no hot position whose body's event words are all `import`, `def` or
//! `class` is *thinned* instead: each statement of its body (with its decorators and its
//! `else`/`elif`/`except`/`finally` clauses) that holds no event word is blanked, and a nested
//! `def` that stays is thinned the same way (its body becomes `pass` when it holds no event
//! word). Those words record facts of their own statement only (the import; the nested
//! definition's header, decorators and body), so the model's file-wide facts are those of the
//! full text. What is blanked only binds names in the unit's scopes, which nothing outside the
//! unit sees, and no rule reports inside a unit without a hot position. A body holding an
//! offloader is left whole: its call's argument may name a local. When no statement would
//! stay (the event word is in a comment), the unit is left whole.
//!
//! Nothing is masked when a hot position of a rule that follows assignments across scopes
//! (`select_for_update`) lies outside every unit, when the file imports `sync_to_async` under
//! another name (AG302 reports at calls of the bridge, found through the imports), or when the scanner meets text it does not
//! fully understand (tabs or form feeds in indentation, a lone `\r`, an unterminated string or
//! bracket, a character that is not Python outside strings and comments, inconsistent
//! indentation, a nested f-string quote): the caller then parses the original text.
//!
//! Invariants:
//! - The masked text has the same length as the original and the same bytes outside the
//!   masked ranges; every masked range is the whole body (first statement to the end of the
//!   last statement's line) of one sync unit or of a `def` nested in one, or whole statements
//!   of such a body, as CPython's tokenizer splits the file into logical lines and blocks;
//!   every block keeps at least one statement (`pass` or one holding an event word). The scanner follows that tokenizer (strings with prefixes,
//!   triple quotes and f-string replacement fields, comments, brackets, backslash
//!   continuations, INDENT/DEDENT rules).
//! - Why findings do not change: rules that report in sync code report at (or, for
//!   `select_for_update`, through assignments from) an occurrence of their trigger, or (AG302)
//!   at a call of `sync_to_async`, an event word unless renamed; rules that
//!   report in async code report inside an `async def`, whose unit holds the `async` token;
//!   and what a masked body contributes to the model is local to that body (the argument of
//!   [`crate::semantic::PyModel::build_skipping`]). When a finding, a fix or a function the rules
//!   consulted reaches into a masked range, the caller masks again with the units holding
//!   those ranges kept whole (a bounded number of rounds); it re-parses the original text
//!   when the masked tree has a syntax error or the last round still reaches a masked range, and
//!   `check --no-prefilter` (full parse) is compared with the default on real corpora
//!   (`bench/run.sh`) and on every fixture (`tests/check_cli.rs`).
//! - [`mask_data`] (summaries only, never `check`'s analysis) also blanks the inside of a
//!   module-level data table (a bracketed literal of strings, numbers and constants of at
//!   least [`DATA_LITERAL_MIN`] bytes): length and lines kept, the name bound to an empty
//!   literal; what a summary records is the same (tested in `project::python`).
//! - A syntax error inside a masked body is not seen (check reports no syntax errors; the
//!   code around it is analysed as Python would run it).

use aho_corasick::{AhoCorasick, MatchKind};
use std::ops::Range;
use std::sync::OnceLock;

/// The original text with some sync function bodies blanked, and the blanked ranges.
pub struct Masked {
    pub text: String,
    /// The blanked ranges, in order: whole bodies (which start with `pass`) and statements;
    /// with [`mask_data`], also the insides of data tables.
    pub ranges: Vec<Range<usize>>,
    /// What the parser does not read: the ranges after their `pass`, and the blanked
    /// statements from the start of their first line.
    skip: Vec<Range<usize>>,
}

/// What a logical line starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Head {
    Def,
    AsyncDef,
    Class,
    Decorator,
    Other,
}

/// A logical line: `start` is its first byte (after the indentation), `end` the end of its
/// last physical line (before the newline), `indent` its indentation in columns.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    indent: usize,
    head: Head,
    /// The last token is `:` (a block header).
    colon: bool,
}

const PREFIXES: &[&str] = &["r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"];

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Scans a string whose opening quote is at `i`; returns the index after its closing quote.
/// `None`: unterminated, or something the scanner does not follow.
fn string(s: &[u8], mut i: usize, f: bool) -> Option<usize> {
    let q = s[i];
    let triple = s.get(i + 1) == Some(&q) && s.get(i + 2) == Some(&q);
    i += if triple { 3 } else { 1 };
    loop {
        let c = *s.get(i)?;
        match c {
            b'\\' => {
                i += if s.get(i + 1) == Some(&b'\r') && s.get(i + 2) == Some(&b'\n') { 3 } else { 2 };
            }
            b'\n' | b'\r' if !triple => return None,
            b'\r' if s.get(i + 1) != Some(&b'\n') => return None,
            _ if c == q => {
                if !triple {
                    return Some(i + 1);
                }
                if s.get(i + 1) == Some(&q) && s.get(i + 2) == Some(&q) {
                    return Some(i + 3);
                }
                i += 1;
            }
            b'{' if f => {
                if s.get(i + 1) == Some(&b'{') {
                    i += 2;
                } else {
                    i = field(s, i + 1, q, triple)?;
                }
            }
            b'}' if f => {
                if s.get(i + 1) == Some(&b'}') {
                    i += 2;
                } else {
                    return None;
                }
            }
            _ => i += 1,
        }
    }
}

/// Scans an f-string replacement field from just after its `{`; returns the index after its
/// `}`. A nested string with the enclosing quote, a comment or (in a one-line string) a
/// newline gives up.
fn field(s: &[u8], mut i: usize, q: u8, triple: bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut spec = false;
    loop {
        let c = *s.get(i)?;
        match c {
            b'\n' | b'\r' if !triple => return None,
            b'#' | b'\\' if !spec => return None,
            b'\'' | b'"' if !spec => {
                if c == q {
                    return None;
                }
                i = string(s, i, prefix_is_f(s, i))?;
            }
            b'(' | b'[' | b'{' if !spec => {
                depth += 1;
                i += 1;
            }
            b')' | b']' if !spec => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i + 1),
            b'}' if !spec => {
                depth -= 1;
                i += 1;
            }
            b'{' => i = field(s, i + 1, q, triple)?,
            b':' if depth == 0 && !spec => {
                spec = true;
                i += 1;
            }
            _ if c == q => return None,
            _ => i += 1,
        }
    }
}

/// Whether the identifier run just before the quote at `i` makes its string an f-string (or
/// a template string, whose fields scan the same way).
fn prefix_is_f(s: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0 && is_ident(s[j - 1]) {
        j -= 1;
    }
    let p = std::str::from_utf8(&s[j..i]).unwrap_or("").to_ascii_lowercase();
    PREFIXES.contains(&p.as_str()) && (p.contains('f') || p.contains('t'))
}

/// The logical lines of `src`, or `None` when the scanner gives up.
fn logical_lines(src: &str) -> Option<Vec<Line>> {
    let s = src.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < s.len() {
        // At the start of a physical line that begins a logical line.
        let mut indent = 0;
        while i < s.len() && s[i] == b' ' {
            indent += 1;
            i += 1;
        }
        match s.get(i) {
            None => break,
            Some(b'\n') => {
                i += 1;
                continue;
            }
            Some(b'\r') if s.get(i + 1) == Some(&b'\n') => {
                i += 2;
                continue;
            }
            Some(b'#') => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            Some(b'\t' | b'\x0c' | b'\r' | 0) => return None,
            _ => {}
        }
        let start = i;
        let word_end = s[i..].iter().position(|b| !is_ident(*b)).map_or(s.len(), |n| i + n);
        let head = match &src[i..word_end] {
            "def" => Head::Def,
            "class" => Head::Class,
            "async" => {
                let mut j = word_end;
                while j < s.len() && s[j] == b' ' {
                    j += 1;
                }
                if s[j..].starts_with(b"def") && s.get(j + 3).is_none_or(|b| !is_ident(*b)) {
                    Head::AsyncDef
                } else {
                    Head::Other
                }
            }
            "" if s[i] == b'@' => Head::Decorator,
            _ => Head::Other,
        };
        // Tokens to the end of the logical line.
        let mut depth = 0usize;
        let mut last = 0u8;
        let end;
        loop {
            let Some(&c) = s.get(i) else {
                if depth > 0 {
                    return None;
                }
                end = i;
                break;
            };
            match c {
                b'\n' | b'\r' => {
                    if c == b'\r' && s.get(i + 1) != Some(&b'\n') {
                        return None;
                    }
                    if depth == 0 {
                        end = i;
                        i += if c == b'\r' { 2 } else { 1 };
                        break;
                    }
                    i += 1;
                }
                b'#' => {
                    while i < s.len() && s[i] != b'\n' && s[i] != b'\r' {
                        i += 1;
                    }
                }
                b'\\' => match (s.get(i + 1), s.get(i + 2)) {
                    (Some(b'\n'), _) => i += 2,
                    (Some(b'\r'), Some(b'\n')) => i += 3,
                    _ => return None,
                },
                b'\'' | b'"' => {
                    i = string(s, i, prefix_is_f(s, i))?;
                    last = c;
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    last = c;
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    last = c;
                    i += 1;
                }
                b' ' | b'\t' | b'\x0c' => i += 1,
                b'!' if s.get(i + 1) != Some(&b'=') => return None,
                b'$' | b'?' | b'`' | 0 => return None,
                _ if !c.is_ascii() => return None,
                _ => {
                    last = c;
                    i += 1;
                }
            }
        }
        out.push(Line { start, end, indent, head, colon: last == b':' });
    }
    Some(out)
}

/// Checks CPython's indentation rules over the logical lines: a block header is followed by a
/// deeper line, a deeper line follows a header, a dedent returns to an enclosing level.
fn indentation_is_consistent(lines: &[Line]) -> bool {
    let mut stack = vec![0usize];
    let mut after_header = false;
    for l in lines {
        let top = *stack.last().unwrap_or(&0);
        if l.indent > top {
            if !after_header {
                return false;
            }
            stack.push(l.indent);
        } else {
            if after_header {
                return false;
            }
            while l.indent < *stack.last().unwrap_or(&0) {
                stack.pop();
            }
            if *stack.last().unwrap_or(&0) != l.indent {
                return false;
            }
        }
        after_header = l.colon;
    }
    !after_header
}

/// A unit: from its first decorator (or `def`) to the end of its body; its body; async or not.
struct Unit {
    whole: Range<usize>,
    body: Range<usize>,
    /// The body's logical lines (indices into the file's lines).
    body_lines: Range<usize>,
    is_async: bool,
}

/// The statement at `lines[k]` (indentation `indent`), with its decorators: returns the index
/// of the first line after it, and the unit it is when it is a block-bodied `def`.
fn statement(lines: &[Line], mut k: usize, indent: usize) -> (usize, Option<Unit>, Head) {
    let whole_start = lines[k].start;
    while k + 1 < lines.len() && lines[k].head == Head::Decorator && lines[k + 1].indent == indent {
        k += 1;
    }
    let header = lines[k];
    let mut j = k + 1;
    while j < lines.len() && lines[j].indent > indent {
        j += 1;
    }
    let unit = match header.head {
        Head::Def | Head::AsyncDef if header.colon && j > k + 1 => Some(Unit {
            whole: whole_start..lines[j - 1].end,
            body: lines[k + 1].start..lines[j - 1].end,
            body_lines: k + 1..j,
            is_async: header.head == Head::AsyncDef,
        }),
        _ => None,
    };
    (j, unit, header.head)
}

/// The units of a file, from its logical lines (indentation already checked).
fn units(lines: &[Line]) -> Vec<Unit> {
    let mut out = vec![];
    let mut k = 0;
    while k < lines.len() {
        let (next, unit, head) = statement(lines, k, 0);
        out.extend(unit);
        if head == Head::Class && lines.get(next - 1).is_some_and(|l| l.indent > 0) {
            // The class body: the lines after the header, at the first one's indentation.
            let header = (k..next).find(|&i| lines[i].head == Head::Class).unwrap_or(k);
            let mut c = header + 1;
            let body_indent = lines[c].indent;
            while c < next {
                let (after, unit, _) = statement(lines, c, body_indent);
                out.extend(unit);
                c = after;
            }
        }
        k = next;
    }
    out
}

/// True when `src` imports an async bridge under another name (`from asgiref.sync import
/// sync_to_async as s2a`): AG302 resolves calls through the imports, so `s2a(f)` in a sync
/// function is one of its sites although it holds no event word.
fn renames_a_bridge(src: &str) -> bool {
    let s = src.as_bytes();
    src.match_indices("sync_to_async").any(|(i, w)| {
        let mut j = i + w.len();
        while j < s.len() && (s[j].is_ascii_whitespace() || s[j] == b'\\') {
            j += 1;
        }
        s[j..].starts_with(b"as") && s.get(j + 2).is_none_or(|b| !is_ident(*b))
    })
}

/// Event words whose occurrence records a fact of its own statement only: the import, or the
/// nested definition with its header (the offloaders' calls resolve their arguments, which
/// may name locals, so a body holding one is not thinned).
const STATEMENT_EVENTS: &[&str] = &["import", "def", "class"];

/// The statements of a body (`lines[body]`, indented `indent`), as ranges of line indices:
/// each with its decorators and its `else`/`elif`/`except`/`finally` clauses.
fn statements(src: &str, lines: &[Line], body: Range<usize>) -> Vec<Range<usize>> {
    let indent = lines[body.start].indent;
    let clause = |l: &Line| {
        let rest = &src[l.start..];
        let word = rest.bytes().take_while(|b| is_ident(*b)).count();
        matches!(&rest[..word], "else" | "elif" | "except" | "finally")
    };
    let mut out = vec![];
    let mut i = body.start;
    while i < body.end {
        let start = i;
        while i + 1 < body.end && lines[i].head == Head::Decorator && lines[i + 1].indent == indent {
            i += 1;
        }
        i += 1;
        loop {
            while i < body.end && lines[i].indent > indent {
                i += 1;
            }
            if i < body.end && lines[i].indent == indent && clause(&lines[i]) {
                i += 1;
                continue;
            }
            break;
        }
        out.push(start..i);
    }
    out
}

/// What [`thin`] blanks: a whole body (to become `pass`), or statements.
enum Cut {
    Body(Range<usize>),
    Statements(Range<usize>),
}

/// Starts of `ps` (sorted) inside `r`.
fn in_range<'p>(ps: &'p [usize], r: &Range<usize>) -> &'p [usize] {
    let k = ps.partition_point(|&p| p < r.start);
    &ps[k..k + ps[k..].partition_point(|&p| p < r.end)]
}

/// The cuts that leave of the block `lines[block]` only its statements that hold an event
/// position, and of a nested `def` so kept, its header and (the same way) what of its body
/// holds one. `None` when no statement would stay (an event word only in a comment).
fn thin(src: &str, lines: &[Line], events: &[usize], block: Range<usize>) -> Option<Vec<Cut>> {
    let span = |r: &Range<usize>| lines[r.start].start..lines[r.end - 1].end;
    let mut cuts = vec![];
    let mut kept = false;
    for r in statements(src, lines, block) {
        if in_range(events, &span(&r)).is_empty() {
            cuts.push(Cut::Statements(span(&r)));
            continue;
        }
        kept = true;
        let header = (r.start..r.end).find(|&i| lines[i].head != Head::Decorator).unwrap_or(r.start);
        if lines[header].head == Head::Def && lines[header].colon && header + 1 < r.end {
            let body = header + 1..r.end;
            if in_range(events, &span(&body)).is_empty() {
                if span(&body).len() >= 4 {
                    cuts.push(Cut::Body(span(&body)));
                }
            } else if let Some(inner) = thin(src, lines, events, body) {
                cuts.extend(inner);
            }
        }
    }
    kept.then_some(cuts)
}

/// Masks the bodies of the sync units of `src` that hold no position of `hot` (sorted): a
/// body that holds no position of `events` (sorted) becomes `pass`; in one whose events are
/// all [`STATEMENT_EVENTS`], the statements that hold none are blanked. `cross_scope`: hot
/// positions that must all lie inside units for anything to be masked. `None` when nothing is
/// masked.
pub fn mask(src: &str, hot: &[usize], events: &[usize], cross_scope: &[usize]) -> Option<Masked> {
    if renames_a_bridge(src) {
        return None;
    }
    let lines = logical_lines(src)?;
    if !indentation_is_consistent(&lines) {
        return None;
    }
    let units = units(&lines);
    let within = |ps: &[usize], r: &Range<usize>| !in_range(ps, r).is_empty();
    if cross_scope.iter().any(|&p| !units.iter().any(|u| u.whole.contains(&p))) {
        return None;
    }
    let (mut ranges, mut skip, mut passes) = (vec![], vec![], vec![]);
    for u in units.iter().filter(|u| !u.is_async && u.body.len() >= 4 && !within(hot, &u.whole)) {
        let inside = in_range(events, &u.body);
        if inside.is_empty() {
            ranges.push(u.body.clone());
            passes.push(u.body.start);
            skip.push(u.body.start + 4..u.body.end);
            continue;
        }
        let statement_events = inside.iter().all(|&p| {
            let word = src[p..].bytes().take_while(|b| is_ident(*b)).count();
            STATEMENT_EVENTS.contains(&&src[p..p + word])
        });
        if !statement_events {
            continue;
        }
        if let Some(cuts) = thin(src, &lines, events, u.body_lines.clone()) {
            for c in cuts {
                match c {
                    Cut::Body(r) => {
                        passes.push(r.start);
                        skip.push(r.start + 4..r.end);
                        ranges.push(r);
                    }
                    Cut::Statements(r) => {
                        // The parser skips the indentation too: it reads a blank line.
                        skip.push(src[..r.start].rfind('\n').map_or(0, |n| n + 1)..r.end);
                        ranges.push(r);
                    }
                }
            }
        }
    }
    if ranges.is_empty() {
        return None;
    }
    let mut bytes = src.as_bytes().to_vec();
    for r in &ranges {
        for b in &mut bytes[r.clone()] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    for &at in &passes {
        bytes[at..at + 4].copy_from_slice(b"pass");
    }
    // Only ASCII bytes were written, over whole characters: still UTF-8.
    let text = String::from_utf8(bytes).ok()?;
    Some(Masked { text, ranges, skip })
}

/// The least size of a module-level data table [`mask_data`] blanks: below it, parsing the
/// literal costs less than scanning it twice.
pub const DATA_LITERAL_MIN: usize = 16 * 1024;

/// The index of the bracket that closes the one at `open`, when everything between is
/// literal: strings without replacement fields, numbers, `None`, `True`, `False`, brackets,
/// `,` `:` `.` `+` `-`, white space and comments. `None` at any name, call or operator.
fn data_literal_end(src: &str, open: usize) -> Option<usize> {
    let s = src.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    loop {
        let c = *s.get(i)?;
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
                i += 1;
            }
            b'\'' | b'"' => i = string(s, i, false)?,
            b'#' => {
                while i < s.len() && s[i] != b'\n' && s[i] != b'\r' {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'.' | b'+' | b'-' => i += 1,
            b'0'..=b'9' => {
                while i < s.len() && (is_ident(s[i]) || s[i] == b'.') {
                    i += 1;
                }
            }
            _ if is_ident(c) => {
                let j = i + s[i..].iter().take_while(|b| is_ident(**b)).count();
                let word = src[i..j].to_ascii_lowercase();
                let quoted = matches!(s.get(j), Some(b'\'' | b'"'));
                if quoted && PREFIXES.contains(&word.as_str()) && !word.contains(['f', 't']) {
                    i = string(s, j, false)?;
                } else if !quoted && matches!(&src[i..j], "None" | "True" | "False") {
                    i = j;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// `masked` (`None`: `src` unmasked) with the inside of each module-level data table blanked
/// too: a logical line `NAME = <bracket> … <closing bracket>` (a comment may follow) at
/// indentation 0 whose inside is at least [`DATA_LITERAL_MIN`] bytes of literals only
/// ([`data_literal_end`]). Such a value names nothing and calls nothing, so what a file's
/// summary records does not depend on it; `NAME` stays bound to an empty literal of the same
/// kind. For summaries only ([`crate::project::python::summarize`]): a netbox module of one
/// 6 MB tuple is otherwise parsed whole. `None` when nothing is masked at all.
pub fn mask_data(src: &str, masked: Option<Masked>) -> Option<Masked> {
    if src.len() < DATA_LITERAL_MIN {
        return masked;
    }
    let Some(lines) = logical_lines(src) else { return masked };
    let s = src.as_bytes();
    let spaces = |mut i: usize| {
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut found = vec![];
    for l in lines.iter().filter(|l| l.indent == 0 && l.head == Head::Other && l.end - l.start > DATA_LITERAL_MIN) {
        let name = s[l.start..l.end].iter().take_while(|b| is_ident(**b)).count();
        if name == 0 || s[l.start].is_ascii_digit() {
            continue;
        }
        let eq = spaces(l.start + name);
        if s.get(eq) != Some(&b'=') || s.get(eq + 1) == Some(&b'=') {
            continue;
        }
        let open = spaces(eq + 1);
        if !matches!(s.get(open), Some(b'(' | b'[' | b'{')) {
            continue;
        }
        let Some(close) = data_literal_end(src, open).filter(|&c| c < l.end) else { continue };
        let rest = src[close + 1..l.end].trim_start_matches([' ', '\t']);
        if (rest.is_empty() || rest.starts_with('#')) && close - open > DATA_LITERAL_MIN {
            found.push(open + 1..close);
        }
    }
    if found.is_empty() {
        return masked;
    }
    let (mut bytes, mut ranges, mut skip) = match masked {
        Some(m) => (m.text.into_bytes(), m.ranges, m.skip),
        None => (s.to_vec(), vec![], vec![]),
    };
    for r in &found {
        for b in &mut bytes[r.clone()] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    ranges.extend(found.iter().cloned());
    skip.extend(found);
    ranges.sort_unstable_by_key(|r| r.start);
    skip.sort_unstable_by_key(|r| r.start);
    // Whole characters were overwritten with ASCII (the ends are ASCII brackets).
    let text = String::from_utf8(bytes).ok()?;
    Some(Masked { text, ranges, skip })
}

impl Masked {
    /// What the parser needs to read: everything but [`Masked::skip`] (blank space the lexer
    /// would otherwise step through byte by byte).
    pub fn included(&self, index: &crate::text::LineIndex) -> Vec<tree_sitter::Range> {
        let mut out = vec![];
        let mut from = 0;
        let mut push = |a: usize, b: usize| {
            if a < b {
                out.push(tree_sitter::Range {
                    start_byte: a,
                    end_byte: b,
                    start_point: index.ts_point(a),
                    end_point: index.ts_point(b),
                });
            }
        };
        for r in &self.skip {
            push(from, r.start);
            from = r.end;
        }
        push(from, self.text.len());
        out
    }
}

/// Starts of the whole-identifier occurrences of the model's event words in `src` (sorted).
pub fn event_positions(src: &str) -> Vec<usize> {
    static AUTOMATON: OnceLock<AhoCorasick> = OnceLock::new();
    let ac = AUTOMATON.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(crate::semantic::python::EVENT_WORDS)
            .expect("event automaton builds")
    });
    let s = src.as_bytes();
    ac.find_iter(s)
        .filter(|m| (m.start() == 0 || !is_ident(s[m.start() - 1])) && s.get(m.end()).is_none_or(|b| !is_ident(*b)))
        .map(|m| m.start())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(src: &str) -> Option<String> {
        mask(src, &[], &[], &[]).map(|m| m.text)
    }

    #[test]
    fn blanks_sync_bodies_keeping_length_and_lines() {
        let src = "import os\n\n\ndef f(x):\n    y = x + 1\n    return y\n\n\nasync def g():\n    return 1\n";
        let m = masked(src).unwrap();
        assert_eq!(m.len(), src.len());
        assert_eq!(m.matches('\n').count(), src.matches('\n').count());
        assert!(m.contains("def f(x):\n    pass     \n"), "{m:?}");
        assert!(m.contains("async def g():\n    return 1\n"));
    }

    #[test]
    fn methods_of_module_level_classes_are_units() {
        let src = "class A(B):\n    x = 1\n\n    @property\n    def f(self):\n        return self.x\n\n    class Meta:\n        def g(self):\n            return 2\n";
        let m = masked(src).unwrap();
        assert!(m.contains("def f(self):\n        pass         \n"), "{m:?}");
        assert!(m.contains("return 2"), "a nested class's methods are not units");
    }

    #[test]
    fn bodies_with_imports_or_nested_definitions_keep_only_those_statements() {
        let src = "def deco(f):\n    \"\"\"Doc.\"\"\"\n    from functools import wraps\n    n = 1\n    if n:\n        n += 1\n    elif n > 2:\n        from os import path\n    else:\n        n = 0\n    @wraps(f)\n    def inner(*a):\n        x = f(*a)\n        return x\n    try:\n        y = 2\n    except ImportError:\n        y = 3\n    return inner\n";
        let m = mask(src, &[], &event_positions(src), &[]).unwrap();
        assert_eq!(m.text.len(), src.len());
        assert_eq!(m.text.matches('\n').count(), src.matches('\n').count());
        let kept: Vec<&str> = m.text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(
            kept,
            ["def deco(f):", "from functools import wraps", "if n:", "n += 1", "elif n > 2:", "from os import path", "else:", "n = 0", "@wraps(f)", "def inner(*a):", "pass"],
            "{}",
            m.text
        );
        // Each blanked statement is a range; the nested body is one too.
        assert_eq!(m.ranges.len(), 5, "docstring, n = 1, inner's body, try, return: {:?}", m.ranges);
    }

    #[test]
    fn bodies_with_an_offloader_or_only_commented_events_are_not_thinned() {
        let src = "def f():\n    import os\n    g = os.getcwd\n    return sync_to_async(g)\n";
        assert!(masked_with_events(src).is_none());
        let src = "def f():\n    x = 1\n    # import this\n    return x\n";
        assert!(masked_with_events(src).is_none());
    }

    fn masked_with_events(src: &str) -> Option<String> {
        mask(src, &[], &event_positions(src), &[]).map(|m| m.text)
    }

    #[test]
    fn one_line_bodies_and_hot_or_event_units_stay() {
        assert!(masked("def f(): return 1\n").is_none());
        let src = "def f():\n    return 1\n";
        assert!(mask(src, &[src.find("return").unwrap()], &[], &[]).is_none());
        assert!(mask(src, &[], &[src.find("return").unwrap()], &[]).is_none());
        // A hot position in the decorator keeps the unit.
        let src = "@atomic\ndef f():\n    return 1\n";
        assert!(mask(src, &[1], &[], &[]).is_none());
    }

    #[test]
    fn strings_brackets_and_continuations_do_not_end_lines() {
        let src = "def f():\n    s = '''\ndef g():\n'''\n    t = (1,\n2)\n    u = 1 + \\\n2\n    return f\"{s!r:>{t}} {u['k']}\"\n\n\nx = 1\n";
        let m = masked(src).unwrap();
        assert!(m.ends_with("\n\n\nx = 1\n"));
        assert!(!m.contains("def g"), "the string is part of f's body: {m:?}");
    }

    #[test]
    fn gives_up_on_what_it_does_not_follow() {
        for src in [
            "def f():\n\treturn 1\n",
            "def f():\n    return 'x\n",
            "def f():\n    return (1\n",
            "def f():\n    return 1)\n",
            "def f():\n    return $x\n",
            "def f():\n    return 1\n  x = 2\n",
            "def f():\nreturn 1\n",
            "def f():\n    return f'{\"a\"}' + f\"{'a'}\" + f'{'a'}'\n",
            "def f():\n    return 1\r",
            "def f():\n    return é\n",
        ] {
            assert!(masked(src).is_none(), "{src:?}");
        }
    }

    #[test]
    fn cross_scope_positions_outside_units_mask_nothing() {
        let src = "qs = X.objects.select_for_update()\n\n\ndef f():\n    return list(qs)\n";
        assert!(mask(src, &[], &[], &[5]).is_none());
        let p = src.find("list").unwrap();
        assert!(mask(src, &[], &[], &[p]).is_some());
    }

    #[test]
    fn event_words_are_whole_identifiers() {
        assert_eq!(event_positions("import x\nimported = 1\nx.submit(f)\n_def = 2\n"), vec![0, 24]);
    }

    #[test]
    fn a_renamed_bridge_masks_nothing() {
        let body = "\n\n\ndef f():\n    return s2a(g)\n";
        assert!(masked(&format!("from asgiref.sync import sync_to_async as s2a{body}")).is_none());
        assert!(masked(&format!("from asgiref.sync import (\n    sync_to_async\n    as s2a,\n){body}")).is_none());
        assert!(masked(&format!("from asgiref.sync import sync_to_async{body}")).is_some());
    }

    #[test]
    fn crlf_and_unicode_in_strings() {
        let src = "def f():\r\n    return 'é'\r\n\r\nx = 1\r\n";
        let m = masked(src).unwrap();
        assert_eq!(m.len(), src.len());
        assert!(m.starts_with("def f():\r\n    pass       \r\n\r\nx = 1"), "{m:?}");
    }
}
