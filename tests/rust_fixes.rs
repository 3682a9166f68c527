//! Every Rust fix re-parsed twice: by tree-sitter (no ERROR or MISSING node) and by rustfmt
//! (`rustfmt --edition 2021`, which runs rustc's parser and fails on code that does not parse).
//! Covers each fix of each finding of the Rust rule fixtures applied alone, their "fix all"
//! with unsafe fixes, and `check --fix --unsafe-fixes` of the real binary over the Rust
//! fixture crates (several modules: db, repo, handlers, main).
//!
//! rustfmt ships with every rustup toolchain (CI's included): when it is missing, the rustfmt
//! half is skipped with a note, and under `CI` the test fails instead.

mod common;

use awaitguard::analysis::fix_all;
use awaitguard::fix;
use awaitguard::syntax::{self, Lang};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn rustfmt_available() -> bool {
    let ok = Command::new("rustfmt").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok || std::env::var_os("CI").is_none(), "rustfmt is missing on CI (rustup component add rustfmt)");
    if !ok {
        eprintln!("note: rustfmt not found; only the tree-sitter half of the check ran");
    }
    ok
}

/// rustfmt's verdict on `text`: `Err(stderr)` when it does not parse.
fn rustfmt_parses(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rustfmt");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn check_parses(what: &str, text: &str, rustfmt: bool) {
    assert!(!syntax::has_syntax_error(&syntax::parse(Lang::Rust, text, None)), "{what}: tree-sitter finds an ERROR or MISSING node:\n{text}");
    if rustfmt {
        if let Err(e) = rustfmt_parses(text) {
            panic!("{what}: rustfmt does not parse it:\n{e}\n{text}");
        }
    }
}

fn rust_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::fixture_path("rust"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_fix_of_every_rust_fixture_parses() {
    let rustfmt = rustfmt_available();
    let mut fixes = 0;
    let mut unsafe_alls = 0;
    for path in rust_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let settings = common::fixture_settings(&path, &text);
        // The fixture itself first: a failure below is then the fix's.
        check_parses(&name, &text, rustfmt);
        for f in common::analyze_text(&text, Lang::Rust, &settings) {
            for x in &f.fixes {
                let fixed = fix::apply(&text, &x.edits).expect("edits do not overlap");
                check_parses(&format!("{name}: {} `{}`", f.code, x.title), &fixed, rustfmt);
                fixes += 1;
            }
        }
        if let Some(all) = fix_all(&text, Lang::Rust, &settings, true) {
            check_parses(&format!("{name}: fix all (unsafe too)"), &all, rustfmt);
            unsafe_alls += 1;
        }
    }
    eprintln!("{fixes} fixes and {unsafe_alls} fix-all results re-parsed");
    // The Rust fixtures hold dozens of fixes (AG501's spawn_blocking / web::block, AG511's
    // `&mut *tx`, AG512, AG514): a count this low means the walk above found none.
    assert!(fixes >= 20, "only {fixes} Rust fixes found");
    assert!(unsafe_alls >= 5, "only {unsafe_alls} fixtures changed by fix-all");
}

#[test]
fn fixed_fixture_crates_parse() {
    let rustfmt = rustfmt_available();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects");
    let mut changed = 0;
    for name in ["rust_service", "rust_sqlx_service", "rust_axum_diesel"] {
        let dir = tempfile::tempdir().unwrap();
        common::copy_dir(&root.join(name), dir.path());
        let before = rs_files(dir.path());
        let out = common::cli::run(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
        assert!(out.code == 0 || out.code == 1, "{name}: {}", out.stderr);
        for (p, old) in before {
            let new = std::fs::read_to_string(&p).unwrap();
            if new != old {
                changed += 1;
            }
            check_parses(&format!("{name}: {} after check --fix --unsafe-fixes", p.display()), &new, rustfmt);
        }
    }
    eprintln!("{changed} files of the fixture crates changed by --fix --unsafe-fixes, all re-parsed");
    assert!(changed >= 2, "the fixture crates should get fixes ({changed} files changed)");
}

fn rs_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let t = std::fs::read_to_string(&p).unwrap();
                out.push((p, t));
            }
        }
    }
    out.sort();
    out
}
