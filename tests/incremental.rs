//! Property: after any sequence of LSP-style edits (in any position encoding, with astral
//! characters, CRLF and lone CR), the incrementally maintained document equals a fresh parse
//! of the same text: same text, same tree, same findings. And focused re-analysis
//! (`analysis::incremental`) gives, after every edit of real files, the findings of a fresh full
//! analysis; each of its fallbacks is exercised by a unit test below.

mod common;

use awaitguard::config::Settings;
use awaitguard::analysis::analyze;
use awaitguard::analysis::incremental::{analyze_incremental, Fallback, Path};
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
            // The line index is updated in place: equal to a fresh one.
            prop_assert_eq!(&doc.index, &LineIndex::new(&expected));
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

/// The Python fixtures and the demo project: real-ish files to edit.
fn real_files() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![];
    for dir in ["tests/fixtures/python", "tests/demo/shop"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        out.extend(paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "py")).map(|p| std::fs::read_to_string(p).unwrap()));
    }
    assert!(out.len() > 40);
    out
}

/// What a user types into a function body, including what changes whole-file facts (an
/// import, a class with a manager, an offload, a `def` header, `_atomic`, line endings).
const BODY_FRAGMENTS: &[&str] = &[
    " ", "x", "\n", "\n        ", "e", "(", ")", ":", ".", "await ", "async ", "Book.objects.get(pk=1)", ".count()",
    "\n    x = Book.objects.filter(a=1)\n", "\n    for b in qs:\n        pass\n", "qs = ", "# noqa\n",
    "  # awaitguard: ignore[AG101]", "\n    import asyncio\n", "\n    from django.db import transaction\n",
    "\n    class K(models.Model):\n        objects = BookManager()\n", "\n    await sync_to_async(helper)()\n",
    "\n    def helper(a, b):\n        return Book.objects.get()\n", "\n    yield 1\n", "_atomic", "\r\n",
    "\n    with transaction.atomic():\n        Book.objects.select_for_update().get()\n", "lambda: ", "sync_to_async(",
    "request.user.pk", "\n    send_mail.delay(1)\n", "\n\ndef late():\n    pass\n", "\"\"\"", "'", "😀",
];

fn full_findings(text: &str) -> Vec<awaitguard::rules::Finding> {
    let tree = syntax::parse(Lang::Python, text, None);
    let a = analyze(text, Lang::Python, &tree, &LineIndex::new(text), &Settings::default());
    assert!(a.errors.is_empty());
    a.findings
}

/// Applies `ops` (line, column, deleted length, fragment) to `text` one by one, checking after
/// each that focused analysis (chained from the previous snapshot) equals a full one. Returns
/// how many edits took the focused path.
fn check_edits(text: &str, ops: &[(usize, usize, usize, usize)]) -> usize {
    let settings = Settings::default();
    let mut doc = Document::new(text.to_string(), 1, Lang::Python);
    let (_, mut snap, _) = analyze_incremental(None, doc.text.clone(), Lang::Python, &doc.tree, &doc.index, &settings, None);
    let mut focused = 0;
    for (i, &(line, col, del, frag)) in ops.iter().enumerate() {
        let lines = doc.index.line_count();
        let line = line % lines;
        let range = doc.index.line_range(&doc.text, line);
        let start = floor(&doc.text, range.start + col.min(range.len()));
        let end = floor(&doc.text, (start + del).min(doc.text.len())).max(start);
        let a = doc.index.position(&doc.text, start, Encoding::Utf8);
        let b = doc.index.position(&doc.text, end, Encoding::Utf8);
        doc.apply_changes(&[Change { range: Some((a, b)), text: BODY_FRAGMENTS[frag].to_string() }], Encoding::Utf8, i as i32 + 2);
        let (inc, next, path) = analyze_incremental(Some(&snap), doc.text.clone(), Lang::Python, &doc.tree, &doc.index, &settings, None);
        assert!(inc.errors.is_empty());
        assert_eq!(inc.findings, full_findings(&doc.text), "{path:?} after edit {i}:\n{}", doc.text);
        focused += usize::from(path == Path::Focused);
        snap = next;
    }
    focused
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn focused_analysis_equals_full_on_real_files(
        file in 0usize..1000,
        ops in prop::collection::vec((0usize..400, 0usize..80, prop_oneof![Just(0usize), 0usize..3, 0usize..40], 0..BODY_FRAGMENTS.len()), 1..12),
    ) {
        let files = real_files();
        check_edits(&files[file % files.len()], &ops);
    }
}

/// Typing at the end of every third line of every real file, as the latency benchmark does:
/// equal to full analysis each time, and mostly focused (the rest are module-level lines).
#[test]
fn typing_at_line_ends_is_focused_and_equal() {
    let (mut focused, mut total) = (0, 0);
    for text in real_files() {
        let lines = LineIndex::new(&text).line_count();
        for line in (0..lines).step_by(3) {
            // Two spaces typed at the end of the line.
            let ops = [(line, usize::MAX / 2, 0, 0), (line, usize::MAX / 2, 0, 0)];
            focused += check_edits(&text, &ops);
            total += ops.len();
        }
    }
    assert!(focused * 2 > total, "only {focused} of {total} edits were focused");
}

fn path_after(before: &str, after: &str) -> Path {
    let settings = Settings::default();
    let parse = |t: &str| (syntax::parse(Lang::Python, t, None), LineIndex::new(t));
    let (t0, i0) = parse(before);
    let (_, snap, _) = analyze_incremental(None, before.to_string(), Lang::Python, &t0, &i0, &settings, None);
    let (t1, i1) = parse(after);
    let (a, _, path) = analyze_incremental(Some(&snap), after.to_string(), Lang::Python, &t1, &i1, &settings, None);
    assert_eq!(a.findings, full_findings(after));
    path
}

