//! The trained model: which weights learn (LoRA factors or everything), their optimizer, the
//! frozen reference, and how they are saved and restored.
//!
//! The reference for the KL term is the policy as it was when RL started. With LoRA that is a
//! `valid()` snapshot whose base tensors are the *same* buffers as the policy's (burn tensors
//! are immutable and shared; only the adapter factors are new), so it costs an adapter, not a
//! second model. With no warm-start the reference is simply the base (`adapters = false`).

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use vigil_policy::lora::{Adapter, LoraConfig, ModuleSelector, apply_adapter, init_adapter, save_adapter};
use vigil_policy::{ComputeDtype, FileDtype, Qwen3, TensorSpec, Trainable, expected_tensors, load_qwen3, set_trainable, write_streaming};

use crate::error::{ConfigError, TrainerError};
use crate::optim::{AdamW, AdamWConfig, GradAccumulator};

fn default_r() -> usize {
    16
}
fn default_alpha() -> f64 {
    32.0
}
fn default_targets() -> Vec<String> {
    ["q_proj", "k_proj", "v_proj", "o_proj"].map(String::from).to_vec()
}

/// The `finetune` key: what the optimizer updates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FinetuneConfig {
    /// PEFT LoRA on the named projections; the base stays frozen.
    Lora {
        /// Rank.
        #[serde(default = "default_r")]
        r: usize,
        /// Scale numerator (`alpha / r`, or `alpha / √r` with rsLoRA).
        #[serde(default = "default_alpha")]
        alpha: f64,
        /// Projection names (`q_proj`, ..., `down_proj`) or `["all-linear"]`.
        #[serde(default = "default_targets")]
        target_modules: Vec<String>,
        /// rsLoRA scaling.
        #[serde(default)]
        use_rslora: bool,
    },
    /// Every weight (small models: the quickstart).
    Full {},
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self::Lora { r: default_r(), alpha: default_alpha(), target_modules: default_targets(), use_rslora: false }
    }
}

impl FinetuneConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Self::Lora { r, alpha, target_modules, .. } = self {
            if *r == 0 {
                return Err(ConfigError::new("finetune.r", "must be ≥ 1"));
            }
            if !(alpha.is_finite() && *alpha > 0.0) {
                return Err(ConfigError::new("finetune.alpha", format!("must be > 0, got {alpha}")));
            }
            if target_modules.is_empty() {
                return Err(ConfigError::new("finetune.target_modules", "must name at least one projection"));
            }
        }
        Ok(())
    }

    /// The PEFT config of a LoRA run.
    pub fn lora(&self) -> Result<Option<LoraConfig>, TrainerError> {
        match self {
            Self::Full {} => Ok(None),
            Self::Lora { r, alpha, target_modules, use_rslora } => {
                let sel = if target_modules.len() == 1 && target_modules[0] == "all-linear" {
                    ModuleSelector::AllLinear
                } else {
                    ModuleSelector::Names(target_modules.clone())
                };
                let mut c = LoraConfig::new(*r, *alpha, sel).map_err(TrainerError::model)?;
                c.use_rslora = *use_rslora;
                Ok(Some(c))
            }
        }
    }

    /// Whether only adapters train.
    pub fn is_lora(&self) -> bool {
        matches!(self, Self::Lora { .. })
    }
}

/// Where the starting weights come from.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSource {
    /// Hugging Face model folder (resolved).
    pub model_dir: PathBuf,
    /// PEFT adapter to start from (LoRA runs), instead of a fresh one.
    pub adapter: Option<PathBuf>,
    /// Compute dtype.
    pub dtype: ComputeDtype,
}

/// The model being trained, with its optimizer and reference.
pub struct Learner<B: AutodiffBackend> {
    /// Policy weights (adapter attached for LoRA).
    pub model: Qwen3<B>,
    /// Optimizer of the current phase.
    pub opt: AdamW<B>,
    /// Gradients of the current update.
    pub acc: GradAccumulator<B>,
    /// Frozen reference snapshot; `None` = the base via `adapters = false` (or no KL at all).
    pub reference: Option<Qwen3<B::InnerBackend>>,
    /// LoRA or full.
    pub lora: bool,
    /// Compute dtype.
    pub dtype: ComputeDtype,
}

impl<B: AutodiffBackend> std::fmt::Debug for Learner<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner").field("lora", &self.lora).field("opt", &self.opt).finish()
    }
}

