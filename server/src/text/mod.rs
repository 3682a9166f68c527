//! Document text, line index and position conversion.
//!
//! Invariants:
//! - Every offset handed out by this module is a byte offset on a `char` boundary of the
//!   text it was computed for. Positions coming from a client are *clamped*, never trusted:
//!   a line past the end maps to the end of the text, a column past the end of its line maps
//!   to the end of that line (before the terminator), and a column that splits a character
//!   (half a surrogate pair) maps to the start of that character.
//! - Lines end at `\n`, `\r\n` or a lone `\r` (the LSP definition). tree-sitter counts rows
//!   by `\n` only, so [`LineIndex::ts_point`] is computed separately for `InputEdit`s.
//! - Nothing here knows LSP types: a [`Pos`] is a plain (line, column) pair whose column unit
//!   is given by an [`Encoding`].
//! - A file's bytes become text as Python decodes them ([`source`]: UTF-8, or the encoding of
//!   a PEP 263 coding declaration), the same for `check`, the server and the project model.

mod document;
pub mod source;

pub use document::{Change, Document};

/// The unit of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

/// A zero-based line and a column in some [`Encoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// Start offsets of every line of a text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset where each line starts (LSP lines). Always starts with 0.
    starts: Vec<usize>,
    /// Byte offset where each `\n`-terminated row starts (tree-sitter rows). `None` when the
    /// text has no lone `\r`, in which case rows and lines coincide.
    ts_rows: Option<Vec<usize>>,
    /// True when the text is pure ASCII: every encoding is then the byte offset.
    ascii: bool,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut lone_cr = false;
        let mut i = 0;
        while let Some(off) = memchr2(b'\n', b'\r', &bytes[i..]) {
            let at = i + off;
            if bytes[at] == b'\r' {
                if bytes.get(at + 1) == Some(&b'\n') {
                    starts.push(at + 2);
                    i = at + 2;
                    continue;
                }
                lone_cr = true;
            }
            starts.push(at + 1);
            i = at + 1;
        }
        let ts_rows = lone_cr.then(|| {
            let mut rows = vec![0];
            rows.extend(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
            rows
        });
        LineIndex { starts, ts_rows, ascii: text.is_ascii() }
    }

    /// Updates the index after `range` of the old text was replaced by `inserted_len` bytes:
    /// `text` is the new text. Equal to `LineIndex::new(text)` (tested); only the lines around
    /// the edit are rescanned, the others' starts are kept or shifted. A text with a lone `\r`
    /// (before or after) is indexed from scratch.
    pub fn replace(&mut self, text: &str, range: std::ops::Range<usize>, inserted_len: usize) {
        let (start, end, n) = (range.start, range.end, inserted_len);
        let bytes = text.as_bytes();
        if self.ts_rows.is_some() || end < start || start + n > bytes.len() {
            *self = LineIndex::new(text);
            return;
        }
        // A line starts at i + 1 when text[i] is `\n`, or a `\r` not followed by `\n`; that
        // depends on text[i] and text[i + 1]. Starts s < start depend on unchanged bytes only,
        // so do (shifted) old starts s >= end + 1; those between come from a rescan.
        let delta = (start + n) as isize - end as isize;
        let keep = self.starts.partition_point(|&s| s < start);
        let tail = self.starts.partition_point(|&s| s < end + 1);
        let mut mid = Vec::new();
        if start == 0 {
            mid.push(0);
        }
        for i in start.saturating_sub(1)..start + n {
            match bytes[i] {
                b'\n' => mid.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                    // A lone `\r` (tree-sitter rows differ from lines): from scratch.
                    *self = LineIndex::new(text);
                    return;
                }
                _ => {}
            }
        }
        for s in &mut self.starts[tail..] {
            *s = (*s as isize + delta) as usize;
        }
        self.starts.splice(keep..tail, mid);
        self.ascii = if self.ascii { text[start..start + n].is_ascii() } else { text.is_ascii() };
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The zero-based line that holds `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte range of a line's content, without its terminator.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line];
        let mut end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let b = text.as_bytes();
        if end > start && b[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && b[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// Converts a byte offset (clamped to the text, moved back to a char boundary) to a position.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Pos {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let range = self.line_range(text, line);
        let upto = &text[range.start..offset.min(range.end).max(range.start)];
        // An offset inside a line terminator (between \r and \n) counts as its end.
        let col = if self.ascii { upto.len() } else { measure(upto, enc) };
        Pos { line: line as u32, col: col as u32 }
    }

    /// Converts a position to a byte offset, clamping per the invariants above.
    pub fn offset(&self, text: &str, pos: Pos, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let range = self.line_range(text, line);
        let want = pos.col as usize;
        if self.ascii || enc == Encoding::Utf8 {
            let off = range.start + want.min(range.len());
            return floor_char_boundary(text, off);
        }
        let mut units = 0usize;
        for (i, ch) in text[range.clone()].char_indices() {
            let w = match enc {
                Encoding::Utf16 => ch.len_utf16(),
                _ => 1,
            };
            if units + w > want {
                return range.start + i;
            }
            units += w;
        }
        range.end
    }

    /// tree-sitter's point (row by `\n`, column in bytes) for a byte offset.
    pub fn ts_point(&self, offset: usize) -> tree_sitter::Point {
        let rows = self.ts_rows.as_deref().unwrap_or(&self.starts);
        let row = match rows.binary_search(&offset) {
            Ok(r) => r,
            Err(next) => next - 1,
        };
        tree_sitter::Point { row, column: offset - rows[row] }
    }
}

/// Length of `s` in the units of `enc`.
pub fn measure(s: &str, enc: Encoding) -> usize {
    match enc {
        Encoding::Utf8 => s.len(),
        Encoding::Utf16 => s.chars().map(char::len_utf16).sum(),
        Encoding::Utf32 => s.chars().count(),
    }
}

/// The largest char boundary `<= offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    if offset >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn memchr2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == a || c == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_astral_and_crlf() {
        let text = "a😀b\r\nxy\rz\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        // 'b' is after a surrogate pair: utf16 col 3, utf32 col 2, utf8 col 5
        let b = text.find('b').unwrap();
        assert_eq!(idx.position(text, b, Encoding::Utf16), Pos { line: 0, col: 3 });
        assert_eq!(idx.position(text, b, Encoding::Utf32), Pos { line: 0, col: 2 });
        assert_eq!(idx.position(text, b, Encoding::Utf8), Pos { line: 0, col: 5 });
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let p = idx.position(text, b, enc);
            assert_eq!(idx.offset(text, p, enc), b);
        }
        // half a surrogate pair clamps to the char start
        assert_eq!(idx.offset(text, Pos { line: 0, col: 2 }, Encoding::Utf16), 1);
        // column past the end of the line clamps before the terminator
        assert_eq!(idx.offset(text, Pos { line: 0, col: 99 }, Encoding::Utf16), b + 1);
        // lone \r is a line break for LSP
        let z = text.find('z').unwrap();
        assert_eq!(idx.position(text, z, Encoding::Utf16), Pos { line: 2, col: 0 });
        // but not for tree-sitter
        assert_eq!(idx.ts_point(z).row, 1);
        // line past the end clamps to the end
        assert_eq!(idx.offset(text, Pos { line: 40, col: 0 }, Encoding::Utf8), text.len());
    }

    #[test]
    fn replace_equals_a_fresh_index() {
        let texts = ["", "a", "\n", "\r\n", "ab\ncd\r\nef\n", "x\r\n\r\ny", "é\n😀\r\nz", "a\rb\nc"];
        let inserts = ["", "\n", "\r", "\r\n", "q", "é", "\n\n", "\rx", "x\r"];
        for old in texts {
            for start in 0..=old.len() {
                for end in start..=old.len() {
                    if !old.is_char_boundary(start) || !old.is_char_boundary(end) {
                        continue;
                    }
                    for ins in inserts {
                        let mut new = old.to_string();
                        new.replace_range(start..end, ins);
                        let mut idx = LineIndex::new(old);
                        idx.replace(&new, start..end, ins.len());
                        assert_eq!(idx, LineIndex::new(&new), "{old:?} [{start}..{end}] <- {ins:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn tabs_are_one_unit() {
        let text = "\tx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 1, Encoding::Utf16), Pos { line: 0, col: 1 });
    }
}

/// A short, single-line rendering of source text for messages: as is when it fits, else with
/// call arguments collapsed (`Book.objects.filter(…)`), else `…`.
pub fn short(text: &str, max: usize) -> String {
    let t = text.trim();
    let fits = |s: &str| !s.contains('\n') && s.chars().count() <= max;
    if fits(t) {
        return t.to_string();
    }
    let mut out = String::new();
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '(' | '[' | '{' => {
                if depth == 0 {
                    out.push(c);
                    out.push('…');
                }
                depth += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(c);
                }
            }
            _ if depth == 0 && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    if fits(&out) { out } else { "…".into() }
}