const UNIT: &str = "from django.db import models\nfrom .models import Book\n\n\nasync def view(request):\n    a = 1\n    return Book.objects.get(pk=a)\n\n\ndef helper():\n    return 2\n";

fn edited(find: &str, replace: &str) -> String {
    assert!(UNIT.contains(find));
    UNIT.replacen(find, replace, 1)
}

#[test]
fn focused_and_every_fallback() {
    assert_eq!(path_after(UNIT, UNIT), Path::Unchanged);
    assert_eq!(path_after(UNIT, &edited("a = 1", "a = 12")), Path::Focused);
    assert_eq!(path_after(UNIT, &edited("return 2", "return 2 ")), Path::Focused, "trailing space after the body");
    assert_eq!(path_after(UNIT, &edited("a = 1", "a = (")), Path::Full(Fallback::SyntaxError));
    assert_eq!(path_after(UNIT, &edited("import models", "import  models")), Path::Full(Fallback::OutsideOneFunction));
    assert_eq!(path_after(UNIT, &edited("async def view", "def view")), Path::Full(Fallback::OutsideOneFunction));
    assert_eq!(path_after(UNIT, &edited("return 2\n", "return 2\nx = 1\n")), Path::Full(Fallback::StructureChanged));
    assert_eq!(path_after(UNIT, &edited("a = 1", "a = Book.objects.first()")), Path::Focused);
    assert_eq!(path_after(UNIT, &edited("a = 1", "import asyncio")), Path::Full(Fallback::ModelChanged));
    assert_eq!(path_after(UNIT, &edited("return 2", "return select_for_update")), Path::Full(Fallback::RulesChanged));
    assert_eq!(path_after(UNIT, &edited("return 2", "return x_atomic")), Path::Full(Fallback::FreshName));
    let rust = "fn main() { block_on(f()); }\n";
    let settings = Settings::default();
    let tree = syntax::parse(Lang::Rust, rust, None);
    let index = LineIndex::new(rust);
    let (_, snap, first) = analyze_incremental(None, rust.into(), Lang::Rust, &tree, &index, &settings, None);
    assert_eq!(first, Path::Full(Fallback::NoSnapshot));
    let rust2 = rust.replace("f()", "g()");
    let tree2 = syntax::parse(Lang::Rust, &rust2, None);
    let (_, _, path) = analyze_incremental(Some(&snap), rust2.clone(), Lang::Rust, &tree2, &LineIndex::new(&rust2), &settings, None);
    assert_eq!(path, Path::Full(Fallback::NotPython));
}

#[test]
fn other_bodies_with_file_wide_facts_are_walked() {
    // The import in `g`'s body is what makes `f`'s ORM call Django's: a focused analysis of
    // `f` must not skip `g`'s body.
    let with = "from .models import Book\n\n\ndef g():\n    from django.db import transaction\n\n\nasync def f():\n    a = 1\n    return Book.objects.get(pk=a)\n";
    let without = with.replace("from django.db import transaction", "pass");
    assert_ne!(full_findings(with), full_findings(&without), "the import matters");
    assert_eq!(path_after(with, &with.replace("a = 1", "a = 2")), Path::Focused);
    assert_eq!(path_after(&without, &without.replace("a = 1", "a = 2")), Path::Focused);
}

#[test]
fn other_bodies_are_walked_towards_their_events() {
    // `g`'s body holds an import deep inside `if`/`try`, a nested class with a manager, a
    // nested def and an offload: an edit in `f` walks only towards them, and each one matters.
    let with = "\
from .models import Book


def g(x):
    if x:
        try:
            y = lambda: 1
            from django.db import transaction
        except E:
            pass
    for i in x:
        class K(models.Model):
            people = PersonManager()
    with w():
        def helper():
            return Book.objects.get()
    return run(h(sync_to_async(functools.partial(helper2, 1)), lambda: 2))


async def helper2():
    return 1


async def f(request):
    a = 1
    await sync_to_async(helper)()
    Book.people.first()
    return Book.objects.get(pk=a)
";
    for (find, replace) in [
        ("from django.db import transaction", "pass"),
        ("people = PersonManager()", "people = 1"),
        ("sync_to_async(functools.partial(helper2, 1))", "functools.partial(helper2, 1)"),
    ] {
        let without = with.replacen(find, replace, 1);
        assert_ne!(full_findings(with), full_findings(&without), "{find} matters");
        assert_eq!(path_after(&without, &without.replace("a = 1", "a = 2")), Path::Focused, "{find}");
    }
    assert_eq!(path_after(with, &with.replace("a = 1", "a = 2")), Path::Focused);
    // A chain of edits in `f`, each from the previous snapshot.
    let ops: Vec<_> = (0..6).map(|k| (24 + k % 2, 80, 0, 0)).collect();
    assert_eq!(check_edits(with, &ops), ops.len());
}

#[test]
fn focused_next_to_findings_elsewhere() {
    // AG203 reports on the decorator: inside the unit (decorators belong to it).
    let src = "from django.db import transaction\n\n\n@transaction.atomic\nasync def f():\n    x = 1\n";
    let after = src.replace("x = 1", "x = 2");
    assert!(!full_findings(src).is_empty());
    assert_eq!(path_after(src, &after), Path::Focused);
    // A method edit next to a finding in another function stays focused.
    let src = "from .models import Book\n\n\nasync def g():\n    return Book.objects.get()\n\n\nclass C:\n    def m(self):\n        return 1\n";
    assert_eq!(path_after(src, &src.replace("return 1", "return 11")), Path::Focused);
}
