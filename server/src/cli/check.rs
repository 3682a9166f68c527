//! `awaitguard check [PATHS]`: analyse, render, and optionally fix.
//!
//! Exit status: 0 nothing to report; 1 findings remain (or, with `--diff`, a file would
//! change), unless `--exit-zero`; 2 usage, config or IO error, a file that could not be
//! written, or a fix refused because its result would not parse. Errors are reported on
//! stderr by path and the run goes on.
//!
//! Invariants:
//! - Files are checked in parallel on every core, each by the walker thread that finds it
//!   ([`workspace::visit_parallel`]) when no progress bar is drawn (else the walk comes first,
//!   for the count, and rayon checks); output is in discovery order either way, the same as a
//!   serial run.
//! - A file none of whose enabled rules' triggers occur ([`triggers::may_fire`]) is read and
//!   UTF-8-checked but not parsed; findings are the same as with `--no-prefilter`.
//! - A Python file that is parsed is parsed sparsely ([`analyze_sparse`]): sync function
//!   bodies that no running rule can look at are left out. `--no-prefilter` turns both off.
//! - `--no-project-model` (hidden, for benchmarks) checks each file alone: no name is
//!   followed into another file.
//! - No tree outlives its file's check; only files with findings keep their text.
//! - A file larger than `max-file-size` is not read: one line on stderr names it, its size and
//!   the limit; it does not change the exit status.
//! - Files are decoded as Python decodes them (PEP 263 coding declarations; see
//!   [`crate::text::source`]); `--fix` writes such a file back in its own encoding.
//! - Nothing was checked (no file found, every file excluded, a `.txt` named): a warning on
//!   stderr; the exit status is what it would be with no findings.
//! - `--stdin-filename PATH`: stdin is checked as the file at PATH (its folder's config, its
//!   `exclude`, its language, or its kind of AG307 configuration file: `.env`, Dockerfile …); with `--fix` the fixed text (or the text unchanged) goes to
//!   stdout and what is left is reported on stderr.

use super::fix::{self as fixer, Source};
use crate::rules::RULES;
use super::render::{self, FileReport};
use super::{paths_or_cwd, split_list};
use crate::config::{self, Overrides};
use crate::analysis::{analyze_all_with, analyze_sparse, analyze_with, triggers, Analysis};
use crate::project::Project;
use crate::semantic::outside::Outside;
use rayon::prelude::*;
use crate::syntax::{self, Lang};
use crate::text::LineIndex;
use crate::workspace::{self, SettingsCache};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// `path:line:col: CODE message`, the source line with a caret span, a summary per rule.
    #[default]
    Text,
    /// One line per finding and a summary line.
    Concise,
    /// A JSON array of findings with ranges and fixes.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=…`).
    Github,
    /// GitLab Code Quality report (JSON).
    Gitlab,
    /// JUnit XML.
    Junit,
    /// reviewdog Diagnostic Format (rdjson).
    Rdjson,
}

