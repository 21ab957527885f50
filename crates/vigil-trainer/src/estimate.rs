//! What `exp run --dry-run` reports before anything loads: parameter counts from `config.json`,
//! which checkpoint files are missing, and a first-order GPU memory estimate.
//!
//! The memory model is deliberately simple and states its assumptions: weights in the compute
//! dtype; trainable parameters with an f32 gradient accumulator and two f32 AdamW moments;
//! activations kept for backward (no checkpointing; burn's attention backward is the
//! materialised softmax, so scores cost `heads × len²` per layer); the `[tokens, vocab]`
//! log-softmax of the scored window; and the rollout KV cache. It is an order-of-magnitude
//! guide for choosing a GPU, not a guarantee.

use std::path::{Path, PathBuf};

use serde::Serialize;
use vigil_policy::{ComputeDtype, Qwen3Config, checkpoint_files};

use crate::config::TrainerConfig;
use crate::error::TrainerError;
use crate::rollout::{GenerationSettings, RolloutConfig};

/// Files a usable model folder needs, and which are absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileCheck {
    /// The folder.
    pub dir: PathBuf,
    /// Weight files found.
    pub weights_found: Vec<String>,
    /// Weight files missing (exact shard names when an index lists them).
    pub weights_missing: Vec<String>,
    /// Tokenizer files missing.
    pub tokenizer_missing: Vec<String>,
}

/// Lists missing weights and tokenizer files of `dir` (which has a `config.json`).
pub fn check_files(dir: &Path, tokenizer_dir: &Path) -> FileCheck {
    let (found, missing) = match checkpoint_files(dir) {
        Ok(files) => (files.iter().map(|f| name(f)).collect(), Vec::new()),
        Err(_) => {
            let index = dir.join("model.safetensors.index.json");
            let listed = std::fs::read_to_string(&index)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("weight_map").and_then(|m| m.as_object()).map(|m| {
                    let mut f: Vec<String> = m.values().filter_map(|v| v.as_str().map(String::from)).collect();
                    f.sort();
                    f.dedup();
                    f
                }));
            match listed {
                Some(files) => {
                    let (have, lack): (Vec<String>, Vec<String>) = files.into_iter().partition(|f| dir.join(f).is_file());
                    (have, lack)
                }
                None => (Vec::new(), vec!["model.safetensors (or model.safetensors.index.json with its shards)".to_string()]),
            }
        }
    };
    let tokenizer_missing = ["tokenizer.json", "tokenizer_config.json"]
        .into_iter()
        .filter(|f| !tokenizer_dir.join(f).is_file())
        .map(String::from)
        .collect();
    FileCheck { dir: dir.to_path_buf(), weights_found: found, weights_missing: missing, tokenizer_missing }
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Parameter counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    /// Every weight of the model.
    pub total: u64,
    /// Weights the optimizer updates (adapter factors, or everything).
    pub trainable: u64,
}

/// LoRA parameters of `r` on each targeted projection (`q_proj`, …; `all-linear` = all seven).
pub fn lora_params(c: &Qwen3Config, r: usize, targets: &[String]) -> u64 {
    let (h, i) = (c.hidden_size, c.intermediate_size);
    let (q, kv) = (c.num_attention_heads * c.head_dim, c.num_key_value_heads * c.head_dim);
    let all = targets.iter().any(|t| t == "all-linear");
    let dims = [("q_proj", h, q), ("k_proj", h, kv), ("v_proj", h, kv), ("o_proj", q, h), ("gate_proj", h, i), ("up_proj", h, i), ("down_proj", i, h)];
    let per_layer: usize =
        dims.iter().filter(|(n, _, _)| all || targets.iter().any(|t| t == n)).map(|(_, inp, out)| r * (inp + out)).sum();
    (per_layer * c.num_hidden_layers) as u64
}

/// Counts for `config` under `trainer.finetune`.
pub fn params(c: &Qwen3Config, trainer: &TrainerConfig) -> Params {
    let total = c.num_params() as u64;
    let trainable = match &trainer.finetune {
        crate::learner::FinetuneConfig::Full {} => total,
        crate::learner::FinetuneConfig::Lora { r, target_modules, .. } => lora_params(c, *r, target_modules),
    };
    Params { total, trainable }
}