impl<B: AutodiffBackend> Learner<B> {
    /// Loads the base and attaches the trainable part: the given adapter, a fresh seeded one, or
    /// every weight. `weights`, when given, is a saved policy (a checkpoint's adapter folder, or
    /// a full-weights folder) that replaces the starting point.
    pub fn load(
        src: &ModelSource,
        finetune: &FinetuneConfig,
        weights: Option<&Path>,
        adamw: &AdamWConfig,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, TrainerError> {
        let lora = finetune.lora()?;
        let model = match (&lora, weights) {
            (None, Some(dir)) => set_trainable(load_qwen3::<B>(dir, src.dtype, device).map_err(TrainerError::model)?, Trainable::All),
            (None, None) => {
                set_trainable(load_qwen3::<B>(&src.model_dir, src.dtype, device).map_err(TrainerError::model)?, Trainable::All)
            }
            (Some(cfg), w) => {
                let base = load_qwen3::<B>(&src.model_dir, src.dtype, device).map_err(TrainerError::model)?;
                match w.or(src.adapter.as_deref()) {
                    Some(dir) => {
                        let a = Adapter::load(dir).map_err(TrainerError::model)?;
                        apply_adapter(base, &a, src.dtype).map_err(TrainerError::model)?
                    }
                    None => init_adapter(base, cfg.clone(), src.dtype, seed).map_err(TrainerError::model)?,
                }
            }
        };
        Ok(Self {
            model,
            opt: AdamW::new(adamw.clone()),
            acc: GradAccumulator::default(),
            reference: None,
            lora: lora.is_some(),
            dtype: src.dtype,
        })
    }

    /// The current policy without gradient tracking (for sampling and no-grad forwards).
    pub fn snapshot(&self) -> Qwen3<B::InnerBackend> {
        self.model.valid()
    }

    /// Freezes the current policy as the KL reference.
    pub fn freeze_reference(&mut self) {
        self.reference = Some(self.model.valid());
    }

    /// One optimizer update with the accumulated gradients; returns the pre-clip norm.
    pub fn update(&mut self, lr: f64, max_norm: Option<f64>) -> f64 {
        let model = self.model.clone();
        let (model, norm) = self.opt.step(model, &mut self.acc, lr, max_norm);
        self.model = model;
        norm
    }

    /// Writes the policy: a PEFT adapter folder (LoRA) or a Hugging Face model folder (full),
    /// plus the tokenizer files so the folder is usable on its own.
    pub fn save(&self, dir: &Path, tokenizer_dir: &Path) -> Result<(), TrainerError> {
        std::fs::create_dir_all(dir).map_err(|e| TrainerError::io(dir, e))?;
        if self.lora {
            save_adapter(&self.model, dir).map_err(TrainerError::model)?;
        } else {
            save_full(&self.model, dir)?;
        }
        copy_tokenizer(tokenizer_dir, dir)
    }
}

/// Writes every weight of `model` as an HF folder (`config.json` + `model.safetensors`, f32),
/// streaming one tensor at a time.
pub fn save_full<B: Backend>(model: &Qwen3<B>, dir: &Path) -> Result<(), TrainerError> {
    let table = expected_tensors(&model.config);
    let specs: Vec<TensorSpec> =
        table.iter().map(|(n, s)| TensorSpec { name: n.clone(), dtype: FileDtype::F32, shape: s.clone() }).collect();
    let projections = model.projections();
    let fetch = |name: &str| -> Vec<f32> {
        let host2 = |t: Tensor<B, 2>| crate::logprobs::host(t);
        let host1 = |t: Tensor<B, 1>| crate::logprobs::host(t);
        if name == "model.embed_tokens.weight" {
            return host2(model.model.embed_tokens.val());
        }
        if name == "model.norm.weight" {
            return host1(model.model.norm.weight.val());
        }
        if let Some((path, kind)) = name.rsplit_once('.') {
            if let Some((_, p)) = projections.iter().find(|(pp, _)| pp == path) {
                return match kind {
                    "bias" => p.bias.as_ref().map(|b| host1(b.val())).unwrap_or_default(),
                    _ => host2(p.hf_weight()),
                };
            }
            // Norms inside a layer: model.layers.N.<norm>.weight
            let parts: Vec<&str> = path.split('.').collect();
            if parts.len() >= 4 && parts[1] == "layers" {
                if let Ok(i) = parts[2].parse::<usize>() {
                    let l = &model.model.layers[i];
                    let w = match parts[3..].join(".").as_str() {
                        "input_layernorm" => Some(l.input_layernorm.weight.val()),
                        "post_attention_layernorm" => Some(l.post_attention_layernorm.weight.val()),
                        "self_attn.q_norm" => Some(l.self_attn.q_norm.weight.val()),
                        "self_attn.k_norm" => Some(l.self_attn.k_norm.weight.val()),
                        _ => None,
                    };
                    if let Some(w) = w {
                        return host1(w);
                    }
                }
            }
        }
        Vec::new()
    };
    // Resolve every name first so a missing one is an error, not a short file.
    for s in &specs {
        let n = fetch(&s.name).len();
        if n != s.shape.iter().product::<usize>() {
            return Err(TrainerError::checkpoint(dir, format!("cannot read weight `{}` from the model", s.name)));
        }
    }
    let file = dir.join("model.safetensors");
    write_streaming(&file, &specs, |i| fetch(&specs[i].name)).map_err(TrainerError::model)?;
    let cfg = dir.join("config.json");
    vigil_core::write_json_atomic(&cfg, &model.config.to_hf_json(ComputeDtype::F32)).map_err(|e| TrainerError::io(&cfg, e))
}

/// Tokenizer files copied next to saved weights.
const TOKENIZER_FILES: [&str; 5] =
    ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja", "special_tokens_map.json"];

/// Copies the tokenizer files that exist in `from` into `to` (atomically each).
pub fn copy_tokenizer(from: &Path, to: &Path) -> Result<(), TrainerError> {
    if from == to {
        return Ok(());
    }
    for f in TOKENIZER_FILES {
        let src = from.join(f);
        if src.is_file() {
            let bytes = std::fs::read(&src).map_err(|e| TrainerError::io(&src, e))?;
            let dst = to.join(f);
            vigil_core::write_atomic(&dst, &bytes).map_err(|e| TrainerError::io(&dst, e))?;
        }
    }
    Ok(())
}
