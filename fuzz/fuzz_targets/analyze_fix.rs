//! Fuzz target 1: any bytes → parse + analysis (Python and Rust) → every fix re-parses, fix-all
//! is idempotent. The invariants live in `tests/common/invariants.rs`, shared with the
//! proptest variant in the normal suite.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    invariants::on_server_stack(|| invariants::check_text(data));
});
