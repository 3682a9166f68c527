//! Legacy codebases: `check --add-noqa` (a suppression comment on every offending line, so CI
//! starts green) and AG900 unused-suppression (opt-in), through the real binary over the
//! command line and over stdio.

mod common;

use common::cli::{run, write};
use common::lsp::{apply_edits, edits_of, push_caps, Client};
use serde_json::{json, Value};

const VIEWS: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = Book.objects.get(pk=pk)  # noqa: E501\n    b = Book.objects.get(pk=pk); c = Book.objects.count()\n    d = Book.objects.count()  # awaitguard: ignore[AG202]\n    e = Book.objects.count()  # type: ignore\n    s = \"\"\"text\n    \"\"\"; f = await Book.objects.acount()\n    return a, b, c, d, e, s, f\n";
const VIEWS_NOQA: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = Book.objects.get(pk=pk)  # noqa: E501, AG101\n    b = Book.objects.get(pk=pk); c = Book.objects.count()  # awaitguard: ignore[AG101]\n    d = Book.objects.count()  # awaitguard: ignore[AG202, AG101]\n    e = Book.objects.count()  # type: ignore  # awaitguard: ignore[AG101]\n    s = \"\"\"text\n    \"\"\"; f = await Book.objects.acount()\n    return a, b, c, d, e, s, f\n";
const CLEAN: &str = "from .models import Book\n\n\nasync def v(pk):\n    return await Book.objects.aget(pk=pk)\n";

#[test]
fn add_noqa_merges_keeps_bytes_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "views.py", VIEWS.as_bytes());
    let crlf = "from .models import Book\r\n\r\n\r\nasync def v(pk):\r\n    return Book.objects.get(pk=pk)\r\n";
    let p_crlf = write(dir.path(), "crlf.py", crlf.as_bytes());
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(crlf.replace("\r\n", "\n").as_bytes());
    let p_bom = write(dir.path(), "bom.py", &bom);
    let p_clean = write(dir.path(), "clean.py", CLEAN.as_bytes());

    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stderr, "Added 6 noqa directives.\n");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS_NOQA);
    assert_eq!(
        std::fs::read(&p_crlf).unwrap(),
        crlf.replace("get(pk=pk)\r\n", "get(pk=pk)  # awaitguard: ignore[AG101]\r\n").into_bytes(),
        "CRLF kept"
    );
    let got = std::fs::read(&p_bom).unwrap();
    assert!(got.starts_with(b"\xef\xbb\xbffrom"), "BOM kept");
    assert!(String::from_utf8_lossy(&got).ends_with("get(pk=pk)  # awaitguard: ignore[AG101]\n"));
    assert_eq!(std::fs::read_to_string(&p_clean).unwrap(), CLEAN, "a clean file is not touched");
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 4, "no temporary files left");

    // CI is green now; a second run adds nothing and changes nothing.
    let o = run(dir.path(), &["check", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "{}", o.stderr);
    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, "Added 0 noqa directives.\n"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), VIEWS_NOQA);

    // A new finding still fails.
    std::fs::write(&p_clean, CLEAN.replace("await Book.objects.aget", "Book.objects.get")).unwrap();
    assert_eq!(run(dir.path(), &["check", "."]).code, 1);
    assert_eq!(run(dir.path(), &["check", "--add-noqa", "--fix", "."]).code, 2, "--add-noqa and --fix conflict");
}

const STALE: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = await Book.objects.aget(pk=pk)  # awaitguard: ignore[AG101]\n    b = Book.objects.get(pk=pk)  # awaitguard: ignore[AG101]\n    c = await Book.objects.acount()  # noqa: E501, AG101\n    d = await Book.objects.acount()  # noqa: E501\n    return a, b, c, d\n";
const STALE_FIXED: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = await Book.objects.aget(pk=pk)\n    b = Book.objects.get(pk=pk)  # awaitguard: ignore[AG101]\n    c = await Book.objects.acount()  # noqa: E501\n    d = await Book.objects.acount()  # noqa: E501\n    return a, b, c, d\n";

#[test]
fn unused_suppressions_are_opt_in_and_fixable() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "views.py", STALE.as_bytes());
    // Not selected: silent.
    let o = run(dir.path(), &["check", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"));
    let o = run(dir.path(), &["check", "--select", "AG900,AG101", "--output-format", "concise", "."]);
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("AG900")).collect();
    assert_eq!(lines.len(), 2, "{}", o.stdout);
    assert!(lines[0].starts_with("./views.py:5:") && lines[1].starts_with("./views.py:7:"), "{}", o.stdout);
    // By name too.
    let o = run(dir.path(), &["check", "--select", "unused-suppression,AG101", "--output-format", "concise", "."]);
    assert_eq!(o.stdout.lines().filter(|l| l.contains("AG900")).count(), 2);
    let o = run(dir.path(), &["check", "--select", "AG900,AG101", "--fix", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), STALE_FIXED);
}

