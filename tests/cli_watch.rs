//! `check --watch` with the real binary: it reports, waits, and reports again when a file
//! changes (a config edit too); the test kills it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CLEAN: &str = "from .models import Book\n\n\nasync def v(pk):\n    return await Book.objects.aget(pk=pk)\n";
const BAD: &str = "from .models import Book\n\n\nasync def v(pk):\n    return Book.objects.get(pk=pk)\n";

/// The stdout lines up to (and with) the next `Watching for file changes.`.
fn next_run(rx: &mpsc::Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = vec![];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no complete run within 30 s; got {lines:?}"));
        let done = line == "Watching for file changes.";
        lines.push(line);
        if done {
            return lines;
        }
    }
}

#[test]
fn watch_rechecks_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("views.py");
    std::fs::write(&file, CLEAN).unwrap();
    let mut child = Command::new(common::cli::BIN)
        .args(["check", "--watch", "--output-format", "concise", "."])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = next_run(&rx);
    assert_eq!(first, ["Starting awaitguard in watch mode...", "All checks passed!", "Watching for file changes."]);

    std::fs::write(&file, BAD).unwrap();
    let second = next_run(&rx);
    assert_eq!(second[0], "File change detected...");
    assert!(second.iter().any(|l| l.starts_with("./views.py:5:12: error: AG101")), "{second:?}");

    // A config change applies too: AG101 ignored.
    std::fs::write(dir.path().join("awaitguard.toml"), "ignore = [\"AG101\"]\n").unwrap();
    let third = next_run(&rx);
    assert!(third.contains(&"All checks passed!".to_string()), "{third:?}");
    // A file that is not checked changes nothing.
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(800)).is_err(), "no run for a .txt change");

    child.kill().unwrap();
    child.wait().unwrap();
}
