//! Property: the project model updated by random edit sequences across several files equals
//! the model built fresh from the final texts — every file's summary, and every file's
//! findings.

use awaitguard::analysis::analyze_with;
use awaitguard::config::Settings;
use awaitguard::project::Project;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The library fixture project's Python files, as (path under a made-up root, text).
fn library() -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/library");
    let mut out = vec![];
    let mut todo = vec![src.clone()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                let rel = p.strip_prefix(&src).unwrap();
                out.push((Path::new("/proj").join(rel), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Edits that change what other files learn (relations, managers, helper returns, imports)
/// and edits that only move text: (needle, replacement).
const EDITS: &[(&str, &str)] = &[
    (", related_name=\"loans\"", ""),
    ("related_name=\"books\"", "related_name=\"works\""),
    ("live = PublishedManager()", "live = models.Manager()"),
    ("return Book.objects.filter(author=author)", "return list(Book.objects.filter(author=author))"),
    ("return Loan.objects.filter(book=book, returned=False)", "return None"),
    ("return self.filter(on_loan=False)", "return [b for b in self.filter(on_loan=False)]"),
    ("from .querysets import BookQuerySet, PublishedManager", "from .querysets import BookQuerySet\nfrom .querysets import PublishedManager"),
    ("class TimeStamped(models.Model):", "class TimeStamped(object):"),
    ("@sync_to_async\n", ""),
    ("import", "import"),
    ("\n\n\n", "\n\n\n\n"),
    ("def ", "def  "),
];

fn findings(project: &Arc<Project>, files: &[(PathBuf, String)]) -> Vec<(PathBuf, Vec<(usize, &'static str)>)> {
    let settings = Settings::default();
    files
        .iter()
        .map(|(p, t)| {
            let tree = syntax::parse(Lang::Python, t, None);
            let index = LineIndex::new(t);
            let view = project.view(p);
            let a = analyze_with(t, Lang::Python, &tree, &index, &settings, Some(&view));
            (p.clone(), a.findings.iter().map(|f| (f.range.start, f.code)).collect())
        })
        .collect()
}

fn apply(files: &mut [(PathBuf, String)], file: usize, edit: usize, undo: bool) {
    let (from, to) = EDITS[edit % EDITS.len()];
    let (from, to) = if undo { (to, from) } else { (from, to) };
    let text = &mut files[file % files.len()].1;
    if let Some(i) = text.find(from) {
        text.replace_range(i..i + from.len(), to);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn incremental_model_equals_fresh(ops in prop::collection::vec((0usize..16, 0usize..64, any::<bool>()), 1..16)) {
        let mut files = library();
        let live = Project::new(vec![PathBuf::from("/proj")]);
        for (p, t) in &files {
            live.open(p, Arc::from(t.as_str()));
        }
        // Answer questions between edits, so memoised summaries are in play.
        let _ = findings(&live, &files);
        for (i, &(file, edit, undo)) in ops.iter().enumerate() {
            apply(&mut files, file, edit, undo);
            let (p, t) = &files[file % files.len()];
            live.open(p, Arc::from(t.as_str()));
            if i % 3 == 0 {
                let _ = findings(&live, &files);
            }
        }
        let fresh = Project::new(vec![PathBuf::from("/proj")]);
        for (p, t) in &files {
            fresh.open(p, Arc::from(t.as_str()));
        }
        for (p, _) in &files {
            prop_assert_eq!(live.py_summary(p), fresh.py_summary(p), "summary of {}", p.display());
        }
        prop_assert_eq!(findings(&live, &files), findings(&fresh, &files));
    }
}

#[test]
fn the_fixture_has_cross_file_findings_to_lose() {
    // The property above would hold trivially if nothing crossed files.
    let files = library();
    let project = Project::new(vec![PathBuf::from("/proj")]);
    for (p, t) in &files {
        project.open(p, Arc::from(t.as_str()));
    }
    let alone: usize = files
        .iter()
        .map(|(_, t)| {
            let tree = syntax::parse(Lang::Python, t, None);
            analyze_with(t, Lang::Python, &tree, &LineIndex::new(t), &Settings::default(), None).findings.len()
        })
        .sum();
    let with: usize = findings(&project, &files).iter().map(|(_, f)| f.len()).sum();
    assert!(with >= alone + 5, "the project model adds findings: {alone} alone, {with} with it");
}
