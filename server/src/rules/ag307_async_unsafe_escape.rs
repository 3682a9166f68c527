//! AG307 async-unsafe-escape: setting `DJANGO_ALLOW_ASYNC_UNSAFE` (RULES.md §AG307), which
//! turns off Django's `SynchronousOnlyOperation` check for any non-empty value.
//!
//! Python ([`AsyncUnsafeEscape`]): `os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = v`,
//! `os.environ.setdefault(…)`, `os.putenv(…)`, `monkeypatch.setenv(…)`, and the variable as a
//! key of a dict literal passed to `os.environ.update(…)` / `patch.dict(os.environ, …)`. Reads
//! (`os.environ.get(…)`), deletions and the empty string (falsy: the check stays on) are
//! silent. Severity: error at module level of a settings module (a file assigning
//! `INSTALLED_APPS`, `DATABASES`, `SECRET_KEY`, `MIDDLEWARE` or `ROOT_URLCONF`) or of an
//! entry point (`manage.py`, `asgi.py`, `wsgi.py`: a call of `execute_from_command_line` /
//! `get_asgi_application` / `get_wsgi_application`); warning anywhere else (test
//! configuration, scripts).
//!
//! Other files ([`check_config_text`], [`ConfigKind`]): `.env*` files, pytest config
//! (`pytest.ini`, `pyproject.toml`, `setup.cfg`, `tox.ini`: an `env` entry of pytest-env),
//! Dockerfile `ENV` / `ARG`, docker-compose `environment:`. The front ends hand such files to
//! this module only when the rule is enabled, so scans where it is off never walk or read
//! them. Severity: error in a Dockerfile, docker-compose file or a `.env` file not named for
//! tests; warning in pytest config and `.env.test`-like files.
//!
//! Configured exceptions: files matched by `allow-async-unsafe` have the rule turned off
//! (config/paths.rs); `per-file-ignores` works as for every rule.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::syntax::{Lang, QueryId};
use std::ops::Range;
use std::path::Path;
use tree_sitter::Node;

const VAR: &str = "DJANGO_ALLOW_ASYNC_UNSAFE";

pub struct AsyncUnsafeEscape;

pub(crate) static META: RuleMeta = RuleMeta {
    code: "AG307",
    name: "async-unsafe-escape",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::None,
    triggers: &[&["DJANGO_ALLOW_ASYNC_UNSAFE"]],
    summary: "`DJANGO_ALLOW_ASYNC_UNSAFE` turns off Django's async-safety check",
    doc: r#"## AG307 async-unsafe-escape

**What it catches.** Setting `DJANGO_ALLOW_ASYNC_UNSAFE`: in Python
(`os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"`, `os.environ.setdefault(…)`,
`os.putenv(…)`, `monkeypatch.setenv(…)`, `os.environ.update({…})`, `patch.dict(os.environ,
{…})`), in pytest configuration (pytest-env's `env` in `pytest.ini`, `pyproject.toml`'s
`[tool.pytest.ini_options]`, `setup.cfg`, `tox.ini`), in `.env` files, in a Dockerfile
(`ENV`, `ARG`) and in docker-compose `environment:`.

**Why it is wrong.** Django then skips its `SynchronousOnlyOperation` check for any
non-empty value (`"false"` and `"0"` too): every sync database call in async code runs on
the event loop, and `with transaction.atomic()` in async code silently stops protecting the
awaited writes. Django's docs: do not use it in production; `manage.py check --deploy`
reports `async.E001`.

**Example.**
```python
# settings.py
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"   # AG307 (error)
```

**Fix.** None: remove it, and fix what it was hiding (the other rules of this tool report
it). Where it is needed on purpose (Jupyter notebooks, Playwright-only test runs), list the
files under `allow-async-unsafe` in the config: the rule is off there, and the
`SynchronousOnlyOperation` findings in those files become warnings.

**Severity.** Error in a settings module or entry point (`manage.py`, `asgi.py`,
`wsgi.py`), a Dockerfile, a docker-compose file and `.env` files; warning in test
configuration (pytest config, `conftest.py`, `.env.test`) and other Python code.

**Stays silent on** reads (`os.environ.get(…)`), deletions, the empty string, files
matched by `allow-async-unsafe`, and configuration files named for notebooks
(`config.notebooks.env`, `jupyter.env`) or templates (`.env.example`, `.env.sample`). Non-Python files are read only when this rule is enabled
(`check` walks them then, and `check --stdin-filename .env` reads stdin as one; the language
server checks them when they are open, recognised by file name whatever the editor's
language id).

**Suppress** with `# awaitguard: ignore[AG307]` or `# noqa: AG307` on the line (in any
file that has `#` comments).
"#,
};