#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Files or folders to check (default: `.`). Folders are walked honouring .gitignore.
    pub paths: Vec<PathBuf>,
    /// Output format (`--format` is an alias).
    #[arg(long = "output-format", alias = "format", value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Only these rules (codes, prefixes such as `AG1`, names, or `ALL`); comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules; comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Django version for version gates (default: config, then lock/requirements files, then newest).
    #[arg(long)]
    pub django_version: Option<String>,
    /// Use this config file (awaitguard.toml or pyproject.toml) instead of discovery.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Ignore all config files.
    #[arg(long)]
    pub isolated: bool,
    /// Apply safe fixes in place, then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: apply unsafe fixes too (they change behaviour: review them).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the changes --fix would make as a unified diff; write nothing.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Exit 0 even when findings remain (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Check the text on stdin as the file at PATH (its folder's config and `exclude` apply).
    /// With --fix: the fixed text goes to stdout, the findings left to stderr.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Skip files larger than SIZE (bytes, or `10MB`, `512KB`; 0: no limit). Default: the
    /// config's `max-file-size`, else 10MB.
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// Print the settings that apply to the first PATH (a file, or the files of a folder): the
    /// config file, the rules and severities, the versions and where they came from.
    #[arg(long)]
    pub show_settings: bool,
    /// Print the files that would be checked, one per line.
    #[arg(long, conflicts_with = "show_settings")]
    pub show_files: bool,
    /// Add a suppression comment to every line with a finding (extending an existing
    /// `# awaitguard: ignore[…]` or `# noqa: …` there), so that only new findings fail.
    #[arg(long, conflicts_with_all = ["fix", "diff", "stdin_filename"])]
    pub add_noqa: bool,
    /// Check again whenever a checked file (or a config file) changes; the output is redrawn
    /// per run. Stop with Ctrl-C.
    #[arg(long, conflicts_with_all = ["diff", "stdin_filename", "add_noqa", "show_settings", "show_files"])]
    pub watch: bool,
    /// Parse every file, skipping the trigger pre-filter (for benchmarks and the test that
    /// the pre-filter changes no finding).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
    /// Check each file on its own: names defined in other files stay unknown (for the
    /// benchmarks that tell what the project model costs).
    #[arg(long, hide = true)]
    pub no_project_model: bool,
}

/// Below this many files no progress bar is drawn.
const PROGRESS_MIN_FILES: usize = 20;

