//! The reliability invariants, as functions of raw bytes: shared by the coverage-guided fuzz
//! targets (`fuzz/fuzz_targets/*.rs` include this file by path) and by the proptest variants
//! in the normal suite (`tests/fuzz_props.rs`). A violated invariant panics.
//!
//! Nothing here recurses over tree depth (trees are compared with a `TreeCursor` walk), so a
//! 10,000-deep input tests the code under test, not this file.
#![allow(dead_code)]

use awaitguard::config::Settings;
use awaitguard::fix;
use awaitguard::analysis::incremental::analyze_incremental;
use awaitguard::analysis::{analyze, analyze_sparse, fix_all, Analysis};
use awaitguard::syntax::{self, Lang};
use awaitguard::text::{Change, Document, Encoding, LineIndex, Pos};
use tree_sitter::Tree;

/// The stack a tokio worker or blocking-pool thread gets (where the server runs analysis):
/// the checks run on a thread of this size so a deep recursion is caught as it would strike.
pub const SERVER_STACK: usize = 2 * 1024 * 1024;

/// Runs `f` on a thread with the server's stack size; re-raises its panic.
pub fn on_server_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new().stack_size(SERVER_STACK).spawn_scoped(s, f).expect("spawn checker thread");
        match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

fn analyse(text: &str, lang: Lang, tree: &Tree, settings: &Settings) -> Analysis {
    let index = LineIndex::new(text);
    let a = analyze(text, lang, tree, &index, settings);
    assert!(a.errors.is_empty(), "internal errors: {:?}", a.errors);
    a
}

/// Target 1, "text → analysis → fixes re-parse": any bytes (decoded lossily, as the server
/// does with a file that is not UTF-8) in both languages. Every finding's range lies on char
/// boundaries of the text; every fix applies alone and, when the input parsed without error,
/// re-parses without one, and `check`'s sparse parse gives the same findings; fix-all is
/// idempotent.
pub fn check_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let settings = Settings::default();
    for lang in [Lang::Python, Lang::Rust] {
        let tree = syntax::parse(lang, &text, None);
        let clean = !syntax::has_syntax_error(&tree);
        let a = analyse(&text, lang, &tree, &settings);
        for f in &a.findings {
            assert!(
                f.range.start <= f.range.end && text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end),
                "{} range {:?} not on char boundaries",
                f.code,
                f.range
            );
            for fx in &f.fixes {
                let new = fix::apply(&text, &fx.edits)
                    .unwrap_or_else(|| panic!("{} fix `{}` has overlapping or out-of-range edits", f.code, fx.title));
                if clean {
                    let t = syntax::parse(lang, &new, None);
                    assert!(
                        !syntax::has_syntax_error(&t),
                        "{} fix `{}` produced invalid code:\n{new}",
                        f.code,
                        fx.title
                    );
                }
            }
        }
        if clean && lang == Lang::Python {
            // `check`'s sparse parse gives the same findings on any text that parses.
            if let Some(sparse) = analyze_sparse(&text, &settings, &LineIndex::new(&text), None) {
                assert_eq!(sparse.findings, a.findings, "sparse parse changed the findings");
            }
        }
        if let Some(once) = fix_all(&text, lang, &settings, false) {
            let twice = fix_all(&once, lang, &settings, false);
            assert!(twice.is_none(), "fix-all is not idempotent:\nonce:\n{once}\ntwice:\n{}", twice.unwrap_or_default());
        }
    }
}

/// Insertion fragments an edit script may pick by index (the interesting tokens).
pub const FRAGMENTS: &[&str] = &[
    "", "\n", "\r\n", "\r", "    ", "\t", "😀", "é", "\u{feff}", "\0", "async ", "await ", "def f():\n    ",
    "async def v(r):\n    ", "Book.objects.get(pk=1)", ".count()", "(", ")", "[", "]", "{", "}", ":", "\"", "'''",
    "#", "lambda: ", "for b in qs:\n        ", "with transaction.atomic():\n    ", "fn f() {", "async fn g() {",
    "conn.execute(\"x\", [])",
];

