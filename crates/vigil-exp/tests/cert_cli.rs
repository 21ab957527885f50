//! `exp data cert synth | windows | bench` on a small synthetic dataset: the three steps a
//! researcher runs before pointing `[env.source]` at a directory.

mod common;

use common::run;
use serde_json::Value;

#[test]
fn synth_windows_and_bench() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (data_s, splits) = (data.to_str().unwrap(), d.path().join("splits"));
    run(&[
        "data", "cert", "synth", "--users", "20", "--days", "60", "--out", data_s,
    ])
    .ok();
    for f in [
        "logon.csv",
        "device.csv",
        "http.csv",
        "email.csv",
        "file.csv",
    ] {
        assert!(data.join(f).is_file(), "synth did not write {f}");
    }
    run(&[
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
    ])
    .ok();
    assert!(splits.join("splits.json").is_file());

    let bench: Value =
        serde_json::from_str(&run(&["data", "cert", "bench", "--data", data_s]).ok()).unwrap();
    let events = bench["ingest"]["events"].as_u64().unwrap();
    assert!(events > 100, "{bench}");
    assert!(
        bench["ingest"]["events_per_cpu_sec"].as_f64().unwrap() > 0.0,
        "{bench}"
    );
    // Ingest is deterministic: the same files give the same checksum.
    let again: Value =
        serde_json::from_str(&run(&["data", "cert", "bench", "--data", data_s]).ok()).unwrap();
    assert_eq!(bench["ingest"]["checksum"], again["ingest"]["checksum"]);
}

#[test]
fn a_missing_dataset_is_a_one_line_error() {
    let out = run(&["data", "cert", "bench", "--data", "/nonexistent/cert"]);
    assert!(!out.success());
    let err = &out.stderr;
    assert!(err.contains("/nonexistent/cert"), "{err}");
}
