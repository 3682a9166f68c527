//! `awaitguard check` conventions users bring from ruff (issue 22) and `max-file-size`
//! (issue 23), with the real binary: unknown selectors, nothing checked, severity in text
//! output, `--output-format` with GitLab / JUnit / rdjson (each checked against its documented
//! schema here), `--stdin-filename`, `--show-settings`, `--show-files`, `rule --all`, and
//! files over `max-file-size`.

mod common;

use common::cli::{run, run_stdin, write};
use serde_json::Value;
use std::path::Path;

const VIEWS: &str = "from .models import Book\n\n\nasync def view(pk):\n    book = Book.objects.get(pk=pk)\n    n = Book.objects.count()\n    return book, n\n";
/// A non-ASCII character before the finding on its line: character and byte columns differ.
const WIDE: &str = "from .models import Book\n\n\nasync def view(pk):\n    s = \"é😀\"; book = Book.objects.get(pk=pk)\n    return book, s\n";
const VIEWS_FIXED: &str = "from .models import Book\n\n\nasync def view(pk):\n    book = await Book.objects.aget(pk=pk)\n    n = await Book.objects.acount()\n    return book, n\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(dir.path(), rel, text.as_bytes());
    }
    dir
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

// ---------------------------------------------------------------------------------------------
// Unknown selectors

#[test]
fn unknown_selectors_are_usage_errors_with_the_closest_code() {
    let p = project(&[("views.py", VIEWS)]);
    for (args, bad, hint) in [
        (&["--select", "AG999"][..], "AG999", "AG109"),
        (&["--select", "AG101,AG10l"], "AG10l", "AG101"),
        (&["--ignore", "sync-orm-cal"], "sync-orm-cal", "sync-orm-call"),
        (&["--select", "AG298"], "AG298", "AG208"),
        (&["--select", "AG8"], "AG8", "AG108"),
    ] {
        let o = run(p.path(), &[&["check"][..], args, &["."]].concat());
        assert_eq!(o.code, 2, "{args:?}: {}{}", o.stdout, o.stderr);
        assert!(!o.stdout.contains("All checks passed"), "{args:?}: {}", o.stdout);
        let err = o.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("{args:?}: {}", o.stderr));
        assert!(err.contains(&format!("unknown rule selector `{bad}`")), "{args:?}: {err}");
        assert!(err.contains(&format!("did you mean `{hint}")), "{args:?}: {err}");
    }
    // Every code of the catalogue is implemented now: the last planned one is accepted.
    let o = run(p.path(), &["check", "--select", "AG401", "."]);
    assert_ne!(o.code, 2, "{}", o.stderr);
    // Prefixes, names and ALL that match rules are fine.
    for sel in ["AG1", "AG", "ALL", "sync-orm-call", "ag101"] {
        assert_eq!(run(p.path(), &["check", "--select", sel, "."]).code, 1, "{sel}");
    }
}

