//! `awaitguard check --fix / --diff / --unsafe-fixes` end to end, on copies of fixtures:
//! CRLF and BOM files keep their bytes apart from the fixes, permissions and symlinks are
//! kept, a second run finds nothing more to fix, every fixed file parses, `--diff` writes
//! nothing.

mod common;

use common::cli::{run, write};

use awaitguard::syntax::{self, Lang};
use std::path::{Path, PathBuf};

const VIEWS: &str = "from .models import Book\n\n\nasync def view(pk):\n    book = Book.objects.get(pk=pk)\n    n = Book.objects.count()\n    return book, n\n";
const VIEWS_FIXED: &str = "from .models import Book\n\n\nasync def view(pk):\n    book = await Book.objects.aget(pk=pk)\n    n = await Book.objects.acount()\n    return book, n\n";

#[test]
fn fix_writes_safe_fixes_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "views.py", VIEWS.as_bytes());
    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout, "Fixed 2 problems in 1 file.\nAll checks passed!\n");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS_FIXED);
    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "second --fix: nothing more to fix");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS_FIXED);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn diff_prints_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "app/views.py", VIEWS.as_bytes());
    let o = run(dir.path(), &["check", "--diff", "app"]);
    assert_eq!(o.code, 1, "--diff exits 1 when a file would change");
    assert!(o.stdout.starts_with("--- a/app/views.py\n+++ b/app/views.py\n@@ -2,6 +2,6 @@\n"), "{}", o.stdout);
    assert!(o.stdout.contains("\n-    book = Book.objects.get(pk=pk)\n-    n = Book.objects.count()\n+    book = await Book.objects.aget(pk=pk)\n+    n = await Book.objects.acount()\n"), "{}", o.stdout);
    assert!(o.stderr.contains("Would fix 2 problems in 1 file."), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS, "--diff writes nothing");
    assert_eq!(run(dir.path(), &["check", "--diff", "--exit-zero", "app"]).code, 0);
    std::fs::write(&p, VIEWS_FIXED).unwrap();
    let o = run(dir.path(), &["check", "--diff", "app"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, ""));
    assert_eq!(run(dir.path(), &["check", "--diff", "--fix", "app"]).code, 2, "--diff and --fix conflict");
}

#[test]
fn crlf_bom_and_permissions_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = VIEWS.replace('\n', "\r\n");
    let p_crlf = write(dir.path(), "crlf.py", crlf.as_bytes());
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(VIEWS.as_bytes());
    let p_bom = write(dir.path(), "bom.py", &bom);
    let mut both = b"\xef\xbb\xbf".to_vec();
    both.extend_from_slice(crlf.as_bytes());
    let p_both = write(dir.path(), "both.py", &both);
    // Mixed endings: left as they are, the fixes still apply.
    let mixed = VIEWS.replacen('\n', "\r\n", 2);
    let p_mixed = write(dir.path(), "mixed.py", mixed.as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p_bom, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(&p_crlf, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("Fixed 8 problems in 4 files."), "{}", o.stdout);
    let fixed_crlf = VIEWS_FIXED.replace('\n', "\r\n");
    assert_eq!(std::fs::read_to_string(&p_crlf).unwrap(), fixed_crlf);
    let mut want = b"\xef\xbb\xbf".to_vec();
    want.extend_from_slice(VIEWS_FIXED.as_bytes());
    assert_eq!(std::fs::read(&p_bom).unwrap(), want);
    let mut want = b"\xef\xbb\xbf".to_vec();
    want.extend_from_slice(fixed_crlf.as_bytes());
    assert_eq!(std::fs::read(&p_both).unwrap(), want);
    assert_eq!(std::fs::read_to_string(&p_mixed).unwrap(), VIEWS_FIXED.replacen('\n', "\r\n", 2));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&p_bom).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(std::fs::metadata(&p_crlf).unwrap().permissions().mode() & 0o777, 0o755);
    }
    assert_eq!(run(dir.path(), &["check", "--diff", "."]).stdout, "", "idempotent");
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let real = write(dir.path(), "real/views.py", VIEWS.as_bytes());
    let link = dir.path().join("link.py");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(dir.path(), &["check", "--fix", "link.py"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), VIEWS_FIXED);
}

