//! The project model in the server, end to end over stdio: findings in one open document
//! that rest on another file change when that file changes — typed in another open document,
//! or changed on disk and announced with `workspace/didChangeWatchedFiles`.

mod common;

use common::lsp::{push_caps, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

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
