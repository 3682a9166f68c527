//! Running the real `awaitguard` binary as a command, for the CLI tests.

use std::path::{Path, PathBuf};
use std::io::Write as _;
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_awaitguard");

/// Exit code and decoded output of one run.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `awaitguard ARGS` in `cwd` with colour off.
pub fn run(cwd: &Path, args: &[&str]) -> Out {
    let o = Command::new(BIN).args(args).current_dir(cwd).env("NO_COLOR", "1").output().expect("run awaitguard");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `awaitguard ARGS` in `cwd` with colour off and `stdin` as its standard input: exit
/// code, raw standard output, decoded standard error.
pub fn run_stdin(cwd: &Path, args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run awaitguard");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let o = child.wait_with_output().unwrap();
    (o.status.code().unwrap_or(-1), o.stdout, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Writes a file (creating folders) and returns its path.
pub fn write(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}