fn progress(n: usize) -> indicatif::ProgressBar {
    if n < PROGRESS_MIN_FILES || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(n as u64), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} {wide_bar} {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// Analyses one file's text; `None` when the trigger pre-filter rules out every enabled rule
/// (the file is not even parsed). Without `prefilter`, every enabled rule runs on every file.
fn analyze_text(
    text: &str,
    lang: Lang,
    settings: &config::Settings,
    prefilter: bool,
    outside: Option<&dyn Outside>,
) -> Option<(LineIndex, Analysis)> {
    if prefilter && !triggers::may_fire(text, lang, settings) {
        return None;
    }
    let index = LineIndex::new(text);
    if prefilter && lang == Lang::Python {
        if let Some(analysis) = analyze_sparse(text, settings, &index, outside) {
            return Some((index, analysis));
        }
    }
    let tree = syntax::parse(lang, text, None);
    let analysis = if prefilter {
        analyze_with(text, lang, &tree, &index, settings, outside)
    } else {
        analyze_all_with(text, lang, &tree, &index, settings, outside)
    };
    Some((index, analysis))
}


/// What checking one file gave. Its tree is gone by then; its text is kept only when
/// findings remain (the renderers need nothing else).
#[derive(Default)]
struct Outcome {
    report: Option<FileReport>,
    errors: Vec<String>,
    config_error: Option<String>,
    diff: Option<String>,
    /// Findings fixed (or, with `--diff`, that would be), when the file changed.
    fixed: Option<usize>,
    /// The file was not checked for its size: the line that says so.
    skipped: Option<String>,
    /// `--stdin-filename` with `--fix`: the fixed bytes.
    fixed_bytes: Option<Vec<u8>>,
    /// `--add-noqa`: the codes added to suppression comments.
    noqa_added: usize,
}

/// The line printed for a file over `max-file-size`.
fn too_large_message(path: &std::path::Path, size: u64, limit: u64) -> String {
    format!(
        "{}: skipped: {} ({size} bytes) is over the max-file-size limit of {} (raise `max-file-size` or pass --max-file-size to check it)",
        path.display(),
        config::show_size(size),
        config::show_size(limit)
    )
}

fn check_file(path: PathBuf, cache: &SettingsCache, args: &CheckArgs, project: &Arc<Project>) -> Outcome {
    let mut o = Outcome::default();
    // Versions are detected only for files the pre-filter lets through (below).
    let settings = match cache.enabled_for_file(&path) {
        Ok(s) => s,
        Err(e) => {
            o.config_error = Some(e.to_string());
            return o;
        }
    };
    // The size is looked at before the file is read: a huge file costs nothing.
    if let Ok(m) = std::fs::metadata(&path) {
        if settings.too_large(m.len()) {
            o.skipped = Some(too_large_message(&path, m.len(), settings.max_file_size));
            return o;
        }
    }
    match std::fs::read(&path) {
        Ok(bytes) => check_bytes(path, bytes, cache, &settings, args, project, false),
        Err(e) => {
            o.errors.push(format!("{}: cannot read: {e}", path.display()));
            o
        }
    }
}

/// Checks (and with `--fix`/`--diff` fixes) the bytes of the file at `path`; `enabled` are its
/// settings before version detection. With `stdin`, a fix is returned in `fixed_bytes`
/// instead of written, and the project model sees the text as the file's (not the disk's).
fn check_bytes(
    path: PathBuf,
    bytes: Vec<u8>,
    cache: &SettingsCache,
    enabled: &config::Settings,
    args: &CheckArgs,
    project: &Arc<Project>,
    stdin: bool,
) -> Outcome {
    let mut o = Outcome::default();
    let Some(lang) = Lang::from_path(&path) else {
        check_escape_config(path, bytes, enabled, &mut o);
        return o;
    };
    let source = match Source::decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            o.errors.push(format!("{}:{}:{}: cannot decode: {}; skipped", path.display(), e.line, e.column, e.message));
            return o;
        }
    };
    // Before the project's settings: the enabled rules' triggers; a rule whose triggers widen
    // under `ATOMIC_REQUESTS` (AG208) is asked again once they are known.
    let selected = args.no_prefilter || triggers::may_fire_selected(&source.text, lang, enabled);
    if !selected && !triggers::widens(lang, enabled) {
        return o;
    }
    let settings = match cache.for_file(&path) {
        Ok(s) => s,
        // A file the enabled rules' triggers rule out reports no configuration error (as before).
        Err(_) if !selected => return o,
        Err(e) => {
            o.config_error = Some(e.to_string());
            return o;
        }
    };
    // Without `ATOMIC_REQUESTS` no trigger widens: the answer above stands (no second scan).
    if !selected && (settings.atomic_requests.is_empty() || !triggers::may_fire(&source.text, lang, &settings)) {
        return o;
    }
    if stdin {
        project.open(&path, Arc::from(source.text.as_str()));
    }
    let view = project.view_untracked(&path);
    // A Rust file no Cargo target compiles is dead code: not checked (`--show-files` says why).
    if lang == Lang::Rust && view.rs_unreached(&path).is_some() {
        return o;
    }
    let outside: Option<&dyn Outside> = if args.no_project_model { None } else { Some(&view) };
    let Some((mut index, mut analysis)) = analyze_text(&source.text, lang, &settings, !args.no_prefilter, outside) else {
        return o;
    };
    let mut text = source.text.clone();
    if (args.fix || args.diff) && analysis.findings.iter().any(|f| !f.fixes.is_empty()) {
        match fixer::fixed_text(&source.text, lang, &settings, args.unsafe_fixes, outside) {
            Err(e) => o.errors.push(format!("{}: {e}", path.display())),
            Ok(None) => {}
            Ok(Some(new)) => {
                let before = analysis.findings.len();
                let (new_index, new_analysis) =
                    analyze_text(&new, lang, &settings, !args.no_prefilter, outside).unwrap_or_else(|| (LineIndex::new(&new), Analysis::default()));
                let count = before.saturating_sub(new_analysis.findings.len()).max(1);
                let encoded = if args.diff {
                    Ok(vec![])
                } else if !source.round_trips() {
                    Err(format!(
                        "not fixed: its bytes do not come back unchanged when decoded and encoded again as {} (fix it by hand)",
                        source.codec.name()
                    ))
                } else {
                    source.encode(&new).map_err(|e| format!("not fixed: the fixed text cannot be written in the file's encoding: {e}"))
                };
                match encoded {
                    Err(e) => o.errors.push(format!("{}: {e}", path.display())),
                    Ok(_) if args.diff => {
                        o.diff = Some(fixer::unified_diff(&path, &source.text, &new));
                        o.fixed = Some(count);
                    }
                    Ok(new_bytes) => {
                        let written = if stdin {
                            o.fixed_bytes = Some(new_bytes);
                            Ok(())
                        } else {
                            fixer::write_atomic(&path, &source.bytes, &new_bytes).map_err(|e| e.to_string())
                        };
                        match written {
                            Ok(()) => {
                                o.fixed = Some(count);
                                text = new;
                                index = new_index;
                                analysis = new_analysis;
                            }
                            Err(e) => o.errors.push(format!("{}: {e}", path.display())),
                        }
                    }
                }
            }
        }
    }
    for e in &analysis.errors {
        o.errors.push(format!("{}: internal error: {e}", path.display()));
    }
    if args.add_noqa && !analysis.findings.is_empty() {
        add_noqa(&path, &source, lang, &analysis.findings, &mut o);
        return o;
    }
    if !analysis.findings.is_empty() {
        let mut findings = analysis.findings;
        // A related location with no path is in this file.
        for l in findings.iter_mut().flat_map(|f| f.related.iter_mut()).filter(|l| l.path.as_os_str().is_empty()) {
            l.path = path.clone();
        }
        o.report = Some(FileReport { path, text, index, findings });
    }
    o
}

