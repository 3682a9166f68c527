//! Which of the files that config discovery and version detection look for a folder may hold,
//! from one listing of the folder, memoised: a tree of 2,500 folders costs 2,500 listings
//! instead of some 40,000 failed `stat`s and `open`s of names that are not there.
//!
//! Invariant: a listing only rules names *out*. A name it holds is still opened or `stat`ed
//! by the caller exactly as without it (symlinks, directories named `uv.lock` and unreadable
//! files behave the same), names are compared ignoring ASCII case (a case-insensitive file
//! system opens `PyProject.toml` as `pyproject.toml`), and a folder that cannot be listed
//! rules nothing out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The names of interest in one folder; `None` when the folder could not be listed.
#[derive(Debug)]
pub struct Listing {
    names: Option<Vec<String>>,
}

/// Names looked for by [`super::discover_in`], [`super::detect`] and the Django settings reader (compared ignoring ASCII
/// case), besides `requirements*.txt`.
const NAMES: &[&str] = &[
    "awaitguard.toml",
    ".awaitguard.toml",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    ".git",
    // Where the Django settings module is looked for (`project::settings`).
    "manage.py",
    "pytest.ini",
    "setup.cfg",
    "tox.ini",
];

fn interesting(name: &str) -> bool {
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

impl Listing {
    /// Lists `dir` (one `read_dir`), keeping only the names of interest.
    pub fn read(dir: &Path) -> Listing {
        let names = std::fs::read_dir(dir).ok().map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| interesting(n))
                .collect()
        });
        Listing { names }
    }

    /// A listing that rules nothing out (probe every name).
    pub fn unknown() -> Listing {
        Listing { names: None }
    }

    /// False only when `name` is surely not in the folder.
    pub fn may_have(&self, name: &str) -> bool {
        self.names.as_ref().is_none_or(|ns| ns.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }

    /// The `requirements*.txt` files of the folder, sorted; `None` when it could not be listed.
    pub fn requirements(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        let ns = self.names.as_ref()?;
        let mut reqs: Vec<PathBuf> =
            ns.iter().filter(|n| n.starts_with("requirements") && n.ends_with(".txt")).map(|n| dir.join(n)).collect();
        reqs.sort();
        Some(reqs)
    }
}

/// [`Listing`]s memoised per folder.
#[derive(Default)]
pub struct Probe {
    seen: Mutex<HashMap<PathBuf, Arc<Listing>>>,
}

impl Probe {
    pub fn listing(&self, dir: &Path) -> Arc<Listing> {
        if let Some(l) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(dir) {
            return l.clone();
        }
        let l = Arc::new(Listing::read(dir));
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.to_path_buf(), l.clone());
        l
    }

    /// The listing of `dir` if it was already made (nothing is read).
    pub fn cached(&self, dir: &Path) -> Option<Arc<Listing>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(dir).cloned()
    }

    /// Forgets everything (a file appeared or went).
    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_out_only_what_is_absent() {
        let dir = std::env::temp_dir().join(format!("awaitguard-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("PyProject.toml"), "").unwrap();
        std::fs::write(dir.join("requirements-dev.txt"), "").unwrap();
        std::fs::write(dir.join("requirements.txt"), "").unwrap();
        std::fs::write(dir.join("other.py"), "").unwrap();
        let l = Listing::read(&dir);
        assert!(l.may_have("pyproject.toml") && !l.may_have("uv.lock") && !l.may_have(".git"));
        assert_eq!(l.requirements(&dir).unwrap(), vec![dir.join("requirements-dev.txt"), dir.join("requirements.txt")]);
        let missing = Listing::read(&dir.join("nope"));
        assert!(missing.may_have("uv.lock") && missing.requirements(&dir).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
