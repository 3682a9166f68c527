//! Multi-file fixture projects (`tests/projects/<name>/`): the real binary checks each
//! folder, and every line marked `# expect: CODE[, CODE]` (`// expect:` in Rust) must have
//! exactly those findings; every other line none. Findings that rest on another file are
//! the point: models, managers, querysets and helpers declared in one module and used in
//! another.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn projects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    v.sort();
    v
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py" || x == "rs") {
            out.push(p);
        }
    }
}

type Expected = BTreeMap<(String, usize), BTreeSet<String>>;

/// `(relative path, line)` → codes, from the `expect:` markers.
fn expected(project: &Path) -> Expected {
    let mut all = vec![];
    files(project, &mut all);
    let mut out = Expected::new();
    for f in all {
        let rel = f.strip_prefix(project).unwrap().to_string_lossy().to_string();
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            if let Some((_, codes)) = line.split_once("expect: ") {
                let set = codes.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                out.insert((rel.clone(), i + 1), set);
            }
        }
    }
    out
}

/// `(relative path, line)` → codes, from `check --format json`.
fn found(project: &Path) -> (Expected, serde_json::Value) {
    let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = common::cli::run(cwd, &["check", "--format", "json", "--exit-zero", project.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    let mut got = Expected::new();
    for f in json.as_array().unwrap() {
        let path = Path::new(f["path"].as_str().unwrap());
        let abs = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
        let rel = abs.strip_prefix(project).unwrap_or(&abs).to_string_lossy().to_string();
        let line = f["range"]["start"]["line"].as_u64().unwrap() as usize;
        got.entry((rel, line)).or_default().insert(f["code"].as_str().unwrap().to_string());
    }
    (got, json)
}

#[test]
fn every_project_has_exactly_its_expected_findings() {
    let list = projects();
    assert!(!list.is_empty());
    for p in list {
        let want = expected(&p);
        let (got, _) = found(&p);
        assert!(!want.is_empty(), "{}: no expect markers", p.display());
        assert_eq!(got, want, "{}: findings (left) differ from the expect markers (right)", p.display());
    }
}

#[test]
fn findings_that_rest_on_another_file_say_where() {
    let mut seen = 0;
    for p in projects() {
        let (_, json) = found(&p);
        for f in json.as_array().unwrap() {
            for r in f["related"].as_array().into_iter().flatten() {
                let path = Path::new(r["path"].as_str().unwrap());
                assert!(path.exists(), "related location names a file that exists: {r}");
                let line = std::fs::read_to_string(path).unwrap().lines().nth(r["line"].as_u64().unwrap() as usize - 1).unwrap().to_string();
                // Python: the helper whose return value the finding rests on (AG108: each call
                // into the helper, then the database call; AG208 likewise to the dispatch; AG301
                // down to the `async_to_sync` call; AG305 into the offloaded helper down to its
                // database call); Rust: each call down to the blocking one.
                let py = path.extension().is_some_and(|e| e == "py");
                if f["code"] == "AG108" || f["code"] == "AG208" || f["code"] == "AG301" || f["code"] == "AG305" {
                    let what = r["message"].as_str().unwrap();
                    let head = what.split(['(', '…']).next().unwrap().trim_start_matches("for ").trim();
                    assert!(line.contains(head), "{r} points at `{head}`: {line}");
                } else {
                    assert!(!py || line.contains("def ") || line.contains("class "), "{r} points at a definition: {line}");
                }
                assert!(py || !line.trim().is_empty(), "{r} points at code");
                seen += 1;
            }
        }
    }
    // `qs = await books_by(author)` then `for b in qs:` rests on services.py's books_by.
    assert!(seen >= 2, "related locations found: {seen}");
}

/// The trigger pre-filter and the sparse parse change no finding that rests on other files.
#[test]
fn the_prefilter_changes_no_cross_file_finding() {
    let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
    for p in projects() {
        let dir = p.to_str().unwrap();
        let with = common::cli::run(cwd, &["check", "--format", "json", "--exit-zero", dir]);
        let without = common::cli::run(cwd, &["check", "--format", "json", "--exit-zero", "--no-prefilter", dir]);
        assert_eq!(with.stdout, without.stdout, "{}", p.display());
        assert!(with.stdout.contains("\"code\""), "{}: findings to compare", p.display());
    }
}

#[test]
fn every_fix_in_the_projects_parses() {
    use awaitguard::syntax::{self, Lang};
    for p in projects() {
        let (_, json) = found(&p);
        for f in json.as_array().unwrap() {
            let path = Path::new(f["path"].as_str().unwrap());
            let abs = if path.is_absolute() { path.to_path_buf() } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(path) };
            let Some(lang) = Lang::from_path(&abs) else { continue };
            let text = std::fs::read_to_string(&abs).unwrap();
            for fix in f["fixes"].as_array().into_iter().flatten() {
                let mut edits: Vec<(usize, usize, String)> = fix["edits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let s = e["range"]["start"]["offset"].as_u64().unwrap() as usize;
                        let t = e["range"]["end"]["offset"].as_u64().unwrap() as usize;
                        (s, t, e["content"].as_str().unwrap().to_string())
                    })
                    .collect();
                edits.sort_by_key(|e| std::cmp::Reverse(e.0));
                let mut new = text.clone();
                for (s, t, c) in edits {
                    new.replace_range(s..t, &c);
                }
                let tree = syntax::parse(lang, &new, None);
                assert!(!syntax::has_syntax_error(&tree), "{}: fix {} does not parse:\n{new}", abs.display(), fix["title"]);
            }
        }
    }
}

