//! `exp model logits|logprobs|generate|grad|init|load`: the burn Qwen3 from the command line,
//! JSON on stdout, so every number can be checked against transformers.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use vigil_policy::ops::{self, ModelSpec};
use vigil_policy::{
    ComputeDtype, DeviceKind, GenerateOptions, InitOptions, Qwen3Config, SamplingConfig,
    resolve_model_dir, write_random_checkpoint,
};
use vigil_tokenizer::{ChatOptions, ChatTokenizer, Message};

#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Logits of a token sequence: `{"logits": [[...vocab...], ...]}` (last position unless
    /// `--all-positions`).
    Logits(LogitsArgs),
    /// Teacher-forced log-probs: `{"logprobs": [...n-1...], "sum": x}`.
    Logprobs(TokensArgs),
    /// Continue a prompt: `{"tokens": [...], "text": "..."}`.
    Generate(GenerateArgs),
    /// Gradient of `-A · mean_t log p(tokens[t+1])` w.r.t. every LoRA tensor, as safetensors.
    Grad(GradArgs),
    /// Write a random Qwen3 of any shape as a Hugging Face folder.
    Init(InitArgs),
    /// Load a checkpoint and report time and peak memory (RSS) against the model's size.
    Load(LoadArgs),
}

/// Model, adapter, dtype and device (shared by the model subcommands).
#[derive(Debug, Args)]
pub(crate) struct ModelArgs {
    /// Model folder (config.json + safetensors) or a Hugging Face id in the local cache.
    #[arg(long, value_name = "DIR|ORG/NAME")]
    pub model: String,
    /// PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors).
    #[arg(long, value_name = "DIR")]
    pub adapter: Option<PathBuf>,
    /// Compute dtype: f32, bf16 or f16.
    #[arg(long, default_value = "f32", value_parser = parse_dtype)]
    pub dtype: ComputeDtype,
    /// cpu, cuda or wgpu (need a build with `--features cuda` / `--features wgpu`).
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceKind,
}

impl ModelArgs {
    pub(crate) fn spec(&self) -> ModelSpec {
        ModelSpec {
            model: self.model.clone(),
            adapter: self.adapter.clone(),
            dtype: self.dtype,
            device: self.device,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct TokensArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Comma-separated token ids.
    #[arg(long, value_name = "1,2,3", value_parser = parse_tokens)]
    pub tokens: Tokens,
}

#[derive(Debug, Args)]
pub(crate) struct LogitsArgs {
    #[command(flatten)]
    pub inner: TokensArgs,
    /// Logits of every position, not only the last.
    #[arg(long)]
    pub all_positions: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["tokens", "prompt"])))]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt token ids.
    #[arg(long, value_parser = parse_tokens)]
    pub tokens: Option<Tokens>,
    /// Prompt text (encoded with the tokenizer).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Wrap `--prompt` as a user message and apply the chat template.
    #[arg(long, requires = "prompt")]
    pub chat: bool,
    /// With `--chat`: `enable_thinking=False`.
    #[arg(long, requires = "chat")]
    pub no_thinking: bool,
    /// Tokenizer folder or id (default: the model folder).
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// New tokens at most.
    #[arg(long)]
    pub max_new_tokens: usize,
    /// Arg-max decoding (the default when no --temperature is given).
    #[arg(long, conflicts_with_all = ["temperature", "top_p", "top_k"])]
    pub greedy: bool,
    /// Sampling temperature (> 0).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Nucleus mass in (0, 1].
    #[arg(long, requires = "temperature")]
    pub top_p: Option<f32>,
    /// Top-k (0 = off).
    #[arg(long, requires = "temperature")]
    pub top_k: Option<usize>,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Do not stop at end-of-turn / end-of-text tokens.
    #[arg(long)]
    pub no_stop: bool,
    /// Recompute the whole prefix each step instead of using the KV cache (for checks).
    #[arg(long)]
    pub no_kv_cache: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GradArgs {
    /// Model folder or id.
    #[arg(long)]
    pub model: String,
    /// PEFT adapter whose tensors get gradients.
    #[arg(long)]
    pub adapter: PathBuf,
    /// Comma-separated token ids (at least 2).
    #[arg(long, value_parser = parse_tokens)]
    pub tokens: Tokens,
    /// Advantage `A` in the loss.
    #[arg(long, allow_negative_numbers = true)]
    pub advantage: f32,
    /// Output safetensors file (tensor names as in the adapter).
    #[arg(long)]
    pub out: PathBuf,
    /// cpu, cuda or wgpu.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceKind,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub vocab: usize,
    #[arg(long)]
    pub hidden: usize,
    #[arg(long)]
    pub layers: usize,
    /// Query heads.
    #[arg(long)]
    pub heads: usize,
    #[arg(long)]
    pub kv_heads: usize,
    #[arg(long)]
    pub head_dim: usize,
    #[arg(long)]
    pub intermediate: usize,
    /// Separate `lm_head` (default: tied to the embeddings).
    #[arg(long)]
    pub untied: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// On-disk dtype: f32, bf16 or f16.
    #[arg(long, default_value = "f32", value_parser = parse_dtype)]
    pub dtype: ComputeDtype,
    /// Std of the normal init of weight matrices.
    #[arg(long, default_value_t = 0.02)]
    pub std: f32,
    #[arg(long, default_value_t = 1_000_000.0)]
    pub rope_theta: f64,
    #[arg(long, default_value_t = 1e-6)]
    pub rms_norm_eps: f64,
}

#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Parsed `--tokens`.
#[derive(Debug, Clone)]
pub(crate) struct Tokens(Vec<u32>);

