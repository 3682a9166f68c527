//! The README is the front door: its snippets must work as written once the project is
//! published at its canonical home. Each test takes the snippet out of README.md and runs
//! what it says with the real binary (the rule table itself is checked by tests/docs.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

const HOME: &str = "https://github.com/awaitguard/awaitguard";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const BIN: &str = env!("CARGO_BIN_EXE_awaitguard");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn readme() -> String {
    read("README.md")
}

/// The fenced blocks of `text` in `lang`, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let open = format!("```{lang}");
    let mut out = vec![];
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim_end() == open => cur = Some(String::new()),
            Some(b) if line.trim_end() == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Runs the real binary with `args` (a README command line without its leading `awaitguard`).
fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let o = child.wait_with_output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// A small project with one finding (AG101) and correct async code beside it.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("views.py"),
        "from django.http import JsonResponse\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = Book.objects.get(pk=pk)\n    return JsonResponse({\"t\": book.title})\n\n\nasync def count(request):\n    return JsonResponse({\"n\": await Book.objects.acount()})\n",
    )
    .unwrap();
    dir
}

/// A shell line from a README snippet, split on spaces, without its leading `awaitguard`.
fn args_of(line: &str) -> Vec<String> {
    let line = line.split(" # ").next().unwrap().split(" > ").next().unwrap().trim();
    let rest = line.strip_prefix("awaitguard ").unwrap_or_else(|| panic!("not an awaitguard command: {line}"));
    rest.split_whitespace().map(str::to_string).collect()
}

