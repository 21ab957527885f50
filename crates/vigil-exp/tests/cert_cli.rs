//! `exp data cert synth | windows | bench` on a small synthetic dataset: the three steps a
//! researcher runs before pointing `[env.source]` at a directory.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn exp(args: &[&str]) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(env!("CARGO_BIN_EXE_exp"))
        .current_dir(root)
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = exp(args);
    assert!(
        out.status.success(),
        "exp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn synth_windows_and_bench() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (data_s, splits) = (data.to_str().unwrap(), d.path().join("splits"));
    ok(&[
        "data", "cert", "synth", "--users", "20", "--days", "60", "--out", data_s,
    ]);
    for f in [
        "logon.csv",
        "device.csv",
        "http.csv",
        "email.csv",
        "file.csv",
    ] {
        assert!(data.join(f).is_file(), "synth did not write {f}");
    }
    ok(&[
        "data",
        "cert",
        "windows",
        "--data",
        data_s,
        "--out",
        splits.to_str().unwrap(),
        "--eval-per-class",
        "3",
        "--train-per-class",
        "4",
    ]);
    assert!(splits.join("splits.json").is_file());

    let bench: Value =
        serde_json::from_str(&ok(&["data", "cert", "bench", "--data", data_s])).unwrap();
    let events = bench["ingest"]["events"].as_u64().unwrap();
    assert!(events > 100, "{bench}");
    assert!(
        bench["ingest"]["events_per_cpu_sec"].as_f64().unwrap() > 0.0,
        "{bench}"
    );
    // Ingest is deterministic: the same files give the same checksum.
    let again: Value =
        serde_json::from_str(&ok(&["data", "cert", "bench", "--data", data_s])).unwrap();
    assert_eq!(bench["ingest"]["checksum"], again["ingest"]["checksum"]);
}

#[test]
fn a_missing_dataset_is_a_one_line_error() {
    let out = exp(&["data", "cert", "bench", "--data", "/nonexistent/cert"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/cert"), "{err}");
}
