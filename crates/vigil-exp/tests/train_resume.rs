//! `exp run` with a `[trainer]`: SFT + GDPO on OpenSOC with a tiny from-scratch Qwen3, killed
//! with SIGKILL mid-training and resumed with `--resume`, ends with exactly the metrics and
//! hold-out results of an uninterrupted run.

mod common;
mod training;

use std::time::{Duration, Instant};

use training::{exp, metrics, ok, summary, tiny_config};

#[test]
fn sigkill_then_resume_matches_an_uninterrupted_run() {
    let d = tempfile::tempdir().unwrap();
    let cfg = tiny_config(d.path(), 10, "finetune = { kind = \"full\" }");
    let cfg = cfg.to_str().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    let out = ok(&["run", cfg, "--out", a.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| sft |")
            && table.contains("| gdpo |")
            && table.contains("| always_dismiss |"),
        "{table}"
    );

    // Same config, killed as soon as RL step 2 is checkpointed.
    let mut child = exp()
        .args(["run", cfg, "--out", b.to_str().unwrap()])
        .spawn()
        .unwrap();
    let latest = b.join("checkpoints/latest");
    let start = Instant::now();
    loop {
        let name = std::fs::read_to_string(&latest).unwrap_or_default();
        if name.starts_with("rl-") && name.trim() >= "rl-000002" {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no RL checkpoint after 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = std::fs::read_to_string(&latest).unwrap();
    assert_ne!(at_kill.trim(), "done", "killed too late to test anything");

    // A second plain `exp run` refuses to overwrite; `--resume` continues.
    let refused = exp()
        .args(["run", cfg, "--out", b.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    ok(&["run", "--resume", b.to_str().unwrap()]);

    assert_eq!(
        metrics(&b),
        metrics(&a),
        "metrics.jsonl differs after resume"
    );
    for policy in ["sft", "gdpo", "always_dismiss"] {
        assert_eq!(
            summary(&b, policy),
            summary(&a, policy),
            "{policy}: hold-out results differ after resume"
        );
    }
    assert!(b.join("final/model.safetensors").is_file());
}