#[test]
fn unknown_selectors_in_config_files_name_file_and_line() {
    for (name, text, line, bad) in [
        ("awaitguard.toml", "select = [\"AG1\", \"AG999\"]\n", 1, "AG999"),
        ("awaitguard.toml", "ignore = []\nextend-select = [\"AG6\"]\n", 2, "AG6"),
        ("awaitguard.toml", "[severity]\nAG998 = \"warning\"\n", 2, "AG998"),
        ("awaitguard.toml", "[per-file-ignores]\n\"tests/*\" = [\"AG297\"]\n", 2, "AG297"),
        ("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.awaitguard]\nignore = [\"AG208\", \"AG299\"]\n", 5, "AG299"),
    ] {
        let p = project(&[(name, text), ("views.py", VIEWS)]);
        let o = run(p.path(), &["check", "."]);
        assert_eq!(o.code, 2, "{text}: {}{}", o.stdout, o.stderr);
        let err = o.stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
        assert!(err.contains(&format!("{name}:{line}:")), "names the file and line {line}: {err}");
        assert!(err.contains(&format!("`{bad}`")) && err.contains("did you mean"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Nothing checked

#[test]
fn nothing_checked_is_a_warning() {
    let p = project(&[("awaitguard.toml", "exclude = [\"generated\"]\n"), ("generated/views.py", VIEWS), ("notes.txt", "hello\n")]);
    std::fs::create_dir(p.path().join("empty")).unwrap();
    for target in ["empty", "generated/views.py", "notes.txt", "generated"] {
        let o = run(p.path(), &["check", target]);
        assert_eq!(o.code, 0, "{target}: {}{}", o.stdout, o.stderr);
        assert!(o.stderr.contains("warning: No Python (.py, .pyi) or Rust (.rs) files found"), "{target}: {}", o.stderr);
        assert_eq!(o.stdout, "All checks passed!\n", "{target}");
    }
    // A run that checked a file does not warn.
    let p = project(&[("ok.py", "x = 1\n")]);
    let o = run(p.path(), &["check", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
}

// ---------------------------------------------------------------------------------------------
// Severity in text output

#[test]
fn text_output_shows_severity() {
    let p = project(&[("awaitguard.toml", "[severity]\nAG101 = \"warning\"\n"), ("app/views.py", VIEWS), ("other/views.py", VIEWS)]);
    write(p.path(), "other/awaitguard.toml", b"[severity]\nAG101 = \"info\"\n");
    let o = run(p.path(), &["check", "app/views.py", "other/views.py"]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("app/views.py:5:12: warning: AG101 [*] `Book.objects.get()`"), "{}", o.stdout);
    assert!(o.stdout.contains("other/views.py:5:12: info: AG101 [*] "), "{}", o.stdout);
    let o = run(p.path(), &["check", "--output-format", "concise", "--isolated", "app"]);
    assert!(o.stdout.lines().next().unwrap().contains(":5:12: error: AG101 [*] "), "{}", o.stdout);
}

// ---------------------------------------------------------------------------------------------
// Output formats

#[test]
fn output_format_and_its_alias() {
    let p = project(&[("views.py", VIEWS)]);
    let a = run(p.path(), &["check", "--output-format", "json", "views.py"]);
    let b = run(p.path(), &["check", "--format", "json", "views.py"]);
    let c = run(p.path(), &["check", "--output-format=json", "views.py"]);
    assert_eq!(a.code, 1);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
    let o = run(p.path(), &["check", "--output-format", "nope", "views.py"]);
    assert_eq!(o.code, 2);
    for f in ["gitlab", "junit", "rdjson"] {
        assert!(o.stderr.contains(f), "the error lists {f}: {}", o.stderr);
    }
}

/// Checks `v` against the GitLab Code Quality report format (docs.gitlab.com, "Code Quality
/// report format"): an array of objects with the required `description` (string), `check_name`
/// (string), `fingerprint` (string, unique), `severity` (one of info, minor, major, critical,
/// blocker), `location.path` (string, relative) and `location.lines.begin` (integer ≥ 1).
fn check_gitlab_schema(v: &Value) -> Result<(), String> {
    let issues = v.as_array().ok_or("not an array")?;
    let mut fingerprints = std::collections::HashSet::new();
    for (i, x) in issues.iter().enumerate() {
        let obj = x.as_object().ok_or(format!("[{i}] not an object"))?;
        for key in ["description", "check_name", "fingerprint", "severity"] {
            obj.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(format!("[{i}].{key}: missing or not a string"))?;
        }
        let sev = x["severity"].as_str().unwrap();
        if !["info", "minor", "major", "critical", "blocker"].contains(&sev) {
            return Err(format!("[{i}].severity: `{sev}` is not a GitLab severity"));
        }
        let path = x["location"]["path"].as_str().ok_or(format!("[{i}].location.path: missing or not a string"))?;
        if path.starts_with('/') || path.starts_with("./") {
            return Err(format!("[{i}].location.path `{path}` is not relative to the project"));
        }
        let begin = x["location"]["lines"]["begin"].as_u64().ok_or(format!("[{i}].location.lines.begin: missing or not an integer"))?;
        if begin == 0 {
            return Err(format!("[{i}].location.lines.begin is 0"));
        }
        if !fingerprints.insert(x["fingerprint"].as_str().unwrap().to_string()) {
            return Err(format!("[{i}].fingerprint is not unique"));
        }
    }
    Ok(())
}

#[test]
fn gitlab_format() {
    let p = project(&[("app/views.py", VIEWS), ("app/copy.py", VIEWS), ("awaitguard.toml", "[severity]\nAG101 = \"warning\"\n")]);
    let o = run(p.path(), &["check", "--output-format", "gitlab", "."]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v = json(&o.stdout);
    check_gitlab_schema(&v).unwrap_or_else(|e| panic!("{e}:\n{v:#}"));
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 4);
    let first = a.iter().find(|x| x["location"]["path"] == "app/views.py").unwrap();
    assert_eq!(first["check_name"], "AG101");
    assert_eq!(first["severity"], "major", "warning → major");
    assert_eq!(first["location"]["lines"]["begin"], 5);
    assert!(first["description"].as_str().unwrap().contains("Book.objects.get()"));
    // Fingerprints are stable across runs and do not depend on the line number.
    let again = json(&run(p.path(), &["check", "--output-format", "gitlab", "."]).stdout);
    assert_eq!(v, again);
    write(p.path(), "app/views.py", format!("# a new first line\n{VIEWS}").as_bytes());
    let moved = json(&run(p.path(), &["check", "--output-format", "gitlab", "."]).stdout);
    let fps = |v: &Value| v.as_array().unwrap().iter().map(|x| x["fingerprint"].as_str().unwrap().to_string()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(fps(&v), fps(&moved));
    // Error → critical; no findings → an empty array (still valid).
    let o = run(p.path(), &["check", "--isolated", "--output-format", "gitlab", "app/views.py"]);
    assert!(json(&o.stdout).as_array().unwrap().iter().all(|x| x["severity"] == "critical"));
    let clean = project(&[("ok.py", "x = 1\n")]);
    let o = run(clean.path(), &["check", "--output-format", "gitlab", "."]);
    assert_eq!((o.code, json(&o.stdout)), (0, serde_json::json!([])));
    // The checker rejects what GitLab would.
    assert!(check_gitlab_schema(&serde_json::json!([{"description": "d", "check_name": "c", "fingerprint": "f", "severity": "fatal", "location": {"path": "a", "lines": {"begin": 1}}}])).is_err());
    assert!(check_gitlab_schema(&serde_json::json!([{"description": "d", "check_name": "c", "severity": "info", "location": {"path": "a", "lines": {"begin": 1}}}])).is_err());
}

/// Checks a JUnit XML report against the structure JUnit consumers (Jenkins, GitLab, Azure)
/// read (the Ant JUnit schema): a `<testsuites>` root holding `<testsuite name tests failures
/// errors>` elements whose counts match their `<testcase name classname>` children, each
/// failed test case holding one `<failure message type>` with text. Returns the number of
/// failures.
fn check_junit_schema(xml: &str) -> Result<usize, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "testsuites" {
        return Err(format!("root is <{}>", root.tag_name().name()));
    }
    let int = |n: roxmltree::Node, a: &str| -> Result<usize, String> {
        n.attribute(a).ok_or(format!("<{}> lacks {a}", n.tag_name().name()))?.parse().map_err(|_| format!("{a} is not an integer"))
    };
    let (mut tests, mut failures) = (0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        if suite.tag_name().name() != "testsuite" {
            return Err(format!("<{}> inside <testsuites>", suite.tag_name().name()));
        }
        suite.attribute("name").ok_or("<testsuite> lacks name")?;
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        let failed = cases.iter().filter(|c| c.children().any(|n| n.has_tag_name("failure"))).count();
        if int(suite, "tests")? != cases.len() || int(suite, "failures")? != failed || int(suite, "errors")? != 0 {
            return Err(format!("<testsuite name={:?}> counts do not match its test cases", suite.attribute("name")));
        }
        for case in &cases {
            if case.tag_name().name() != "testcase" {
                return Err(format!("<{}> inside <testsuite>", case.tag_name().name()));
            }
            case.attribute("name").ok_or("<testcase> lacks name")?;
            case.attribute("classname").ok_or("<testcase> lacks classname")?;
            for f in case.children().filter(|n| n.has_tag_name("failure")) {
                f.attribute("message").ok_or("<failure> lacks message")?;
                f.attribute("type").ok_or("<failure> lacks type")?;
                if f.text().is_none_or(str::is_empty) {
                    return Err("<failure> has no text".into());
                }
            }
        }
        tests += cases.len();
        failures += failed;
    }
    if int(root, "tests")? != tests || int(root, "failures")? != failures {
        return Err("<testsuites> counts do not match".into());
    }
    Ok(failures)
}

#[test]
fn junit_format() {
    // A path with XML's special characters (`<`, `&`, quotes) must come through escaped.
    let p = project(&[("app/views.py", VIEWS), ("app/r&d <\"x\">'.py", &VIEWS[..VIEWS.find("    n =").unwrap()])]);
    let o = run(p.path(), &["check", "--output-format", "junit", "."]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let failures = check_junit_schema(&o.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", o.stdout));
    assert_eq!(failures, 3, "{}", o.stdout);
    let doc = roxmltree::Document::parse(&o.stdout).unwrap();
    let f = doc.descendants().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(f.attribute("type"), Some("AG101"));
    let case = f.parent().unwrap();
    assert!(case.attribute("classname").unwrap().ends_with(".py"));
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase") && n.attribute("classname").unwrap().ends_with("app/r&d <\"x\">'.py")), "{}", o.stdout);
    assert!(doc.descendants().any(|n| n.has_tag_name("failure") && n.attribute("message").unwrap().contains("Book.objects.get()")));
    // No findings: one passing test case, still valid.
    let clean = project(&[("ok.py", "x = 1\n")]);
    let o = run(clean.path(), &["check", "--output-format", "junit", "."]);
    assert_eq!(o.code, 0);
    assert_eq!(check_junit_schema(&o.stdout), Ok(0), "{}", o.stdout);
    // The checker rejects broken reports.
    assert!(check_junit_schema("<testsuites tests=\"1\" failures=\"1\"><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"x\" classname=\"a\"><failure message=\"m\" type=\"t\">m</failure></testcase></testsuite></testsuites>").is_err());
    assert!(check_junit_schema("<testsuites><oops").is_err());
}

/// Checks `v` against reviewdog's Diagnostic Format (`DiagnosticResult.jsonschema`,
/// reviewdog.proto): `diagnostics` an array; each with `message` (string), `location.path`
/// (string), `location.range.start` (`line`, `column` integers ≥ 1; columns in UTF-8 bytes),
/// optional `end`, `severity` one of ERROR/WARNING/INFO (or UNKNOWN_SEVERITY), optional
/// `source.name` and `code.value` strings, `suggestions` with `range` and `text`.
fn check_rdjson_schema(v: &Value) -> Result<(), String> {
    let severities = ["UNKNOWN_SEVERITY", "ERROR", "WARNING", "INFO"];
    if let Some(name) = v.get("source").map(|s| &s["name"]) {
        name.as_str().ok_or("source.name is not a string")?;
    }
    if let Some(s) = v.get("severity") {
        severities.contains(&s.as_str().ok_or("severity is not a string")?).then_some(()).ok_or("bad top-level severity")?;
    }
    let position = |p: &Value, what: &str| -> Result<(), String> {
        for k in ["line", "column"] {
            let n = p[k].as_u64().ok_or(format!("{what}.{k}: missing or not an integer"))?;
            if n == 0 {
                return Err(format!("{what}.{k} is 0"));
            }
        }
        Ok(())
    };
    let range = |r: &Value, what: &str| -> Result<(), String> {
        r.as_object().ok_or(format!("{what}: not an object"))?;
        position(&r["start"], &format!("{what}.start"))?;
        if let Some(end) = r.get("end") {
            position(end, &format!("{what}.end"))?;
        }
        Ok(())
    };
    for (i, d) in v["diagnostics"].as_array().ok_or("diagnostics is not an array")?.iter().enumerate() {
        d["message"].as_str().ok_or(format!("[{i}].message: missing or not a string"))?;
        d["location"]["path"].as_str().ok_or(format!("[{i}].location.path: missing or not a string"))?;
        range(&d["location"]["range"], &format!("[{i}].location.range"))?;
        if let Some(s) = d.get("severity") {
            severities.contains(&s.as_str().unwrap_or("")).then_some(()).ok_or(format!("[{i}].severity: {s}"))?;
        }
        if let Some(c) = d.get("code") {
            c["value"].as_str().ok_or(format!("[{i}].code.value: not a string"))?;
        }
        if let Some(s) = d.get("source") {
            s["name"].as_str().ok_or(format!("[{i}].source.name: not a string"))?;
        }
        for (j, s) in d.get("suggestions").and_then(Value::as_array).into_iter().flatten().enumerate() {
            range(&s["range"], &format!("[{i}].suggestions[{j}].range"))?;
            s["text"].as_str().ok_or(format!("[{i}].suggestions[{j}].text: not a string"))?;
        }
    }
    Ok(())
}

#[test]
fn rdjson_format() {
    let p = project(&[("app/wide.py", WIDE)]);
    let o = run(p.path(), &["check", "--output-format", "rdjson", "."]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let v = json(&o.stdout);
    check_rdjson_schema(&v).unwrap_or_else(|e| panic!("{e}:\n{v:#}"));
    assert_eq!(v["source"]["name"], "awaitguard");
    let d = &v["diagnostics"][0];
    assert_eq!(d["location"]["path"], "app/wide.py");
    assert_eq!(d["severity"], "ERROR");
    assert_eq!(d["code"]["value"], "AG101");
    // `s = "é😀"; book = ` is 16 characters but 21 bytes: rdjson counts UTF-8 bytes.
    let line = WIDE.lines().nth(4).unwrap();
    let byte_col = line.find("Book.objects.get").unwrap() + 1;
    assert_eq!(d["location"]["range"]["start"], serde_json::json!({"line": 5, "column": byte_col}));
    assert_eq!(d["location"]["range"]["end"]["column"], byte_col + "Book.objects.get(pk=pk)".len());
    // The fix as suggestions: applying them (bytes, exclusive ends) gives the fixed line.
    let mut fixed = line.to_string();
    let mut sugg: Vec<&Value> = d["suggestions"].as_array().unwrap().iter().collect();
    sugg.sort_by_key(|s| std::cmp::Reverse(s["range"]["start"]["column"].as_u64().unwrap()));
    for s in sugg {
        assert_eq!(s["range"]["start"]["line"], 5);
        let (a, b) = (s["range"]["start"]["column"].as_u64().unwrap() as usize - 1, s["range"]["end"]["column"].as_u64().unwrap() as usize - 1);
        fixed.replace_range(a..b, s["text"].as_str().unwrap());
    }
    assert_eq!(fixed, "    s = \"é😀\"; book = await Book.objects.aget(pk=pk)");
    // No findings: still valid.
    let clean = project(&[("ok.py", "x = 1\n")]);
    let v = json(&run(clean.path(), &["check", "--output-format", "rdjson", "."]).stdout);
    check_rdjson_schema(&v).unwrap();
    assert_eq!(v["diagnostics"], serde_json::json!([]));
    assert!(check_rdjson_schema(&serde_json::json!({"diagnostics": [{"message": "m", "location": {"path": "p", "range": {"start": {"line": 0, "column": 1}}}}]})).is_err());
    assert!(check_rdjson_schema(&serde_json::json!({"diagnostics": [{"message": "m", "location": {"path": "p"}, "severity": "FATAL"}]})).is_err());
}

// ---------------------------------------------------------------------------------------------
// --stdin-filename

#[test]
fn stdin_is_checked_as_the_named_file() {
    let p = project(&[
        ("awaitguard.toml", "exclude = [\"generated\"]\n"),
        ("legacy/awaitguard.toml", "ignore = [\"AG101\"]\n"),
    ]);
    // Findings are reported against the given path.
    let (code, out, err) = run_stdin(p.path(), &["check", "--stdin-filename", "app/views.py", "-"], VIEWS.as_bytes());
    assert_eq!(code, 1, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("app/views.py:5:12: error: AG101 [*] "), "{out}");
    // Without `-` too, and in any format.
    let (code, out, _) = run_stdin(p.path(), &["check", "--stdin-filename", "app/views.py", "--output-format", "json"], VIEWS.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(json(&String::from_utf8(out).unwrap())[0]["path"], "app/views.py");
    // The config of the named file's folder applies.
    let (code, out, err) = run_stdin(p.path(), &["check", "--stdin-filename", "legacy/views.py", "-"], VIEWS.as_bytes());
    assert_eq!((code, String::from_utf8(out).unwrap().as_str()), (0, "All checks passed!\n"), "{err}");
    // `exclude` is honoured: nothing checked, said on stderr.
    let (code, out, err) = run_stdin(p.path(), &["check", "--stdin-filename", "generated/views.py", "-"], VIEWS.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert!(!String::from_utf8(out).unwrap().contains("AG101"));
    assert!(err.contains("generated/views.py") && err.contains("nothing was checked"), "{err}");
    // Other paths with --stdin-filename: a usage error.
    let (code, _, err) = run_stdin(p.path(), &["check", "--stdin-filename", "a.py", "other.py"], b"");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn stdin_with_fix_prints_the_fixed_text() {
    let p = project(&[("awaitguard.toml", "exclude = [\"generated\"]\n")]);
    let (code, out, err) = run_stdin(p.path(), &["check", "--fix", "--stdin-filename", "app/views.py", "-"], VIEWS.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), VIEWS_FIXED);
    assert!(err.contains("Fixed 2 problems."), "{err}");
    assert!(!p.path().join("app/views.py").exists(), "nothing is written to disk");
    // What cannot be fixed is reported on stderr; stdout is still the whole text.
    let unfixable = "from .models import Book\n\n\nasync def v():\n    x = lambda: Book.objects.get(pk=1)\n    return x\n";
    let (code, out, err) = run_stdin(p.path(), &["check", "--fix", "--stdin-filename", "app/views.py", "-"], unfixable.as_bytes());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("app/views.py:5:17: error: AG101 "), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), unfixable);
    // An excluded file comes back unchanged.
    let (code, out, _) = run_stdin(p.path(), &["check", "--fix", "--stdin-filename", "generated/views.py", "-"], VIEWS.as_bytes());
    assert_eq!((code, String::from_utf8(out).unwrap().as_str()), (0, VIEWS));
    // A latin-1 text comes back in latin-1.
    let latin1 = [b"# coding: latin-1\n".as_slice(), VIEWS.replace("return book, n", "return book, n  # caf\u{e9}").as_bytes()].concat();
    let latin1: Vec<u8> = String::from_utf8(latin1).unwrap().chars().map(|c| c as u32 as u8).collect();
    let (code, out, err) = run_stdin(p.path(), &["check", "--fix", "--stdin-filename", "views.py"], &latin1);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with(b"return book, n  # caf\xe9\n") && out.windows(5).any(|w| w == b"aget("), "{}", String::from_utf8_lossy(&out));
    // --diff: the diff on stdout.
    let (code, out, _) = run_stdin(p.path(), &["check", "--diff", "--stdin-filename", "app/views.py"], VIEWS.as_bytes());
    assert_eq!(code, 1);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("+    book = await Book.objects.aget(pk=pk)"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// --show-settings, --show-files

#[test]
fn show_settings() {
    let p = project(&[
        ("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.awaitguard]\nselect = [\"AG1\", \"AG208\"]\nignore = [\"AG110\"]\ncelery-version = \"5.4\"\nmax-file-size = \"2MB\"\n\n[tool.awaitguard.severity]\nAG208 = \"error\"\n"),
        ("requirements.txt", "Django>=4.2,<5\n"),
        ("app/views.py", VIEWS),
    ]);
    let o = run(p.path(), &["check", "--show-settings", "app/views.py"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = &o.stdout;
    let line = |key: &str| out.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no `{key}` line:\n{out}")).to_string();
    assert!(line("config file:").ends_with("pyproject.toml"), "{out}");
    let enabled = line("enabled rules:");
    assert!(enabled.contains("AG101, AG102, AG103, AG104, AG105, AG106, AG107, AG108, AG109, AG208 (select: config file)"), "{enabled}");
    assert!(!enabled.contains("AG110") && !enabled.contains("AG202"), "{enabled}");
    assert!(line("disabled rules:").contains("AG110"), "{out}");
    assert!(out.contains("  AG208  task-dispatch-in-atomic") && out.contains("error (rule default: warning; from `severity`)"), "{out}");
    assert!(line("django version:").contains("4.2.0 (detected from ") && line("django version:").contains("requirements.txt"), "{out}");
    assert!(line("celery version:").contains("5.4.0 (`celery-version` in ") , "{out}");
    assert!(line("max-file-size:").contains("2.0 MB (2097152 bytes) (config file)"), "{out}");
    // Flags win, and say so.
    let o = run(p.path(), &["check", "--show-settings", "--select", "AG202", "--django-version", "5.0", "--max-file-size", "0", "app"]);
    assert!(o.stdout.contains("Settings for files in app"), "{}", o.stdout);
    assert!(o.stdout.contains("enabled rules:      AG202 (select: command line)"), "{}", o.stdout);
    assert!(o.stdout.contains("django version:     5.0.0 (--django-version)"), "{}", o.stdout);
    assert!(o.stdout.contains("max-file-size:      no limit (command line)"), "{}", o.stdout);
    let o = run(p.path(), &["check", "--show-settings", "--isolated", "app/views.py"]);
    assert!(o.stdout.contains("config file:        none (--isolated)") && o.stdout.contains("(default: the newest Django"), "{}", o.stdout);
    // A bad config is the usual error.
    write(p.path(), "app/awaitguard.toml", b"select = [\"AG999\"]\n");
    let o = run(p.path(), &["check", "--show-settings", "app/views.py"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("awaitguard.toml:1:"), "{}", o.stderr);
}

#[test]
fn show_files() {
    let p = project(&[
        ("awaitguard.toml", "exclude = [\"migrations\"]\nmax-file-size = 1000\n"),
        ("app/views.py", VIEWS),
        ("app/migrations/0001.py", VIEWS),
        ("lib/src/main.rs", "fn main() {}\n"),
        ("notes.txt", "x"),
        ("big.py", &"x = 1\n".repeat(400)),
    ]);
    let o = run(p.path(), &["check", "--show-files", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let files: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(files, ["./app/views.py", "./lib/src/main.rs"], "{}", o.stdout);
    assert!(o.stderr.contains("big.py: skipped: 2.3 KB (2400 bytes) is over the max-file-size limit of 1000 bytes"), "{}", o.stderr);
}

// ---------------------------------------------------------------------------------------------
// rule --all

#[test]
fn rule_listing_is_aligned_with_readme_wording() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(here, &["rule", "--all"]);
    assert_eq!(o.code, 0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(lines[0].starts_with("code") && lines[0].contains("severity") && lines[0].contains("fix"), "{}", lines[0]);
    assert_eq!(lines.len(), awaitguard::rules::RULES.len() + 1);
    // Every column starts at the same offset on every line.
    let starts = |l: &str| -> Vec<usize> {
        let b = l.as_bytes();
        (1..b.len()).filter(|&i| b[i] != b' ' && b[i - 1] == b' ' && i >= 2 && b[i - 2] == b' ').take(5).collect()
    };
    let head = starts(lines[0]);
    assert_eq!(head.len(), 5, "{}", lines[0]);
    for l in &lines[1..] {
        assert_eq!(&starts(l)[..5], &head[..], "misaligned:\n{}\n{l}", lines[0]);
    }
    // The fix column says what README's rule table says.
    let readme = std::fs::read_to_string(here.join("README.md")).unwrap();
    for r in awaitguard::rules::RULES {
        let m = r.meta();
        let row = readme.lines().find(|l| l.starts_with(&format!("| {} |", m.code))).unwrap();
        let readme_fix = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        let line = lines.iter().find(|l| l.starts_with(m.code)).unwrap();
        assert_eq!(&line[head[3]..head[3] + readme_fix.len()], readme_fix, "{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// max-file-size

#[test]
fn files_over_max_file_size_are_skipped_with_one_line() {
    let big = format!("{VIEWS}{}", "x = 1\n".repeat(2000)); // 12,1xx bytes, with findings
    let p = project(&[("awaitguard.toml", "max-file-size = \"10KB\"\n"), ("big.py", &big), ("small.py", VIEWS)]);
    let size = big.len();
    let o = run(p.path(), &["check", "."]);
    assert_eq!(o.code, 1, "the small file's findings decide: {}{}", o.stdout, o.stderr);
    let skipped: Vec<&str> = o.stderr.lines().filter(|l| l.contains("big.py")).collect();
    assert_eq!(skipped.len(), 1, "{}", o.stderr);
    assert!(
        skipped[0].starts_with("warning: ./big.py: skipped: 11.8 KB") && skipped[0].contains(&format!("({size} bytes)")) && skipped[0].contains("limit of 10.0 KB"),
        "{}",
        skipped[0]
    );
    assert!(!o.stdout.contains("big.py"), "{}", o.stdout);
    // Alone, the skipped file does not change the exit status (0: nothing else to report).
    let o = run(p.path(), &["check", "big.py"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    // The flag wins over the config; 0 is no limit.
    let o = run(p.path(), &["check", "--max-file-size", "1MB", "big.py"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.contains("big.py:5:12"), "{}", o.stdout);
    assert_eq!(run(p.path(), &["check", "--max-file-size", "0", "big.py"]).code, 1);
    let o = run(p.path(), &["check", "--max-file-size", "100", "small.py"]);
    assert_eq!(o.code, 0);
    assert!(o.stderr.contains("limit of 100 bytes"), "{}", o.stderr);
    // Bad values: the flag is a usage error; the config key names file and line.
    let o = run(p.path(), &["check", "--max-file-size", "lots", "."]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("lots"), "{}", o.stderr);
    write(p.path(), "awaitguard.toml", b"select = [\"ALL\"]\nmax-file-size = \"ten megs\"\n");
    let o = run(p.path(), &["check", "."]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("awaitguard.toml:2:") && o.stderr.contains("max-file-size"), "{}", o.stderr);
    // Stdin counts too.
    write(p.path(), "awaitguard.toml", b"max-file-size = 100\n");
    let (code, _, err) = run_stdin(p.path(), &["check", "--stdin-filename", "x.py"], VIEWS.as_bytes());
    assert_eq!(code, 0);
    assert!(err.contains("x.py: skipped") && err.contains("limit of 100 bytes"), "{err}");
}
