//! `exp advantage`: JSON in, JSON out, one-line errors, and agreement with the NumPy reference.

mod common;

use std::path::Path;
use std::process::Command;

use common::Capture;

fn exp_advantage(input: &str) -> (i32, String, String) {
    common::exp().args(["advantage", "-"]).feed(input).parts()
}

#[test]
fn computes_the_issue_example() {
    let (code, out, err) = exp_advantage(
        r#"{"advantage": {"kind": "gdpo", "epsilon": 1e-6, "batch_norm": true}, "weights": [1.0, 1.0],
            "groups": [[[0,1],[0,2]], [[1,0],[0,0]]]}"#,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let a = v["advantages"].as_array().expect("array");
    assert_eq!(a.len(), 2);
    // Per-component z-scores are ±1/√2 in each group; the batch z-score of [-h, h, h, -h]
    // with sample std √(2/3) gives ±√3/2 (ε = 1e-6 shifts the 6th decimal).
    let x = a[0][1].as_f64().expect("number");
    assert!((x - 3f64.sqrt() / 2.0).abs() < 1e-5, "{x}");
    assert_eq!(a[1][0].as_f64(), Some(x));
}

#[test]
fn reads_missing_values_and_lengths() {
    // TRL leaves the null out of component 1's statistics; verl weighs rollouts by tokens.
    let (code, out, err) = exp_advantage(
        r#"{"advantage": {"kind": "gdpo", "compat": "trl", "batch_norm": false, "epsilon": 0},
            "weights": [1, 1], "groups": [[[0, 1], [1, null], [2, 3]], [[5, null]]]}"#,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let want = [-1.0 - h, 0.0, 1.0 + h];
    for (j, w) in want.iter().enumerate() {
        let x = v["advantages"][0][j].as_f64().expect("number");
        assert!((x - w).abs() < 1e-12, "{x} vs {w}");
    }
    assert_eq!(v["advantages"][1][0].as_f64(), Some(0.0));
    let doc = |lengths: &str| {
        format!(
            r#"{{"advantage": {{"kind": "gdpo", "compat": "verl"}}, "weights": [1],
                "groups": [[[0], [1]], [[1], [1]]], "lengths": {lengths}}}"#
        )
    };
    let (code, out, err) = exp_advantage(&doc("[[1, 3], [2, 2]]"));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let signal_free = v["advantages"][1][0].as_f64().expect("number");
    assert!(signal_free < -0.3, "{out}");
    let (_, out, _) = exp_advantage(&doc("[[2, 2], [2, 2]]"));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(
        v["advantages"][1][0].as_f64().expect("number").abs() < 1e-9,
        "{out}"
    );
}

#[test]
fn malformed_input_is_one_line_and_nonzero() {
    for (input, needle) in [
        (
            r#"{"advantage":{"kind":"gdpo"},"weights":[1,1],"groups":[[[0,1],[0]]]}"#,
            "groups[0][1] has 1 components",
        ),
        (
            r#"{"advantage":{"kind":"grpo"},"weights":[1],"groups":[[[0,1],[0,2]]]}"#,
            "got 1 weights for 2",
        ),
        (
            r#"{"advantage":{"kind":"gdpo"},"weights":[1],"groups":[[[0],[NaN]]]}"#,
            "NaN",
        ),
        (
            r#"{"advantage":{"kind":"rloo"},"weights":[1],"groups":[[[0]]]}"#,
            "at least 2",
        ),
        (
            r#"{"advantage":{"kind":"gdpo","eps":1},"weights":[1],"groups":[[[0],[1]]]}"#,
            "unknown field `eps`",
        ),
        (
            r#"{"advantage":{"kind":"gdpo"},"weights":[1],"groups":[[[0],[1]]],"extra":1}"#,
            "unknown field `extra`",
        ),
        (
            r#"{"advantage":{"kind":"gdpo"},"weights":[1],"groups":[[[0],[null]]]}"#,
            "groups[0][1][0] is missing (null); set missing = \"skip\"",
        ),
        (
            r#"{"advantage":{"kind":"gdpo","compat":"verl"},"weights":[1],"groups":[[[0],[1]]]}"#,
            "needs the response length of every rollout",
        ),
        (
            r#"{"advantage":{"kind":"gdpo","compat":"verl"},"weights":[1],"groups":[[[0],[1]]],"lengths":[[3]]}"#,
            "lengths[0] has 1 entries for the 2 rollouts",
        ),
    ] {
        let (code, out, err) = exp_advantage(input);
        assert_ne!(code, 0, "{input}");
        assert!(out.is_empty());
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
}

/// Runs tools/advantage_reference.py (NumPy) against the binary. CI installs NumPy; elsewhere
/// the test says loudly that it could not run.
#[test]
fn matches_numpy_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let has_numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_numpy {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install NumPy for the advantage reference check"
        );
        eprintln!(
            "NOTE: NumPy not installed; skipped the NumPy reference check (pip install numpy)"
        );
        return;
    }
    let out = Command::new("python3")
        .arg(root.join("tools/advantage_reference.py"))
        .args([
            "--exp",
            env!("CARGO_BIN_EXE_exp"),
            "--cases",
            "600",
            "--seed",
            "1",
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `exp resolution` counts through the estimators: the paper's toy setting (2 binary rewards,
/// 2 rollouts: GRPO 2 distinct advantage groups, GDPO 3), a larger cell, the JSON beside the
/// Markdown, and a clear refusal of a cell over the limit.
#[test]
fn resolution_table_counts_distinct_advantages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("report/tables/resolution.md");
    let paper = dir.path().join("paper");
    std::fs::create_dir_all(&paper).unwrap();
    std::fs::write(paper.join("p.md"), "a\n<!-- vigil:include why-gdpo/tables/resolution.md -->\nold\n<!-- /vigil:include -->\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_exp"))
        .args(["resolution", "--components", "2", "--group", "2,4", "--out"])
        .arg(dir.path().join("report"))
        .arg("--paper")
        .arg(&paper)
        .output()
        .expect("run exp");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = std::fs::read_to_string(&md).expect("table written");
    assert_eq!(String::from_utf8_lossy(&out.stdout), table);
    assert!(table.starts_with("| K components | G rollouts | groups enumerated | grpo | dr_grpo | rloo | gdpo |"), "{table}");
    assert!(table.contains("| 2 | 2 | 10 | 2 | 3 | 3 | 3 |"), "{table}");
    assert!(table.contains("| 2 | 4 | 35 | 7 | 10 | 10 | 14 |"), "{table}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(md.with_extension("json")).expect("json")).expect("parse");
    assert_eq!(json[1]["distinct"][3], serde_json::json!(["gdpo", 14]));
    let p = std::fs::read_to_string(paper.join("p.md")).unwrap();
    assert!(p.contains(&table) && !p.contains("old"), "{p}");

    let out = Command::new(env!("CARGO_BIN_EXE_exp"))
        .args(["resolution", "--components", "4", "--group", "16", "--limit", "1000"])
        .output()
        .expect("run exp");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("300540195") && err.contains("K = 4, G = 16"), "{err}");
}
