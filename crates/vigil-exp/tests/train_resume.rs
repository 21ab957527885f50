//! `exp run` with a `[trainer]`: SFT + GDPO on OpenSOC with a tiny from-scratch Qwen3, killed
//! with SIGKILL mid-training and resumed with `--resume`, ends with exactly the metrics and
//! hold-out results of an uninterrupted run.

mod common;
mod training;

use training::{exp, kill_at_rl_checkpoint, metrics, ok, summary, tiny_config};

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
    kill_at_rl_checkpoint(cfg, &b, 2);

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
