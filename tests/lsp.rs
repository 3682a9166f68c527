//! End to end: the real `awaitguard lsp` binary over stdio, spoken to as an editor does.

mod common;

use awaitguard::config::Settings;
use awaitguard::analysis::fix_all;
use awaitguard::syntax::Lang;
use common::lsp::{apply_edits, edits_of, pull_caps, push_caps, Client};
use serde_json::{json, Value};
use std::time::Duration;

const URI: &str = "file:///tmp/awaitguard-e2e/views.py";

/// An astral-plane character before the finding on the same line.
const SRC: &str = "from django.http import JsonResponse\nfrom .models import Book\n\n\nasync def view(request, pk):\n    label = \"😀\"; book = Book.objects.get(pk=pk)\n    return JsonResponse({\"t\": book.title, \"l\": label})\n";

fn col_of(text: &str, needle: &str, enc: &str) -> (u64, u64) {
    let at = text.find(needle).unwrap();
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let prefix = &text[line_start..at];
    let col = match enc {
        "utf-8" => prefix.len(),
        "utf-32" => prefix.chars().count(),
        _ => prefix.encode_utf16().count(),
    };
    (text[..at].matches('\n').count() as u64, col as u64)
}

fn diags(p: &Value) -> Vec<Value> {
    p["diagnostics"].as_array().cloned().unwrap_or_default()
}

/// Sends edits (all relative to the current text) as incremental changes, last first so
/// earlier positions stay valid.
fn send_edits(c: &mut Client, version: i32, edits: &[Value]) {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| {
        let s = &e["range"]["start"];
        std::cmp::Reverse((s["line"].as_u64().unwrap(), s["character"].as_u64().unwrap()))
    });
    let changes: Vec<Value> = sorted.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect();
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": changes}));
}

fn roundtrip(enc: &str) {
    let mut c = Client::spawn();
    let init = c.initialize(push_caps(&[enc]), Value::Null);
    assert_eq!(init["capabilities"]["positionEncoding"], enc);
    assert!(init["capabilities"].get("diagnosticProvider").is_none(), "push client must not be offered pull");
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let d = diags(&p["params"]);
    assert_eq!(d.len(), 1, "{d:?}");
    let d = &d[0];
    assert_eq!(d["code"], "AG101");
    assert_eq!(d["source"], "awaitguard");
    assert_eq!(d["severity"], 1);
    assert!(d["message"].as_str().unwrap().contains("`Book.objects.get()` runs a query synchronously"));
    let (line, col) = col_of(SRC, "Book.objects.get(pk=pk)", enc);
    assert_eq!(d["range"]["start"], json!({"line": line, "character": col}), "{enc} column");

    // Hover on the finding shows the rule doc.
    let h = c.request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": d["range"]["start"]}));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("AG101") && md.contains("SynchronousOnlyOperation"), "{md}");
    assert!(!md.contains(d["message"].as_str().unwrap()), "the hover does not repeat the message: {md}");

    // Quick fix, applied as an editor would, then sent back as an incremental change.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = actions.as_array().unwrap();
    let fix = actions.iter().find(|a| a["isPreferred"] == true).expect("a preferred quick fix");
    assert_eq!(fix["kind"], "quickfix");
    assert!(actions.iter().any(|a| a["title"] == "Disable AG101 for this line"));
    let edits = edits_of(&fix["edit"]);
    let fixed = apply_edits(SRC, &edits, enc);
    assert!(fixed.contains("label = \"😀\"; book = await Book.objects.aget(pk=pk)"), "{fixed}");
    send_edits(&mut c, 2, &edits);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 2);
    assert!(diags(&p["params"]).is_empty(), "fixed text must be clean: {p}");
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn push_roundtrip_utf16() {
    roundtrip("utf-16");
}

#[test]
fn push_roundtrip_utf8() {
    roundtrip("utf-8");
}

#[test]
fn push_roundtrip_utf32() {
    roundtrip("utf-32");
}

