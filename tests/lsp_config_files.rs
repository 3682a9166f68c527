//! AG307 on configuration files of no checked language (`.env`, Dockerfile, compose, pytest
//! config), end to end: the real `awaitguard lsp` over stdio with the `languageId`s editors
//! send, and `awaitguard check --stdin-filename`.

mod common;

use common::lsp::{pull_caps, push_caps, Client};
use serde_json::{json, Value};
use std::time::Duration;

const VAR: &str = "DJANGO_ALLOW_ASYNC_UNSAFE";

fn diags(p: &Value) -> Vec<Value> {
    p["diagnostics"].as_array().cloned().unwrap_or_default()
}

/// The published diagnostics of `uri` at `version`.
fn published(c: &mut Client, uri: &str, version: i32) -> Vec<Value> {
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri && p["version"] == version);
    diags(&p["params"])
}

fn uri_in(dir: &std::path::Path, rel: &str) -> String {
    format!("file://{}/{rel}", dir.display())
}

#[test]
fn dotenv_finding_appears_and_goes_with_edits() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), ".env");
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let text = format!("# 😀 local settings\nDEBUG=1\nexport {VAR}=true\n");
    c.open(&uri, "dotenv", 1, &text);
    let d = published(&mut c, &uri, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "AG307");
    assert_eq!(d[0]["severity"], 1, "a .env file not named for tests: error");
    assert_eq!(d[0]["range"], json!({"start": {"line": 2, "character": 7}, "end": {"line": 2, "character": 7 + VAR.len()}}));
    // Edited away (an incremental change over the whole line): nothing left.
    let change = json!({"range": {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 0}}, "text": ""});
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]}));
    assert!(published(&mut c, &uri, 2).is_empty());
    // Set to the empty string (the check stays on), commented, then suppressed: silent.
    for (v, t) in [(3, format!("{VAR}=\n")), (4, format!("# {VAR}=1\n")), (5, format!("{VAR}=1  # noqa: AG307\n"))] {
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": t}]}));
        assert!(published(&mut c, &uri, v).is_empty(), "{t}");
    }
    // Back, as a full-text change.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 6}, "contentChanges": [{"text": format!("{VAR}=1\n")}]}));
    assert_eq!(published(&mut c, &uri, 6).len(), 1);
    // Closing clears it.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str() && p.get("version").is_none_or(Value::is_null));
    assert!(diags(&p["params"]).is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn dockerfile_compose_and_pytest_config_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let docker = uri_in(dir.path(), "Dockerfile");
    c.open(&docker, "dockerfile", 1, &format!("FROM python:3.12\nRUN echo {VAR}=1\nENV {VAR}=1\nARG {VAR}\n"));
    let d = published(&mut c, &docker, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0]["range"]["start"]["line"].as_u64(), d[0]["severity"].as_u64()), (Some(2), Some(1)));
    // `plaintext`: the name decides.
    let compose = uri_in(dir.path(), "docker-compose.yml");
    c.open(&compose, "plaintext", 1, &format!("services:\n  web:\n    environment:\n      - {VAR}=true\n    command: echo {VAR}=1\n"));
    let d = published(&mut c, &compose, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["range"]["start"]["line"], 3);
    let ini = uri_in(dir.path(), "pytest.ini");
    c.open(&ini, "ini", 1, &format!("[pytest]\nenv =\n    {VAR}=true\n; {VAR}=1\n"));
    let d = published(&mut c, &ini, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["severity"], 2, "test configuration: warning");
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn other_files_get_no_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let text = format!("{VAR}=1\nenvironment:\n  - {VAR}=true\n");
    let others = [("config.yaml", "yaml"), (".env.example", "dotenv"), ("notes.txt", "plaintext"), ("jupyter.env", "dotenv")];
    for (name, lang) in others {
        c.open(&uri_in(dir.path(), name), lang, 1, &text);
    }
    // A file that is checked, opened last: once it is published, the others would have been.
    let env = uri_in(dir.path(), ".env");
    c.open(&env, "dotenv", 1, &text);
    assert_eq!(published(&mut c, &env, 1).len(), 1);
    c.drain_for(Duration::from_millis(300));
    for (name, _) in others {
        let uri = uri_in(dir.path(), name);
        assert!(!c.queue.iter().any(|m| m["params"]["uri"] == uri.as_str()), "{name} must get nothing");
    }
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn config_turns_the_rule_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[tool.awaitguard]\nallow-async-unsafe = [\"notebooks/**\"]\n\n[tool.awaitguard.per-file-ignores]\n\"deploy/*\" = [\"AG307\"]\n";
    std::fs::write(dir.path().join("pyproject.toml"), config).unwrap();
    let text = format!("{VAR}=1\n");
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let kept = uri_in(dir.path(), ".env");
    let allowed = uri_in(dir.path(), "notebooks/.env");
    let ignored = uri_in(dir.path(), "deploy/.env");
    c.open(&allowed, "dotenv", 1, &text);
    c.open(&ignored, "dotenv", 1, &text);
    c.open(&kept, "dotenv", 1, &text);
    assert!(published(&mut c, &allowed, 1).is_empty(), "allow-async-unsafe");
    assert!(published(&mut c, &ignored, 1).is_empty(), "per-file-ignores");
    assert_eq!(published(&mut c, &kept, 1).len(), 1);
    // The editor's settings ignore the rule: the open file is published again, empty.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ignore": ["AG307"]}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == kept.as_str() && diags(p).is_empty());
    assert_eq!(p["params"]["version"], 1);
    // The config file's `ignore`, with the editor's settings back to none.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ignore": []}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == kept.as_str() && !diags(p).is_empty());
    assert_eq!(diags(&p["params"]).len(), 1);
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.awaitguard]\nignore = [\"AG307\"]\n").unwrap();
    let watched = uri_in(dir.path(), "pyproject.toml");
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": watched, "type": 2}]}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == kept.as_str() && diags(p).is_empty());
    assert_eq!(p["params"]["version"], 1);
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn pull_client_gets_reports_and_no_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), ".env.production");
    let mut c = Client::spawn();
    c.initialize(pull_caps(), Value::Null);
    c.open(&uri, "dotenv", 1, &format!("{VAR}=yes\n"));
    let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(r["kind"], "full");
    assert_eq!(r["items"].as_array().unwrap().len(), 1, "{r}");
    let id = r["resultId"].clone();
    let r2 = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}, "previousResultId": id}));
    assert_eq!(r2["kind"], "unchanged");
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "DEBUG=0\n"}]}));
    let r3 = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}, "previousResultId": id}));
    assert_eq!(r3["kind"], "full");
    assert!(r3["items"].as_array().unwrap().is_empty());
    c.drain_for(Duration::from_millis(300));
    assert!(!c.queue.iter().any(|m| m["method"] == "textDocument/publishDiagnostics"));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// Odd texts and odd edits (out-of-range and reversed ranges, positions inside a surrogate