#[test]
fn unused_suppression_is_a_hint_with_a_remove_quick_fix_in_the_editor() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("awaitguard.toml"), "select = [\"AG900\", \"AG101\"]\n").unwrap();
    let path = dir.path().join("views.py");
    std::fs::write(&path, STALE).unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(&uri, "python", 1, STALE);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    let d: Vec<Value> = p["params"]["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "AG900").cloned().collect();
    assert_eq!(d.len(), 2, "{p}");
    assert_eq!(d[0]["severity"], 4, "a hint");
    assert_eq!(d[0]["range"]["start"]["line"], 4);
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": [d[0]]}}),
    );
    let fix = actions.as_array().unwrap().iter().find(|a| a["title"] == "Remove the unused suppression").expect("a remove quick fix");
    assert_eq!(fix["kind"], "quickfix");
    assert!(!actions.as_array().unwrap().iter().any(|a| a["title"] == "Disable AG900 for this line"), "a comment cannot silence AG900");
    let fixed = apply_edits(STALE, &edits_of(&fix["edit"]), "utf-16");
    assert_eq!(fixed, STALE.replacen("aget(pk=pk)  # awaitguard: ignore[AG101]", "aget(pk=pk)", 1));
    assert_eq!(c.shutdown_and_exit(), 0);
}

// A finding whose first line ends inside a multi-line string or with a `\` continuation: the
// comment goes where the string or the continued line ends (as ruff places `noqa`), and the
// suppression is honoured there.
const SPANNING: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = Book.objects.get(name=\"\"\"x\n    y\"\"\")\n    b = Book.objects.get(pk=pk) + \\\n        1\n    c = Book.objects.get(name=\"\"\"x\n    y\"\"\"); d = Book.objects.count()\n    e = await Book.objects.aget(name=\"\"\"x\n    y\"\"\")\n    return a, b, c, d, e\n";
const SPANNING_NOQA: &str = "from .models import Book\n\n\nasync def v(pk):\n    a = Book.objects.get(name=\"\"\"x\n    y\"\"\")  # awaitguard: ignore[AG101]\n    b = Book.objects.get(pk=pk) + \\\n        1  # awaitguard: ignore[AG101]\n    c = Book.objects.get(name=\"\"\"x\n    y\"\"\"); d = Book.objects.count()  # awaitguard: ignore[AG101]\n    e = await Book.objects.aget(name=\"\"\"x\n    y\"\"\")\n    return a, b, c, d, e\n";

#[test]
fn add_noqa_places_the_comment_after_a_multi_line_string_or_continuation() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "views.py", SPANNING.as_bytes());
    let o = run(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(o.stdout.lines().filter(|l| l.contains("AG101")).count(), 4, "{}", o.stdout);
    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, "Added 3 noqa directives.\n"), "{}", o.stdout);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), SPANNING_NOQA);
    let o = run(dir.path(), &["check", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "{}", o.stderr);
    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, "Added 0 noqa directives.\n"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), SPANNING_NOQA, "idempotent");
    // The comments are used: AG900 stays silent on them.
    let o = run(dir.path(), &["check", "--select", "AG900,AG101", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "{}", o.stderr);
}

const RUST_SRC: &str = "use diesel::prelude::*;\nuse diesel::r2d2::{ConnectionManager, Pool};\n\ntype DbPool = Pool<ConnectionManager<PgConnection>>;\n\nasync fn count(pool: DbPool) -> QueryResult<i64> {\n    let mut conn = pool.get().unwrap(); // why: legacy\n    diesel::sql_query(r\"DELETE FROM carts\n        WHERE stale\").execute(&mut conn)?;\n    users::table.count().get_result(&mut conn) // noqa: E501\n}\n\nasync fn fine(a: i64) -> i64 {\n    a + 1\n}\n";
const RUST_NOQA: &str = "use diesel::prelude::*;\nuse diesel::r2d2::{ConnectionManager, Pool};\n\ntype DbPool = Pool<ConnectionManager<PgConnection>>;\n\nasync fn count(pool: DbPool) -> QueryResult<i64> {\n    let mut conn = pool.get().unwrap(); // why: legacy  // awaitguard: ignore[AG501]\n    diesel::sql_query(r\"DELETE FROM carts\n        WHERE stale\").execute(&mut conn)?;  // awaitguard: ignore[AG501]\n    users::table.count().get_result(&mut conn) // noqa: E501, AG501\n}\n\nasync fn fine(a: i64) -> i64 {\n    a + 1\n}\n";