#[test]
fn pull_diagnostics_and_never_push() {
    let mut c = Client::spawn();
    let init = c.initialize(pull_caps(), Value::Null);
    assert_eq!(init["capabilities"]["diagnosticProvider"]["identifier"], "awaitguard");
    c.open(URI, "python", 1, SRC);
    let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}}));
    assert_eq!(r["kind"], "full");
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let id = r["resultId"].clone();
    let r2 = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}, "previousResultId": id}));
    assert_eq!(r2["kind"], "unchanged");
    let clean = SRC.replace("Book.objects.get(pk=pk)", "await Book.objects.aget(pk=pk)");
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": clean}]}));
    let r3 = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}, "previousResultId": id}));
    assert_eq!(r3["kind"], "full");
    assert!(r3["items"].as_array().unwrap().is_empty());
    c.drain_for(Duration::from_millis(300));
    assert!(
        !c.queue.iter().any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "a pull client must never get pushed diagnostics"
    );
    assert_eq!(c.shutdown_and_exit(), 0);
}

const MANY: &str = "from django.db import models\nfrom .models import Author, Book\n\n\nasync def view(pk):\n    book = Book.objects.get(pk=Author.objects.count())\n    n = Book.objects.filter(pk=pk).count() + 1\n    f = lambda: Book.objects.first()\n    return (book, n, f, Book.objects.get(pk=1).title)\n";

