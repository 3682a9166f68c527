//! The two fuzz targets (`fuzz/`, cargo-fuzz) as property tests with a modest case count, so
//! the normal suite checks the same invariants on every run: "any text → analysis → every fix
//! re-parses, fix-all idempotent" and "any LSP edit script → final text, tree and findings
//! equal a fresh parse and analysis, and the focused re-analysis after every edit equals a
//! full one". Inputs are built from the shapes that break parsers and
//! position maths (deep nesting, CR/CRLF/LF, BOM, NUL, tabs, astral characters, invalid
//! UTF-8, positions past the end, reversed ranges); crash inputs the fuzzers found are replayed
//! in `fuzz_regressions`.

mod common;

use common::invariants::{self, check_script, check_text, decode_script, on_server_stack, Script, ScriptEdit, FRAGMENTS};
use awaitguard::syntax::Lang;
use awaitguard::text::{Change, Encoding, Pos};
use proptest::prelude::*;

const PY: &str = include_str!("demo/shop/views.py");

/// Pieces of text that stress the parser, the semantic model and position conversion.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(FRAGMENTS).prop_map(|s| s.as_bytes().to_vec()),
        prop::sample::select(vec![
            &b"\xff\xfe"[..], b"\xc3", b"\xed\xa0\x80", b"print 'py2'\n", b"exec \"x\"\n", b"`x`", b"0777L", b"<>",
            b"Book.objects.filter(a=1).first()", b"async def f():\n    x = Book.objects.get()\n", b"\n\n\n",
        ])
        .prop_map(|s| s.to_vec()),
        (0..PY.len(), 1usize..200).prop_map(|(s, n)| PY.as_bytes()[s..(s + n).min(PY.len())].to_vec()),
        (1usize..1000, prop::sample::select(vec!["(", "[", "{", "not ", "-", "lambda: ", "await ", "if x:\n "]))
            .prop_map(|(n, open)| open.repeat(n).into_bytes()),
        prop::collection::vec(any::<u8>(), 0..16),
    ]
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(vec![Encoding::Utf8, Encoding::Utf16, Encoding::Utf32])
}

fn pos() -> impl Strategy<Value = Pos> {
    let line = prop_oneof![0u32..40, Just(u32::MAX)];
    let col = prop_oneof![0u32..90, Just(u32::MAX)];
    (line, col).prop_map(|(line, col)| Pos { line, col })
}

fn change() -> impl Strategy<Value = Change> {
    let text = piece().prop_map(|b| String::from_utf8_lossy(&b).into_owned());
    (prop::option::weighted(0.95, (pos(), pos())), text).prop_map(|(range, text)| Change { range, text })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_text_analyses_and_fixes_reparse(pieces in prop::collection::vec(piece(), 0..12)) {
        let data = pieces.concat();
        on_server_stack(|| check_text(&data));
    }

    #[test]
    fn any_edit_script_equals_fresh_analysis(
        rust in any::<bool>(),
        base in prop::collection::vec(piece(), 0..6),
        edits in prop::collection::vec((encoding(), prop::collection::vec(change(), 1..4)), 0..10),
    ) {
        let script = Script {
            lang: if rust { Lang::Rust } else { Lang::Python },
            base: String::from_utf8_lossy(&base.concat()).into_owned(),
            edits: edits.into_iter().map(|(enc, changes)| ScriptEdit { enc, changes }).collect(),
        };
        on_server_stack(|| check_script(&script));
    }
}

/// Every prefix of a real file (half-typed code) analyses without a panic and its fixes
/// re-parse where the prefix parsed; the same text edited into a document char by char
/// equals a fresh analysis.
#[test]
fn every_prefix_of_a_real_file() {
    let step = 23;
    let cuts: Vec<usize> = (0..=PY.len()).step_by(step).filter(|&i| PY.is_char_boundary(i)).collect();
    on_server_stack(|| {
        for &i in &cuts {
            check_text(&PY.as_bytes()[..i]);
        }
    });
    // Typing the file chunk by chunk at the end of the document.
    let mut edits = vec![];
    let mut prev = 0;
    for &i in cuts.iter().skip(1) {
        edits.push(ScriptEdit {
            enc: Encoding::Utf16,
            changes: vec![Change { range: Some((Pos { line: u32::MAX, col: 0 }, Pos { line: u32::MAX, col: 0 })), text: PY[prev..i].to_string() }],
        });
        prev = i;
    }
    let script = Script { lang: Lang::Python, base: String::new(), edits };
    on_server_stack(|| check_script(&script));
}

/// Deep nesting in both languages: no stack overflow on the server's stack size.
#[test]
fn ten_thousand_deep_nesting() {
    let n = 10_000;
    let inputs = [
        format!("async def f():\n    x = {}Book.objects.get(){}\n", "(".repeat(n), ")".repeat(n)),
        format!("x = {}\n", "[".repeat(n)),
        format!("async def f():\n    return {}1\n", "not ".repeat(n)),
        format!("x = {}\n", "lambda: ".repeat(n)),
        format!("fn main() {{ {} }}\n", "{".repeat(n)),
        format!("fn main() {{ let x = {}1{}; }}\n", "(".repeat(n), ")".repeat(n)),
        (0..200).map(|d| format!("{}if x:\n", " ".repeat(d))).collect::<String>() + &" ".repeat(200) + "Book.objects.get()\n",
    ];
    on_server_stack(|| {
        for t in &inputs {
            check_text(t.as_bytes());
        }
    });
}

/// Crash inputs found by the fuzzers (`fuzz/artifacts/<target>/`), replayed forever. Each
/// file in `tests/fuzz-regressions/<target>/` is one input.
#[test]
fn fuzz_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    for (target, run) in [
        ("analyze_fix", (|d: &[u8]| check_text(d)) as fn(&[u8])),
        ("edit_script", |d: &[u8]| check_script(&decode_script(d))),
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else { continue };
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            on_server_stack(|| run(&data));
        }
    }
}

#[test]
fn decode_script_reads_the_documented_layout() {
    let mut data = b"x = 1\n".to_vec();
    data.extend([0xFF, 1, 0b1001, 0, 0, 0, 255, 0xE0 + 6, 0xF8, 0xFF, 255, 0, 0, 2, b'a', b'b']);
    let s = decode_script(&data);
    assert_eq!(s.lang, Lang::Rust);
    assert_eq!(s.base, "x = 1\n");
    assert_eq!(s.edits.len(), 1, "the second change is batched into the first didChange");
    assert_eq!(s.edits[0].enc, Encoding::Utf16);
    let c = &s.edits[0].changes;
    assert_eq!(c[0].range, Some((Pos { line: 0, col: 0 }, Pos { line: 0, col: u32::MAX })));
    assert_eq!(c[0].text, "😀");
    assert_eq!(c[1].range.unwrap().0.line, u32::MAX);
    assert_eq!(c[1].text, "ab");
    assert_eq!(invariants::reference_offset("a\r\nb", Pos { line: 0, col: 9 }, Encoding::Utf16), 1);
}
