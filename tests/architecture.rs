//! The house rules of DESIGN.md that code can check: no import circles between the top-level
//! modules of `server/src/` (nor between the files of `cli/`), and only `lsp/` names LSP types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code lines of a file: comments and `#[cfg(test)]` modules left out (tests may reach anywhere).
fn code(text: &str) -> String {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    body.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Edges `from → to` for references `crate::to` (or `super::to` inside `parent`).
fn edges(root: &Path, unit: impl Fn(&Path) -> Option<String>, prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = vec![];
    sources(root, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let Some(from) = unit(&f) else { continue };
        let text = code(&std::fs::read_to_string(&f).unwrap());
        for (i, _) in text.match_indices(prefix) {
            let rest = &text[i + prefix.len()..];
            let to: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !to.is_empty() && to != from {
                g.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    g
}

fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, g: &BTreeMap<String, BTreeSet<String>>, stack: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|k| visit(k, g, &mut vec![], &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src")
}

#[test]
fn top_level_modules_import_no_circle() {
    let root = src();
    let g = edges(
        &root,
        |f| {
            let rel = f.strip_prefix(&root).ok()?;
            let first = rel.components().next()?.as_os_str().to_str()?;
            Some(first.trim_end_matches(".rs").to_string()).filter(|m| m != "lib" && m != "main")
        },
        "crate::",
    );
    assert!(g.contains_key("rules") && g.contains_key("analysis"), "the scan found the modules: {g:?}");
    assert_eq!(cycle(&g), None, "import circle between top-level modules");
}

#[test]
fn cli_files_import_no_circle() {
    let root = src().join("cli");
    let g = edges(&root, |f| Some(f.file_stem()?.to_str()?.to_string()).filter(|m| m != "mod"), "super::");
    assert!(g.contains_key("check"), "the scan found cli/check.rs: {g:?}");
    assert_eq!(cycle(&g), None, "import circle between the files of cli/");
}

#[test]
fn only_lsp_names_lsp_types() {
    let mut files = vec![];
    sources(&src(), &mut files);
    let lsp = src().join("lsp");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| !f.starts_with(&lsp) && !f.ends_with("main.rs"))
        .filter(|f| code(&std::fs::read_to_string(f).unwrap()).contains("tower_lsp_server"))
        .collect();
    assert!(offenders.is_empty(), "LSP types outside lsp/: {offenders:?}");
}