#[test]
fn fix_all_code_action_matches_the_cli_fixer() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, MANY);
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [], "only": ["source.fixAll.awaitguard"]}}),
    );
    let actions = r.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{r}");
    assert_eq!(actions[0]["kind"], "source.fixAll.awaitguard");
    let fixed = apply_edits(MANY, &edits_of(&actions[0]["edit"]), "utf-16");
    let expected = fix_all(MANY, Lang::Python, &Settings::default(), false).unwrap();
    assert_eq!(fixed, expected);
    assert!(fixed.contains("await Book.objects.aget(pk=await Author.objects.acount())"), "{fixed}");
    assert!(fixed.contains("(await Book.objects.aget(pk=1)).title"), "{fixed}");
    assert!(fixed.contains("lambda: Book.objects.first()"), "no fix inside a lambda: {fixed}");
    // A quickfix-only request gets no fix-all action.
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [], "only": ["quickfix"]}}),
    );
    assert!(r.as_array().unwrap().is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn disable_for_this_line() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let d = diags(&p["params"]).remove(0);
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let disable = actions.as_array().unwrap().iter().find(|a| a["title"] == "Disable AG101 for this line").unwrap().clone();
    let edits = edits_of(&disable["edit"]);
    let new = apply_edits(SRC, &edits, "utf-16");
    assert!(new.contains("Book.objects.get(pk=pk)  # awaitguard: ignore[AG101]\n"), "{new}");
    send_edits(&mut c, 2, &edits);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 2);
    assert!(diags(&p["params"]).is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn settings_from_init_options_and_did_change_configuration() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"ignore": ["AG101"]}}));
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    assert!(diags(&p["params"]).is_empty(), "AG101 is ignored by initializationOptions");
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ignore": [], "severity": {"AG101": "warning"}}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| !p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(diags(&p["params"])[0]["severity"], 2);
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn settings_from_workspace_configuration() {
    let mut c = Client::spawn();
    *c.configuration.lock().unwrap() = json!({"severity": {"AG101": "info"}});
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| {
        p["diagnostics"].as_array().unwrap().first().is_some_and(|d| d["severity"] == 3)
    });
    assert_eq!(p["params"]["version"], 1);
    c.wait_server_request("workspace/configuration");
    // didChangeConfiguration with no payload: the server asks again.
    *c.configuration.lock().unwrap() = json!({"enable": false});
    c.notify("workspace/didChangeConfiguration", json!({"settings": null}));
    c.wait_for("textDocument/publishDiagnostics", |p| p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn bad_settings_and_bad_config_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.awaitguard]\nselect = [\"AG101\"]\nbogus-key = 1\n").unwrap();
    let path = dir.path().join("views.py");
    std::fs::write(&path, SRC).unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"select": 42}}));
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap().contains("select"));
    assert_eq!(m["params"]["type"], 1);
    c.open(&uri, "python", 1, SRC);
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap().contains("pyproject.toml"));
    let msg = m["params"]["message"].as_str().unwrap();
    assert!(msg.contains("bogus-key") && msg.contains("pyproject.toml:3:"), "{msg}");
    // Defaults still apply: the finding is published.
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    assert_eq!(diags(&p["params"]).len(), 1);
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// An unknown rule selector in the editor's settings (a code-shaped typo too) is shown with the
/// closest code, and the defaults are used: the finding is still published.
#[test]
fn unknown_selector_in_settings_is_shown_and_defaults_apply() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"select": ["AG999"]}}));
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap().contains("AG999"));
    assert_eq!(m["params"]["type"], 1);
    assert!(m["params"]["message"].as_str().unwrap().contains("did you mean `AG109`"), "{m}");
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == URI);
    assert_eq!(diags(&p["params"]).len(), 1, "defaults (every rule) apply");
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// A document over `maxFileSize` gets no diagnostics and one Info message naming the file,
/// its size and the limit; an edit does not repeat the message. The config key works too.
#[test]
fn documents_over_max_file_size_get_one_info_message() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"maxFileSize": 100}}));
    assert!(SRC.len() > 100);
    c.open(URI, "python", 1, SRC);
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap().contains("max-file-size"));
    assert_eq!(m["params"]["type"], 3, "an Info message: {m}");
    let msg = m["params"]["message"].as_str().unwrap();
    assert!(msg.contains("views.py") && msg.contains("bytes") && msg.contains("100 bytes"), "{msg}");
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == URI && p["version"] == 1);
    assert!(diags(&p["params"]).is_empty(), "no diagnostics for a document over the limit");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": format!("{SRC}# more\n")}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == URI && p["version"] == 2);
    c.drain_for(Duration::from_millis(300));
    assert!(
        c.try_wait_for("window/showMessage", &|p| p["message"].as_str().unwrap().contains("max-file-size"), Duration::from_millis(10)).is_none(),
        "the message is shown once per document"
    );
    // Raised in the settings: analysed again.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"maxFileSize": "1MB"}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == URI && !p["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(diags(&p["params"]).len(), 1);
    assert_eq!(c.shutdown_and_exit(), 0);

    // The config file's `max-file-size`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("awaitguard.toml"), "max-file-size = 50\n").unwrap();
    let path = dir.path().join("views.py");
    std::fs::write(&path, SRC).unwrap();
    let uri = format!("file://{}", path.display());
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(&uri, "python", 1, SRC);
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap().contains("max-file-size"));
    assert_eq!(m["params"]["type"], 3);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    assert!(diags(&p["params"]).is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// ≥ 2,000 incremental changes interleaved with requests: every publication is for a newer
/// version than the one before, each is exactly right for its version's text, and the last
/// one is the final version.
#[test]
fn ordering_stress() {
    let base = "from .models import Book\n\n\nasync def view():\n    return Book.objects.get(pk=1)\n";
    let at = base.find("get(").unwrap();
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, base);
    let (line, col) = col_of(base, "get(", "utf-16");
    let mut texts = std::collections::HashMap::new();
    texts.insert(1, base.to_string());
    let mut text = base.to_string();
    let n = 2000;
    let mut pending = vec![];
    for i in 0..n {
        let version = i + 2;
        let word = if i % 3 == 0 { "get" } else { "gex" };
        text.replace_range(at..at + 3, word);
        texts.insert(version, text.clone());
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": version},
                   "contentChanges": [{"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 3}}, "text": word}]}),
        );
        if i % 40 == 0 {
            pending.push(c.request_async("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": col}})));
            pending.push(c.request_async(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": URI}, "range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, "context": {"diagnostics": []}}),
            ));
        }
    }
    for id in pending {
        let r = c.response(id);
        assert!(r.get("error").is_none(), "{r}");
    }
    let last = n + 1;
    let final_publish = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == last);
    let mut prev = 0;
    let mut publishes: Vec<Value> =
        c.queue.iter().filter(|m| m["method"] == "textDocument/publishDiagnostics").map(|m| m["params"].clone()).collect();
    publishes.push(final_publish["params"].clone());
    let mut count = 0;
    for p in &publishes {
        let v = p["version"].as_i64().unwrap();
        assert!(v > prev, "out of order: {v} after {prev}");
        prev = v;
        let has_get = texts[&(v as i32)].contains("get(");
        assert_eq!(diags(p).len(), usize::from(has_get), "stale result for version {v}");
        count += 1;
    }
    eprintln!("{count} publications for {n} changes");
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn a_panicking_rule_is_logged_and_the_server_keeps_serving() {
    let mut c = Client::spawn_with_env(&[("AWAITGUARD_TEST_PANIC", "AG101")]);
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, SRC);
    let log = c.wait_for("window/logMessage", |p| p["message"].as_str().unwrap().contains("panicked"));
    assert!(log["params"]["message"].as_str().unwrap().contains("AG101"));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    assert!(diags(&p["params"]).is_empty());
    let h = c.request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}));
    assert!(h.is_null());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn protocol_edge_cases() {
    let mut c = Client::spawn();
    // A request before initialize is refused, not fatal.
    let id = c.request_async("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32002, "{r}");
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    // didChange for a document never opened; positions past the end; unknown method.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///nope.py", "version": 2}, "contentChanges": [{"text": "x"}]}));
    c.open(URI, "python", 1, SRC);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"range": {"start": {"line": 999, "character": 999}, "end": {"line": 0, "character": 5000}}, "text": "\n# tail"}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 2);
    let id = c.request_async("awaitguard/unknown", json!({}));
    assert_eq!(c.response(id)["error"]["code"], -32601);
    let h = c.request("textDocument/hover", json!({"textDocument": {"uri": URI}, "position": {"line": 9999, "character": 9999}}));
    assert!(h.is_null());
    // exit without shutdown: exit code 1.
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(), 1);
}