#[test]
fn unreadable_and_non_utf8_files_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "latin1.py", b"from .models import Book\nasync def v():\n    Book.objects.get()  # caf\xe9\n");
    write(dir.path(), "ok.py", VIEWS.as_bytes());
    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("latin1.py:3:30: cannot decode: byte 0xE9 is not valid UTF-8"), "{}", o.stderr);
    assert_eq!(std::fs::read(&bad).unwrap(), b"from .models import Book\nasync def v():\n    Book.objects.get()  # caf\xe9\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("ok.py")).unwrap(), VIEWS_FIXED, "the other files are fixed");
}

/// Every Python fixture, copied: `--fix` leaves parseable files that a second run has nothing
/// more to fix in, and only the findings without a safe fix remain.
#[test]
fn fixtures_fix_cleanly() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if Lang::from_path(&p).is_none() {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        // Each fixture in its own folder with its rule and Django version, as the fixture
        // harness analyses it.
        let stem = p.file_stem().unwrap().to_str().unwrap();
        let code = stem.split(['_', '.']).next().unwrap();
        let mut cfg = format!("select = [\"{code}\"]\n");
        if let Some(v) = text.lines().take(5).find_map(|l| l.split("django-version=").nth(1)) {
            cfg.push_str(&format!("django-version = \"{}\"\n", v.split_whitespace().next().unwrap()));
        }
        let sub = dir.path().join(stem);
        write(&sub, "awaitguard.toml", cfg.as_bytes());
        write(&sub, p.file_name().unwrap().to_str().unwrap(), text.as_bytes());
        // The same fixture with CRLF line endings.
        write(&sub, &format!("{stem}_crlf.py"), text.replace('\n', "\r\n").as_bytes());
        n += 1;
    }
    assert!(n > 0);
    let before = run(dir.path(), &["check", "--statistics", "--format", "json", "."]);
    let o = run(dir.path(), &["check", "--fix", "--format", "json", "."]);
    assert!(o.code <= 1, "{}{}", o.stdout, o.stderr);
    let remaining: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    for f in remaining.as_array().unwrap() {
        assert!(
            !f["fixes"].as_array().unwrap().iter().any(|x| x["applicability"] == "safe"),
            "a safe fix is left after --fix: {f}"
        );
    }
    let before: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
    let fixable: u64 = before.as_array().unwrap().iter().map(|s| s["fixable"].as_u64().unwrap()).sum();
    assert!(fixable > 0);
    for e in walk(dir.path()) {
        if e.extension().is_some_and(|x| x == "py") {
            let text = std::fs::read_to_string(&e).unwrap();
            assert!(!syntax::has_syntax_error(&syntax::parse(Lang::Python, &text, None)), "{} does not parse", e.display());
            if e.to_str().unwrap().ends_with("_crlf.py") {
                assert!(!text.replace("\r\n", "").contains('\n'), "{}: a bare LF was written into a CRLF file", e.display());
            }
        }
    }
    let again = run(dir.path(), &["check", "--diff", "."]);
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "second run: nothing more to fix\n{}", again.stderr);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `--unsafe-fixes` applies fixes marked unsafe, which plain `--fix` leaves. Runs on the first
/// rule in the registry that offers an unsafe fix for one of these snippets; until such a rule
/// exists it checks only that the flag changes nothing for safe-only findings.
#[test]
fn unsafe_fixes_need_the_flag() {
    let candidates = [
        "from .models import Book\n\n\nasync def view():\n    qs = Book.objects.filter(x=1)\n    return len(qs)\n",
        "from .models import Book\n\n\nasync def view():\n    return Book.objects.filter(x=1)[0]\n",
        "from django.db import transaction\nfrom .models import Book\n\n\nasync def view():\n    with transaction.atomic():\n        await Book.objects.acreate(x=1)\n",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut exercised = false;
    for (i, src) in candidates.iter().enumerate() {
        let p = write(dir.path(), &format!("u{i}.py"), src.as_bytes());
        let o = run(dir.path(), &["check", "--format", "json", p.file_name().unwrap().to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let has_unsafe_only = v.as_array().unwrap().iter().any(|f| {
            let fixes = f["fixes"].as_array().unwrap();
            !fixes.is_empty() && fixes.iter().all(|x| x["applicability"] == "unsafe")
        });
        if !has_unsafe_only {
            continue;
        }
        exercised = true;
        let o = run(dir.path(), &["check", "--fix", p.to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), *src, "--fix alone leaves unsafe fixes: {}", o.stdout);
        let o = run(dir.path(), &["check", "--diff", "--unsafe-fixes", p.to_str().unwrap()]);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), *src, "--diff writes nothing");
        run(dir.path(), &["check", "--fix", "--unsafe-fixes", p.to_str().unwrap()]);
        let fixed = std::fs::read_to_string(&p).unwrap();
        assert_ne!(fixed, *src, "--unsafe-fixes applies it");
        assert!(!syntax::has_syntax_error(&syntax::parse(Lang::Python, &fixed, None)));
    }
    if !exercised {
        let p = write(dir.path(), "safe.py", VIEWS.as_bytes());
        run(dir.path(), &["check", "--fix", "--unsafe-fixes", "safe.py"]);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS_FIXED);
        eprintln!("note: no rule offers an unsafe fix yet; --unsafe-fixes checked on safe fixes only");
    }
}

