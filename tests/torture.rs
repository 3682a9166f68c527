//! Protocol torture: the real binary over stdio, fed what an editor or a file can throw at it.
//! Every test ends by proving the server still answers (or, for the exit tests, that it is
//! gone). Figures (RSS) are printed, never asserted tightly: bounds are generous so nothing
//! here is flaky. The long burst scenario lives in `scripts/soak.py`.

mod common;

use common::invariants::reference_apply;
use common::lsp::{push_caps, Client};
use awaitguard::config::Settings;
use awaitguard::syntax::Lang;
use awaitguard::text::{Change, Encoding, Pos};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const VIEWS: &str = include_str!("demo/shop/views.py");

fn uri(n: usize, ext: &str) -> String {
    format!("file:///torture/doc{n}.{ext}")
}

fn diags(p: &Value) -> usize {
    p["params"]["diagnostics"].as_array().map_or(0, Vec::len)
}

/// Findings the library (= the CLI) reports for `text` with default settings.
fn expected(text: &str, lang: Lang) -> usize {
    common::analyze_text(text, lang, &Settings::default()).len()
}

fn hover(c: &mut Client, uri: &str, line: u32, character: u32) -> Value {
    c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}))
}

fn change(c: &mut Client, uri: &str, version: i32, changes: Value) {
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}));
}

/// Waits for the publication of `version` of `uri`, with room for a debug build on a busy
/// machine (these documents are big on purpose).
fn published(c: &mut Client, uri: &str, version: i32) -> Value {
    c.try_wait_for("textDocument/publishDiagnostics", &|p| p["uri"] == uri && p["version"] == version, Duration::from_secs(180))
        .unwrap_or_else(|| panic!("no publication of version {version} of {uri}"))
}

/// About `bytes` of Python: views.py, a string literal of filler lines (size, not analysis
/// work, is what is tested: a debug build analyses a 20 MB file of real code for minutes), and
/// views.py again.
fn big_python(bytes: usize) -> String {
    let mut text = format!("{VIEWS}\nDATA = \"\"\"\n");
    let line = "a line of text in a very long string literal, with an escape \\n and a quote ' \n";
    text.push_str(&line.repeat(bytes.saturating_sub(2 * VIEWS.len()) / line.len()));
    text.push_str("\"\"\"\n");
    text.push_str(VIEWS);
    text
}

/// Closes `uri`, proves a hover on the closed document is still answered, then shuts the
/// server down and expects exit code 0.
fn close_and_exit(mut c: Client, uri: &str) {
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    hover(&mut c, uri, 0, 0);
    assert_eq!(c.shutdown_and_exit(), 0);
}

fn started() -> Client {
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    c
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    v.extend_from_slice(body);
    v
}