impl Rule for AsyncUnsafeEscape {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let production = is_production_module(py);
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else { return };
            let first = args.named_child(0);
            let name = match func.kind() {
                "attribute" => func.child_by_field_name("attribute").map(|a| py.node_text(a)).unwrap_or(""),
                "identifier" => py.node_text(func),
                _ => "",
            };
            match name {
                "setdefault" | "putenv" | "setenv" => {
                    let Some(key) = first.filter(|k| is_var(py, *k)) else { return };
                    let value = args.named_child(1);
                    if value.is_some_and(|v| is_empty_string(py, v)) {
                        return;
                    }
                    report(py, out, call, key, production);
                }
                "update" | "dict" => {
                    let mut c = args.walk();
                    for a in args.named_children(&mut c).filter(|a| a.kind() == "dictionary") {
                        let mut c2 = a.walk();
                        for pair in a.named_children(&mut c2).filter(|p| p.kind() == "pair") {
                            let (Some(k), Some(v)) = (pair.child_by_field_name("key"), pair.child_by_field_name("value")) else {
                                continue;
                            };
                            if is_var(py, k) && !is_empty_string(py, v) {
                                report(py, out, call, k, production);
                            }
                        }
                    }
                }
                _ => {}
            }
        });
        // `<…>[VAR] = value`.
        let mut stack = vec![py.tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == "assignment" {
                if let (Some(left), Some(right)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    if left.kind() == "subscript"
                        && left.child_by_field_name("subscript").is_some_and(|k| is_var(py, k))
                        && left.child_by_field_name("value").is_some_and(|v| py.node_text(v).ends_with("environ"))
                        && !is_empty_string(py, right)
                    {
                        let key = left.child_by_field_name("subscript").unwrap_or(left);
                        report(py, out, n, key, production);
                    }
                }
            }
            if n.end_byte() - n.start_byte() >= VAR.len() && py.src[n.byte_range()].contains(VAR) {
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
        }
    }
}

fn report(py: &crate::semantic::PyModel, out: &mut Vec<Finding>, stmt: Node, key: Node, production: bool) {
    let module_level = py.scope_at(stmt.start_byte()) == 0;
    let mut f = Finding::new(&META, key.byte_range(), message(), vec![]);
    if production && module_level {
        f.severity = Severity::Error;
    }
    out.push(f);
}

fn message() -> String {
    format!("`{VAR}` turns off Django's SynchronousOnlyOperation check for any non-empty value")
}

fn is_var(py: &crate::semantic::PyModel, n: Node) -> bool {
    n.kind() == "string" && py.node_text(n).trim_matches(|c| c == '"' || c == '\'') == VAR
}

fn is_empty_string(py: &crate::semantic::PyModel, n: Node) -> bool {
    n.kind() == "string" && py.node_text(n).trim_matches(|c| c == '"' || c == '\'').is_empty()
}

/// A settings module (assigns one of the settings every project has) or an entry point
/// (`manage.py`, `asgi.py`, `wsgi.py`).
fn is_production_module(py: &crate::semantic::PyModel) -> bool {
    let root = py.tree.root_node();
    let mut c = root.walk();
    let found = root.named_children(&mut c).any(|s| {
        let text = py.node_text(s);
        if s.kind() == "expression_statement" {
            if let Some(a) = s.named_child(0).filter(|a| a.kind() == "assignment") {
                if let Some(l) = a.child_by_field_name("left") {
                    return matches!(py.node_text(l), "INSTALLED_APPS" | "DATABASES" | "SECRET_KEY" | "MIDDLEWARE" | "ROOT_URLCONF");
                }
            }
        }
        ["execute_from_command_line(", "get_asgi_application(", "get_wsgi_application("].iter().any(|w| text.contains(w))
            && matches!(s.kind(), "expression_statement" | "if_statement" | "function_definition")
    });
    found
}

/// A non-Python file this rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    /// `.env`, `.env.production`, `prod.env` …; `test` marks test-only ones (`.env.test`).
    DotEnv { test: bool },
    Dockerfile,
    Compose,
    /// `pytest.ini`, `pyproject.toml`, `setup.cfg`, `tox.ini`.
    PytestConfig,
}