#[test]
fn add_noqa_on_rust_files_uses_line_comments_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "lib.rs", RUST_SRC.as_bytes());
    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, "Added 3 noqa directives.\n"), "{}", o.stdout);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), RUST_NOQA);
    let o = run(dir.path(), &["check", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "{}", o.stderr);
    let o = run(dir.path(), &["check", "--add-noqa", "."]);
    assert_eq!((o.code, o.stderr.as_str()), (0, "Added 0 noqa directives.\n"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), RUST_NOQA, "idempotent");
    let o = run(dir.path(), &["check", "--select", "AG900,AG501", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "the added comments are used");
}

const RUST_STALE: &str = "use diesel::prelude::*;\nuse diesel::r2d2::{ConnectionManager, Pool};\n\ntype DbPool = Pool<ConnectionManager<PgConnection>>;\n\nasync fn count(pool: DbPool) -> QueryResult<i64> {\n    let mut conn = pool.get().unwrap(); // awaitguard: ignore[AG501]\n    let n = 1; // noqa: E501, AG501\n    let m = n + 1; // awaitguard: ignore[AG501] // kept: a note\n    let k = m + 1; // noqa: E501\n    users::table.count().get_result(&mut conn) // noqa: AG501\n}\n";
const RUST_STALE_FIXED: &str = "use diesel::prelude::*;\nuse diesel::r2d2::{ConnectionManager, Pool};\n\ntype DbPool = Pool<ConnectionManager<PgConnection>>;\n\nasync fn count(pool: DbPool) -> QueryResult<i64> {\n    let mut conn = pool.get().unwrap(); // awaitguard: ignore[AG501]\n    let n = 1; // noqa: E501\n    let m = n + 1; // kept: a note\n    let k = m + 1; // noqa: E501\n    users::table.count().get_result(&mut conn) // noqa: AG501\n}\n";
// No rule's triggers: only the stale directive; the pre-filter must not skip the file.
const RUST_NO_TRIGGERS: &str = "async fn f(a: i64) -> i64 {\n    a + 1 // awaitguard: ignore[AG501]\n}\n";

#[test]
fn unused_suppressions_in_rust_files_are_opt_in_and_fixable() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "lib.rs", RUST_STALE.as_bytes());
    let q = write(dir.path(), "other.rs", RUST_NO_TRIGGERS.as_bytes());
    let o = run(dir.path(), &["check", "."]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "not selected: silent");
    for extra in [&[][..], &["--no-prefilter"][..]] {
        let mut args = vec!["check", "--select", "AG900,AG501", "--output-format", "concise"];
        args.extend_from_slice(extra);
        args.push(".");
        let o = run(dir.path(), &args);
        assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
        let lines: Vec<&str> = o.stdout.lines().filter(|l| l.contains("AG900")).collect();
        assert_eq!(lines.len(), 3, "{extra:?}: {}", o.stdout);
        assert!(lines[0].starts_with("./lib.rs:8:") && lines[1].starts_with("./lib.rs:9:"), "{}", o.stdout);
        assert!(lines[2].starts_with("./other.rs:2:"), "{}", o.stdout);
    }
    let o = run(dir.path(), &["check", "--select", "AG900,AG501", "--fix", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), RUST_STALE_FIXED);
    assert_eq!(std::fs::read_to_string(&q).unwrap(), "async fn f(a: i64) -> i64 {\n    a + 1\n}\n");
}

#[test]
fn unused_suppression_in_a_rust_file_has_the_remove_quick_fix_in_the_editor() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("awaitguard.toml"), "select = [\"AG900\", \"AG501\"]\n").unwrap();
    let path = dir.path().join("lib.rs");
    std::fs::write(&path, RUST_STALE).unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(&uri, "rust", 1, RUST_STALE);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    let d: Vec<Value> = p["params"]["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "AG900").cloned().collect();
    assert_eq!(d.len(), 2, "{p}");
    assert_eq!((d[0]["severity"].clone(), d[0]["range"]["start"]["line"].clone()), (json!(4), json!(7)));
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": [d[0]]}}),
    );
    let fix = actions.as_array().unwrap().iter().find(|a| a["title"] == "Remove the unused suppression").expect("a remove quick fix");
    let fixed = apply_edits(RUST_STALE, &edits_of(&fix["edit"]), "utf-16");
    assert_eq!(fixed, RUST_STALE.replacen("// noqa: E501, AG501", "// noqa: E501", 1));
    assert_eq!(c.shutdown_and_exit(), 0);
}
