//! `exp run --dry-run` on the full-size configs, pointed at folders that hold only the real
//! `config.json` of Qwen3-4B-Instruct-2507 / Qwen3-14B: parameter counts, a GPU memory
//! estimate, and the missing weight and tokenizer files by name.

mod common;
mod training;

use common::Capture;
use training::{exp, root};

fn dry_run(config: &str, fixture: &str) -> String {
    let model = root().join("crates/vigil-exp/tests/fixtures").join(fixture);
    let out = exp()
        .args([
            "run",
            "--dry-run",
            config,
            "--set",
            &format!("policy.model={}", model.display()),
        ])
        .capture();
    assert!(out.success(), "{config}: {}\n{}", out.stderr, out.stdout);
    out.stdout
}

fn gib(report: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.starts_with("GPU memory estimate"))
        .expect("memory line");
    let tail = line.rsplit("≈ ").next().unwrap();
    tail.trim_end_matches(" GiB").parse().unwrap()
}

#[test]
fn full_size_configs_report_parameters_memory_and_missing_files() {
    let cases = [
        // (config, model folder, total parameters, trainable parameters)
        (
            "configs/opensec-gdpo-qwen3-4b.toml",
            "qwen3-4b-instruct-2507",
            4_022_468_096u64,
            4_022_468_096u64,
        ),
        // LoRA r16 on all seven projections of the 4B: PEFT's count.
        (
            "configs/opensoc-grpo-curriculum.toml",
            "qwen3-4b-instruct-2507",
            4_022_468_096,
            33_030_144,
        ),
        // LoRA r32 on q/k/v/o of the 14B: 40 layers × 32 × (5120+5120 + 5120+1024 + 5120+1024 + 5120+5120).
        (
            "configs/cert-grpo-qwen3-14b.toml",
            "qwen3-14b",
            14_768_307_200,
            40 * 32 * (10240 + 6144 + 6144 + 10240),
        ),
    ];
    for (config, fixture, total, trainable) in cases {
        let r = dry_run(config, fixture);
        assert!(
            r.contains(&format!("parameters: {total} total")),
            "{config}:\n{r}"
        );
        assert!(
            r.contains(&format!("trainable {trainable} ")),
            "{config}:\n{r}"
        );
        assert!(r.contains("weights: MISSING model.safetensors (or model.safetensors.index.json with its shards)"), "{config}:\n{r}");
        assert!(
            r.contains("tokenizer: MISSING tokenizer.json, tokenizer_config.json"),
            "{config}:\n{r}"
        );
        let mem = gib(&r);
        // Weights alone are 7.5 GiB (4B) or 27.5 GiB (14B) in bf16; a full fine-tune adds f32
        // gradients and AdamW moments (12 bytes per parameter).
        let floor = total as f64 * 2.0 / (1u64 << 30) as f64;
        assert!(
            mem > floor,
            "{config}: {mem} GiB is below the weights alone"
        );
        if trainable == total {
            assert!(
                mem > total as f64 * 14.0 / (1u64 << 30) as f64,
                "{config}: full fine-tuning estimate too small: {mem}"
            );
        }
    }
}

#[test]
fn dry_run_names_a_missing_model_folder() {
    let out = exp()
        .args([
            "run",
            "--dry-run",
            "configs/cert-grpo-qwen3-14b.toml",
            "--set",
            "policy.model=/nonexistent/qwen3",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/qwen3"), "{err}");
}