/// One line of the memory estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryItem {
    /// What it is.
    pub what: String,
    /// Bytes.
    pub bytes: u64,
}

/// A memory estimate (peak, one GPU).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryEstimate {
    /// Items, largest first.
    pub items: Vec<MemoryItem>,
    /// Sum.
    pub total: u64,
    /// The prompt length assumed.
    pub prompt_tokens: usize,
}

/// Estimates peak GPU memory of training with `trainer` on `c` in `dtype`, for prompts of about
/// `prompt_tokens` tokens.
pub fn memory(c: &Qwen3Config, trainer: &TrainerConfig, dtype: ComputeDtype, settings: &GenerationSettings, prompt_tokens: usize) -> MemoryEstimate {
    let bytes = dtype.size() as u64;
    let p = params(c, trainer);
    let len = (prompt_tokens + settings.max_new_tokens) as u64;
    let rollouts = (trainer.batch_prompts * trainer.group_size) as u64;
    let micro = rollouts.div_ceil(trainer.grad_accum as u64).max(1);
    let (h, i, l) = (c.hidden_size as u64, c.intermediate_size as u64, c.num_hidden_layers as u64);
    let (q, kv) = ((c.num_attention_heads * c.head_dim) as u64, (c.num_key_value_heads * c.head_dim) as u64);
    // Saved activations per token per layer: norms, q/k/v/o, residuals, MLP (gate, up, act, product).
    let per_token_layer = bytes * (6 * h + 2 * q + 2 * kv + 4 * i);
    // Attention scores and probabilities, f32, per query token per layer.
    let attn = 2 * 4 * c.num_attention_heads as u64 * len;
    let mut items = vec![
        MemoryItem { what: format!("weights ({} params, {dtype:?})", p.total), bytes: p.total * bytes },
        MemoryItem {
            what: format!("trainable {} params: weights, f32 gradients, f32 AdamW moments", p.trainable),
            bytes: p.trainable * (if p.trainable == p.total { 12 } else { bytes + 12 }),
        },
        MemoryItem {
            what: format!("activations: micro-batch of {micro} × {len} tokens"),
            bytes: micro * len * l * (per_token_layer + attn),
        },
        MemoryItem {
            what: format!("log-softmax over the vocabulary ({micro} × {} completion tokens)", settings.max_new_tokens),
            bytes: 3 * 4 * micro * settings.max_new_tokens as u64 * c.vocab_size as u64,
        },
    ];
    if matches!(trainer.rollout, RolloutConfig::Burn {}) {
        let b = (settings.batch_size as u64).min(rollouts);
        items.push(MemoryItem {
            what: format!("rollout KV cache ({b} sequences × {len} tokens)"),
            bytes: 2 * b * len * l * kv * bytes,
        });
    }
    if trainer.loss.beta > 0.0 && p.trainable == p.total {
        items.push(MemoryItem { what: "frozen reference copy (full fine-tuning with β > 0)".into(), bytes: p.total * bytes });
    }
    items.sort_by(|a, b| b.bytes.cmp(&a.bytes));
    let total = items.iter().map(|m| m.bytes).sum();
    MemoryEstimate { items, total, prompt_tokens }
}

/// Reads `config.json` of `dir`.
pub fn model_config(dir: &Path) -> Result<Qwen3Config, TrainerError> {
    Qwen3Config::from_file(&dir.join("config.json")).map_err(TrainerError::model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lora_counts_match_peft() {
        // Qwen3-4B, r 16 on all seven projections: 33,030,144 (PEFT's count).
        let c = Qwen3Config::new(151_936, 2560, 9728, 36, 32, 8, 128, true).unwrap();
        let all = vec!["all-linear".to_string()];
        assert_eq!(lora_params(&c, 16, &all), 33_030_144);
        let qv = vec!["q_proj".to_string(), "v_proj".to_string()];
        assert_eq!(lora_params(&c, 8, &qv), 36 * 8 * ((2560 + 4096) + (2560 + 1024)));
        // 4.02 B parameters (tied embeddings).
        assert_eq!(c.num_params(), 4_022_468_096);
    }
}
