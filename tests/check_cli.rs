//! `awaitguard check` / `rule` / `--version`: exit codes, formats, bad input.

mod common;

use common::cli::run;

const BAD: &str = "from .models import Book\n\n\nasync def view(pk):\n    return Book.objects.get(pk=pk)\n";
const GOOD: &str = "from .models import Book\n\n\nasync def view(pk):\n    return await Book.objects.aget(pk=pk)\n";


#[test]
fn exit_codes_and_text_output() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("good.py"), GOOD).unwrap();
    let o = run(d.path(), &["check", "good.py"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("All checks passed"));

    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    let o = run(d.path(), &["check", "."]);
    assert_eq!(o.code, 1);
    let out = o.stdout;
    assert!(out.contains("bad.py:5:12: error: AG101 [*] `Book.objects.get()`"), "{out}");
    assert!(out.contains("5 |     return Book.objects.get(pk=pk)"), "{out}");
    assert!(out.contains("  |            ^^^^^^^^^^^^^^^^^^^^^^^"), "{out}");
    assert!(out.contains("Found 1 problem (1 with a safe fix)."), "{out}");

    let o = run(d.path(), &["check", "--ignore", "AG101", "."]);
    assert_eq!(o.code, 0);
    let o = run(d.path(), &["check", "--select", "NOPE", "."]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("unknown rule selector `NOPE`"));
}

