//! Fast fuzz target: one small text → parse + project model (the file alone in a project) +
//! every rule, as Python and as Rust. No fix loop, no re-parse of fixes: run with a small
//! `-max_len` and `fuzz/dict/awaitguard.dict` (`fuzz/run.sh core 60`). Invariants live in
//! `tests/common/model_invariants.rs`, shared with the proptest variant in the normal suite.
#![no_main]

#[path = "../../tests/common/model_invariants.rs"]
mod model_invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    model_invariants::check_core(data);
});