fn parse_tokens(s: &str) -> Result<Tokens, String> {
    let ids: Result<Vec<u32>, _> = s.split(',').map(|t| t.trim().parse::<u32>()).collect();
    match ids {
        Ok(v) if !v.is_empty() => Ok(Tokens(v)),
        _ => Err(format!("`{s}` is not a comma-separated list of token ids")),
    }
}
fn parse_dtype(s: &str) -> Result<ComputeDtype, String> {
    ComputeDtype::parse(s).ok_or_else(|| format!("unknown dtype `{s}` (f32, bf16, f16)"))
}
fn parse_device(s: &str) -> Result<DeviceKind, String> {
    s.parse()
}

pub(crate) fn print_json(value: &Value) {
    #[allow(clippy::print_stdout)]
    {
        println!("{value}");
    }
}

pub(crate) fn run(command: &ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Logits(a) => {
            let mut rows = ops::logits(&a.inner.model.spec(), &a.inner.tokens.0)?;
            if !a.all_positions {
                rows = rows.split_off(rows.len() - 1);
            }
            print_json(&json!({ "logits": rows }));
        }
        ModelCommand::Logprobs(a) => {
            let lp = ops::logprobs(&a.model.spec(), &a.tokens.0)?;
            let sum: f64 = lp.iter().map(|&x| f64::from(x)).sum();
            print_json(&json!({ "logprobs": lp, "sum": sum }));
        }
        ModelCommand::Generate(a) => generate(a)?,
        ModelCommand::Grad(a) => {
            let spec = ModelSpec {
                model: a.model.clone(),
                adapter: Some(a.adapter.clone()),
                dtype: ComputeDtype::F32,
                device: a.device,
            };
            let grads = ops::lora_grad(&spec, &a.tokens.0, a.advantage)?;
            ops::write_tensors(&a.out, &grads)?;
            print_json(&json!({ "out": a.out, "tensors": grads.len() }));
        }
        ModelCommand::Init(a) => {
            let mut config = Qwen3Config::new(
                a.vocab,
                a.hidden,
                a.intermediate,
                a.layers,
                a.heads,
                a.kv_heads,
                a.head_dim,
                !a.untied,
            )?;
            config.rope_theta = a.rope_theta;
            config.rms_norm_eps = a.rms_norm_eps;
            let opts = InitOptions {
                config,
                dtype: a.dtype,
                seed: a.seed,
                std: a.std,
            };
            write_random_checkpoint(&a.out, &opts)
                .with_context(|| format!("writing {}", a.out.display()))?;
            print_json(&json!({ "out": a.out, "params": opts.config.num_params() }));
        }
        ModelCommand::Load(a) => {
            let start = Instant::now();
            let params = ops::load_only(&a.model.spec())?;
            let secs = start.elapsed().as_secs_f64();
            let model_bytes = params * a.model.dtype.size();
            let peak = peak_rss_bytes();
            print_json(&json!({
                "params": params,
                "model_bytes": model_bytes,
                "peak_rss_bytes": peak,
                "peak_over_model": peak.map(|p| p as f64 / model_bytes as f64),
                "load_seconds": secs,
            }));
        }
    }
    Ok(())
}

/// Peak resident set size of this process (`VmHWM`), Linux only.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn generate(a: &GenerateArgs) -> anyhow::Result<()> {
    let spec = a.model.spec();
    let tok_spec = match &a.tokenizer {
        Some(t) => t.clone(),
        None => resolve_model_dir(&a.model.model)?.display().to_string(),
    };
    let needs_tokenizer = a.prompt.is_some();
    let tokenizer = match ChatTokenizer::load(&tok_spec) {
        Ok(t) => Some(t),
        Err(e) if needs_tokenizer => {
            return Err(e).with_context(|| format!("loading tokenizer `{tok_spec}`"));
        }
        Err(_) => None,
    };
    let prompt: Vec<u32> = match (&a.tokens, &a.prompt, &tokenizer) {
        (Some(t), _, _) => t.0.clone(),
        (None, Some(text), Some(tok)) if a.chat => tok.encode_chat(
            &[Message::user(text.clone())],
            &ChatOptions::generation(!a.no_thinking),
        )?,
        (None, Some(text), Some(tok)) => tok.encode(text, false)?,
        _ => bail!("give --tokens or --prompt"),
    };
    let sampling = match a.temperature {
        Some(t) => SamplingConfig::Sample {
            temperature: t,
            top_k: a.top_k.unwrap_or(0),
            top_p: a.top_p.unwrap_or(1.0),
        },
        None => SamplingConfig::Greedy,
    };
    let mut stop = HashSet::new();
    if !a.no_stop {
        if let Some(t) = &tokenizer {
            stop.extend(t.stop_token_ids().iter().copied());
        }
        let cfg = Qwen3Config::from_file(&resolve_model_dir(&a.model.model)?.join("config.json"))?;
        stop.extend(cfg.eos_token_ids);
    }
    let opts = GenerateOptions {
        max_new_tokens: a.max_new_tokens,
        stop_tokens: stop,
        use_cache: !a.no_kv_cache,
        adapters: true,
    };
    let out = ops::generate(&spec, &prompt, sampling, a.seed, &opts)?;
    let visible = match out.finish {
        vigil_core::FinishReason::Stop => &out.tokens[..out.tokens.len() - 1],
        vigil_core::FinishReason::Length => &out.tokens[..],
    };
    let text = match &tokenizer {
        Some(t) => Some(t.decode(visible, false)?),
        None => None,
    };
    print_json(&json!({
        "tokens": out.tokens,
        "text": text,
        "sample_logprobs": out.sample_logprobs,
        "model_logprobs": out.model_logprobs,
        "finish": out.finish,
    }));
    Ok(())
}