/// A helper's blocking call in another module is named as related information, through every
/// intermediate call.
#[test]
fn rust_helper_findings_point_at_the_blocking_call() {
    use awaitguard::analysis::analyze_with;
    use awaitguard::config::Settings;
    use awaitguard::project::Project;
    use awaitguard::semantic::outside::Outside;
    use awaitguard::syntax::{self, Lang};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/rust_service");
    let file = root.join("src/handlers.rs");
    let text = std::fs::read_to_string(&file).unwrap();
    let project = Project::new(vec![root.clone()]);
    let view = project.view(&file);
    let tree = syntax::parse(Lang::Rust, &text, None);
    let index = awaitguard::text::LineIndex::new(&text);
    let a = analyze_with(&text, Lang::Rust, &tree, &index, &Settings::default(), Some(&view as &dyn Outside));
    let at = |needle: &str| {
        let b = text.find(needle).unwrap();
        a.findings.iter().find(|f| f.range.start == b).unwrap_or_else(|| panic!("no finding at {needle}: {:?}", a.findings))
    };
    let f = at("repo::count_all(&pool) // expect");
    let files: Vec<String> = f.related.iter().map(|l| l.path.file_name().unwrap().to_string_lossy().to_string()).collect();
    assert_eq!(files, ["repo.rs", "repo.rs"], "{:?}", f.related);
    assert_eq!(f.related[1].what, "pool.get()");
    let repo = std::fs::read_to_string(root.join("src/repo.rs")).unwrap();
    assert!(repo[f.related[1].range.clone()].starts_with("pool.get()"));
    let f = at("repo::touch(&pool)");
    let files: Vec<String> = f.related.iter().map(|l| l.path.file_name().unwrap().to_string_lossy().to_string()).collect();
    assert_eq!(files, ["repo.rs", "db.rs"], "{:?}", f.related);
    // The analysis read the modules it resolved through: editing them re-analyses this file.
    let deps: Vec<String> = view.dependencies().iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
    for want in ["db.rs", "repo.rs", "mod.rs", "Cargo.toml", "main.rs"] {
        assert!(deps.iter().any(|d| d == want), "{want} not in {deps:?}");
    }
}