/// AG307 on a configuration file of no checked language (`.env`, Dockerfile, compose, pytest
/// config), reached only when the rule is enabled for it ([`escape_config_files`]).
fn check_escape_config(path: PathBuf, bytes: Vec<u8>, enabled: &config::Settings, o: &mut Outcome) {
    use crate::rules::ag307_async_unsafe_escape as ag307;
    if ag307::ConfigKind::of(&path).is_none() || !enabled.is_enabled(config::ESCAPE_RULE) {
        return;
    }
    let Ok(text) = String::from_utf8(bytes) else { return };
    let findings = ag307::config_findings(&path, &text, enabled);
    if !findings.is_empty() {
        let index = LineIndex::new(&text);
        o.report = Some(FileReport { path, text, index, findings });
    }
}

/// The walk's [`workspace::Extra`]: AG307's configuration files, in folders where it is enabled.
fn escape_config_files(cache: &Arc<SettingsCache>) -> workspace::Extra {
    let cache = cache.clone();
    Arc::new(move |p: &std::path::Path| {
        crate::rules::ag307_async_unsafe_escape::ConfigKind::of(p).is_some()
            && cache.enabled_for_file(p).is_ok_and(|s| s.is_enabled(config::ESCAPE_RULE))
    })
}

/// `--add-noqa` on one file: the suppression comments written (atomically, in the file's
/// encoding, line endings and BOM kept as the edits only insert before a line's end).
fn add_noqa(path: &std::path::Path, source: &Source, lang: Lang, findings: &[crate::rules::Finding], o: &mut Outcome) {
    let text = &source.text;
    let tree = syntax::parse(lang, text, None);
    let index = LineIndex::new(text);
    let (edits, added) = crate::analysis::suppression::add_noqa_edits(text, &index, &tree, lang, findings);
    if edits.is_empty() {
        return;
    }
    let Some(new) = crate::fix::apply(text, &edits) else { return };
    if !source.round_trips() {
        o.errors.push(format!("{}: not changed: its bytes do not round-trip in {}", path.display(), source.codec.name()));
        return;
    }
    let written = source
        .encode(&new)
        .map_err(|e| e.to_string())
        .and_then(|bytes| fixer::write_atomic(path, &source.bytes, &bytes).map_err(|e| e.to_string()));
    match written {
        Ok(()) => o.noqa_added = added,
        Err(e) => o.errors.push(format!("{}: {e}", path.display())),
    }
}

/// Renders the findings (or, with `--statistics`, their counts) in `format`. `clean`: the run
/// had no errors.
fn render_reports(out: &mut impl Write, args: &CheckArgs, reports: &[FileReport], clean: bool) -> std::io::Result<()> {
    if args.statistics {
        return match args.output_format {
            OutputFormat::Json => render::statistics_json(out, reports),
            _ => render::statistics_text(out, reports),
        };
    }
    match args.output_format {
        OutputFormat::Text => render::text(out, reports, render::use_color(), clean),
        OutputFormat::Concise => render::concise(out, reports, render::use_color(), clean),
        OutputFormat::Json => render::json(out, reports),
        OutputFormat::Sarif => render::sarif(out, reports, clean),
        OutputFormat::Github => render::github(out, reports),
        OutputFormat::Gitlab => render::gitlab(out, reports),
        OutputFormat::Junit => render::junit(out, reports),
        OutputFormat::Rdjson => render::rdjson(out, reports),
    }
}

