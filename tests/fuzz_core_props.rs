//! The fast fuzz targets (`fuzz/fuzz_targets/core.rs`, `fuzz/fuzz_targets/project_model.rs`)
//! as property tests with a modest case count, so the normal suite checks their invariants on
//! every run; crash inputs the fuzzers found (`tests/fuzz-regressions/core`,
//! `tests/fuzz-regressions/project_model`) are replayed here.

mod common;

use common::invariants::on_server_stack;
use common::model_invariants::{check_core, check_model, decode_model, ModelInput};
use awaitguard::syntax::Lang;
use proptest::prelude::*;

/// Tokens from the fuzz dictionary (what the rules and the model look for).
const TOKENS: &[&str] = &[
    "async def f():\n    ", "def g():\n    ", "await ", "return ", "for b in ", ":\n        ", "Book.objects.get(pk=1)",
    "Book.objects.filter(pk=1)", ".first()", ".count()", "list(", ")", "(", "\n", "from .b import *\n", "from . import c\n",
    "from .a import g\n", "from .c import f as g\n", "import app.a\n", "with transaction.atomic():\n    ", ".select_for_update()",
    ".delay(1)", "sync_to_async(", "@sync_to_async\n", ".aget(pk=1)", "class Book(models.Model):\n    ", "objects = models.Manager()\n",
    "mod a;\n", "mod b;\n", "use crate::a::*;\n", "use super::b::f;\n", "pub fn f() ", "async fn g() ", "{ ", " }",
    "tokio::task::spawn_blocking(", "diesel::RunQueryDsl::load(q, &mut conn)", "pool.get()", ".await", "conn.execute(\"x\", [])", ";\n",
    "😀", "é", "\r\n", "\u{feff}", "\0",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|v| v.concat())
}

fn model_input() -> impl Strategy<Value = ModelInput> {
    let edit = (0usize..3, 0usize..400, 0usize..8, text(), any::<bool>());
    (any::<bool>(), text(), text(), text(), prop::collection::vec(edit, 0..12)).prop_map(|(rust, a, b, c, edits)| ModelInput {
        lang: if rust { Lang::Rust } else { Lang::Python },
        texts: [a, b, c],
        edits,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn core_any_small_text(t in text(), junk in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut data = t.into_bytes();
        data.extend(junk);
        on_server_stack(|| check_core(&data));
    }

    #[test]
    fn model_incremental_equals_fresh(input in model_input()) {
        on_server_stack(|| check_model(&input));
    }
}

#[test]
fn decode_model_reads_the_documented_layout() {
    let mut data = b"from .b import f\n\xffdef f():\n    return 1\n\xff".to_vec();
    data.extend([0xFF, 1, 0x81, 5, 0, 2, 3, b'a', b'b', b'c', 3, 0, 0, 0, 0]);
    let m = decode_model(&data);
    assert_eq!(m.lang, Lang::Rust);
    assert_eq!(m.texts, ["from .b import f\n".to_string(), "def f():\n    return 1\n".to_string(), String::new()]);
    assert_eq!(m.edits, vec![(1, 5, 2, "abc".to_string(), true), (0, 0, 0, String::new(), false)]);
}

#[test]
fn fuzz_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    for (target, run) in [
        ("core", (|d: &[u8]| check_core(d)) as fn(&[u8])),
        ("project_model", |d: &[u8]| check_model(&decode_model(d))),
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else { continue };
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            on_server_stack(|| run(&data));
        }
    }
}