/// `--show-files` leaves out the Rust files no Cargo target compiles and says why; a manifest
/// that does not parse, and a virtual workspace manifest, leave every file checked.
#[test]
fn rust_files_no_cargo_target_compiles_are_named_with_the_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/rust_cargo_targets");
    let out = common::cli::run(&root, &["check", "--show-files", "."]);
    let listed: BTreeSet<&str> = out.stdout.lines().map(|l| l.trim_start_matches("./")).collect();
    let skipped: BTreeSet<&str> =
        out.stderr.lines().filter(|l| l.contains("no Cargo target")).filter_map(|l| l.strip_prefix("warning: ")?.split(": ").next()).map(|l| l.trim_start_matches("./")).collect();
    assert_eq!(skipped, BTreeSet::from(["examples/unlisted.rs", "src/stale.rs", "tests/stale/helper.rs"]), "{}", out.stderr);
    for live in ["build.rs", "benches/speed.rs", "examples/listed.rs", "src/bin/tool.rs", "src/type.rs", "src/x/renamed.rs", "tests/api/main.rs", "tests/common/mod.rs"] {
        assert!(listed.contains(live), "{live} not in {listed:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let blocking = b"pub async fn f(pool: &r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::PgConnection>>) {\n    let _c = pool.get();\n}\n";
    // A manifest that does not parse: every file is checked, as without one.
    common::cli::write(dir.path(), "broken/Cargo.toml", b"[package\nname = ");
    common::cli::write(dir.path(), "broken/src/lib.rs", b"");
    common::cli::write(dir.path(), "broken/src/orphan.rs", blocking);
    // A virtual workspace manifest: a file outside every member is checked.
    common::cli::write(dir.path(), "ws/Cargo.toml", b"[workspace]\nmembers = [\"a\"]\nexclude = [\"old\"]\n");
    common::cli::write(dir.path(), "ws/a/Cargo.toml", b"[package]\nname = \"a\"\nversion = \"0.1.0\"\n");
    common::cli::write(dir.path(), "ws/a/src/lib.rs", b"");
    common::cli::write(dir.path(), "ws/a/src/orphan.rs", blocking);
    common::cli::write(dir.path(), "ws/scripts/loose.rs", blocking);
    common::cli::write(dir.path(), "ws/old/Cargo.toml", b"[package]\nname = \"old\"\nversion = \"0.1.0\"\n");
    common::cli::write(dir.path(), "ws/old/src/main.rs", blocking);
    let out = common::cli::run(dir.path(), &["check", "--show-files", "."]);
    let listed: BTreeSet<String> = out.stdout.lines().map(|l| l.trim_start_matches("./").replace('\\', "/")).collect();
    for live in ["broken/src/orphan.rs", "ws/scripts/loose.rs", "ws/old/src/main.rs", "ws/a/src/lib.rs"] {
        assert!(listed.contains(live), "{live} not in {listed:?}");
    }
    assert!(!listed.contains("ws/a/src/orphan.rs") && out.stderr.contains("orphan.rs: not checked"), "{}", out.stderr);
    // `check` itself is silent on the dead file and reports the live ones.
    let out = common::cli::run(dir.path(), &["check", "--output-format", "concise", "--exit-zero", "."]);
    assert!(!out.stdout.contains("ws/a/src/orphan.rs"), "{}", out.stdout);
    assert!(out.stdout.contains("broken/src/orphan.rs") && out.stdout.contains("ws/old/src/main.rs"), "{}", out.stdout);
}

/// AG501's fix tail follows the function's error type declared in another module: `AppError`
/// of `error.rs` has `#[from] tokio::task::JoinError`, so the join error goes through `?`.
#[test]
fn rust_fix_tail_follows_an_error_type_of_another_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/rust_axum_diesel");
    let out = common::cli::run(&root, &["check", "--diff", "--unsafe-fixes", "--select", "AG501", "."]);
    let added: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).map(|l| l[1..].trim()).collect();
    assert!(
        added.contains(&"tokio::task::spawn_blocking(move || repo::shelf_count(&state.sync_pool)).await? // expect: AG501"),
        "{added:#?}\n{}",
        out.stderr
    );
    // `usize` has no error to absorb the join error: the panic is resumed.
    assert!(added.contains(&"tokio::task::spawn_blocking(move || Shelves::archive(&Shelves, &state.sync_pool)).await.unwrap() // expect: AG501"), "{added:#?}");
}
