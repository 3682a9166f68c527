//! The project model in the server, end to end over stdio: findings in one open document
//! that rest on another file change when that file changes — typed in another open document,
//! or changed on disk and announced with `workspace/didChangeWatchedFiles`.

mod common;

use common::lsp::{push_caps, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use common::copy_dir;

/// A copy of `tests/projects/library` in a temporary folder.
fn library() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/library");
    copy_dir(&src, dir.path());
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn start(root: &Path) -> Client {
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(root), "capabilities": push_caps(&["utf-16"]),
               "workspaceFolders": [{"uri": uri(root), "name": "library"}]}),
    );
    c.notify("initialized", json!({}));
    c
}

/// 0-based lines of the published diagnostics with `code`.
fn lines(p: &Value, code: &str) -> Vec<u64> {
    p["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect()
}

fn text_line(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64
}

#[test]
fn editing_a_helper_in_another_open_document_republishes_the_view() {
    let (_dir, root) = library();
    let views = root.join("library/lending/views.py");
    let services = root.join("library/lending/services.py");
    let views_text = std::fs::read_to_string(&views).unwrap();
    let services_text = std::fs::read_to_string(&services).unwrap();
    let loop_line = text_line(&views_text, "for b in qs:");
    let mut c = start(&root);
    c.open(&uri(&views), "python", 1, &views_text);
    // `qs = await books_by(author)`: books_by (services.py) returns a lazy queryset.
    let first = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri(&views).as_str());
    assert!(lines(&first, "AG102").contains(&loop_line), "{first}");
    c.open(&uri(&services), "python", 1, &services_text);
    // Now books_by returns a list: the loop no longer runs a query.
    let edited = services_text.replace("return Book.objects.filter(author=author)", "return list(Book.objects.filter(author=author))");
    assert_ne!(edited, services_text);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&services), "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let after = c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&views).as_str() && !p["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "AG102" && d["range"]["start"]["line"] == loop_line)
    });
    // The rest of the view's findings are still there.
    assert!(!lines(&after, "AG101").is_empty(), "{after}");
    // And back: the finding returns.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&services), "version": 3}, "contentChanges": [{"text": services_text}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&views).as_str() && p["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "AG102" && d["range"]["start"]["line"] == loop_line)
    });
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn a_file_changed_on_disk_is_picked_up() {
    let (_dir, root) = library();
    let views = root.join("library/lending/views.py");
    let models = root.join("library/lending/models.py");
    let views_text = std::fs::read_to_string(&views).unwrap();
    let loans_line = text_line(&views_text, "book.loans.filter(returned=False).exists()");
    let mut c = start(&root);
    c.open(&uri(&views), "python", 1, &views_text);
    let first = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri(&views).as_str());
    assert!(lines(&first, "AG101").contains(&loans_line), "{first}");
    // The relation loses its related_name on disk (an unopened file): `book.loans` is no
    // longer known to be a related manager.
    let text = std::fs::read_to_string(&models).unwrap().replace(", related_name=\"loans\"", "");
    std::fs::write(&models, text).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&models), "type": 2}]}));
    c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&views).as_str()
            && !p["diagnostics"].as_array().unwrap().iter().any(|d| d["range"]["start"]["line"] == loans_line)
    });
    assert_eq!(c.shutdown_and_exit(), 0);
}

fn start_pull(root: &Path, progress: bool) -> Client {
    let mut caps = common::lsp::pull_caps();
    caps["window"] = json!({"workDoneProgress": progress});
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(root), "capabilities": caps,
               "workspaceFolders": [{"uri": uri(root), "name": "library"}]}),
    );
    c.notify("initialized", json!({}));
    c
}

/// `(file name, codes)` of a workspace report's items with findings.
fn reported(items: &[Value]) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = items
        .iter()
        .filter(|i| !i["items"].as_array().unwrap().is_empty())
        .map(|i| (i["uri"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), i["items"].as_array().unwrap().len()))
        .collect();
    v.sort();
    v
}

