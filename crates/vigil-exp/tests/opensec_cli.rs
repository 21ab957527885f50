//! `exp opensec`: the generator reproduces the committed seed set; `validate` accepts good sets
//! and names the file and field of a bad one.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{Capture, exp, root};

/// `exp opensec generate --out OUT EXTRA…`, asserting success.
fn generate(out: &Path, extra: &[&OsStr]) {
    exp()
        .args(["opensec", "generate", "--out"])
        .arg(out)
        .args(extra)
        .capture()
        .ok();
}

#[test]
fn generate_reproduces_the_committed_seed_set() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("opensec");
    let jsonl = d.path().join("opensec.jsonl");
    generate(&out, &["--jsonl".as_ref(), jsonl.as_os_str()]);
    let committed = root().join("seeds/opensec");
    for rel in [
        "manifest.json",
        "train/train-standard-001_seed.json",
        "eval/eval-standard-040_ground_truth.json",
        "eval/eval-trivial-010_seed.json",
    ] {
        let a = std::fs::read(out.join(rel)).unwrap();
        let b = std::fs::read(committed.join(rel)).unwrap();
        assert!(a == b, "{rel} differs from the committed set");
    }
    let v = exp()
        .args(["opensec", "validate"])
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(String::from_utf8_lossy(&v.stdout).contains("240 seeds"));
}

#[test]
fn validate_names_the_file_and_field_of_a_bad_seed() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s");
    let cfg = d.path().join("gen.json");
    std::fs::write(
        &cfg,
        r#"{"train": {"trivial": 1, "easy": 0, "standard": 1}, "eval": {"trivial": 0, "easy": 1, "standard": 0}}"#,
    )
    .unwrap();
    generate(&out, &["--config".as_ref(), cfg.as_os_str()]);
    let ok = exp()
        .args(["opensec", "validate"])
        .arg(out.join("manifest.json"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("3 seeds"),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let seed = out.join("train/train-standard-001_seed.json");
    let text = std::fs::read_to_string(&seed).unwrap().replacen(
        "\"start_state\": \"recon\"",
        "\"start_state\": \"nowhere\"",
        1,
    );
    std::fs::write(&seed, text).unwrap();
    let bad = exp()
        .args(["opensec", "validate"])
        .arg(out.join("manifest.json"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("train-standard-001_seed.json") && err.contains("attack_graph.start_state"),
        "{err}"
    );
}

#[test]
fn audit_keeps_every_rule_near_chance_on_the_committed_seeds() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("audit.json");
    let out = exp()
        .args(["opensec", "audit"])
        .arg(root().join("seeds/opensec/manifest.json"))
        .args(["--max-excess", "10", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("240 scenarios")
            && table.contains("most_frequent")
            && table.contains("initial_vector")
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let scores = report["scores"].as_array().unwrap();
    assert!(
        scores
            .iter()
            .all(|s| s["accuracy"].as_f64().unwrap() - s["chance"].as_f64().unwrap() <= 0.10)
    );
    // The committed AUDIT.md is this table.
    let md = exp()
        .args(["opensec", "audit", "--markdown"])
        .arg(root().join("seeds/opensec/manifest.json"))
        .output()
        .unwrap();
    let committed = std::fs::read_to_string(root().join("seeds/opensec/AUDIT.md")).unwrap();
    let table = String::from_utf8_lossy(&md.stdout);
    let body: String = table.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        committed.contains(&body),
        "seeds/opensec/AUDIT.md is stale: rerun `exp opensec audit --markdown`"
    );
}

#[test]
fn audit_fails_a_set_with_shortcuts() {
    let peer = root().join("../shared/peer-data/opensec/seeds/manifest.json");
    if !peer.is_file() {
        eprintln!("SKIPPED: no peer seeds at {}", peer.display());
        assert!(std::env::var_os("CI").is_none(), "CI needs the peer seeds");
        return;
    }
    let out = exp()
        .args(["opensec", "audit", "--mode", "compat", "--max-excess", "10"])
        .arg(&peer)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("points above chance"));
}