impl ConfigKind {
    /// The kind of the file at `path`, by its name; `None`: not a file this rule reads.
    pub fn of(path: &Path) -> Option<ConfigKind> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        let testish = |s: &str| s.split(['.', '-', '_']).any(|p| matches!(p, "test" | "tests" | "testing" | "ci" | "pytest"));
        // Notebook environments (Jupyter's autoawait runs cells on a loop): the documented use.
        if lower.contains("notebook") || lower.contains("jupyter") {
            return None;
        }
        if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
            if lower.ends_with(".example") || lower.ends_with(".sample") || lower.ends_with(".template") || lower.ends_with(".dist") {
                return None;
            }
            return Some(ConfigKind::DotEnv { test: testish(&lower) });
        }
        if lower == "dockerfile" || lower.starts_with("dockerfile.") || lower.ends_with(".dockerfile") {
            return Some(ConfigKind::Dockerfile);
        }
        if (lower.starts_with("docker-compose") || lower.starts_with("compose")) && (lower.ends_with(".yml") || lower.ends_with(".yaml")) {
            return Some(ConfigKind::Compose);
        }
        if matches!(lower.as_str(), "pytest.ini" | "pyproject.toml" | "setup.cfg" | "tox.ini") {
            return Some(ConfigKind::PytestConfig);
        }
        None
    }
}

/// One finding in a non-Python file: the byte range of the variable's name, its severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFinding {
    pub range: Range<usize>,
    pub severity: Severity,
    pub message: String,
}

/// The places `text` (a file of `kind`) sets the variable to a non-empty value. Comments (`#`,
/// and `;` in ini files) are skipped; a line with `awaitguard: ignore[AG307]` or
/// `noqa: AG307` is silent.
pub fn check_config_text(kind: ConfigKind, text: &str) -> Vec<ConfigFinding> {
    let severity = match kind {
        ConfigKind::DotEnv { test: true } | ConfigKind::PytestConfig => Severity::Warning,
        _ => Severity::Error,
    };
    let mut out = vec![];
    let mut offset = 0;
    let mut in_pytest_env = false;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        if kind == ConfigKind::PytestConfig && trimmed.starts_with('[') {
            in_pytest_env = false;
        }
        if trimmed.starts_with('#') || (kind == ConfigKind::PytestConfig && trimmed.starts_with(';')) {
            continue;
        }
        if body.contains("awaitguard: ignore[AG307]") || body.contains("awaitguard: ignore[async-unsafe-escape]") || body.contains("noqa: AG307") {
            continue;
        }
        if kind == ConfigKind::PytestConfig {
            // pytest-env: `env =` (ini) / `env = [` (toml); its entries follow on indented lines.
            let key = trimmed.split(['=', ':']).next().unwrap_or("").trim();
            if matches!(key, "env" | "\"env\"" | "setenv") {
                in_pytest_env = true;
            } else if !body.starts_with([' ', '\t']) && !trimmed.starts_with(['"', '\'', ']', 'D']) && !trimmed.is_empty() {
                in_pytest_env = false;
            }
            if !in_pytest_env {
                continue;
            }
        }
        let Some(pos) = body.find(VAR) else { continue };
        // The name must stand alone (not `MY_DJANGO_ALLOW_ASYNC_UNSAFE_X`).
        let before_ok = !body[..pos].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let after = &body[pos + VAR.len()..];
        if !before_ok || after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let prefix = body[..pos].trim_start();
        let value = match kind {
            ConfigKind::DotEnv { .. } => {
                if !(prefix.is_empty() || prefix == "export ") {
                    continue;
                }
                match after.trim_start().strip_prefix('=') {
                    Some(v) => Some(v),
                    None => continue,
                }
            }
            ConfigKind::Dockerfile => {
                // `ENV` / `ARG` (one or several pairs), or a continuation line of one.
                let word = prefix.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                if !(prefix.is_empty() || matches!(word.as_str(), "ENV" | "ARG")) {
                    continue;
                }
                let a = after.trim_start();
                match a.strip_prefix('=') {
                    Some(v) => Some(v),
                    None if word == "ARG" => None,
                    None => Some(a),
                }
            }
            ConfigKind::Compose => {
                let p = prefix.trim_start_matches("- ").trim_start_matches(['"', '\'']);
                if !p.is_empty() {
                    continue;
                }
                let a = after.trim_start_matches(['"', '\'']).trim_start();
                match a.strip_prefix('=').or_else(|| a.strip_prefix(':')) {
                    Some(v) => Some(v),
                    None => continue,
                }
            }
            ConfigKind::PytestConfig => match after.trim_start().strip_prefix('=') {
                Some(v) => Some(v),
                None => continue,
            },
        };
        // The empty value keeps the check on (`ARG` with no default: set at build time).
        let Some(v) = value else { continue };
        let v = v.split(" #").next().unwrap_or("").trim().trim_end_matches(',').trim_matches(['"', '\'']).trim();
        if v.is_empty() {
            continue;
        }
        let at = start + pos;
        out.push(ConfigFinding { range: at..at + VAR.len(), severity, message: message() });
    }
    out
}