/// The warning for a run that checked nothing.
const NOTHING_CHECKED: &str =
    "warning: No Python (.py, .pyi) or Rust (.rs) files found under the given path(s): nothing was checked";

/// `--stdin-filename PATH`: checks stdin as the file at PATH.
fn run_stdin(args: &CheckArgs, cache: &SettingsCache, path: PathBuf) -> i32 {
    use std::io::Read;
    if args.paths.iter().any(|p| p.as_os_str() != "-") {
        eprintln!("error: --stdin-filename checks stdin: give no paths (or `-`)");
        return 2;
    }
    let mut bytes = vec![];
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("error: cannot read stdin: {e}");
        return 2;
    }
    let mut o = Outcome::default();
    let mut checked = false;
    let checkable = Lang::from_path(&path).is_some() || crate::rules::ag307_async_unsafe_escape::ConfigKind::of(&path).is_some();
    if checkable && !cache.is_excluded(&path) {
        match cache.enabled_for_file(&path) {
            Err(e) => o.config_error = Some(e.to_string()),
            Ok(settings) if settings.too_large(bytes.len() as u64) => {
                o.skipped = Some(too_large_message(&path, bytes.len() as u64, settings.max_file_size));
            }
            Ok(settings) => {
                checked = true;
                let project = Project::new(workspace::project_roots(std::slice::from_ref(&path)));
                o = check_bytes(path.clone(), bytes.clone(), cache, &settings, args, &project, true);
            }
        }
    }
    if let Some(e) = &o.config_error {
        eprintln!("error: {e}");
    }
    if let Some(s) = &o.skipped {
        eprintln!("warning: {s}");
    } else if !checked && o.config_error.is_none() {
        eprintln!("warning: {} is excluded or not a Python or Rust file: nothing was checked", path.display());
    }
    let clean = o.errors.is_empty() && o.config_error.is_none();
    let reports: Vec<FileReport> = o.report.into_iter().collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let res = if args.fix {
        // The text (fixed, or as it came) on stdout; what is left on stderr.
        let fixed = o.fixed_bytes.as_deref().unwrap_or(&bytes);
        let r = out.write_all(fixed).and_then(|_| out.flush());
        if let Some(n) = o.fixed {
            eprintln!("Fixed {n} problem{}.", if n == 1 { "" } else { "s" });
        }
        r.and_then(|_| render_reports(&mut std::io::stderr().lock(), args, &reports, clean))
    } else if args.diff {
        match &o.diff {
            Some(d) => out.write_all(d.as_bytes()),
            None => {
                eprintln!("No fixes available.");
                Ok(())
            }
        }
    } else {
        render_reports(&mut out, args, &reports, clean)
    };
    if output_failed(&mut out, res) {
        return 2;
    }
    for e in &o.errors {
        eprintln!("error: {e}");
    }
    if !clean {
        2
    } else if args.exit_zero {
        0
    } else if args.diff {
        i32::from(o.diff.is_some())
    } else {
        i32::from(!reports.is_empty())
    }
}