#[test]
fn the_model_is_built_with_progress_and_workspace_diagnostics_cover_unopened_files() {
    let (_dir, root) = library();
    let views = root.join("library/lending/views.py");
    let views_text = std::fs::read_to_string(&views).unwrap();
    let mut c = start_pull(&root, true);
    // The server reads the project after `initialized` and says so.
    c.wait_server_request("window/workDoneProgress/create");
    c.wait_for("$/progress", |p| p["value"]["kind"] == "begin");
    c.wait_for("$/progress", |p| p["value"]["kind"] == "end");
    // Nothing is open: every file of the workspace is reported as `check` sees it.
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    let items = r["items"].as_array().unwrap().clone();
    assert_eq!(reported(&items), vec![("consumers.py".to_string(), 3), ("views.py".to_string(), 7)], "{r}");
    assert!(items.iter().all(|i| i["version"].is_null()), "unopened files have no version");
    // An open document is reported with its version and its current text.
    let edited = views_text.replace("    n = Book.objects.available().count()  # expect: AG101\n", "    n = 0\n");
    c.open(&uri(&views), "python", 7, &edited);
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    let items = r["items"].as_array().unwrap();
    let v = items.iter().find(|i| i["uri"] == uri(&views).as_str()).unwrap();
    assert_eq!(v["version"], 7);
    assert_eq!(v["items"].as_array().unwrap().len(), 6);
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn workspace_diagnostics_stream_partial_results() {
    let (_dir, root) = library();
    let mut c = start_pull(&root, false);
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": [], "partialResultToken": "p1"}));
    assert_eq!(r["items"], json!([]), "the items went out as partial results: {r}");
    let p = c.wait_for("$/progress", |p| p["token"] == "p1");
    assert_eq!(reported(p["params"]["value"]["items"].as_array().unwrap()).len(), 2, "{p}");
    assert_eq!(c.shutdown_and_exit(), 0);
}

#[test]
fn workspace_folders_can_be_added_and_removed() {
    let (_dir, root) = library();
    let empty = tempfile::tempdir().unwrap();
    let empty_root = empty.path().canonicalize().unwrap();
    let mut c = start_pull(&empty_root, false);
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    assert_eq!(r["items"], json!([]));
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": uri(&root), "name": "library"}], "removed": []}}),
    );
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    assert_eq!(reported(r["items"].as_array().unwrap()).len(), 2, "{r}");
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [{"uri": uri(&root), "name": "library"}]}}),
    );
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    assert_eq!(r["items"], json!([]));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// `check` and the server's `workspace/diagnostic` give the same findings on every fixture
/// project (DESIGN.md: a finding is a pure function of text, settings and project model).
#[test]
fn cli_and_server_agree_on_every_fixture_project() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&base).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    projects.sort();
    for project in projects {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&project, dir.path());
        let root = dir.path().canonicalize().unwrap();
        let out = common::cli::run(&root, &["check", "--format", "json", "--exit-zero", "."]);
        let json: Value = serde_json::from_str(&out.stdout).unwrap();
        let mut cli: Vec<(String, u64, String)> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = root.join(f["path"].as_str().unwrap().trim_start_matches("./"));
                (uri(&path), f["range"]["start"]["line"].as_u64().unwrap() - 1, f["code"].as_str().unwrap().to_string())
            })
            .collect();
        cli.sort();
        let mut c = start_pull(&root, false);
        let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
        let mut server: Vec<(String, u64, String)> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| {
                let u = i["uri"].as_str().unwrap().to_string();
                i["items"].as_array().unwrap().iter().map(move |d| {
                    (u.clone(), d["range"]["start"]["line"].as_u64().unwrap(), d["code"].as_str().unwrap().to_string())
                })
            })
            .collect();
        server.sort();
        assert!(!cli.is_empty(), "{}: findings to compare", project.display());
        assert_eq!(cli, server, "{}: check (left) and the server (right) differ", project.display());
        assert_eq!(c.shutdown_and_exit(), 0);
    }
}