#[test]
fn malformed_messages_do_not_end_the_session() {
    let mut c = Client::spawn();
    let junk: Vec<Vec<u8>> = vec![
        frame(b"{oops"),
        frame(b"[1,2,3]"),
        frame(b"null"),
        frame(b"{\"jsonrpc\":\"2.0\"}"),
        frame(b"\xff\xfe\x00{}"),
        frame(b""),
        b"Content-Length: banana\r\n\r\n".to_vec(),
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        vec![b'z'; 100_000],
        b"\r\n\r\n".to_vec(),
        // Accepted: only the length matters (tower-lsp-server alone would end the session on
        // a charset other than UTF-8).
        b"Content-Length: 32\r\nContent-Type: text/plain; charset=latin1\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"$/x\"}".to_vec(),
    ];
    for j in &junk {
        c.send_raw(j);
    }
    // Before initialize: refused, not fatal.
    let id = c.request_async("textDocument/hover", json!({"textDocument": {"uri": "file:///a.py"}, "position": {"line": 0, "character": 0}}));
    assert_eq!(c.response(id)["error"]["code"], -32002);
    // Every dropped frame was answered (JSON-RPC 2.0 §5.1), with `id: null`, before the hover.
    let answers = |c: &mut Client, code: i64| {
        let n = c.queue.iter().filter(|m| m["id"].is_null() && m["error"]["code"] == code).count();
        c.queue.retain(|m| !(m["id"].is_null() && m["error"]["code"] == code));
        n
    };
    let (parse, invalid) = (answers(&mut c, -32700), answers(&mut c, -32600));
    assert!(parse >= 6 && invalid == 2, "parse errors {parse}, invalid requests {invalid}");
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    for j in &junk {
        c.send_raw(j);
    }
    // Invalid Request keeps an id it can read.
    c.send_raw(&frame(br#"{"jsonrpc":"2.0","id":31337,"method":17}"#));
    let r = c.response(31337);
    assert_eq!(r["error"]["code"], -32600, "{r}");
    // Well-formed JSON-RPC with nonsense params: an error for a request, ignored for a
    // notification; unknown methods; a response to a request never sent.
    let id = c.request_async("textDocument/hover", json!({"bogus": true}));
    assert_eq!(c.response(id)["error"]["code"], -32602);
    c.notify("textDocument/didOpen", json!({"textDocument": 42}));
    c.notify("textDocument/didChange", json!([]));
    c.notify("$/unknownNotification", json!({}));
    c.send(json!({"jsonrpc": "2.0", "id": 987654, "result": null}));
    let id = c.request_async("awaitguard/nope", json!(null));
    assert_eq!(c.response(id)["error"]["code"], -32601);
    // Still serving: open, publish, hover.
    c.open(&uri(0, "py"), "python", 1, VIEWS);
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    assert_eq!(diags(&p), expected(VIEWS, Lang::Python));
    hover(&mut c, &uri(0, "py"), 0, 0);
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// A finding, then the start of a broken statement.
const HEAD: &str = "from shop.models import Book\n\nasync def g():\n    return Book.objects.get()\n\n";

/// Texts that break parsers and position maths, each opened, published (with exactly the
/// CLI's findings), hovered past its end and edited past its end.
#[test]
fn pathological_texts() {
    let deep = 10_000;
    let long_line = format!("x = [{}'{}']; Book.objects.get()\n", "1, ".repeat(20_000), "z".repeat(1 << 20));
    let many_lines: String = (0..50_000).map(|i| if i % 500 == 0 { format!("async def f{i}(r):\n    return Book.objects.get(pk={i})\n") } else { format!("y{i} = {i}\n") }).collect();
    let texts: Vec<(&str, String)> = vec![
        ("py", format!("async def f():\n    x = {}Book.objects.get(){}\n", "(".repeat(deep), ")".repeat(deep))),
        ("py", format!("x = {}\n", "[".repeat(deep))),
        ("py", format!("x = {}1\n", "{'a': ".repeat(deep))),
        // Quadratic in tree-sitter's query cursor before rules::MAX_MATCH_DEPTH (22 s release).
        ("py", format!("x = {}Book.objects.get()\n", "lambda: ".repeat(deep))),
        ("py", format!("async def f():\n    return {}Book.objects.get()\n", "not ".repeat(deep))),
        // 40,000 anonymous tokens left in one ERROR node: quadratic in the query cursor
        // before `syntax::wide` (9 s release); the finding before them must survive.
        ("py", format!("{HEAD}x = [{}\n", "lambda: ".repeat(4 * deep))),
        ("py", format!("{HEAD}x = {}\n", "[".repeat(4 * deep))),
        ("py", (0..deep).map(|d| format!("{}if x:\n", " ".repeat(d % 400))).collect()),
        ("rs", format!("fn main() {{ {} }}\n", "{".repeat(deep))),
        ("rs", format!("fn main() {{ let x = {}1{}; }}\n", "(".repeat(deep), ")".repeat(deep))),
        ("rs", format!("fn main() {{ let x = {}; }}\n", "[".repeat(deep))),
        ("py", many_lines),
        ("py", long_line),
        ("py", format!("\u{feff}{}", VIEWS.replace('\n', "\r\n"))),
        ("py", VIEWS.chars().enumerate().map(|(i, ch)| if ch == '\n' { ["\n", "\r\n", "\r"][i % 3].to_string() } else { ch.to_string() }).collect()),
        ("py", VIEWS.replace("    ", "\t").replace("pk", "p😀k\u{10FFFF}")),
        ("py", format!("{}\0\0\0{}", &VIEWS[..100], &VIEWS[100..]).replace('x', "\0")),
        ("py", "print 'hello'\nexec \"code\"\nx = 0777L\nif a <> b: `x`\nraise E, 'v'\nasync def f():\n    print >>sys.stderr, Book.objects.get()\n".into()),
        ("py", "\u{1F600}".repeat(50_000)),
        ("py", String::new()),
    ];
    for t in &texts[5..7] {
        assert_eq!(expected(&t.1, Lang::Python), 1, "the finding before the wide run");
    }
    let mut c = started();
    for (i, (ext, text)) in texts.iter().enumerate() {
        let u = uri(i, ext);
        let (lang, id) = if *ext == "py" { (Lang::Python, "python") } else { (Lang::Rust, "rust") };
        c.open(&u, id, 1, text);
        let p = published(&mut c, &u, 1);
        assert_eq!(diags(&p), expected(text, lang), "text {i}");
        hover(&mut c, &u, u32::MAX, u32::MAX);
        hover(&mut c, &u, 0, 1 << 30);
        change(&mut c, &u, 2, json!([{"range": {"start": {"line": 1 << 30, "character": 5}, "end": {"line": 1 << 30, "character": 9}}, "text": "\n# end\n"}]));
        let p = published(&mut c, &u, 2);
        assert_eq!(diags(&p), expected(&format!("{text}\n# end\n"), lang), "text {i} after an edit past the end");
        c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    }
    eprintln!("after pathological texts: VmRSS {:?} kB, peak {:?} kB", c.rss_kb(), c.peak_rss_kb());
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// (Over the default `max-file-size` of 10 MB: the limit is raised so that it is analysed.)
#[test]
fn a_twenty_megabyte_file() {
    let text = big_python(20 << 20);
    let mut c = Client::spawn();
    c.initialize(push_caps(&["utf-16"]), json!({"settings": {"maxFileSize": "32MB"}}));
    let u = uri(0, "py");
    c.open(&u, "python", 1, &text);
    let p = published(&mut c, &u, 1);
    // The two copies of views.py around the literal (analysing 20 MB here too would double
    // the test's time in a debug build).
    assert_eq!(diags(&p), 2 * expected(VIEWS, Lang::Python));
    change(&mut c, &u, 2, json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# head\n"}]));
    published(&mut c, &u, 2);
    eprintln!("20 MB file: VmRSS {:?} kB, peak {:?} kB", c.rss_kb(), c.peak_rss_kb());
    close_and_exit(c, &u);
}

/// Half-typed code: the file typed in one character at a time (utf-16 positions at the end of
/// the document), then deleted from the front the same way; every version's text is what
/// the edits make it, and the final publication equals the CLI's findings.
#[test]
fn every_prefix_of_a_real_file() {
    let mut c = started();
    let u = uri(0, "py");
    c.open(&u, "python", 0, "");
    let mut version = 0;
    for ch in VIEWS.chars() {
        version += 1;
        // Past the end of the document: clamps to the end, as the spec asks.
        change(&mut c, &u, version, json!([{"range": {"start": {"line": 100_000, "character": 0}, "end": {"line": 100_000, "character": 0}}, "text": ch.to_string()}]));
    }
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == version);
    assert_eq!(diags(&p), expected(VIEWS, Lang::Python));
    let mut text = VIEWS.to_string();
    while !text.is_empty() {
        version += 1;
        let first = text.chars().next().unwrap();
        text.drain(..first.len_utf8());
        // Deleting a line break is a range to the start of the next line.
        let end = if first == '\n' { json!({"line": 1, "character": 0}) } else { json!({"line": 0, "character": first.len_utf16()}) };
        change(&mut c, &u, version, json!([{"range": {"start": {"line": 0, "character": 0}, "end": end}, "text": ""}]));
        if text.len().is_multiple_of(97) {
            // (the empty text is the last of these)
            let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == version);
            assert_eq!(diags(&p), expected(&text, Lang::Python), "suffix of {} bytes", text.len());
        }
    }
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// Out-of-range, reversed and overlapping ranges in one didChange, whole-text replacements
/// between ranged changes, stale versions, changes for documents never opened, a second
/// didOpen of an open document: the server follows the reference (LSP clamping) and its
/// final findings are those of the final text.
#[test]
fn edits_with_bad_ranges_and_versions() {
    let mut c = started();
    let u = uri(0, "py");
    c.open(&u, "python", 1, VIEWS);
    let mut text = VIEWS.to_string();
    let p = |l: u32, ch: u32| Pos { line: l, col: ch };
    type Batch<'a> = Vec<(Option<(Pos, Pos)>, &'a str)>;
    let script: Vec<Batch> = vec![
        vec![(Some((p(3, 999), p(1, 0))), "😀"), (Some((p(u32::MAX, 0), p(0, 0))), "x = 1\n")],
        vec![(Some((p(2, 3), p(2, 3))), "ab"), (Some((p(2, 1), p(2, 4))), ""), (Some((p(2, 0), p(2, 2))), "\r\n")],
        vec![(None, "async def v(r):\n    Book.objects.get()\r\n"), (Some((p(1, 4), p(1, 4))), "await ")],
        vec![(Some((p(0, 2), p(0, 3))), "\u{10FFFF}"), (Some((p(0, 3), p(0, 3))), "y")],
        vec![(None, VIEWS)],
    ];
    for (i, batch) in script.iter().enumerate() {
        let version = i as i32 + 2;
        let mut changes = vec![];
        for (range, new) in batch {
            reference_apply(&mut text, &Change { range: *range, text: new.to_string() }, Encoding::Utf16);
            changes.push(match range {
                Some((a, b)) => json!({"range": {"start": {"line": a.line, "character": a.col}, "end": {"line": b.line, "character": b.col}}, "text": new}),
                None => json!({"text": new}),
            });
        }
        // A stale version number every other time: applied anyway (and logged).
        let sent = if i % 2 == 1 { 0 } else { version };
        change(&mut c, &u, sent, json!(changes));
        let pb = c.wait_for("textDocument/publishDiagnostics", |q| q["version"] == sent);
        assert_eq!(diags(&pb), expected(&text, Lang::Python), "after batch {i}: {text:?}");
    }
    // Never opened / closed twice / opened twice.
    change(&mut c, "file:///never.py", 3, json!([{"text": "x"}]));
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": "file:///never.py"}}));
    c.open(&u, "python", 50, VIEWS);
    let pb = c.wait_for("textDocument/publishDiagnostics", |q| q["version"] == 50);
    assert_eq!(diags(&pb), expected(VIEWS, Lang::Python));
    // Code actions for diagnostics the client made up: ranges past the end, unknown codes,
    // stale or garbage data.
    let bogus = json!([
        {"range": {"start": {"line": 1 << 30, "character": 7}, "end": {"line": 0, "character": 0}}, "message": "x", "source": "awaitguard", "code": "AG101",
         "data": {"version": 50, "fixes": [{"title": "t", "applicability": "safe", "edits": [{"range": {"start": {"line": 99, "character": 99}, "end": {"line": 0, "character": 0}}, "newText": "z"}]}]}},
        {"range": {"start": {"line": 1, "character": 1 << 30}, "end": {"line": 1, "character": 1 << 30}}, "message": "x", "source": "awaitguard", "code": "AG999", "data": [1, 2]},
        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "message": "x", "source": "awaitguard", "code": 101}
    ]);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": {"start": {"line": 1 << 30, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": bogus}}),
    );
    assert!(r.is_array(), "{r}");
    c.open("file:///torture/notes.txt", "plaintext", 1, "not code");
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    close_and_exit(c, &u);
}

