//! Dogfood: awaitguard's own sources (a tokio-based Rust server) must pass its own check.

#[test]
fn the_server_source_passes_its_own_check() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_awaitguard"))
        .args(["check", "--format", "concise", "server", "tests/common"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
