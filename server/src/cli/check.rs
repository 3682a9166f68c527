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
//! - No tree outlives its file's check; only files with findings keep their text.

use super::fix::{self as fixer, Source};
use super::render::{self, FileReport};
use super::{paths_or_cwd, split_list};
use crate::config::{self, Overrides};
use crate::analysis::{analyze_all, analyze_sparse, analyze_with, triggers, Analysis};
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
}

#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Files or folders to check (default: `.`). Folders are walked honouring .gitignore.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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
    /// Parse every file, skipping the trigger pre-filter (for benchmarks and the test that
    /// the pre-filter changes no finding).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
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
        analyze_all(text, lang, &tree, &index, settings)
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
    let source = match std::fs::read(&path) {
        Ok(b) => match Source::decode(b) {
            Ok(s) => s,
            Err(at) => {
                o.errors.push(format!("{}: not valid UTF-8 (byte {at}), skipped", path.display()));
                return o;
            }
        },
        Err(e) => {
            o.errors.push(format!("{}: cannot read: {e}", path.display()));
            return o;
        }
    };
    let lang = Lang::from_path(&path).expect("discovered files have a language");
    if !args.no_prefilter && !triggers::may_fire(&source.text, lang, &settings) {
        return o;
    }
    let settings = match cache.for_file(&path) {
        Ok(s) => s,
        Err(e) => {
            o.config_error = Some(e.to_string());
            return o;
        }
    };
    let view = project.view_untracked(&path);
    let Some((mut index, mut analysis)) = analyze_text(&source.text, lang, &settings, !args.no_prefilter, Some(&view)) else {
        return o;
    };
    let mut text = source.text.clone();
    if (args.fix || args.diff) && analysis.findings.iter().any(|f| !f.fixes.is_empty()) {
        match fixer::fixed_text(&source.text, lang, &settings, args.unsafe_fixes, Some(&view)) {
            Err(e) => o.errors.push(format!("{}: {e}", path.display())),
            Ok(None) => {}
            Ok(Some(new)) => {
                let before = analysis.findings.len();
                let (new_index, new_analysis) =
                    analyze_text(&new, lang, &settings, !args.no_prefilter, Some(&view)).unwrap_or_else(|| (LineIndex::new(&new), Analysis::default()));
                let count = before.saturating_sub(new_analysis.findings.len()).max(1);
                if args.diff {
                    o.diff = Some(fixer::unified_diff(&path, &source.text, &new));
                    o.fixed = Some(count);
                } else {
                    match fixer::write_atomic(&path, &source.bytes, &source.encode(&new)) {
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
    for e in &analysis.errors {
        o.errors.push(format!("{}: internal error: {e}", path.display()));
    }
    if !analysis.findings.is_empty() {
        o.report = Some(FileReport { path, text, index, findings: analysis.findings });
    }
    o
}

pub fn run(args: CheckArgs) -> i32 {
    // Compiling the combined Python query takes about 20 ms of one core: done meanwhile, off
    // the path of the walk and the first parses (which would otherwise wait for it). The Rust
    // one (about 7 ms) is compiled when a Rust file first needs it: most trees hold none.
    std::thread::spawn(|| syntax::combined(Lang::Python));
    let overrides = Overrides {
        select: (!args.select.is_empty()).then(|| split_list(&args.select)),
        ignore: (!args.ignore.is_empty()).then(|| split_list(&args.ignore)),
        severity: None,
        django_version: args.django_version.clone(),
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
    let exclude: workspace::Exclude = {
        let cache = cache.clone();
        Arc::new(move |p: &std::path::Path| cache.is_excluded(p))
    };
    let paths = paths_or_cwd(&args.paths);
    let project = Project::new(workspace::project_roots(&paths));
    // Files are checked in parallel; outcomes come back in discovery order.
    let (outcomes, walk_errors, bar): (Vec<Outcome>, _, _) = if std::io::stderr().is_terminal() {
        // The progress bar needs the number of files first.
        let (files, walk_errors) = workspace::discover_filtered(&paths, Some(exclude));
        let bar = progress(files.len());
        let outcomes = files
            .into_par_iter()
            .map(|path| {
                let o = check_file(path, &cache, &args, &project);
                bar.inc(1);
                o
            })
            .collect();
        (outcomes, walk_errors, bar)
    } else {
        // Each file is checked by the walker thread that finds it.
        let (found, walk_errors) = workspace::visit_parallel(&paths, Some(exclude), |p| check_file(p.to_path_buf(), &cache, &args, &project));
        (found.into_iter().map(|(_, o)| o).collect(), walk_errors, indicatif::ProgressBar::hidden())
    };
    let mut errors: Vec<String> = walk_errors.iter().map(|e| format!("{}: {}", e.path.display(), e.message)).collect();
    let mut reports = vec![];
    let mut config_error = false;
    let mut diffs = vec![];
    let (mut fixed_findings, mut fixed_files) = (0usize, 0usize);
    for o in outcomes {
        if let Some(e) = o.config_error {
            if !config_error {
                eprintln!("error: {e}");
            }
            config_error = true;
        }
        errors.extend(o.errors);
        diffs.extend(o.diff);
        if let Some(n) = o.fixed {
            fixed_findings += n;
            fixed_files += 1;
        }
        reports.extend(o.report);
    }
    bar.finish_and_clear();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let clean = errors.is_empty() && !config_error;
    let human = matches!(args.format, OutputFormat::Text | OutputFormat::Concise);
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
        if args.statistics {
            match args.format {
                OutputFormat::Json => render::statistics_json(&mut out, &reports),
                _ => render::statistics_text(&mut out, &reports),
            }
        } else {
            match args.format {
                OutputFormat::Text => render::text(&mut out, &reports, render::use_color(), clean),
                OutputFormat::Concise => render::concise(&mut out, &reports, render::use_color(), clean),
                OutputFormat::Json => render::json(&mut out, &reports),
                OutputFormat::Sarif => render::sarif(&mut out, &reports, clean),
                OutputFormat::Github => render::github(&mut out, &reports),
            }
        }
    };
    let _ = out.flush();
    if let Err(e) = res {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing output: {e}");
            return 2;
        }
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