/// `$/cancelRequest` for a slow request answers it with RequestCancelled; cancelling unknown
/// or finished ids is harmless.
#[test]
fn cancel_request_is_honoured() {
    let mut c = started();
    let big = VIEWS.repeat(100);
    let u = uri(0, "py");
    c.open(&u, "python", 1, &big);
    published(&mut c, &u, 1);
    // A fix-all code action on 200 KB of findings re-parses and re-analyses the file several
    // times: it cannot finish before the cancellation written right after it arrives.
    let id = c.request_async(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    c.notify("$/cancelRequest", json!({"id": id}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32800, "{r}");
    c.notify("$/cancelRequest", json!({"id": id}));
    c.notify("$/cancelRequest", json!({"id": 424242}));
    c.notify("$/cancelRequest", json!({"id": "a string id"}));
    c.notify("$/cancelRequest", json!({}));
    close_and_exit(c, &u);
}

/// A burst of changes with no pause, then a request: the hover answers from the newest text,
/// the last publication is for the newest version, and fewer publications than changes go out
/// (stale versions are skipped).
#[test]
fn a_burst_then_a_request_answers_from_the_current_text() {
    let mut c = started();
    let u = uri(0, "py");
    let base = "from .models import Book\n\n\nasync def view():\n    return Book.objects.get(pk=1)\n";
    c.open(&u, "python", 1, base);
    let n = 500;
    for i in 0..n {
        let word = if i % 2 == 0 { "gex" } else { "get" };
        change(&mut c, &u, i + 2, json!([{"range": {"start": {"line": 4, "character": 24}, "end": {"line": 4, "character": 27}}, "text": word}]));
    }
    // The last change wrote "get": a finding under the cursor.
    let h = hover(&mut c, &u, 4, 25);
    assert!(h["contents"]["value"].as_str().unwrap_or("").contains("AG101"), "{h}");
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == n + 1);
    let published = c.queue.iter().filter(|m| m["method"] == "textDocument/publishDiagnostics").count() + 1;
    eprintln!("{published} publications for {n} changes");
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// 1,000 documents opened, published and closed, twice: memory comes back down (no tree kept
/// for closed documents) and the server still answers. Figures are printed; bounds are loose.
/// (The per-document cost of a real file is measured by `scripts/soak.py --documents`.)
#[test]
fn a_thousand_documents() {
    const DOC: &str = "from .models import Book\n\n\nasync def view(request):\n    return Book.objects.get(pk=1)\n";
    let mut c = started();
    let n = 1000;
    c.open(&uri(99_999, "py"), "python", 1, "x = 1\n");
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let base = c.rss_kb();
    let mut open_rss = vec![];
    for round in 0..2 {
        for i in 0..n {
            c.open(&uri(i, "py"), "python", round + 10, DOC);
        }
        for i in 0..n {
            let u = uri(i, "py");
            c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == u.as_str() && p["version"] == round + 10);
        }
        open_rss.push(c.rss_kb());
        for i in 0..n {
            c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri(i, "py")}}));
        }
        c.drain_for(Duration::from_millis(200));
        c.queue.clear();
    }
    hover(&mut c, &uri(0, "py"), 0, 0);
    let after = c.rss_kb();
    eprintln!(
        "1,000 documents of {} bytes: VmRSS base {base:?} kB, open {open_rss:?} kB, after closing {after:?} kB, peak {:?} kB",
        DOC.len(),
        c.peak_rss_kb()
    );
    if let (Some(b), [Some(o1), Some(o2)]) = (base, open_rss.as_slice()) {
        // Generous: the second round must not grow beyond the first by more than a third of
        // what 1,000 documents cost (it would double if closed documents were kept).
        let cost = o1.saturating_sub(b);
        assert!(*o2 <= o1 + cost / 3 + 16_384, "memory grew: {o1} kB then {o2} kB (base {b} kB)");
    }
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// A panic in one rule (test-only flag) costs only that rule's findings: logged with the file
/// and the rule, every other rule's findings published.
#[test]
fn a_panicking_rule_costs_only_its_own_findings() {
    let mut c = Client::spawn_with_env(&[("AWAITGUARD_TEST_PANIC", "AG101")]);
    c.initialize(push_caps(&["utf-16"]), Value::Null);
    let u = uri(0, "py");
    c.open(&u, "python", 1, VIEWS);
    let log = c.wait_for("window/logMessage", |p| p["message"].as_str().unwrap_or("").contains("panicked"));
    let msg = log["params"]["message"].as_str().unwrap();
    assert!(msg.contains("AG101") && msg.contains(&u), "{msg}");
    let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    let all = common::analyze_text(VIEWS, Lang::Python, &Settings::default());
    let others: Vec<_> = all.iter().filter(|f| f.code != "AG101").collect();
    assert!(!others.is_empty() && others.len() < all.len(), "the demo file should have AG101 and other findings");
    let codes: Vec<&str> = p["params"]["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), others.len());
    assert!(!codes.contains(&"AG101"));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// The client disappears (stdin closed) while a 4 MB analysis is running: the server exits
/// on its own, promptly (it does not wait for the analysis), and leaves no process behind.
#[test]
fn the_client_disappearing_mid_analysis_ends_the_server() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_awaitguard"))
        .args(["lsp", "--stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let big = VIEWS.repeat(2000);
    let msgs = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
        json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri(0, "py"), "languageId": "python", "version": 1, "text": big}}}),
    ];
    let mut stdin = child.stdin.take().unwrap();
    for m in &msgs {
        stdin.write_all(&frame(&serde_json::to_vec(m).unwrap())).unwrap();
    }
    stdin.flush().unwrap();
    drop(stdin);
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server outlived its client");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1), "no shutdown was sent");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "process {pid} left behind");
}

/// The CLI on files an editor never sends: invalid UTF-8, NUL bytes, BOM, CR-only: reported
/// or analysed, never a crash.
#[test]
fn cli_survives_hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 5] = [
        ("latin1.py", b"# caf\xe9\nasync def f():\n    Book.objects.get()\n"),
        ("nul.py", b"async def f():\n    Book.objects.get()\0\0\n\0"),
        ("bom.py", b"\xef\xbb\xbfasync def f():\r    Book.objects.get()\r"),
        ("deep.py", &[b'('; 20_000]),
        ("lib.rs", b"fn f() { \xff }"),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_awaitguard")).arg("check").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0..=2)), "exit {:?}: {stderr}", out.status.code());
    assert!(!stderr.contains("panicked"), "{stderr}");
}
