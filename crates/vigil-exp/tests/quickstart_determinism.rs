//! The README's quickstart, shortened, run twice with the same seed and thread count: the
//! training metrics (wall-clock fields aside) and the hold-out results are identical. This is
//! the determinism rule with the CPU pool on several threads (`[policy] threads`).

mod common;
mod training;

use training::{metrics, ok, summary};

fn run(dir: &std::path::Path, name: &str, threads: usize) -> std::path::PathBuf {
    let out = dir.join(name);
    let model = dir.join(format!("model-{name}"));
    let sets = [
        format!("policy.model={}", model.display()),
        format!("policy.threads={threads}"),
        "policy.max_new_tokens=12".into(),
        "trainer.init.corpus_examples=40".into(),
        "trainer.sft.examples=32".into(),
        "trainer.sft.epochs=1".into(),
        "trainer.batch_prompts=2".into(),
        "trainer.group_size=4".into(),
        "trainer.grad_accum=2".into(),
        "trainer.checkpoint_every=2".into(),
        r#"trainer.curriculum=[{ stage = "stage1_basic", steps = 2 }]"#.into(),
        "eval.limit=6".into(),
        r#"eval.baselines=["always_dismiss"]"#.into(),
    ];
    let mut args = vec![
        "run",
        "configs/quickstart.toml",
        "--out",
        out.to_str().unwrap(),
    ];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    ok(&args);
    out
}

#[test]
fn quickstart_twice_with_the_same_seed_and_threads_is_identical() {
    let d = tempfile::tempdir().unwrap();
    let a = run(d.path(), "a", 2);
    let b = run(d.path(), "b", 2);
    let (ma, mb) = (metrics(&a), metrics(&b));
    assert!(ma.len() >= 3, "too few metric lines: {ma:?}");
    assert_eq!(ma, mb, "metrics.jsonl differs between two identical runs");
    for policy in ["sft", "gdpo"] {
        assert_eq!(
            summary(&a, policy),
            summary(&b, policy),
            "{policy} hold-out differs"
        );
    }
    let fa = std::fs::read(a.join("final/model.safetensors")).unwrap();
    let fb = std::fs::read(b.join("final/model.safetensors")).unwrap();
    assert!(fa == fb, "final weights differ");
}