/// AG108 in `tests/projects/lending`: the diagnostic at the call in the view carries the
/// chain to the query as `relatedInformation`, in the helpers' files, with positions from the
/// project's texts (an open document's unsaved text wins over the disk).
#[test]
fn ag108_related_information_points_into_the_helpers_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/lending"), dir.path());
    let root = dir.path().canonicalize().unwrap();
    let views = root.join("lending/api/views.py");
    let services = root.join("lending/loans/services.py");
    let queries = root.join("lending/loans/queries.py");
    let views_text = std::fs::read_to_string(&views).unwrap();
    let services_text = std::fs::read_to_string(&services).unwrap();
    let queries_text = std::fs::read_to_string(&queries).unwrap();
    let call_line = text_line(&views_text, "loan = close_loan(loan_id)");
    let mut c = start(&root);
    c.open(&uri(&views), "python", 1, &views_text);
    let first = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri(&views).as_str());
    let related = |p: &Value| -> Vec<(String, u64, u64)> {
        let d = p["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "AG108" && d["range"]["start"]["line"] == call_line)
            .unwrap_or_else(|| panic!("no AG108 at line {call_line}: {p}"))
            .clone();
        d["relatedInformation"]
            .as_array()
            .unwrap_or_else(|| panic!("no relatedInformation: {d}"))
            .iter()
            .map(|r| {
                let l = &r["location"];
                (l["uri"].as_str().unwrap().to_string(), l["range"]["start"]["line"].as_u64().unwrap(), l["range"]["start"]["character"].as_u64().unwrap())
            })
            .collect()
    };
    let col = |text: &str, line: u64, needle: &str| text.lines().nth(line as usize).unwrap().find(needle).unwrap() as u64;
    let fetch_line = text_line(&services_text, "loan = fetch_loan(loan_id)");
    let get_line = text_line(&queries_text, "Loan.objects.get(pk=loan_id)");
    assert_eq!(
        related(&first),
        vec![
            (uri(&services), fetch_line, col(&services_text, fetch_line, "fetch_loan(")),
            (uri(&queries), get_line, col(&queries_text, get_line, "Loan.objects.get")),
        ]
    );
    // queries.py opened with two more lines (unsaved): the query's position follows it.
    let edited = format!("# one\n# two\n{queries_text}");
    c.open(&uri(&queries), "python", 1, &edited);
    let after = c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&views).as_str()
            && p["diagnostics"].as_array().unwrap().iter().any(|d| {
                d["code"] == "AG108"
                    && d["relatedInformation"].as_array().is_some_and(|r| r.iter().any(|r| r["location"]["range"]["start"]["line"] == get_line + 2))
            })
    });
    assert_eq!(related(&after)[1], (uri(&queries), get_line + 2, col(&queries_text, get_line, "Loan.objects.get")));
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// `workspace/diagnostic` reads unopened files as `check` does: a file with a PEP 263 coding
/// declaration (latin-1) is decoded and reported; a file over `max-file-size` is not.
#[test]
fn workspace_diagnostics_decode_pep263_and_skip_files_over_max_file_size() {
    let (_dir, root) = library();
    std::fs::write(root.join("awaitguard.toml"), "max-file-size = \"3KB\"\n").unwrap();
    let views = "from .models import Book\n\n\nasync def v(pk):\n    return Book.objects.get(pk=pk)  # caf\u{e9}\n";
    let latin1: Vec<u8> = format!("# -*- coding: latin-1 -*-\n{views}").chars().map(|c| c as u32 as u8).collect();
    std::fs::write(root.join("library/lending/legacy.py"), latin1).unwrap();
    std::fs::write(root.join("library/lending/huge.py"), views.repeat(40)).unwrap();
    let mut c = start_pull(&root, false);
    let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
    let got = reported(r["items"].as_array().unwrap());
    assert!(got.contains(&("legacy.py".to_string(), 1)), "{got:?}");
    assert!(!got.iter().any(|(f, _)| f == "huge.py"), "{got:?}");
    assert!(got.contains(&("views.py".to_string(), 7)), "the rest as before: {got:?}");
    assert_eq!(c.shutdown_and_exit(), 0);
}

/// Rust: a handler's finding rests on a helper in another module; typing in the helper (now
/// offloading its work) withdraws it, and typing it back restores it.
#[test]
fn editing_a_rust_helper_republishes_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/rust_service"), dir.path());
    let root = dir.path().canonicalize().unwrap();
    let handlers = root.join("src/handlers.rs");
    let repo = root.join("src/repo.rs");
    let handlers_text = std::fs::read_to_string(&handlers).unwrap();
    let repo_text = std::fs::read_to_string(&repo).unwrap();
    let call_line = text_line(&handlers_text, "repo::touch(&pool); // expect");
    let mut c = start(&root);
    c.open(&uri(&handlers), "rust", 1, &handlers_text);
    let first = c.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri(&handlers).as_str());
    assert!(lines(&first, "AG501").contains(&call_line), "{first}");
    c.open(&uri(&repo), "rust", 1, &repo_text);
    let edited = repo_text.replace("let _conn = get_conn(pool);", "let _n = pool.state();");
    assert_ne!(edited, repo_text);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&repo), "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&handlers).as_str()
            && !p["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "AG501" && d["range"]["start"]["line"] == call_line)
    });
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&repo), "version": 3}, "contentChanges": [{"text": repo_text}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri(&handlers).as_str()
            && p["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "AG501" && d["range"]["start"]["line"] == call_line)
    });
    assert_eq!(c.shutdown_and_exit(), 0);
}
