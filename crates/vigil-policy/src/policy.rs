//! `[policy] kind = "qwen3"`: the burn Qwen3 behind `vigil_core::Policy`.
//!
//! Chat messages are rendered with the model folder's Qwen3 chat template (vigil-tokenizer),
//! batched with left padding, sampled with one seeded sampler per request (the request's
//! `seed`), and returned with their token ids and both kinds of log-probs.

use std::collections::HashSet;
use std::path::PathBuf;

use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use vigil_core::{Generation, GenerationRequest, Policy, PolicyError};
use vigil_tokenizer::{ChatOptions, ChatTokenizer, Message};

use crate::config::ComputeDtype;
use crate::error::{ModelError, Result};
use crate::generate::GenerateOptions;
use crate::hub::resolve_model_dir;
use crate::load::load_qwen3;
use crate::lora::{Adapter, apply_adapter};
use crate::model::Qwen3;
use crate::sampling::{Sampler, SamplingConfig};

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn-flex on the CPU.
    #[default]
    Cpu,
    /// burn-cuda GPU 0 (needs the `cuda` feature).
    Cuda,
    /// burn-wgpu's default adapter (needs the `wgpu` feature): a Vulkan/Metal/DX12 GPU, or Mesa
    /// lavapipe on a machine without one.
    Wgpu,
}

impl std::str::FromStr for DeviceKind {
    type Err = String;
    /// Parses the names the config uses (`cpu`, `cuda`, `wgpu`), through serde so that the
    /// command line and `[policy] device` accept exactly the same words.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        use serde::de::IntoDeserializer;
        Self::deserialize(s.into_deserializer())
            .map_err(|e: serde::de::value::Error| format!("device `{s}`: {e}"))
    }
}

fn default_max_new_tokens() -> usize {
    512
}
fn one() -> f32 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_batch() -> usize {
    8
}

/// Options of the Qwen3 policy (the `[policy]` section with `kind = "qwen3"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qwen3PolicyConfig {
    /// Model folder or Hugging Face id in the local cache (`Qwen/Qwen3-4B`).
    pub model: String,
    /// Tokenizer folder or id; defaults to the model folder.
    #[serde(default)]
    pub tokenizer: Option<String>,
    /// PEFT LoRA adapter folder.
    #[serde(default)]
    pub adapter: Option<PathBuf>,
    /// Fold the adapter into the weights (faster decoding; inference only).
    #[serde(default)]
    pub merge_adapter: bool,
    /// Compute dtype.
    #[serde(default)]
    pub dtype: ComputeDtype,
    /// Device.
    #[serde(default)]
    pub device: DeviceKind,
    /// New tokens per assistant message at most.
    #[serde(default = "default_max_new_tokens")]
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 = greedy.
    #[serde(default = "one")]
    pub temperature: f32,
    /// Nucleus mass in (0, 1].
    #[serde(default = "one")]
    pub top_p: f32,
    /// Top-k (0 = off).
    #[serde(default)]
    pub top_k: usize,
    /// Qwen3 `enable_thinking` in the chat template.
    #[serde(default = "yes")]
    pub enable_thinking: bool,
    /// Requests decoded together.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// CPU threads for the model's kernels (default: every available core). Results are
    /// bit-identical for a given count; see `set_cpu_threads`.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Longest accepted prompt in tokens (longer requests are `BadRequest`); default: the
    /// model's `max_position_embeddings` minus `max_new_tokens`.
    #[serde(default)]
    pub max_prompt_tokens: Option<usize>,
    /// Self-play training: who plays each role (`[policy.roles.attacker]`, ...); roles not
    /// listed play with the trained weights.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, crate::roles::RolePolicyConfig>,
}

impl Qwen3PolicyConfig {
    /// Checks every field; errors name the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(ModelError::PolicyConfig {
                field: field.into(),
                message,
            })
        };
        if self.model.trim().is_empty() {
            return bad("model", "must not be empty".into());
        }
        if self.max_new_tokens == 0 {
            return bad("max_new_tokens", "must be > 0".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be > 0".into());
        }
        if self.threads == Some(0) {
            return bad("threads", "must be > 0".into());
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return bad(
                "temperature",
                format!("must be >= 0, got {}", self.temperature),
            );
        }
        self.sampling().validate()
    }

    /// The sampling rule these options describe.
    pub fn sampling(&self) -> SamplingConfig {
        if self.temperature == 0.0 {
            SamplingConfig::Greedy
        } else {
            SamplingConfig::Sample {
                temperature: self.temperature,
                top_k: self.top_k,
                top_p: self.top_p,
            }
        }
    }
}