#[test]
fn json_output() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    let o = run(d.path(), &["check", "--format", "json", "bad.py"]);
    assert_eq!(o.code, 1);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let f = &v[0];
    assert_eq!(f["code"], "AG101");
    assert_eq!(f["name"], "sync-orm-call");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "bad.py");
    assert_eq!(f["range"]["start"]["line"], 5);
    assert_eq!(f["range"]["start"]["column"], 12);
    let fix = &f["fixes"][0];
    assert_eq!(fix["applicability"], "safe");
    let contents: Vec<&str> = fix["edits"].as_array().unwrap().iter().map(|e| e["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["await ", "aget"]);
}

#[test]
fn unreadable_and_non_utf8_files_are_reported_and_skipped() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    std::fs::write(d.path().join("latin1.py"), b"# caf\xe9\nx = 1\n").unwrap();
    std::os::unix::fs::symlink(d.path().join("missing-target.py"), d.path().join("dangling.py")).unwrap();
    let o = run(d.path(), &["check", "."]);
    assert_eq!(o.code, 2, "IO problems make the run fail");
    let err = o.stderr;
    // Decode errors name the line and the column, not a byte offset.
    assert!(err.contains("latin1.py:1:6: cannot decode: byte 0xE9 is not valid UTF-8"), "{err}");
    assert!(err.contains("dangling.py"), "{err}");
    // The readable file was still checked.
    assert!(o.stdout.contains("bad.py:5:12: error: AG101"));
    let o = run(d.path(), &["check", "does-not-exist.py"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("does-not-exist.py"));
}

#[test]
fn config_file_is_used_and_bad_config_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    std::fs::write(d.path().join("pyproject.toml"), "[project]\nname = \"x\"\n\n[tool.awaitguard]\nignore = [\"AG101\"]\n").unwrap();
    assert_eq!(run(d.path(), &["check", "."]).code, 0);
    assert_eq!(run(d.path(), &["check", "--isolated", "."]).code, 1);

    std::fs::write(d.path().join("awaitguard.toml"), "select = [\"AG101\"]\nseverity = { AG101 = \"loud\" }\n").unwrap();
    let o = run(d.path(), &["check", "."]);
    assert_eq!(o.code, 2);
    let err = o.stderr;
    assert!(err.contains("awaitguard.toml") && err.contains("loud"), "{err}");

    std::fs::write(d.path().join("awaitguard.toml"), "select = [\"AG101\"\n").unwrap();
    let o = run(d.path(), &["check", "."]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("awaitguard.toml:1:"), "the error names file and line: {}", o.stderr);

    std::fs::write(d.path().join("awaitguard.toml"), "django-version = \"4.0\"\n").unwrap();
    let o = run(d.path(), &["check", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(v[0]["fixes"][0]["title"].as_str().unwrap().contains("sync_to_async"), "{v}");
}

#[test]
fn django_version_is_detected_from_requirements() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    std::fs::write(d.path().join("requirements.txt"), "Django>=4.0,<4.1\n").unwrap();
    let o = run(d.path(), &["check", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(v[0]["fixes"][0]["title"].as_str().unwrap().contains("sync_to_async"), "{v}");
}

/// `pip freeze > requirements.txt` in PowerShell writes UTF-16 LE with a BOM (issue 18.6): it
/// is read, so the fix fits the pinned Django instead of the newest.
#[test]
fn django_version_is_detected_from_utf16_requirements() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.py"), BAD).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend("asgiref==3.7.2\r\nDjango==4.0.10\r\n".encode_utf16().flat_map(|u| u.to_le_bytes()));
    std::fs::write(d.path().join("requirements.txt"), bytes).unwrap();
    let o = run(d.path(), &["check", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(v[0]["fixes"][0]["title"].as_str().unwrap().contains("sync_to_async"), "{v}");
}

#[test]
fn rule_docs_and_version() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["rule", "AG101"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("SynchronousOnlyOperation") && o.stdout.contains("aget"));
    let o = run(d.path(), &["rule", "sync-orm-call"]);
    assert_eq!(o.code, 0);
    let o = run(d.path(), &["rule", "AG999"]);
    assert_eq!(o.code, 2);
    let o = run(d.path(), &["rule", "--all"]);
    assert!(o.stdout.contains("AG101"));
    let o = run(d.path(), &["--version"]);
    assert!(o.stdout.starts_with("awaitguard "));
    let o = run(d.path(), &["check", "--bogus-flag"]);
    assert_eq!(o.code, 2);
}

/// The trigger pre-filter changes no finding: every fixture and the demo project give the same
/// JSON with and without it (the benchmark script checks the same over real codebases).
#[test]
fn prefilter_changes_no_finding() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let args = ["check", "--isolated", "--exit-zero", "--format", "json", "fixtures", "demo"];
    let with = run(&tests, &args);
    let without = run(&tests, &[&args[..], &["--no-prefilter"]].concat());
    assert_eq!(with.code, 0, "{}", with.stderr);
    assert!(with.stdout.matches("\"code\"").count() > 50, "{}", with.stdout);
    assert_eq!(with.stdout, without.stdout);
}

/// `--no-project-model` (hidden; for the benchmarks that tell what the model costs) checks
/// each file on its own: on the fixture projects most findings rest on another file and go;
/// a few appear that the model rules out (a project's own task decorator is not Celery's).
#[test]
fn no_project_model_checks_each_file_alone() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let args = ["check", "--isolated", "--exit-zero", "--format", "concise", "projects"];
    let with = run(&tests, &args);
    let without = run(&tests, &[&args[..], &["--no-project-model"]].concat());
    assert_eq!((with.code, without.code), (0, 0), "{}{}", with.stderr, without.stderr);
    let lines = |s: &str| s.lines().filter(|l| l.contains(": error: ") || l.contains(": warning: ")).map(String::from).collect::<Vec<_>>();
    let (all, alone) = (lines(&with.stdout), lines(&without.stdout));
    let gone = all.iter().filter(|l| !alone.contains(l)).count();
    let only_alone: Vec<&String> = alone.iter().filter(|l| !all.contains(l)).collect();
    assert!(all.len() >= 40 && gone * 2 > all.len(), "{gone} of {} findings rest on other files:\n{}", all.len(), with.stdout);
    assert!(alone.len() > only_alone.len() && only_alone.len() * 10 < all.len(), "{only_alone:#?}");
}