/// `--show-settings`: what applies to the first path (a file, or the files of a folder).
fn show_settings(args: &CheckArgs, cache: &SettingsCache) -> i32 {
    use std::fmt::Write as _;
    let target = args.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let folder = target.is_dir();
    // The settings of a folder's files are those of any file directly in it.
    let probe = if folder { target.join("__init__.py") } else { target.clone() };
    let ex = match cache.explain(&probe) {
        Ok(ex) => ex,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let over = cache.overrides();
    let s = &ex.settings;
    let mut out = String::new();
    let what = if folder { "files in" } else { "file" };
    let _ = writeln!(out, "Settings for {what} {}", target.display());
    let config_line = match (&ex.config, args.isolated, args.config.is_some()) {
        (_, true, _) => "none (--isolated)".to_string(),
        (Some((p, _)), _, true) => format!("{} (--config)", p.display()),
        (Some((p, _)), _, _) => p.display().to_string(),
        (None, _, _) => "none found (defaults)".to_string(),
    };
    let _ = writeln!(out, "config file:        {config_line}");
    let fc = ex.config.as_ref().map(|(_, c)| c);
    let origin = |flag: bool, key: bool| if flag { "command line" } else if key { "config file" } else { "default" };
    let _ = writeln!(out, "excluded:           {}", if ex.excluded { "yes (`exclude`): not checked" } else { "no" });
    let enabled: Vec<&str> = RULES.iter().map(|r| r.meta().code).filter(|c| s.is_enabled(c)).collect();
    let disabled: Vec<&str> = RULES.iter().map(|r| r.meta().code).filter(|c| !s.is_enabled(c)).collect();
    let sel_from = origin(over.select.is_some(), fc.is_some_and(|c| c.select.is_some() || c.extend_select.is_some()));
    let ign_from = origin(over.ignore.is_some(), fc.is_some_and(|c| c.ignore.is_some() || c.per_file_ignores.is_some()));
    let list = |v: &[&str]| if v.is_empty() { "(none)".to_string() } else { v.join(", ") };
    let _ = writeln!(out, "enabled rules:      {} (select: {sel_from})", list(&enabled));
    let _ = writeln!(out, "disabled rules:     {} (ignore: {ign_from})", list(&disabled));
    let _ = writeln!(out, "severity:");
    let name_width = RULES.iter().map(|r| r.meta().name.len()).max().unwrap_or(0);
    for r in RULES {
        let m = r.meta();
        if !s.is_enabled(m.code) {
            continue;
        }
        let sev = s.effective_severity(m.code, m.severity);
        let why = if sev != m.severity {
            if s.severity.contains_key(m.code) {
                format!(" (rule default: {}; from `severity`)", m.severity.as_str())
            } else {
                format!(" (rule default: {}; capped by `allow-async-unsafe`)", m.severity.as_str())
            }
        } else {
            String::new()
        };
        let _ = writeln!(out, "  {:<6} {:<name_width$} {}{why}", m.code, m.name, sev.as_str());
    }
    let config_path = ex.config.as_ref().map(|(p, _)| p.display().to_string()).unwrap_or_default();
    let django_from = if over.django_version.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        "--django-version".to_string()
    } else if fc.is_some_and(|c| c.django_version.is_some()) {
        format!("`django-version` in {config_path}")
    } else if let Some((_, file)) = &ex.django_detected {
        format!("detected from {}", file.display())
    } else {
        "default: the newest Django awaitguard knows".to_string()
    };
    let _ = writeln!(out, "django version:     {} ({django_from})", s.django_version);
    let celery = match (&s.celery_version, fc.and_then(|c| c.celery_version.as_ref()), &ex.celery_detected) {
        (Some(v), Some(_), _) => format!("{v} (`celery-version` in {config_path})"),
        (Some(v), None, Some((_, file))) => format!("{v} (detected from {})", file.display()),
        (Some(v), None, None) => v.to_string(),
        (None, _, _) => "unknown (not configured, not detected): no Celery-version-gated fix".to_string(),
    };
    let _ = writeln!(out, "celery version:     {celery}");
    let _ = writeln!(out, "allow-async-unsafe: {}", if s.allow_async_unsafe { "yes (this file matches `allow-async-unsafe`)" } else { "no" });
    let size = if s.max_file_size == 0 { "no limit".to_string() } else { format!("{} ({} bytes)", config::show_size(s.max_file_size), s.max_file_size) };
    let size_from = origin(over.max_file_size.is_some(), fc.is_some_and(|c| c.max_file_size.is_some()));
    let _ = writeln!(out, "max-file-size:      {size} ({size_from})");
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: writing output: {e}");
            2
        }
        _ => 0,
    }
}

