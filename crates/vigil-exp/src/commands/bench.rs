//! `exp bench model`: the burn Qwen3's prefill, decode and training-step throughput as JSON, on
//! the same folder and shapes that `tools/bench_model.py` runs PyTorch on, so the two can be
//! compared as a ratio on one machine in one session.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use vigil_policy::bench::{BenchOptions, TrainMode, read_bandwidth_gb_s};
use vigil_policy::ops;

use super::model::{ModelArgs, peak_rss_bytes, print_json};

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Prefill tok/s, KV-cached decode tok/s, training step time, peak RSS and the machine's
    /// read bandwidth (the decode bound), as one JSON object.
    Model(BenchModelArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum TrainArg {
    /// LoRA r16 on q/k/v/o (or the `--adapter`).
    Lora,
    /// Every weight.
    Full,
}

#[derive(Debug, Args)]
pub(crate) struct BenchModelArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Sequences decoded together.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Prompt tokens per sequence.
    #[arg(long, default_value_t = 128)]
    pub prompt: usize,
    /// Greedy tokens after the prompt.
    #[arg(long, default_value_t = 64)]
    pub new: usize,
    /// CPU threads (default: every available core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also time one training step (forward + backward + AdamW) on batch × prompt tokens.
    #[arg(long, value_enum)]
    pub train: Option<TrainArg>,
    /// Timed repetitions per phase, after one warm-up (the best is reported).
    #[arg(long, default_value_t = 3)]
    pub iters: usize,
}

pub(crate) fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Model(a) => model(a),
    }
}

fn model(a: &BenchModelArgs) -> anyhow::Result<()> {
    let threads = vigil_policy::set_cpu_threads(a.threads).context("--threads")?;
    let opts = BenchOptions {
        batch: a.batch,
        prompt: a.prompt,
        new: a.new,
        iters: a.iters,
        train: a.train.map(|t| match t {
            TrainArg::Lora => TrainMode::Lora,
            TrainArg::Full => TrainMode::Full,
        }),
    };
    let report = ops::bench(&a.model.spec(), &opts)?;
    // Read before the bandwidth probe, whose buffer would otherwise count.
    let peak = peak_rss_bytes();
    let bandwidth = read_bandwidth_gb_s();
    let bound = a.batch as f64 * bandwidth * 1e9 / report.step_read_bytes as f64;
    let resident = (report.weight_bytes + report.kv_cache_bytes) as f64;
    print_json(&json!({
        "engine": "vigil-burn",
        "model": a.model.model,
        "dtype": a.model.dtype.torch_name(),
        "threads": threads,
        "batch": a.batch,
        "prompt": a.prompt,
        "new": a.new,
        "train": opts.train,
        "prefill_tok_s": report.prefill_tok_s,
        "decode_tok_s": report.decode_tok_s,
        "train_step_s": report.train_step_s,
        "train_tok_s": report.train_tok_s,
        "weight_bytes": report.weight_bytes,
        "step_read_bytes": report.step_read_bytes,
        "kv_cache_bytes": report.kv_cache_bytes,
        "peak_rss_bytes": peak,
        "peak_rss_over_weights_kv": peak.map(|p| p as f64 / resident),
        "read_bandwidth_gb_s": bandwidth,
        "decode_bound_tok_s": bound,
        "decode_over_bound": report.decode_tok_s / bound,
        "cpu": cpu_model(),
    }));
    Ok(())
}

/// `model name` of /proc/cpuinfo (for the table's caption).
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}