/// The findings of this rule in the non-Python file at `path` with text `text` (empty when the
/// file is not one it reads), at the severities `settings` give them; the caller has checked
/// that the rule is enabled for the file.
pub fn config_findings(path: &Path, text: &str, settings: &crate::settings::Settings) -> Vec<Finding> {
    let Some(kind) = ConfigKind::of(path) else { return vec![] };
    check_config_text(kind, text)
        .into_iter()
        .map(|c| {
            let mut f = Finding::new(&META, c.range, c.message, vec![]);
            f.severity = settings.effective_severity(META.code, c.severity);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(kind: ConfigKind, text: &str) -> Vec<usize> {
        check_config_text(kind, text).iter().map(|f| text[..f.range.start].matches('\n').count() + 1).collect()
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(ConfigKind::of(Path::new("a/.env")), Some(ConfigKind::DotEnv { test: false }));
        assert_eq!(ConfigKind::of(Path::new(".env.test")), Some(ConfigKind::DotEnv { test: true }));
        assert_eq!(ConfigKind::of(Path::new(".env.example")), None);
        assert_eq!(ConfigKind::of(Path::new("Dockerfile.prod")), Some(ConfigKind::Dockerfile));
        assert_eq!(ConfigKind::of(Path::new("docker-compose.override.yml")), Some(ConfigKind::Compose));
        assert_eq!(ConfigKind::of(Path::new("pyproject.toml")), Some(ConfigKind::PytestConfig));
        assert_eq!(ConfigKind::of(Path::new("settings.py")), None);
        assert_eq!(ConfigKind::of(Path::new("config.notebooks.env")), None);
        assert_eq!(ConfigKind::of(Path::new("config.env")), Some(ConfigKind::DotEnv { test: false }));
    }

    #[test]
    fn dotenv() {
        let t = "DEBUG=1\nDJANGO_ALLOW_ASYNC_UNSAFE=true\n# DJANGO_ALLOW_ASYNC_UNSAFE=1\nexport DJANGO_ALLOW_ASYNC_UNSAFE=\"false\"\nDJANGO_ALLOW_ASYNC_UNSAFE=\nMY_DJANGO_ALLOW_ASYNC_UNSAFE=1\n";
        assert_eq!(lines(ConfigKind::DotEnv { test: false }, t), vec![2, 4]);
        assert!(check_config_text(ConfigKind::DotEnv { test: false }, t).iter().all(|f| f.severity == Severity::Error));
        assert!(check_config_text(ConfigKind::DotEnv { test: true }, t).iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn dockerfile() {
        let t = "FROM python:3.12\nENV DJANGO_ALLOW_ASYNC_UNSAFE=true\nENV DJANGO_ALLOW_ASYNC_UNSAFE 1\nARG DJANGO_ALLOW_ASYNC_UNSAFE\nARG DJANGO_ALLOW_ASYNC_UNSAFE=1\nRUN echo DJANGO_ALLOW_ASYNC_UNSAFE=1\nENV A=1 \\\n    DJANGO_ALLOW_ASYNC_UNSAFE=yes\n";
        assert_eq!(lines(ConfigKind::Dockerfile, t), vec![2, 3, 5, 8]);
    }

    #[test]
    fn compose() {
        let t = "services:\n  web:\n    environment:\n      - DJANGO_ALLOW_ASYNC_UNSAFE=true\n      DJANGO_ALLOW_ASYNC_UNSAFE: \"1\"\n      - DJANGO_ALLOW_ASYNC_UNSAFE=\n    command: echo DJANGO_ALLOW_ASYNC_UNSAFE=1\n";
        assert_eq!(lines(ConfigKind::Compose, t), vec![4, 5]);
    }

    #[test]
    fn pytest_config() {
        let ini = "[pytest]\nenv =\n    DJANGO_ALLOW_ASYNC_UNSAFE=true\n    D:OTHER=1\n; DJANGO_ALLOW_ASYNC_UNSAFE=1\n[other]\nDJANGO_ALLOW_ASYNC_UNSAFE=1\n";
        assert_eq!(lines(ConfigKind::PytestConfig, ini), vec![3]);
        let toml = "[tool.pytest.ini_options]\nenv = [\n    \"DJANGO_ALLOW_ASYNC_UNSAFE=true\",\n    \"D:X=1\",\n]\n[tool.other]\nx = \"DJANGO_ALLOW_ASYNC_UNSAFE=1\"\n";
        assert_eq!(lines(ConfigKind::PytestConfig, toml), vec![3]);
        assert!(check_config_text(ConfigKind::PytestConfig, ini).iter().all(|f| f.severity == Severity::Warning));
    }
}
