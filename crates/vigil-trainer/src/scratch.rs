//! Building a model from nothing: a small byte-level BPE tokenizer trained on the environment's
//! own gold conversations and a randomly initialised Qwen3 of a chosen shape, written as a real
//! Hugging Face folder (the CPU quickstart: no download).

use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_core::Environment;
use vigil_policy::{ComputeDtype, InitOptions, Qwen3Config, write_random_checkpoint};
use vigil_tokenizer::build_tiny_tokenizer;

use crate::error::{ConfigError, TrainerError};
use crate::sft::{SftConfig, gold_turns};

fn vocab() -> usize {
    1024
}
fn corpus() -> usize {
    400
}
fn hidden() -> usize {
    128
}
fn layers() -> usize {
    2
}
fn heads() -> usize {
    4
}
fn kv() -> usize {
    2
}
fn head_dim() -> usize {
    32
}
fn std_dev() -> f32 {
    0.02
}

/// The `[trainer.init]` section: the shape of the from-scratch model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScratchConfig {
    /// Tokenizer ids in total (BPE + Qwen's special tokens).
    #[serde(default = "vocab")]
    pub vocab_size: usize,
    /// Gold conversations the tokenizer is trained on.
    #[serde(default = "corpus")]
    pub corpus_examples: usize,
    /// Residual width.
    #[serde(default = "hidden")]
    pub hidden_size: usize,
    /// SwiGLU width (default 3 × hidden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediate_size: Option<usize>,
    /// Decoder layers.
    #[serde(default = "layers")]
    pub num_hidden_layers: usize,
    /// Query heads.
    #[serde(default = "heads")]
    pub num_attention_heads: usize,
    /// Key/value heads.
    #[serde(default = "kv")]
    pub num_key_value_heads: usize,
    /// Head width.
    #[serde(default = "head_dim")]
    pub head_dim: usize,
    /// Std of the normal init.
    #[serde(default = "std_dev")]
    pub init_std: f32,
}

impl ScratchConfig {
    /// Range checks (the architecture itself is checked by `Qwen3Config::new`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.corpus_examples == 0 {
            return Err(ConfigError::new("init.corpus_examples", "must be ≥ 1"));
        }
        if !(self.init_std.is_finite() && self.init_std > 0.0) {
            return Err(ConfigError::new("init.init_std", "must be > 0"));
        }
        self.qwen3(self.vocab_size).map(|_| ()).map_err(|e| ConfigError::new("init", e.to_string()))
    }

    fn qwen3(&self, vocab: usize) -> Result<Qwen3Config, vigil_policy::ModelError> {
        Qwen3Config::new(
            vocab,
            self.hidden_size,
            self.intermediate_size.unwrap_or(3 * self.hidden_size),
            self.num_hidden_layers,
            self.num_attention_heads,
            self.num_key_value_heads,
            self.head_dim,
            true,
        )
    }
}

/// Whether `dir` already holds a model.
pub fn exists(dir: &Path) -> bool {
    dir.join("config.json").is_file()
}

/// Writes `tokenizer.json`, `tokenizer_config.json`, `config.json` and `model.safetensors` into
/// `dir`. Deterministic in `(env, cfg, seed)`. The weights are written last, so a folder with a
/// `config.json` is complete.
/// `teacher` is the SFT teacher, if any: the corpus is the text the model will be trained on.
pub fn build(
    dir: &Path,
    env: &dyn Environment,
    cfg: &ScratchConfig,
    seed: u64,
    max_turns: u32,
    teacher: Option<&mut (dyn vigil_core::Policy + '_)>,
) -> Result<(), TrainerError> {
    let sft = SftConfig {
        examples: cfg.corpus_examples,
        stages: Vec::new(),
        epochs: 1,
        batch_size: 1,
        grad_accum: 1,
        lr: 1.0,
        warmup_steps: 0,
        schedule: crate::schedule::ScheduleKind::Constant,
        min_lr_ratio: 0.0,
        teacher: None,
        cache: None,
    };
    let turns = gold_turns(env, &sft, vigil_core::derive_seed(seed, "tokenizer-corpus", 0), max_turns, teacher)?;
    let mut corpus = String::new();
    for (msgs, gold) in &turns {
        for m in msgs {
            corpus.push_str(&m.content);
            corpus.push('\n');
        }
        corpus.push_str(gold);
        corpus.push('\n');
    }
    let tok = build_tiny_tokenizer(&corpus, cfg.vocab_size)?;
    std::fs::create_dir_all(dir).map_err(|e| TrainerError::io(dir, e))?;
    tok.write(dir)?;
    let mut config = cfg.qwen3(tok.vocab_size).map_err(TrainerError::model)?;
    config.eos_token_ids = Vec::new();
    let opts = InitOptions { config, dtype: ComputeDtype::F32, seed: vigil_core::derive_seed(seed, "init-weights", 0), std: cfg.init_std };
    write_random_checkpoint(dir, &opts).map_err(TrainerError::model)?;
    tracing::info!(dir = %dir.display(), vocab = tok.vocab_size, "built a tokenizer and a random Qwen3 from scratch");
    Ok(())
}
