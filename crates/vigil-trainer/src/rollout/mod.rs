//! Who writes the rollouts: the in-process burn sampler (default) or an OpenAI-compatible HTTP
//! server (vLLM, SGLang, `exp serve`; the client is `vigil_policy::openai`). Either way the
//! trainer recomputes the log-probs it differentiates in burn; the backend only has to return
//! text and token ids.

mod sampler;

use serde::{Deserialize, Serialize};
pub use vigil_policy::chat::{GenerationSettings, end_of_turn, prompt_tokens};
use vigil_policy::openai::{OpenAiConfig, OpenAiError};

pub use sampler::BurnPolicy;

use crate::error::ConfigError;
use crate::learner::FinetuneConfig;

/// The `[trainer.rollout]` section; `backend` picks the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum RolloutConfig {
    /// Sample with the policy being trained, in this process (KV-cached burn sampler).
    Burn {},
    /// Ask an OpenAI-compatible chat-completions server.
    Openai(OpenAiConfig),
}

impl Default for RolloutConfig {
    fn default() -> Self {
        Self::Burn {}
    }
}

impl RolloutConfig {
    /// Range checks, and combinations the backend cannot serve.
    pub fn validate(&self, finetune: &FinetuneConfig) -> Result<(), ConfigError> {
        match self {
            Self::Burn {} => Ok(()),
            Self::Openai(c) => {
                c.validate().map_err(|e| match e {
                    OpenAiError::Config { field, reason } => ConfigError::new(field, reason),
                    other => ConfigError::new("rollout", other.to_string()),
                })?;
                if c.lora_hot_load && !finetune.is_lora() {
                    return Err(ConfigError::new(
                        "rollout.lora_hot_load",
                        "hot-loading sends LoRA adapters to the server; it needs finetune.kind = \"lora\"",
                    ));
                }
                Ok(())
            }
        }
    }
}