/// pair, CR line ends, NULs) never end the server, and the last version's findings are those
/// of its text.
#[test]
fn any_text_and_any_edit_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_in(dir.path(), "Dockerfile.prod");
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(&uri, "dockerfile", 1, "\u{0}😀\r\rENV \\\n\\\n");
    published(&mut c, &uri, 1);
    let edits = [
        json!({"range": {"start": {"line": 99, "character": 99}, "end": {"line": 0, "character": 1}}, "text": "ENV =\n"}),
        json!({"range": {"start": {"line": 0, "character": 2}, "end": {"line": 0, "character": 3}}, "text": "ARG"}),
        json!({"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 4000}}, "text": format!("\r\nENV {VAR} 1\r\n")}),
    ];
    for (i, e) in edits.iter().enumerate() {
        let v = 2 + i as i32;
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [e]}));
        published(&mut c, &uri, v);
    }
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 9}, "contentChanges": [{"text": format!("FROM x\r\nENV A=1 \\\r\n    {VAR}=on\r\n")}]}));
    let d = published(&mut c, &uri, 9);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["range"]["start"], json!({"line": 2, "character": 4}));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// Runs `awaitguard ARGS` in `cwd` with the text `stdin` as its standard input.
fn run_stdin(cwd: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let (code, out, err) = common::cli::run_stdin(cwd, args, stdin.as_bytes());
    (code, String::from_utf8_lossy(&out).into_owned(), err)
}

#[test]
fn check_stdin_as_a_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let args = |name: &'static str| ["check", "--output-format", "concise", "--stdin-filename", name];
    let (code, out, _) = run_stdin(dir.path(), &args(".env"), &format!("DEBUG=1\n{VAR}=1\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(".env:2:1") && out.contains("AG307"), "{out}");
    let (code, out, _) = run_stdin(dir.path(), &args("Dockerfile"), &format!("FROM x\nENV {VAR}=1\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Dockerfile:2:5") && out.contains("AG307"), "{out}");
    // Silent: the empty value, a template, a file of no kind.
    let (code, out, _) = run_stdin(dir.path(), &args(".env"), &format!("{VAR}=\n"));
    assert_eq!((code, out.contains("AG307")), (0, false), "{out}");
    let (code, out, err) = run_stdin(dir.path(), &args("values.yaml"), &format!("{VAR}: 1\n"));
    assert_eq!((code, out.contains("AG307")), (0, false), "{out}");
    assert!(err.contains("nothing was checked"), "{err}");
    // The rule ignored in the config.
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.awaitguard]\nignore = [\"AG307\"]\n").unwrap();
    let (code, out, _) = run_stdin(dir.path(), &args(".env"), &format!("{VAR}=1\n"));
    assert_eq!((code, out.contains("AG307")), (0, false), "{out}");
}
