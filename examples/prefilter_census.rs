//! What the trigger pre-filter and the sparse parse leave to parse on a tree of Python files,
//! per rule: how many files each rule alone lets through, their bytes, and the bytes the
//! sparse parse keeps of them; first for the default rule set. Default settings (no settings
//! module read: rules the settings rule out, such as AG206, count as off). A tool for finding
//! which rule's triggers make `check` parse a file.
//!
//! `cargo run --release --example prefilter_census -- DIR`

use awaitguard::analysis::{sparse, triggers};
use awaitguard::config::{Overrides, Settings};
use awaitguard::syntax::Lang;
use std::path::PathBuf;

fn python_texts(dir: PathBuf) -> Vec<String> {
    let (mut out, mut stack) = (vec![], vec![dir]);
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).into_iter().flatten().flatten().map(|e| e.path()));
        } else if p.extension().is_some_and(|e| e == "py") {
            out.extend(std::fs::read_to_string(&p));
        }
    }
    out
}

/// (files let through, their bytes, bytes the sparse parse keeps).
fn census(texts: &[String], settings: &Settings) -> (usize, usize, usize) {
    let (mut files, mut bytes, mut kept) = (0, 0, 0);
    for text in texts.iter().filter(|t| triggers::may_fire(t, Lang::Python, settings)) {
        files += 1;
        bytes += text.len();
        let (hot, cross) = triggers::hot_positions(text, Lang::Python, settings);
        let blanked = sparse::mask(text, &hot, &sparse::event_positions(text), &cross)
            .map_or(0, |m| m.ranges.iter().map(|r| r.len()).sum::<usize>());
        kept += text.len() - blanked;
    }
    (files, bytes, kept)
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: prefilter_census DIR");
    let texts = python_texts(PathBuf::from(dir));
    let total: usize = texts.iter().map(String::len).sum();
    println!("{} Python files, {total} bytes", texts.len());
    let show = |label: &str, (f, b, k): (usize, usize, usize)| println!("{label:<8} {f:>6} files {b:>10} bytes {k:>10} kept");
    let defaults = Settings::resolve(None, &Overrides::default(), None).expect("default settings");
    show("default", census(&texts, &defaults));
    for rule in awaitguard::rules::RULES.iter().map(|r| r.meta()).filter(|m| m.lang == Lang::Python) {
        let over = Overrides { select: Some(vec![rule.code.to_string()]), ..Default::default() };
        let settings = Settings::resolve(None, &over, None).expect("one rule");
        let c = census(&texts, &settings);
        if c.0 > 0 {
            show(rule.code, c);
        }
    }
}
