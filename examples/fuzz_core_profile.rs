//! One fuzz execution of the `core` target, natively and in a loop, to profile it (`perf`)
//! without libFuzzer or a sanitizer: runs `check_core` (the function the target calls) over
//! every file of a corpus, each cut to the target's `-max_len` (256 bytes, as `fuzz/run.sh`
//! does), ROUNDS times, and prints executions per second.
//!
//! `cargo run --release --example fuzz_core_profile -- fuzz/corpus/core [ROUNDS]`

#[path = "../tests/common/model_invariants.rs"]
mod model_invariants;

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: fuzz_core_profile CORPUS_DIR [ROUNDS]");
    let rounds: usize = args.next().map_or(3, |n| n.parse().expect("ROUNDS is a number"));
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("a corpus directory")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .map(|mut d| {
            d.truncate(256);
            d
        })
        .collect();
    inputs.sort();
    let t0 = Instant::now();
    for _ in 0..rounds {
        for d in &inputs {
            model_invariants::check_core(d);
        }
    }
    let n = rounds * inputs.len();
    let secs = t0.elapsed().as_secs_f64();
    println!("{n} executions in {secs:.2} s: {:.0} exec/s", n as f64 / secs);
}
