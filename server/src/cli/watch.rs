//! `check --watch`: check, then check again whenever a file that could change the result
//! changes (a `.py`/`.pyi`/`.rs` file or a config file under the given paths).
//!
//! Invariants:
//! - One project model lives across runs; a changed path is only forgotten
//!   ([`Project::changed_on_disk`]), so the summaries of unchanged files (memoised by content
//!   hash) are reused. Settings are read again on every run (a config edit applies).
//! - Events are gathered for a short quiet period before a run, so an editor's save (often
//!   several events) or `--fix` writing many files gives one run, not many.
//! - Each run starts on a cleared screen when stdout is a terminal, and ends with
//!   `Watching for file changes.` (stdout); the process runs until it is killed.

use super::check::{run_with, CheckArgs};
use crate::project::Project;
use crate::syntax::Lang;
use crate::workspace;
use notify::{EventKind, RecursiveMode, Watcher};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long events are gathered after the first one before checking again.
const QUIET: Duration = Duration::from_millis(100);

fn relevant(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with(".awaitguard-") {
        return false; // our own temporary files (`--fix`)
    }
    Lang::from_path(path).is_some() || matches!(name, "pyproject.toml" | "awaitguard.toml" | ".awaitguard.toml")
}

pub fn run(args: &CheckArgs) -> i32 {
    let paths = super::paths_or_cwd(&args.paths);
    let project = Project::new(workspace::project_roots(&paths));
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = match notify::recommended_watcher(move |e| {
        let _ = tx.send(e);
    }) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: cannot watch files: {e}");
            return 2;
        }
    };
    for p in &paths {
        if let Err(e) = watcher.watch(p, RecursiveMode::Recursive) {
            eprintln!("error: cannot watch {}: {e}", p.display());
            return 2;
        }
    }
    let tty = std::io::stdout().is_terminal();
    let mut banner = "Starting awaitguard in watch mode...";
    loop {
        {
            let mut out = std::io::stdout().lock();
            if tty {
                let _ = write!(out, "\x1b[2J\x1b[H");
            }
            let _ = writeln!(out, "{banner}");
            let _ = out.flush();
        }
        run_with(args, Some(&project));
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "Watching for file changes.");
            let _ = out.flush();
        }
        banner = "File change detected...";
        // Wait for a relevant change, then gather the rest of the burst.
        let mut changed: Vec<PathBuf> = vec![];
        while changed.is_empty() {
            match rx.recv() {
                Ok(e) => take(e, &mut changed),
                Err(_) => return 2,
            }
        }
        while let Ok(e) = rx.recv_timeout(QUIET) {
            take(e, &mut changed);
        }
        for p in &changed {
            project.changed_on_disk(p);
        }
    }
}

fn take(e: notify::Result<notify::Event>, changed: &mut Vec<PathBuf>) {
    let Ok(e) = e else { return };
    if !matches!(e.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)) {
        return;
    }
    changed.extend(e.paths.into_iter().filter(|p| relevant(p)));
}