#[test]
fn quick_start_commands_work() {
    let readme = readme();
    assert!(readme.contains("cargo run --release -- check tests/demo"));
    assert!(readme.contains("bash scripts/test.sh"));
    let ci = read(".ci/run");
    assert!(ci.contains("bash scripts/test.sh"), ".ci/run must call the README's test command");
    let quick = &blocks(&readme, "sh")[0];
    assert!(quick.contains(&format!("pip install awaitguard=={VERSION}")), "{quick}");
    let dir = project();
    let mut ran = 0;
    for line in quick.lines().filter(|l| l.starts_with("awaitguard ")) {
        let args = args_of(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run_in(dir.path(), &args, None);
        match args[..] {
            ["check", "."] => assert_eq!(code, 1, "{out}{err}"),
            ["check", "--fix", "."] => assert_eq!(code, 0, "the fix leaves nothing: {out}{err}"),
            ["rule", code_] => {
                assert_eq!(code, 0);
                assert!(out.contains(code_));
            }
            _ => panic!("a quick-start command this test does not know: {line}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 3);
    let fixed = std::fs::read_to_string(dir.path().join("views.py")).unwrap();
    assert!(fixed.contains("await Book.objects.aget(pk=pk)"), "{fixed}");
}

#[test]
fn one_canonical_home_everywhere() {
    let files = ["README.md", "Cargo.toml", "pyproject.toml", "editors/vscode/package.json", "editors/vscode/README.md", "editors/neovim/README.md", "editors/zed/README.md", "editors/zed/extension.toml", "editors/zed/Cargo.toml", "docs/releasing.md", ".pre-commit-hooks.yaml"];
    for f in files {
        let text = read(f);
        assert!(!text.contains("<repository URL>") && !text.contains("<awaitguard repository URL>"), "{f} has a placeholder URL");
        for (i, _) in text.match_indices("github.com/") {
            let tail = &text[i + "github.com/".len()..];
            let repo: String = tail.chars().take_while(|c| c.is_alphanumeric() || "-_./".contains(*c)).collect();
            let owner_repo: Vec<&str> = repo.split('/').take(2).collect();
            let owner_repo = owner_repo.join("/");
            let owner_repo = owner_repo.trim_end_matches(".git").trim_end_matches('.');
            // Other projects' pages (actions, reviewdog …) are fine; ours must be the home.
            if owner_repo.to_lowercase().contains("awaitguard") {
                assert_eq!(owner_repo, "awaitguard/awaitguard", "{f} names another home: github.com/{repo}");
            }
        }
    }
    assert!(read("Cargo.toml").contains(&format!("repository = \"{HOME}\"")));
    assert!(read("pyproject.toml").contains(&format!("Homepage = \"{HOME}\"")));
    let pkg: serde_json::Value = serde_json::from_str(&read("editors/vscode/package.json")).unwrap();
    assert_eq!(pkg["repository"]["url"], format!("{HOME}.git"));
    assert_eq!(pkg["version"], VERSION, "the extension's version is the crate's");
    let zed: toml::Table = toml::from_str(&read("editors/zed/extension.toml")).unwrap();
    assert_eq!(zed["repository"].as_str(), Some(HOME));
    assert_eq!(zed["version"].as_str(), Some(VERSION), "the Zed extension's version is the crate's");
    assert!(root().join("LICENSE").is_file());
}

#[test]
fn version_pins_are_this_version() {
    let readme = readme();
    for (pin, end) in [("awaitguard==", ' '), ("rev: v", '\n'), ("--tag v", ' '), ("releases/tag/v", ')'), ("awaitguard-", '-')] {
        let mut seen = 0;
        for (i, _) in readme.match_indices(pin) {
            let v: String = readme[i + pin.len()..].chars().take_while(|c| *c != end && (c.is_ascii_digit() || *c == '.')).collect();
            if pin == "awaitguard-" && !v.starts_with(|c: char| c.is_ascii_digit()) {
                continue; // `awaitguard-fix`, …
            }
            assert_eq!(v.trim_end_matches('.'), VERSION, "README pins {pin}{v}, the crate is {VERSION} (docs/releasing.md)");
            seen += 1;
        }
        assert!(seen > 0, "README has no {pin} pin");
    }
}

#[test]
fn github_actions_workflow_installs_awaitguard_and_its_commands_work() {
    let readme = readme();
    let wf = blocks(&readme, "yaml").into_iter().find(|b| b.contains("runs-on:")).expect("README has a GitHub Actions workflow");
    let runs: Vec<&str> = wf.lines().filter_map(|l| l.trim_start().trim_start_matches("- ").strip_prefix("run: ")).collect();
    let install = runs.iter().position(|r| *r == format!("pip install awaitguard=={VERSION}")).expect("the workflow installs awaitguard by its wheel's name and a pinned version");
    assert!(wf.contains("actions/setup-python@"), "pip needs a Python");
    let dir = project();
    let mut checked = 0;
    for (i, r) in runs.iter().enumerate().filter(|(_, r)| r.starts_with("awaitguard ")) {
        assert!(i > install, "`{r}` runs before awaitguard is installed");
        let args = args_of(r);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run_in(dir.path(), &args, None);
        if args.contains(&"github") {
            assert_eq!(code, 1, "{err}");
            assert!(out.starts_with("::error file=views.py,line=6,"), "{out}");
        } else if args.contains(&"sarif") {
            assert_eq!(code, 0, "--exit-zero: {err}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["version"], "2.1.0");
            assert!(r.ends_with("> awaitguard.sarif") && wf.contains("sarif_file: awaitguard.sarif"), "the SARIF file uploaded is the one written");
        } else {
            panic!("a workflow command this test does not know: {r}");
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
    assert!(wf.contains("security-events: write"), "the SARIF upload needs security-events: write");
}

/// `.pre-commit-hooks.yaml` as (id, entry, language) per hook; a line-based reading of the
/// flat mapping list the file is (pre-commit validates it with its own schema in
/// tests/dist/precommit_test.sh).
fn hooks() -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = vec![];
    for line in read(".pre-commit-hooks.yaml").lines() {
        let value = |key: &str| line.trim_start_matches("- ").trim().strip_prefix(key).map(|v| v.trim().trim_matches('"').to_string());
        if let Some(id) = value("id:") {
            out.push((id, String::new(), String::new()));
        } else if let (Some(e), Some(h)) = (value("entry:"), out.last_mut()) {
            h.1 = e;
        } else if let (Some(l), Some(h)) = (value("language:"), out.last_mut()) {
            h.2 = l;
        }
    }
    out
}

#[test]
fn pre_commit_hooks_name_the_cli_and_the_readme_snippet_uses_them() {
    let hooks = hooks();
    assert_eq!(hooks.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(), ["awaitguard", "awaitguard-fix"]);
    let dir = project();
    for (id, entry, language) in &hooks {
        // `language: python` installs this repository with pip: the wheel's `awaitguard`.
        assert_eq!(language, "python", "{id}");
        assert!(read("pyproject.toml").contains("name = \"awaitguard\"") && read("pyproject.toml").contains("bindings = \"bin\""));
        let args = args_of(entry);
        // pre-commit appends the staged file names.
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push("views.py");
        let (code, out, err) = run_in(dir.path(), &args, None);
        if id == "awaitguard" {
            assert_eq!(code, 1, "the hook fails on a finding: {out}{err}");
        } else {
            assert_eq!(code, 0, "the fix hook fixes it: {out}{err}");
        }
    }
    let readme = readme();
    let snippet = blocks(&readme, "yaml").into_iter().find(|b| b.contains("repos:")).expect("README has a pre-commit snippet");
    assert!(snippet.contains(&format!("- repo: {HOME}\n")), "{snippet}");
    assert!(snippet.contains(&format!("rev: v{VERSION}\n")), "the tag the release steps create (docs/releasing.md): {snippet}");
    for line in snippet.lines() {
        if let Some(id) = line.trim().trim_start_matches("# ").strip_prefix("- id: ") {
            let id = id.split_whitespace().next().unwrap();
            assert!(hooks.iter().any(|h| h.0 == id), "README names a hook that .pre-commit-hooks.yaml lacks: {id}");
        }
    }
    assert!(read("docs/releasing.md").contains("git tag -a vX.Y.Z"), "the release steps create the tag");
}

#[test]
fn editor_snippets_parse_and_run_the_language_server() {
    let readme = readme();
    // Helix: languages.toml.
    let helix = &blocks(&readme, "toml").into_iter().find(|b| b.contains("[language-server.awaitguard]")).expect("Helix snippet");
    let v: toml::Table = toml::from_str(helix).unwrap();
    assert_eq!(v["language-server"]["awaitguard"]["command"].as_str(), Some("awaitguard"));
    assert_eq!(v["language-server"]["awaitguard"]["args"].as_array().unwrap()[0].as_str(), Some("lsp"));
    let langs = v["language"].as_array().unwrap();
    for l in ["python", "rust"] {
        let entry = langs.iter().find(|x| x["name"].as_str() == Some(l)).unwrap_or_else(|| panic!("Helix: no {l}"));
        assert!(entry["language-servers"].as_array().unwrap().iter().any(|s| s.as_str() == Some("awaitguard")));
    }
    // Sublime LSP: LSP.sublime-settings.
    let sublime = blocks(&readme, "json").into_iter().find(|b| b.contains("\"clients\"")).expect("Sublime snippet");
    let v: serde_json::Value = serde_json::from_str(&sublime).unwrap();
    assert_eq!(v["clients"]["awaitguard"]["command"], serde_json::json!(["awaitguard", "lsp"]));
    assert_eq!(v["clients"]["awaitguard"]["selector"], "source.python | source.rust");
    // Emacs: eglot (driven headless by editors/emacs/test/run.sh) and lsp-mode.
    let elisp = blocks(&readme, "elisp");
    assert!(elisp[0].contains("eglot-server-programs") && elisp[0].contains("(\"awaitguard\" \"lsp\")"));
    assert!(elisp[1].contains("lsp-register-client") && elisp[1].contains("'(\"awaitguard\" \"lsp\")"));
    // `awaitguard lsp` is the language server on stdio: it answers `initialize`.
    let mut c = Command::new(BIN)
        .arg("lsp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::{Read, Write};
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
        let mut stdin = c.stdin.take().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        let mut buf = [0u8; 4096];
        let mut got = String::new();
        let mut out = c.stdout.take().unwrap();
        while !got.contains("\"serverInfo\"") {
            let n = out.read(&mut buf).unwrap();
            assert!(n > 0, "the server closed stdout: {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(got.contains("\"name\":\"awaitguard\""), "{got}");
    }
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn lint_plugin_command_checks_stdin() {
    let readme = readme();
    let line = readme.lines().find(|l| l.contains("--stdin-filename %s -")).expect("README's lint-plugin command");
    let cmd = line.split('`').find(|s| s.contains("--stdin-filename %s -")).unwrap();
    let dir = project();
    let text = std::fs::read_to_string(dir.path().join("views.py")).unwrap();
    let args: Vec<String> = args_of(cmd).into_iter().map(|a| if a == "%s" { "views.py".into() } else { a }).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_in(dir.path(), &args, Some(&text));
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("views.py:6:12: "), "{out}");
}

#[test]
fn demo_project_shows_findings() {
    let out = std::process::Command::new(BIN)
        .args(["check", "--format", "json", "tests/demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<(String, u64)> =
        v.as_array().unwrap().iter().map(|f| (f["code"].as_str().unwrap().to_string(), f["range"]["start"]["line"].as_u64().unwrap())).collect();
    for want in [("AG101", 12), ("AG101", 13), ("AG101", 19), ("AG202", 32), ("AG501", 11), ("AG510", 26)] {
        assert!(lines.contains(&(want.0.to_string(), want.1)), "demo lacks {want:?}: {lines:?}");
    }
    // No finding in the correct code (sync view, Celery task, the atomic sync function).
    assert!(v.as_array().unwrap().iter().all(|f| !f["path"].as_str().unwrap().ends_with("tasks.py")));
}

#[test]
fn readme_is_the_short_front_door() {
    let readme = readme();
    // The generated rule table grows with the catalogue; the prose around it must not.
    let table = readme.split("<!-- rules:start -->").nth(1).and_then(|t| t.split("<!-- rules:end -->").next()).map_or(0, |t| t.lines().count());
    let lines = readme.lines().count() - table;
    assert!(lines <= 320, "README has {lines} lines besides the rule table: move internals to docs/");
    for section in ["## Install", "## Editors", "## CI", "## Configuration", "## Rules", "## FAQ", "## Reliability"] {
        assert!(readme.contains(&format!("\n{section}\n")), "README lacks {section}");
    }
    // Every relative link in README points at a file of the repository (docs/reliability.md
    // is written separately and may be missing on this branch).
    for (i, _) in readme.match_indices("](") {
        let target: String = readme[i + 2..].chars().take_while(|c| *c != ')').collect();
        let target = target.split('#').next().unwrap();
        if target.is_empty() || target.contains("://") || target == "docs/reliability.md" {
            continue;
        }
        assert!(root().join(target).exists(), "README links to a missing file: {target}");
    }
}
