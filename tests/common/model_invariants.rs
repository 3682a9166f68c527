//! Invariants of the fast fuzz targets, as functions of raw bytes: shared by
//! `fuzz/fuzz_targets/core.rs` and `fuzz/fuzz_targets/project_model.rs` (which include this
//! file by path) and by their proptest variants and crash replays in the normal suite
//! (`tests/fuzz_core_props.rs`). A violated invariant panics.
//!
//! - `check_core`: one small text → parse + project model (the file alone in a project) +
//!   every rule, in both languages: no internal error, every finding's range inside the text
//!   on char boundaries, every fix applies. Nothing slow (no fix loop, no re-parse of fixes):
//!   this is the target that must run ≥ 1,000 executions per second.
//! - `check_model`: three small files with imports between them, random edits to any of
//!   them, the model asked questions between edits → the incremental model equals a model
//!   built fresh from the final texts (every summary, every file's findings).
#![allow(dead_code)]

use awaitguard::analysis::analyze_with;
use awaitguard::config::Settings;
use awaitguard::fix;
use awaitguard::project::Project;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The project root of every fuzz input (nothing exists there on disk).
const ROOT: &str = "/awaitguard-fuzz";

fn findings(project: &Arc<Project>, path: &Path, text: &str, lang: Lang) -> Vec<(usize, usize, &'static str, String)> {
    let tree = syntax::parse(lang, text, None);
    let index = LineIndex::new(text);
    let view = project.view(path);
    let a = analyze_with(text, lang, &tree, &index, &Settings::default(), Some(&view));
    assert!(a.errors.is_empty(), "internal errors: {:?}", a.errors);
    for f in &a.findings {
        assert!(
            f.range.start <= f.range.end && f.range.end <= text.len() && text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end),
            "{} range {:?} outside the text or not on char boundaries",
            f.code,
            f.range
        );
        for fx in &f.fixes {
            assert!(fix::apply(text, &fx.edits).is_some(), "{} fix `{}` has overlapping or out-of-range edits", f.code, fx.title);
        }
    }
    a.findings.iter().map(|f| (f.range.start, f.range.end, f.code, f.message.clone())).collect()
}

/// The core target: any bytes (decoded lossily) as a Python module and as a Rust module, each
/// alone in a project.
pub fn check_core(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for (lang, rel) in [(Lang::Python, "app/views.py"), (Lang::Rust, "src/lib.rs")] {
        let project = Project::new(vec![PathBuf::from(ROOT)]);
        let path = Path::new(ROOT).join(rel);
        project.open(&path, Arc::from(&*text));
        findings(&project, &path, &text, lang);
    }
}

/// The files of a model input, by language.
fn files(lang: Lang) -> [PathBuf; 3] {
    let names = match lang {
        Lang::Python => ["app/a.py", "app/b.py", "app/c.py"],
        _ => ["src/lib.rs", "src/a.rs", "src/b.rs"],
    };
    names.map(|n| Path::new(ROOT).join(n))
}

/// A decoded model input: the language, three initial texts, and edits.
#[derive(Debug, Clone)]
pub struct ModelInput {
    pub lang: Lang,
    pub texts: [String; 3],
    /// (file, byte position, bytes deleted, inserted text, ask questions after this edit)
    pub edits: Vec<(usize, usize, usize, String, bool)>,
}

/// Layout: `text a` 0xFF `text b` 0xFF `text c` 0xFF `ops`. The first ops byte picks the
/// language (bit 0: Rust); then each edit is `file pos_lo pos_hi del n [n bytes]`: file bits
/// 0-1 the file (3 → 0), bit 7 "ask the model after this edit"; the position is taken modulo
/// the text's length + 1 and moved back to a char boundary, as is the end of the deletion.
pub fn decode_model(data: &[u8]) -> ModelInput {
    let mut parts = data.splitn(4, |&b| b == 0xFF);
    let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let texts = [text(), text(), text()];
    let ops = parts.next().unwrap_or_default();
    let lang = if ops.first().is_some_and(|b| b & 1 == 1) { Lang::Rust } else { Lang::Python };
    let mut edits = vec![];
    let mut i = 1;
    while i + 5 <= ops.len() {
        let (file, pos, del, n) = (ops[i], u16::from_le_bytes([ops[i + 1], ops[i + 2]]) as usize, ops[i + 3] as usize, ops[i + 4] as usize);
        let end = (i + 5 + n).min(ops.len());
        let ins = String::from_utf8_lossy(&ops[i + 5..end]).into_owned();
        edits.push((((file & 3) % 3) as usize, pos, del, ins, file & 0x80 != 0));
        i = end;
    }
    ModelInput { lang, texts, edits }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn all_findings(project: &Arc<Project>, input: &ModelInput, texts: &[String; 3]) -> Vec<Vec<(usize, usize, &'static str, String)>> {
    files(input.lang).iter().zip(texts).map(|(p, t)| findings(project, p, t, input.lang)).collect()
}

/// The model target: edits applied to a live project (questions asked between them) end in
/// the same summaries and findings as a fresh project on the final texts.
pub fn check_model(input: &ModelInput) {
    let paths = files(input.lang);
    let mut texts = input.texts.clone();
    let live = Project::new(vec![PathBuf::from(ROOT)]);
    for (p, t) in paths.iter().zip(&texts) {
        live.open(p, Arc::from(t.as_str()));
    }
    let _ = all_findings(&live, input, &texts);
    for (file, pos, del, ins, ask) in &input.edits {
        let t = &mut texts[*file];
        let start = floor_boundary(t, pos % (t.len() + 1));
        let end = floor_boundary(t, start + del);
        t.replace_range(start..end, ins);
        live.open(&paths[*file], Arc::from(t.as_str()));
        if *ask {
            let _ = all_findings(&live, input, &texts);
        }
    }
    let fresh = Project::new(vec![PathBuf::from(ROOT)]);
    for (p, t) in paths.iter().zip(&texts) {
        fresh.open(p, Arc::from(t.as_str()));
    }
    for p in &paths {
        match input.lang {
            Lang::Python => assert_eq!(live.py_summary(p), fresh.py_summary(p), "summary of {}", p.display()),
            _ => assert_eq!(live.rs_summary(p), fresh.rs_summary(p), "summary of {}", p.display()),
        }
    }
    assert_eq!(all_findings(&live, input, &texts), all_findings(&fresh, input, &texts), "incremental findings differ from fresh ones");
}
