//! Helpers of the `exp run` training tests: a tiny OpenSOC run config (a from-scratch model of a
//! few thousand parameters, a handful of steps) and process plumbing.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

pub use crate::common::{exp, root};

/// Runs `exp` and checks it succeeded.
pub fn ok(args: &[&str]) -> Output {
    let out = exp().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "exp {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes a tiny training config into `dir` and returns its path. `extra` is appended inside
/// `[trainer]` (before its sub-tables).
pub fn tiny_config(dir: &Path, steps: u32, extra: &str) -> PathBuf {
    let holdout = root().join("seeds/opensoc/holdout.jsonl");
    let text = format!(
        r#"name = "tiny"
seed = 3

[env]
kind = "opensoc"
holdout = "{holdout}"
train_per_stage = 40
stages = ["stage1_basic", "stage2_multi"]
runbook = false

[policy]
kind = "qwen3"
model = "{model}"
max_new_tokens = 8
enable_thinking = false
batch_size = 16

[advantage]
kind = "gdpo"

[trainer]
steps = {steps}
group_size = 2
batch_prompts = 2
lr = 2e-3
checkpoint_every = 1
keep_checkpoints = 2
{extra}

[trainer.init]
vocab_size = 300
corpus_examples = 6
hidden_size = 32
intermediate_size = 64
num_hidden_layers = 1
num_attention_heads = 2
num_key_value_heads = 1
head_dim = 16

[trainer.sft]
examples = 4
batch_size = 4
lr = 2e-3

[eval]
limit = 3
baselines = ["always_dismiss"]
"#,
        holdout = holdout.display(),
        model = dir.join("model").display(),
    );
    let path = dir.join("tiny.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `metrics.jsonl` of a run without the wall-clock fields.
pub fn metrics(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("timing");
            v
        })
        .collect()
}

/// A policy's hold-out summary.
pub fn summary(run: &Path, policy: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(run.join("eval").join(policy).join("summary.json")).unwrap(),
    )
    .unwrap()
}
