//! Property: after any sequence of LSP-style edits (in any position encoding, with astral
//! characters, CRLF and lone CR), the incrementally maintained document equals a fresh parse
//! of the same text: same text, same tree, same findings.

mod common;

use awaitguard::config::Settings;
use awaitguard::rules::analyze;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::{Change, Document, Encoding, LineIndex, Pos};
use proptest::prelude::*;

const BASE: &str = "from django.db import models\nfrom .models import Book\n\n\nasync def view(request, pk):\n    book = Book.objects.get(pk=pk)\n    qs = Book.objects.filter(a=1)\n    n = qs.count()\n    return {\"t\": book.title, \"n\": n}\n\n\ndef sync():\n    return Book.objects.count()\n";

const FRAGMENTS: &[&str] = &[
    "", "x", "\n", "\r\n", "\r", "    ", "\t", "😀", "é", "async ", "await ", "def f():\n    ", "Book.objects.get(pk=1)",
    ".count()", "(", ")", "[", "]", ":", "\"", "'''", "#", "lambda: ", "for b in qs:\n        ", "qs = ", "\u{feff}",
];

#[derive(Debug, Clone)]
struct EditOp {
    start: usize,
    len: usize,
    frag: usize,
    enc: u8,
}

fn edit_strategy() -> impl Strategy<Value = EditOp> {
    (0usize..10_000, 0usize..12, 0usize..FRAGMENTS.len(), 0u8..3).prop_map(|(start, len, frag, enc)| EditOp { start, len, frag, enc })
}

fn encoding(e: u8) -> Encoding {
    match e {
        0 => Encoding::Utf8,
        1 => Encoding::Utf16,
        _ => Encoding::Utf32,
    }
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_fresh(ops in prop::collection::vec(edit_strategy(), 1..24)) {
        let settings = Settings::default();
        let mut doc = Document::new(BASE.to_string(), 1, Lang::Python);
        let mut expected = BASE.to_string();
        for (i, op) in ops.iter().enumerate() {
            let enc = encoding(op.enc);
            // Pick a range on char boundaries of the current text, then express it as
            // positions the way a client would.
            let start = floor(&expected, op.start % (expected.len() + 1));
            let end = floor(&expected, (start + op.len).min(expected.len())).max(start);
            // A range ending between \r and \n cannot be expressed as a position: widen it.
            let end = if end > 0 && end < expected.len() && expected.as_bytes()[end - 1] == b'\r' && expected.as_bytes()[end] == b'\n' { end + 1 } else { end };
            let start = if start > 0 && start < expected.len() && expected.as_bytes()[start - 1] == b'\r' && expected.as_bytes()[start] == b'\n' { start - 1 } else { start };
            let index = LineIndex::new(&expected);
            let a: Pos = index.position(&expected, start, enc);
            let b: Pos = index.position(&expected, end, enc);
            prop_assert_eq!(index.offset(&expected, a, enc), start);
            prop_assert_eq!(index.offset(&expected, b, enc), end);
            let frag = FRAGMENTS[op.frag];
            doc.apply_changes(&[Change { range: Some((a, b)), text: frag.to_string() }], enc, i as i32 + 2);
            expected.replace_range(start..end, frag);
            prop_assert_eq!(&doc.text, &expected);
        }
        let fresh = syntax::parse(Lang::Python, &expected, None);
        prop_assert_eq!(doc.tree.root_node().to_sexp(), fresh.root_node().to_sexp());
        let inc = analyze(&doc.text, Lang::Python, &doc.tree, &doc.index, &settings);
        let index = LineIndex::new(&expected);
        let full = analyze(&expected, Lang::Python, &fresh, &index, &settings);
        prop_assert_eq!(inc.findings, full.findings);
        prop_assert!(inc.errors.is_empty() && full.errors.is_empty());
    }

    #[test]
    fn batched_changes_equal_sequential(ops in prop::collection::vec(edit_strategy(), 1..8)) {
        // Several contentChanges in one didChange are applied in order.
        let mut one = Document::new(BASE.to_string(), 1, Lang::Python);
        let mut seq = Document::new(BASE.to_string(), 1, Lang::Python);
        let mut changes = vec![];
        let mut text = BASE.to_string();
        for op in &ops {
            let index = LineIndex::new(&text);
            let start = floor(&text, op.start % (text.len() + 1));
            let a = index.position(&text, start, Encoding::Utf16);
            let start = index.offset(&text, a, Encoding::Utf16);
            let frag = FRAGMENTS[op.frag];
            changes.push(Change { range: Some((a, a)), text: frag.to_string() });
            seq.apply_changes(&[Change { range: Some((a, a)), text: frag.to_string() }], Encoding::Utf16, 2);
            text.insert_str(start, frag);
        }
        one.apply_changes(&changes, Encoding::Utf16, 2);
        prop_assert_eq!(&one.text, &seq.text);
        prop_assert_eq!(one.tree.root_node().to_sexp(), seq.tree.root_node().to_sexp());
    }
}

#[test]
fn clamps_out_of_range_and_reversed_ranges() {
    let mut doc = Document::new("ab\ncd\n".into(), 1, Lang::Python);
    let far = Pos { line: 99, col: 99 };
    doc.apply_changes(&[Change { range: Some((far, Pos { line: 0, col: 1 })), text: "X".into() }], Encoding::Utf16, 2);
    assert_eq!(doc.text, "aX");
    assert_eq!(doc.tree.root_node().to_sexp(), syntax::parse(Lang::Python, "aX", None).root_node().to_sexp());
}