/// `--show-files`: the files `check` would check, in its order; files over `max-file-size`
/// are left out (and named on stderr, as `check` does), and so are Rust files no Cargo
/// target compiles (named on stderr with the reason; `check` skips them silently).
fn show_files(paths: &[PathBuf], cache: &SettingsCache, exclude: workspace::Exclude) -> i32 {
    let (files, walk_errors) = workspace::discover_filtered(paths, Some(exclude));
    let project = Project::new(workspace::project_roots(paths));
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for e in &walk_errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
        failed = true;
    }
    for f in &files {
        match cache.enabled_for_file(f) {
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
            Ok(s) => {
                if let Ok(m) = std::fs::metadata(f) {
                    if s.too_large(m.len()) {
                        eprintln!("warning: {}", too_large_message(f, m.len(), s.max_file_size));
                        continue;
                    }
                }
            }
        }
        if Lang::from_path(f) == Some(Lang::Rust) {
            if let Some(why) = project.view_untracked(f).rs_unreached(f) {
                eprintln!("warning: {}: {why}", f.display());
                continue;
            }
        }
        if let Err(e) = writeln!(stdout, "{}", f.display()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
            eprintln!("error: writing output: {e}");
            return 2;
        }
    }
    if files.is_empty() {
        eprintln!("{NOTHING_CHECKED}");
    }
    i32::from(failed) * 2
}

pub fn run(args: CheckArgs) -> i32 {
    run_with(&args, None)
}