#[test]
fn exits_when_the_client_disappears() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_awaitguard"))
        .arg("lsp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.code().is_some());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "server outlived its client");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn pull_client_is_asked_to_refresh_after_a_settings_change() {
    let mut c = Client::spawn();
    c.initialize(pull_caps(), Value::Null);
    c.open(URI, "python", 1, SRC);
    let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}}));
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ignore": ["AG101"]}}}));
    c.wait_server_request("workspace/diagnostic/refresh");
    let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}, "previousResultId": r["resultId"]}));
    assert_eq!(r["kind"], "full");
    assert!(r["items"].as_array().unwrap().is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn apply_fix_all_command_sends_a_workspace_edit() {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c.open(URI, "python", 1, MANY);
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let r = c.request("workspace/executeCommand", json!({"command": "awaitguard.applyFixAll", "arguments": [URI]}));
    assert!(r.is_null());
    let edit = c.wait_server_request("workspace/applyEdit")["params"]["edit"].clone();
    let fixed = apply_edits(MANY, &edits_of(&edit), "utf-16");
    assert_eq!(fixed, fix_all(MANY, Lang::Python, &Settings::default(), false).unwrap());
    let id = c.request_async("workspace/executeCommand", json!({"command": "awaitguard.nope", "arguments": []}));
    assert!(c.response(id)["error"]["code"].is_number());
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// A `workspace/configuration` answer that arrives after a newer `didChangeConfiguration`
/// must not undo it (found by the Neovim suite).
#[test]
fn a_late_configuration_answer_does_not_undo_a_newer_push() {
    for _ in 0..10 {
        let mut c = Client::spawn();
        *c.configuration.lock().unwrap() = json!({"ignore": ["AG101"]});
        *c.after_configuration.lock().unwrap() = Some(json!({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
            "params": {"settings": {"awaitguard": {"ignore": null}}}}));
        c.initialize(pull_caps(), Value::Null);
        c.open(URI, "python", 1, SRC);
        c.wait_server_request("workspace/configuration");
        std::thread::sleep(Duration::from_millis(100));
        let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}}));
        assert_eq!(r["items"].as_array().unwrap().len(), 1, "the newer pushed settings must win: {r}");
        assert_eq!(c.shutdown_and_exit(), 0);
    }
}

