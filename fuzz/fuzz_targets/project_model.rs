//! Project-model fuzz target: three small files with imports between them (Python or Rust),
//! random edits to any of them with the model asked questions between edits → the
//! incremental model equals a fresh one on the final texts (summaries and findings). Layout
//! and invariants: `tests/common/model_invariants.rs` (`decode_model`, `check_model`),
//! shared with the proptest variant in the normal suite.
#![no_main]

#[path = "../../tests/common/model_invariants.rs"]
mod model_invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let input = model_invariants::decode_model(data);
    model_invariants::check_model(&input);
});
