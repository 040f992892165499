//! The door is the only door: the types make a look without a permit impossible, and these
//! checks over the source make sure nothing but the gate asks the policy for one, and nothing
//! but the gate writes a look into the access log.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Every Rust source file of the crates that serve requests or hold data, with its text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = workspace();
    let mut files = Vec::new();
    for krate in ["fhir/src", "store/src", "service/src", "app/src", "server/src"] {
        walk(&root.join(krate), &mut files);
    }
    assert!(files.len() > 50, "the source walk found only {} files", files.len());
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            (rel, text)
        })
        .collect()
}

/// Where `needle` appears outside the files `allowed` names (by path prefix).
fn found_outside(needle: &str, allowed: &[&str]) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(path, text)| text.contains(needle) && !allowed.iter().any(|a| path.starts_with(a)))
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn only_the_gate_asks_the_policy() {
    // The test helpers that give store tests their permits are built only with the store's
    // `testing` feature.
    let gate = ["service/src/access/", "store/src/testing.rs"];
    for needle in ["AccessRequest {", "decide(", "permit(&", "access::permit"] {
        assert_eq!(found_outside(needle, &gate), Vec::<String>::new(), "{needle:?} outside the gate");
    }
}

#[test]
fn access_log_rows_are_made_only_from_the_gates_answers() {
    for needle in ["AuditEvent::allowed(", "AuditEvent::refused(", "AuditEvent::grant_response(", "AuditEvent::link_use("] {
        assert_eq!(found_outside(needle, &["service/src/access/"]), Vec::<String>::new(), "{needle:?} outside the gate");
    }
    // Carry's own work, under fixed words: the pull from the shared care record and the demo.
    let jobs = ["service/src/care_record/pull/mod.rs", "service/src/demo.rs", "service/src/access/tests.rs"];
    assert_eq!(found_outside("AuditEvent::carry_job(", &jobs), Vec::<String>::new());
}

#[test]
fn the_checks_see_the_gate_itself() {
    // A check that finds nothing because it reads nothing would pass for ever.
    let sources = sources();
    let gate = sources.iter().find(|(p, _)| p == "service/src/access/gate.rs").map(|(_, t)| t.as_str()).unwrap_or_default();
    assert!(gate.contains("AccessRequest {") && gate.contains("permit(&"), "the gate asks the policy");
}