#[test]
fn files_excluded_by_config_get_no_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.awaitguard]\nexclude = [\"legacy\"]\n").unwrap();
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let kept = format!("file://{}/app/views.py", dir.path().display());
    let excluded = format!("file://{}/legacy/views.py", dir.path().display());
    c.open(&excluded, "python", 1, SRC);
    c.open(&kept, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == kept.as_str());
    assert_eq!(diags(&p["params"]).len(), 1);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == excluded.as_str());
    assert!(diags(&p["params"]).is_empty(), "excluded by config: {p}");
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// The server reads the project's Django settings module (AG107 on a database cache) and reads
/// it again when a watched settings file changes (issue 18.1).
#[test]
fn settings_module_changes_are_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("manage.py", "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\n");
    let db = "SECRET_KEY = 'x'\nCACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache'}}\n";
    write("shop/settings.py", db);
    let src = "from django.core.cache import cache\n\n\nasync def view(request):\n    return cache.get('k')\n";
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let uri = format!("file://{}/shop/views.py", dir.path().display());
    c.open(&uri, "python", 1, src);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    let d = diags(&p["params"]);
    assert_eq!(d.len(), 1, "{p}");
    assert_eq!(d[0]["code"], "AG107");
    // The cache moves to redis: not a query, nothing to report.
    write("shop/settings.py", &db.replace("django.core.cache.backends.db.DatabaseCache", "django_redis.cache.RedisCache"));
    let settings_uri = format!("file://{}/shop/settings.py", dir.path().display());
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": settings_uri, "type": 2}]}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str() && diags(p).is_empty());
    assert!(diags(&p["params"]).is_empty());
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// `codeDescription.href` links each diagnostic to its rule page, only for clients that say
/// they show it; the base URL comes from the `ruleDocsUrl` setting, else the canonical home's
/// `docs/rules` at this version's tag; `"off"` turns the links off.
#[test]
fn code_description_links_to_the_rule_page() {
    let default = format!("https://github.com/awaitguard/awaitguard/blob/v{}/docs/rules/AG101.md", env!("CARGO_PKG_VERSION"));
    // Push client that supports it: the default page.
    let mut caps = push_caps(&["utf-16"]);
    caps["textDocument"]["publishDiagnostics"]["codeDescriptionSupport"] = json!(true);
    let mut c = Client::spawn();
    c.initialize(caps.clone(), Value::Null);
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let d = diags(&p["params"]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["codeDescription"]["href"], default.as_str());
    assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules/AG101.md").is_file(), "the page linked to exists in docs/rules");
    // A base URL from the settings (trailing slash tolerated), changed at run time, then off.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ruleDocsUrl": "https://docs.example.org/ag/"}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| diags(p).first().is_some_and(|d| d["codeDescription"]["href"] != default.as_str()));
    assert_eq!(diags(&p["params"])[0]["codeDescription"]["href"], "https://docs.example.org/ag/AG101.md");
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"awaitguard": {"ruleDocsUrl": "off"}}}));
    let p = c.wait_for("textDocument/publishDiagnostics", |p| diags(p).first().is_some_and(|d| d.get("codeDescription").is_none()));
    assert_eq!(diags(&p["params"])[0]["code"], "AG101");
    assert_eq!(c.shutdown_and_exit(), 0);

    // A client that does not say it supports it: no link (push and pull).
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"ruleDocsUrl": "https://docs.example.org/ag"}}));
    c.open(URI, "python", 1, SRC);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    assert!(diags(&p["params"])[0].get("codeDescription").is_none());
    assert_eq!(c.shutdown_and_exit(), 0);

    // Pull client with `textDocument.diagnostic.codeDescriptionSupport`, base URL from
    // initializationOptions.
    let mut caps = pull_caps();
    caps["textDocument"]["diagnostic"]["codeDescriptionSupport"] = json!(true);
    let mut c = Client::spawn();
    c.initialize(caps, json!({"settings": {"ruleDocsUrl": "https://docs.example.org/ag"}}));
    c.open(URI, "python", 1, SRC);
    let r = c.request("textDocument/diagnostic", json!({"textDocument": {"uri": URI}}));
    assert_eq!(r["items"][0]["codeDescription"]["href"], "https://docs.example.org/ag/AG101.md");
    assert_eq!(c.shutdown_and_exit(), 0);

    // A base that is not a URL is reported and the default is used.
    let mut c = Client::spawn();
    c.initialize(caps_with_links(), json!({"settings": {"ruleDocsUrl": "not a url"}}));
    c.open(URI, "python", 1, SRC);
    let m = c.wait_for("window/showMessage", |p| p["message"].as_str().unwrap_or("").contains("ruleDocsUrl"));
    assert_eq!(m["params"]["type"], 1);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    assert_eq!(diags(&p["params"])[0]["codeDescription"]["href"], default.as_str());
    assert_eq!(c.shutdown_and_exit(), 0);
}

fn caps_with_links() -> Value {
    let mut caps = push_caps(&["utf-16"]);
    caps["textDocument"]["publishDiagnostics"]["codeDescriptionSupport"] = json!(true);
    caps
}
