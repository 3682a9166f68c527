//! Fuzz target 2: bytes → an LSP-like edit script (positions in utf-8/16/32, out of range,
//! reversed, batched, whole-text replacements) applied to `text::Document` → the final text,
//! tree and findings equal a fresh parse and analysis, and after every edit the server's
//! focused re-analysis (`analysis::incremental`) equals a fresh full analysis. Decoding and
//! invariants live in
//! `tests/common/invariants.rs`, shared with the proptest variant in the normal suite.
#![no_main]

#[path = "../../tests/common/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let script = invariants::decode_script(data);
    invariants::on_server_stack(|| invariants::check_script(&script));
});
