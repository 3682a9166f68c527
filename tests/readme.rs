//! The README is the front door: it must list every rule and the two set-up commands.

#[test]
fn readme_lists_every_rule_and_the_setup_commands() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for r in awaitguard::rules::RULES {
        let m = r.meta();
        assert!(
            readme.contains(&format!("| {} | {} |", m.code, m.name)),
            "README's rule table lacks {} {}: run scripts/update-readme-rules.py",
            m.code,
            m.name
        );
    }
    assert!(readme.contains("cargo run --release -- check tests/demo"));
    assert!(readme.contains("bash scripts/test.sh"));
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.contains("bash scripts/test.sh"), ".ci/run must call the README's test command");
}

#[test]
fn demo_project_shows_findings() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_awaitguard"))
        .args(["check", "--format", "json", "tests/demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<(String, u64)> =
        v.as_array().unwrap().iter().map(|f| (f["code"].as_str().unwrap().to_string(), f["range"]["start"]["line"].as_u64().unwrap())).collect();
    for want in [("AG101", 12), ("AG101", 13), ("AG101", 19), ("AG202", 32), ("AG501", 11), ("AG510", 26)] {
        assert!(lines.contains(&(want.0.to_string(), want.1)), "demo lacks {want:?}: {lines:?}");
    }
    // No finding in the correct code (sync view, Celery task, the atomic sync function).
    assert!(v.as_array().unwrap().iter().all(|f| !f["path"].as_str().unwrap().ends_with("tasks.py")));
}
