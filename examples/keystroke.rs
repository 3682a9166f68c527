//! Per-keystroke cost without the LSP transport: replays the edits of `bench/lsp_latency.py`
//! (a space typed at the end of the middle code line of FILE, then deleted, alternately)
//! through `Document::apply_changes` and `analyze_incremental`, and prints the median and
//! 99th percentile of each stage in µs, and how each analysis was obtained.
//!
//! `cargo run --release --example keystroke -- FILE [EDITS]`

use awaitguard::config::Settings;
use awaitguard::analysis::incremental::analyze_incremental;
use awaitguard::syntax::Lang;
use awaitguard::text::{Change, Document, Encoding, Pos};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: keystroke FILE [EDITS]");
    let edits: usize = args.next().map_or(1000, |n| n.parse().expect("EDITS is a number"));
    let text = std::fs::read_to_string(&file).expect("readable file");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut line = lines.len() / 2;
    while lines[line].trim().is_empty() {
        line += 1;
    }
    let col = lines[line].encode_utf16().count() as u32;
    let settings = Settings::default();
    let mut doc = Document::new(text.clone(), 1, Lang::Python);
    let (_, mut snap, _) = analyze_incremental(None, doc.text.clone(), doc.lang, &doc.tree, &doc.index, &settings, None);
    let (mut parse, mut analyse, mut paths) = (vec![], vec![], std::collections::BTreeMap::new());
    for i in 0..edits {
        let at = Pos { line: line as u32, col };
        let change = if i % 2 == 0 {
            Change { range: Some((at, at)), text: " ".into() }
        } else {
            Change { range: Some((at, Pos { line: line as u32, col: col + 1 })), text: String::new() }
        };
        let t0 = Instant::now();
        doc.apply_changes(&[change], Encoding::Utf16, i as i32 + 2);
        let t1 = Instant::now();
        let (_, next, path) = analyze_incremental(Some(&snap), doc.text.clone(), doc.lang, &doc.tree, &doc.index, &settings, None);
        let t2 = Instant::now();
        snap = next;
        parse.push((t1 - t0).as_secs_f64() * 1e6);
        analyse.push((t2 - t1).as_secs_f64() * 1e6);
        *paths.entry(format!("{path:?}")).or_insert(0) += 1;
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
    };
    let (p, a) = (stats(&mut parse), stats(&mut analyse));
    println!("edit+reparse µs: p50 {:.0} p99 {:.0}", p.0, p.1);
    println!("analyze_incremental µs: p50 {:.0} p99 {:.0}", a.0, a.1);
    println!("paths: {paths:?}");
}
