//! `--fix`, `--unsafe-fixes`, `--diff`: computing a file's fixed text and writing it safely.
//!
//! Invariants:
//! - The fixed text is computed by [`crate::analysis::fix_all`] (fixes to a fixpoint, so a second
//!   run finds nothing more to fix) and checked again here: if the file parsed before and the
//!   result does not, nothing is written and the file is reported.
//! - Line endings are kept: a file whose line breaks are all CRLF is fixed with LF breaks and
//!   turned back, so inserted lines get CRLF too (the round trip is exact). A BOM is kept.
//! - Writes are atomic (a temporary file in the same folder, renamed over the target, with the
//!   target's permissions), follow symlinks to the real file, and never overwrite a file whose
//!   bytes changed since they were read.
//! - A file in another encoding than UTF-8 (PEP 263) is written back in that encoding, and only
//!   when its original bytes round-trip exactly ([`Source::round_trips`]).

use crate::config::Settings;
use crate::syntax::{self, Lang};
use std::io::Write;
use std::path::Path;

pub use crate::text::source::Source;

/// Whether every line break of `text` is CRLF (and there is at least one).
fn all_crlf(text: &str) -> bool {
    let b = text.as_bytes();
    let mut any = false;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            if i == 0 || b[i - 1] != b'\r' {
                return false;
            }
            any = true;
        }
    }
    any
}

/// The fixed text of `text` (no BOM), `Ok(None)` when nothing changes, `Err` when the result
/// would not parse although the input did.
pub fn fixed_text(
    text: &str,
    lang: Lang,
    settings: &Settings,
    unsafe_too: bool,
    outside: Option<&dyn crate::semantic::outside::Outside>,
) -> Result<Option<String>, String> {
    let new = if all_crlf(text) {
        let lf = text.replace("\r\n", "\n");
        crate::analysis::fix_all_with(&lf, lang, settings, unsafe_too, outside).map(|t| t.replace('\n', "\r\n"))
    } else {
        crate::analysis::fix_all_with(text, lang, settings, unsafe_too, outside)
    };
    let Some(new) = new else { return Ok(None) };
    if new == text {
        return Ok(None);
    }
    let parsed_before = !syntax::has_syntax_error(&syntax::parse(lang, text, None));
    if parsed_before && syntax::has_syntax_error(&syntax::parse(lang, &new, None)) {
        return Err("the fixed text does not parse; fixes not applied to this file (please report this bug)".into());
    }
    Ok(Some(new))
}

/// Why a fixed file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The file's bytes changed between reading and writing.
    Changed,
    Io(std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Changed => write!(f, "changed on disk while being fixed; not overwritten (run again)"),
            WriteError::Io(e) => write!(f, "cannot write: {e}"),
        }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Replaces the file at `path` with `new` if it still holds exactly `original`: written to a
/// temporary file beside it (same permissions), then renamed over it.
pub fn write_atomic(path: &Path, original: &[u8], new: &[u8]) -> Result<(), WriteError> {
    let target = std::fs::canonicalize(path)?;
    if std::fs::read(&target)? != original {
        return Err(WriteError::Changed);
    }
    let perms = std::fs::metadata(&target)?.permissions();
    let dir = target.parent().ok_or_else(|| std::io::Error::other("file has no parent folder"))?;
    let mut tmp = tempfile::Builder::new().prefix(".awaitguard-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(new)?;
    tmp.as_file().set_permissions(perms)?;
    tmp.as_file().sync_all()?;
    // Last look before the rename: a write that raced the one above is not clobbered.
    if std::fs::read(&target)? != original {
        return Err(WriteError::Changed);
    }
    tmp.persist(&target).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

/// A unified diff of `old` → `new` for `path` (`a/` and `b/` headers).
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    let name = name.strip_prefix("./").unwrap_or(&name);
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_detection() {
        assert!(all_crlf("a\r\nb\r\n"));
        assert!(!all_crlf("a\r\nb\n"));
        assert!(!all_crlf("ab"));
    }

    #[test]
    fn refuses_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "old\n").unwrap();
        assert!(matches!(write_atomic(&p, b"older\n", b"new\n"), Err(WriteError::Changed)));
        write_atomic(&p, b"old\n", b"new\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new\n");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}