/// Builds the policy on the configured device.
pub fn build_qwen3_policy(config: &Qwen3PolicyConfig) -> Result<Box<dyn Policy>> {
    config.validate()?;
    match config.device {
        DeviceKind::Cpu => {
            crate::set_cpu_threads(config.threads)?;
            Ok(Box::new(Qwen3Policy::<crate::CpuBackend>::new(
                config,
                &Default::default(),
            )?))
        }
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => Ok(Box::new(Qwen3Policy::<crate::CudaBackend>::new(
            config,
            &Default::default(),
        )?)),
        #[cfg(not(feature = "cuda"))]
        DeviceKind::Cuda => Err(ModelError::PolicyConfig {
            field: "device".into(),
            message: "`cuda` needs a build with the `cuda` feature".into(),
        }),
        #[cfg(feature = "wgpu")]
        DeviceKind::Wgpu => Ok(Box::new(Qwen3Policy::<crate::WgpuBackend>::new(
            config,
            &Default::default(),
        )?)),
        #[cfg(not(feature = "wgpu"))]
        DeviceKind::Wgpu => Err(ModelError::PolicyConfig {
            field: "device".into(),
            message: "`wgpu` needs a build with the `wgpu` feature".into(),
        }),
    }
}

/// The Qwen3 policy on backend `B`.
#[derive(Debug)]
pub struct Qwen3Policy<B: Backend> {
    model: Qwen3<B>,
    tokenizer: ChatTokenizer,
    config: Qwen3PolicyConfig,
    stop: HashSet<u32>,
    max_prompt: usize,
}

impl<B: Backend> Qwen3Policy<B> {
    /// Loads model, adapter and tokenizer.
    pub fn new(config: &Qwen3PolicyConfig, device: &B::Device) -> Result<Self> {
        config.validate()?;
        let dir = resolve_model_dir(&config.model)?;
        let mut model = load_qwen3::<B>(&dir, config.dtype, device)?;
        if let Some(a) = &config.adapter {
            model = apply_adapter(model, &Adapter::load(a)?, config.dtype)?;
            if config.merge_adapter {
                model = model.merge_adapters();
            }
        }
        let tokenizer = match &config.tokenizer {
            Some(t) => ChatTokenizer::load(t)?,
            None => ChatTokenizer::from_dir(&dir)?,
        };
        let mut stop: HashSet<u32> = tokenizer.stop_token_ids().iter().copied().collect();
        stop.extend(model.config.eos_token_ids.iter().copied());
        let max_prompt = config.max_prompt_tokens.unwrap_or_else(|| {
            model
                .config
                .max_position_embeddings
                .saturating_sub(config.max_new_tokens)
        });
        Ok(Self {
            model,
            tokenizer,
            config: config.clone(),
            stop,
            max_prompt,
        })
    }

    /// The loaded model (for evaluation code that also needs log-probs).
    pub fn model(&self) -> &Qwen3<B> {
        &self.model
    }

    fn generate_batch(&self, requests: &[GenerationRequest]) -> Result<Vec<Generation>> {
        let options = ChatOptions::generation(self.config.enable_thinking);
        let mut prompts = Vec::with_capacity(requests.len());
        for r in requests {
            let messages: Vec<Message> = r.messages.iter().map(Message::from).collect();
            let ids = self.tokenizer.encode_chat(&messages, &options)?;
            if ids.len() > self.max_prompt {
                return Err(ModelError::Input(format!(
                    "task `{}`: prompt has {} tokens, more than max_prompt_tokens = {}",
                    r.task,
                    ids.len(),
                    self.max_prompt
                )));
            }
            prompts.push(ids);
        }
        let mut samplers = requests
            .iter()
            .map(|r| Sampler::new(self.config.sampling(), r.seed))
            .collect::<Result<Vec<_>>>()?;
        let opts = GenerateOptions {
            max_new_tokens: self.config.max_new_tokens,
            stop_tokens: self.stop.clone(),
            use_cache: true,
            adapters: true,
        };
        let outs = self.model.generate(&prompts, &mut samplers, &opts)?;
        let mut gens = Vec::with_capacity(outs.len());
        for (prompt, o) in prompts.into_iter().zip(outs) {
            let visible = match o.finish {
                vigil_core::FinishReason::Stop => &o.tokens[..o.tokens.len() - 1],
                vigil_core::FinishReason::Length => &o.tokens[..],
            };
            gens.push(Generation {
                text: self.tokenizer.decode(visible, false)?,
                prompt_tokens: prompt,
                tokens: o.tokens,
                sample_logprobs: o.sample_logprobs,
                model_logprobs: o.model_logprobs,
                finish: o.finish,
            });
        }
        Ok(gens)
    }
}

impl<B: Backend> Policy for Qwen3Policy<B> {
    fn name(&self) -> String {
        format!("qwen3:{}", self.config.model)
    }

    fn generate(
        &mut self,
        requests: &[GenerationRequest],
    ) -> std::result::Result<Vec<Generation>, PolicyError> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.config.batch_size) {
            match self.generate_batch(chunk) {
                Ok(g) => out.extend(g),
                Err(ModelError::Input(m)) => return Err(PolicyError::BadRequest(m)),
                Err(e) => {
                    return Err(PolicyError::Backend {
                        policy: "qwen3",
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(out)
    }
}