/// PEP 263: a file that declares latin-1 or cp1252 is decoded as Python decodes it, checked,
/// and fixed in its own encoding (its other bytes unchanged).
#[test]
fn files_with_a_coding_declaration_are_checked_and_fixed_in_their_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let latin1 = b"# -*- coding: latin-1 -*-\nfrom .models import Book\n\n\nasync def v(pk):\n    return Book.objects.get(pk=pk)  # caf\xe9\n";
    let cp1252 = b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nfrom .models import Book\n\n\nasync def v(pk):\n    return Book.objects.get(pk=pk)  # \x80 \x93quoted\x94\n";
    write(dir.path(), "latin1.py", latin1);
    write(dir.path(), "cp1252.py", cp1252);
    let o = run(dir.path(), &["check", "--output-format", "json", "."]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let found: Vec<(&str, u64, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["range"]["start"]["line"].as_u64().unwrap(), f["range"]["start"]["column"].as_u64().unwrap()))
        .collect();
    assert!(found.iter().any(|f| f.0.ends_with("latin1.py") && f.1 == 6 && f.2 == 12), "{found:?}");
    assert!(found.iter().any(|f| f.0.ends_with("cp1252.py") && f.1 == 7 && f.2 == 12), "{found:?}");

    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("latin1.py")).unwrap(),
        b"# -*- coding: latin-1 -*-\nfrom .models import Book\n\n\nasync def v(pk):\n    return await Book.objects.aget(pk=pk)  # caf\xe9\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("cp1252.py")).unwrap(),
        b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nfrom .models import Book\n\n\nasync def v(pk):\n    return await Book.objects.aget(pk=pk)  # \x80 \x93quoted\x94\n"
    );
}

/// Decode errors in a declared encoding, and unknown encodings, name the line and the column;
/// such files are reported (exit 2) and never written.
#[test]
fn decode_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = b"# coding: cp1252\nfrom .models import Book\nasync def v():\n    Book.objects.get()  # \x81\n";
    write(dir.path(), "undefined.py", bad);
    write(dir.path(), "klingon.py", b"# coding: klingon\nx = 1\n");
    write(dir.path(), "utf8.py", b"x = 1\ny = '\xc3'\n");
    let o = run(dir.path(), &["check", "--fix", "."]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("undefined.py:4:27: cannot decode: byte 0x81 is undefined in cp1252"), "{}", o.stderr);
    assert!(o.stderr.contains("klingon.py:1:1: cannot decode: unknown encoding `klingon`"), "{}", o.stderr);
    assert!(o.stderr.contains("utf8.py:2:6: cannot decode: byte 0xC3 is not valid UTF-8"), "{}", o.stderr);
    assert!(!o.stderr.contains("byte 3") && !o.stderr.contains("offset"), "{}", o.stderr);
    assert_eq!(std::fs::read(dir.path().join("undefined.py")).unwrap(), bad);
}

/// A file declared ASCII is fixed in ASCII. (A fix only inserts ASCII or moves the file's own
/// text, so it always fits the file's encoding; the refusal for text that would not fit, and
/// for bytes that would not survive the round trip, is covered by the unit tests of
/// `cli::source`.)
#[test]
fn an_ascii_file_is_fixed_in_ascii() {
    let dir = tempfile::tempdir().unwrap();
    let ascii = b"# coding: ascii\nfrom .models import Book\n\n\nasync def v(pk):\n    return Book.objects.get(pk=pk)\n";
    write(dir.path(), "a.py", ascii);
    let o = run(dir.path(), &["check", "--fix", "a.py"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(std::fs::read_to_string(dir.path().join("a.py")).unwrap().contains("await Book.objects.aget(pk=pk)"));
}
