//! `awaitguard check [PATHS]`.

use super::{paths_or_cwd, render, split_list, Format};
use crate::config::{self, Overrides};
use crate::rules::{analyze, Finding};
use crate::syntax::{self, Lang};
use crate::text::LineIndex;
use crate::workspace::{self, SettingsCache};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// Files or folders to check (default: `.`). Folders are walked honouring .gitignore.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
}

/// One checked file.
pub struct FileReport {
    pub path: PathBuf,
    pub text: String,
    pub index: LineIndex,
    pub findings: Vec<Finding>,
}

pub fn run(args: CheckArgs) -> i32 {
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
    let cache = SettingsCache::new(overrides, explicit, args.isolated);
    let (files, walk_errors) = workspace::discover(&paths_or_cwd(&args.paths));
    let mut io_errors: Vec<String> = walk_errors.iter().map(|e| format!("{}: {}", e.path.display(), e.message)).collect();
    let mut reports = vec![];
    let mut config_error = false;
    for path in files {
        let settings = match cache.for_file(&path) {
            Ok(s) => s,
            Err(e) => {
                if !config_error {
                    eprintln!("error: {e}");
                }
                config_error = true;
                continue;
            }
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                io_errors.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                io_errors.push(format!("{}: not valid UTF-8 (byte {}), skipped", path.display(), e.utf8_error().valid_up_to()));
                continue;
            }
        };
        let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
        let lang = Lang::from_path(&path).expect("discovered files have a language");
        let tree = syntax::parse(lang, &text, None);
        let index = LineIndex::new(&text);
        let analysis = analyze(&text, lang, &tree, &index, &settings);
        for e in analysis.errors {
            io_errors.push(format!("{}: internal error: {e}", path.display()));
        }
        reports.push(FileReport { path, text, index, findings: analysis.findings });
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let res = match args.format {
        Format::Text => render::text(&mut out, &reports, render::use_color()),
        Format::Json => render::json(&mut out, &reports),
    };
    let _ = out.flush();
    if let Err(e) = res {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing output: {e}");
            return 2;
        }
    }
    for e in &io_errors {
        eprintln!("error: {e}");
    }
    if config_error || !io_errors.is_empty() {
        2
    } else if reports.iter().any(|r| !r.findings.is_empty()) {
        1
    } else {
        0
    }
}