/// One decoded `didChange`: its changes and the position encoding of the session.
#[derive(Debug, Clone)]
pub struct ScriptEdit {
    pub enc: Encoding,
    pub changes: Vec<Change>,
}

/// A decoded edit script: a language, an initial text and `didChange`s.
#[derive(Debug, Clone)]
pub struct Script {
    pub lang: Lang,
    pub base: String,
    pub edits: Vec<ScriptEdit>,
}

/// Decodes bytes into a script. Layout: `base text` [`0xFF` `ops`]. 0xFF never occurs in
/// UTF-8, so a plain source file is a script with no edits (seed corpora are source files with
/// an ops tail). The first ops byte picks the language (bit 0: Rust); then each change is
/// `flags line_a col_a line_b col_b n [n bytes]`:
/// flags bits 0-1 encoding (utf-8, utf-16, utf-32, utf-16), bit 2 whole-text replacement,
/// bit 3 "same didChange as the previous change", bits 4-7 the high bits of both lines.
/// A line of 0xFFF and a column of 255 mean `u32::MAX` (far past the end). `n >= 0xE0`
/// inserts `FRAGMENTS[n - 0xE0]`; otherwise the next `n` bytes, decoded lossily.
pub fn decode_script(data: &[u8]) -> Script {
    let (base, ops) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let lang = if ops.first().is_some_and(|b| b & 1 == 1) { Lang::Rust } else { Lang::Python };
    let mut rest = ops.get(1..).unwrap_or(&[]);
    let mut edits: Vec<ScriptEdit> = Vec::new();
    while rest.len() >= 6 {
        let (h, tail) = rest.split_at(6);
        let flags = h[0];
        let hi = ((flags >> 4) as u32) << 8;
        let line = |b: u8| if hi | b as u32 == 0xFFF { u32::MAX } else { hi | b as u32 };
        let col = |b: u8| if b == 255 { u32::MAX } else { b as u32 };
        let n = h[5] as usize;
        let (text, tail) = if n >= 0xE0 {
            (FRAGMENTS[(n - 0xE0) % FRAGMENTS.len()].to_string(), tail)
        } else {
            let n = n.min(tail.len());
            (String::from_utf8_lossy(&tail[..n]).into_owned(), &tail[n..])
        };
        rest = tail;
        let enc = match flags & 3 {
            0 => Encoding::Utf8,
            2 => Encoding::Utf32,
            _ => Encoding::Utf16,
        };
        let range = (flags & 4 == 0).then_some((Pos { line: line(h[1]), col: col(h[2]) }, Pos { line: line(h[3]), col: col(h[4]) }));
        let change = Change { range, text };
        match edits.last_mut() {
            // The encoding is negotiated once per session: a batched change keeps the batch's.
            Some(last) if flags & 8 != 0 => last.changes.push(change),
            _ => edits.push(ScriptEdit { enc, changes: vec![change] }),
        }
    }
    Script { lang, base: String::from_utf8_lossy(base).into_owned(), edits }
}

/// The reference for clamping, written independently of `text::LineIndex` from the LSP spec:
/// a line past the end is the end of the text; a column past the end of its line is the end
/// of the line (before its terminator); a column inside a character is that character's start.
pub fn reference_offset(text: &str, pos: Pos, enc: Encoding) -> usize {
    let b = text.as_bytes();
    let mut line_start = 0;
    let mut line = 0u32;
    while line < pos.line {
        let Some(k) = b[line_start..].iter().position(|&c| c == b'\n' || c == b'\r') else {
            return text.len();
        };
        let at = line_start + k;
        line_start = if b[at] == b'\r' && b.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
        line += 1;
    }
    let line_end = b[line_start..].iter().position(|&c| c == b'\n' || c == b'\r').map_or(text.len(), |k| line_start + k);
    let mut units = 0u64;
    for (i, ch) in text[line_start..line_end].char_indices() {
        let w = match enc {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
            Encoding::Utf32 => 1,
        } as u64;
        if units + w > pos.col as u64 {
            return line_start + i;
        }
        units += w;
    }
    line_end
}