/// One `check` run; `project`: the project model to reuse (`--watch` keeps one, so the
/// summaries of files that did not change are not computed again).
pub fn run_with(args: &CheckArgs, project: Option<&Arc<Project>>) -> i32 {
    // Compiling the combined Python query takes about 20 ms of one core: done meanwhile, off
    // the path of the walk and the first parses (which would otherwise wait for it). The Rust
    // one (about 7 ms) is compiled when a Rust file first needs it: most trees hold none.
    std::thread::spawn(|| syntax::combined(Lang::Python));
    let overrides = Overrides {
        select: (!args.select.is_empty()).then(|| split_list(&args.select)),
        ignore: (!args.ignore.is_empty()).then(|| split_list(&args.ignore)),
        severity: None,
        django_version: args.django_version.clone(),
        max_file_size: args.max_file_size.clone(),
    };
    let explicit = match &args.config {
        Some(p) => match config::load(p) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        None => None,
    };
    // Validate overrides once up front, so a bad --select is a usage error even with no files.
    if let Err(e) = crate::config::Settings::resolve(None, &overrides, None) {
        eprintln!("error: {e}");
        return 2;
    }
    // An explicit config's own errors (bad globs, unknown rules) are usage errors too.
    if let Some((p, c)) = &explicit {
        if let Err(e) = config::Settings::resolve(Some((p, c)), &overrides, None)
            .and_then(|_| config::paths::PathRules::new(p, c).map(|_| ()))
        {
            eprintln!("error: {e}");
            return 2;
        }
    }
    let cache = Arc::new(SettingsCache::new(overrides, explicit, args.isolated));
    if let Some(path) = args.stdin_filename.clone() {
        return run_stdin(args, &cache, path);
    }
    if args.show_settings {
        return show_settings(args, &cache);
    }
    let exclude: workspace::Exclude = {
        let cache = cache.clone();
        Arc::new(move |p: &std::path::Path| cache.is_excluded(p))
    };
    let paths = paths_or_cwd(&args.paths);
    if args.show_files {
        return show_files(&paths, &cache, exclude);
    }
    let reused = project.is_some();
    let project = project.cloned().unwrap_or_else(|| {
        // A one-off run: the helper modules' parses are kept for the whole scan.
        let p = Project::new(workspace::project_roots(&paths));
        p.keep_parses(16 * 1024 * 1024);
        p
    });
    // Files are checked in parallel; outcomes come back in discovery order.
    let (outcomes, walk_errors, bar): (Vec<Outcome>, _, _) = if std::io::stderr().is_terminal() {
        // The progress bar needs the number of files first.
        let (files, walk_errors) = workspace::visit_parallel_extra(&paths, Some(exclude), Some(escape_config_files(&cache)), |_| ());
        let files: Vec<PathBuf> = files.into_iter().map(|(p, ())| p).collect();
        let bar = progress(files.len());
        let outcomes = files
            .into_par_iter()
            .map(|path| {
                let o = check_file(path, &cache, args, &project);
                bar.inc(1);
                o
            })
            .collect();
        (outcomes, walk_errors, bar)
    } else {
        // Each file is checked by the walker thread that finds it.
        let (found, walk_errors) = workspace::visit_parallel_extra(&paths, Some(exclude), Some(escape_config_files(&cache)), |p| {
            check_file(p.to_path_buf(), &cache, args, &project)
        });
        (found.into_iter().map(|(_, o)| o).collect(), walk_errors, indicatif::ProgressBar::hidden())
    };
    if !reused {
        // A one-off run ends with the process: its model (summaries, kept parses, memos) is
        // not freed piece by piece, which took a few ms of one core at the end of a scan.
        std::mem::forget(project);
    }
    let mut errors: Vec<String> = walk_errors.iter().map(|e| format!("{}: {}", e.path.display(), e.message)).collect();
    let files_found = outcomes.len();
    let mut reports = vec![];
    let mut config_error = false;
    let mut diffs = vec![];
    let (mut fixed_findings, mut fixed_files) = (0usize, 0usize);
    let mut noqa_added = 0usize;
    for o in outcomes {
        noqa_added += o.noqa_added;
        if let Some(e) = o.config_error {
            if !config_error {
                eprintln!("error: {e}");
            }
            config_error = true;
        }
        errors.extend(o.errors);
        if let Some(s) = o.skipped {
            eprintln!("warning: {s}");
        }
        diffs.extend(o.diff);
        if let Some(n) = o.fixed {
            fixed_findings += n;
            fixed_files += 1;
        }
        reports.extend(o.report);
    }
    bar.finish_and_clear();
    if files_found == 0 {
        eprintln!("{NOTHING_CHECKED}");
    }

    if args.add_noqa {
        eprintln!("Added {noqa_added} noqa directive{}.", if noqa_added == 1 { "" } else { "s" });
        for e in &errors {
            eprintln!("error: {e}");
        }
        return if config_error || !errors.is_empty() { 2 } else { 0 };
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let clean = errors.is_empty() && !config_error;
    let human = matches!(args.output_format, OutputFormat::Text | OutputFormat::Concise);
    let res = if args.diff {
        let mut r = Ok(());
        for d in &diffs {
            r = r.and_then(|_| out.write_all(d.as_bytes()));
        }
        let noun = if fixed_findings == 1 { "problem" } else { "problems" };
        if fixed_files > 0 {
            eprintln!("Would fix {fixed_findings} {noun} in {fixed_files} file{}.", if fixed_files == 1 { "" } else { "s" });
        } else {
            eprintln!("No fixes available.");
        }
        r
    } else {
        if args.fix && fixed_files > 0 {
            let msg = format!(
                "Fixed {fixed_findings} problem{} in {fixed_files} file{}.",
                if fixed_findings == 1 { "" } else { "s" },
                if fixed_files == 1 { "" } else { "s" }
            );
            if human {
                let _ = writeln!(out, "{msg}");
            } else {
                eprintln!("{msg}");
            }
        }
        render_reports(&mut out, args, &reports, clean)
    };
    if output_failed(&mut out, res) {
        return 2;
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    if config_error || !errors.is_empty() {
        2
    } else if args.exit_zero {
        0
    } else if args.diff {
        i32::from(fixed_files > 0)
    } else {
        i32::from(reports.iter().any(|r| !r.findings.is_empty()))
    }
}

/// Flushes `out` and reports a failed write of the report (a closed pipe is not a failure:
/// `awaitguard check | head` is fine). True: the caller exits 2.
fn output_failed(out: &mut impl Write, res: std::io::Result<()>) -> bool {
    let _ = out.flush();
    match res {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: writing output: {e}");
            true
        }
        _ => false,
    }
}
