//! The floor under `check`'s cost on a tree of Python files, single-threaded: the time to
//! read the files and run the trigger pre-filter, then to parse (sparse, as `check` does) the
//! files it lets through, then to run the combined query over those trees — no rule logic
//! and no project model. Medians of `RUNS` rounds. A tool for telling what the scan can cost
//! at best with tree-sitter and the rules' triggers as they are.
//!
//! `cargo run --release --example scan_floor -- DIR [RUNS]`

use awaitguard::analysis::{sparse, triggers};
use awaitguard::config::{Overrides, Settings};
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use std::path::PathBuf;
use std::time::Instant;
use streaming_iterator::StreamingIterator;

fn python_files(dir: PathBuf) -> Vec<PathBuf> {
    let (mut out, mut stack) = (vec![], vec![dir]);
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).into_iter().flatten().flatten().map(|e| e.path()));
        } else if p.extension().is_some_and(|e| e == "py") {
            out.push(p);
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: scan_floor DIR [RUNS]"));
    let runs: usize = args.next().map_or(5, |r| r.parse().expect("RUNS: a number"));
    let settings = Settings::resolve(None, &Overrides::default(), None).expect("default settings");
    let files = python_files(dir);
    let combined = syntax::combined(Lang::Python);
    let (mut read, mut parse, mut query) = (vec![], vec![], vec![]);
    let (mut through, mut kept_bytes, mut captures) = (0, 0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let texts: Vec<String> = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|t| triggers::may_fire(t, Lang::Python, &settings))
            .collect();
        read.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let mut trees = vec![];
        kept_bytes = 0;
        for text in &texts {
            let index = LineIndex::new(text);
            let (hot, cross) = triggers::hot_positions(text, Lang::Python, &settings);
            let tree = match sparse::mask(text, &hot, &sparse::event_positions(text), &cross) {
                Some(m) => {
                    kept_bytes += text.len() - m.ranges.iter().map(|r| r.len()).sum::<usize>();
                    syntax::parse_ranges(Lang::Python, &m.text, &m.included(&index))
                }
                None => {
                    kept_bytes += text.len();
                    Some(syntax::parse(Lang::Python, text, None))
                }
            };
            trees.extend(tree.map(|t| (t, text)));
        }
        parse.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        captures = 0;
        for (tree, text) in &trees {
            let mut cursor = tree_sitter::QueryCursor::new();
            let mut matches = cursor.matches(&combined.query, tree.root_node(), text.as_bytes());
            while let Some(m) = matches.next() {
                captures += m.captures().len();
            }
        }
        query.push(t.elapsed().as_secs_f64() * 1000.0);
        through = texts.len();
    }
    println!(
        "{} files; {through} let through, {kept_bytes} bytes kept by the sparse parse; {captures} captures",
        files.len()
    );
    println!(
        "single thread, medians of {runs}: read + pre-filter {:.0} ms, sparse parse {:.0} ms, combined query {:.0} ms",
        median(read),
        median(parse),
        median(query)
    );
}