/// Applies one change to a plain string with the reference clamping.
pub fn reference_apply(text: &mut String, change: &Change, enc: Encoding) {
    match change.range {
        None => *text = change.text.clone(),
        Some((a, b)) => {
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            let s = reference_offset(text, a, enc);
            let e = reference_offset(text, b, enc).max(s);
            text.replace_range(s..e, &change.text);
        }
    }
}

/// Asserts two trees are the same: same node kinds, byte ranges and error/missing flags, in
/// the same shape. Iterative (a cursor walk in lockstep).
pub fn assert_same_tree(a: &Tree, b: &Tree) {
    let mut ca = a.walk();
    let mut cb = b.walk();
    loop {
        let (na, nb) = (ca.node(), cb.node());
        assert!(
            na.kind_id() == nb.kind_id()
                && na.byte_range() == nb.byte_range()
                && na.is_missing() == nb.is_missing()
                && na.is_error() == nb.is_error()
                && na.child_count() == nb.child_count()
                && ca.field_id() == cb.field_id(),
            "trees differ at {} {:?} vs {} {:?}",
            na.kind(),
            na.byte_range(),
            nb.kind(),
            nb.byte_range()
        );
        if ca.goto_first_child() {
            assert!(cb.goto_first_child());
            continue;
        }
        loop {
            if ca.goto_next_sibling() {
                assert!(cb.goto_next_sibling());
                break;
            }
            assert!(!cb.goto_next_sibling());
            if !ca.goto_parent() {
                return;
            }
            assert!(cb.goto_parent());
        }
    }
}

/// Target 2, "random LSP edit scripts → final findings equal a fresh analysis of the final
/// text": the script is applied to a [`Document`] one `didChange` at a time; after each, the
/// text equals the reference application; at the end the tree equals a fresh parse and the
/// findings equal a fresh analysis.
pub fn check_script(script: &Script) {
    let settings = Settings::default();
    let mut doc = Document::new(script.base.clone(), 0, script.lang);
    let mut expected = script.base.clone();
    // The server's path: each analysis reuses the previous one's snapshot (focused
    // re-analysis); after every edit it must equal a fresh full analysis.
    let (_, mut snapshot, _) = analyze_incremental(None, doc.text.clone(), doc.lang, &doc.tree, &doc.index, &settings, None);
    for (i, e) in script.edits.iter().enumerate() {
        for c in &e.changes {
            reference_apply(&mut expected, c, e.enc);
        }
        doc.apply_changes(&e.changes, e.enc, i as i32 + 1);
        assert!(doc.text == expected, "text after edit {i} differs from the reference:\n{:?}\n{:?}", doc.text, expected);
        assert_eq!(doc.version, i as i32 + 1);
        let (inc, next, path) = analyze_incremental(Some(&snapshot), doc.text.clone(), doc.lang, &doc.tree, &doc.index, &settings, None);
        assert!(inc.errors.is_empty(), "internal errors: {:?}", inc.errors);
        let fresh = syntax::parse(script.lang, &expected, None);
        let full = analyse(&expected, script.lang, &fresh, &settings);
        assert_eq!(inc.findings, full.findings, "incremental analysis ({path:?}) after edit {i} differs from a full one");
        snapshot = next;
    }
    let fresh = syntax::parse(script.lang, &expected, None);
    assert_same_tree(&doc.tree, &fresh);
    let inc = analyze(&doc.text, script.lang, &doc.tree, &doc.index, &settings);
    assert!(inc.errors.is_empty(), "internal errors: {:?}", inc.errors);
    let full = analyse(&expected, script.lang, &fresh, &settings);
    assert_eq!(inc.findings, full.findings);
}
