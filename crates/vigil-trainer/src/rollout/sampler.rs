//! [`vigil_core::Policy`] over an in-memory burn Qwen3: chat template → KV-cached sampling →
//! text plus token ids and log-probs. Used for rollouts, for evaluation during training, and by
//! `exp serve`.

use std::collections::HashSet;
use std::sync::Arc;

use burn::prelude::*;
use vigil_core::{Generation, GenerationRequest, Policy, PolicyError};
use vigil_policy::{GenerateOptions, Qwen3, Sampler};
use vigil_policy::chat::{GenerationSettings, prompt_tokens};
use vigil_tokenizer::ChatTokenizer;

/// A policy backed by a burn model held in memory.
pub struct BurnPolicy<B: Backend> {
    model: Qwen3<B>,
    tokenizer: Arc<ChatTokenizer>,
    settings: GenerationSettings,
    adapters: bool,
    label: String,
}

impl<B: Backend> std::fmt::Debug for BurnPolicy<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurnPolicy").field("label", &self.label).field("settings", &self.settings).finish()
    }
}

impl<B: Backend> BurnPolicy<B> {
    /// A policy over `model` (`adapters = false` runs the base without its LoRA factors).
    pub fn new(model: Qwen3<B>, tokenizer: Arc<ChatTokenizer>, settings: GenerationSettings, adapters: bool, label: impl Into<String>) -> Self {
        Self { model, tokenizer, settings, adapters, label: label.into() }
    }

    /// Generates for one batch of prompts with per-request seeds and settings.
    pub fn complete(&self, prompts: &[Vec<u32>], seeds: &[u64], settings: &GenerationSettings) -> Result<Vec<Generation>, PolicyError> {
        let backend = |e: vigil_policy::ModelError| PolicyError::Backend { policy: "burn", source: Box::new(e) };
        let mut samplers = seeds.iter().map(|&s| Sampler::new(settings.sampling, s)).collect::<Result<Vec<_>, _>>().map_err(backend)?;
        let opts = GenerateOptions {
            max_new_tokens: settings.max_new_tokens,
            stop_tokens: self.tokenizer.stop_token_ids().iter().chain(&self.model.config.eos_token_ids).copied().collect::<HashSet<u32>>(),
            use_cache: true,
            adapters: self.adapters,
        };
        let outs = self.model.generate(prompts, &mut samplers, &opts).map_err(backend)?;
        prompts
            .iter()
            .zip(outs)
            .map(|(prompt, o)| {
                let stopped = o.finish == vigil_core::FinishReason::Stop;
                let body = if stopped { &o.tokens[..o.tokens.len() - 1] } else { &o.tokens[..] };
                let text = self.tokenizer.decode(body, false).map_err(|e| PolicyError::Backend { policy: "burn", source: Box::new(e) })?;
                Ok(Generation {
                    text,
                    prompt_tokens: prompt.clone(),
                    tokens: o.tokens,
                    sample_logprobs: o.sample_logprobs,
                    model_logprobs: o.model_logprobs,
                    finish: o.finish,
                })
            })
            .collect()
    }
}

impl<B: Backend> Policy for BurnPolicy<B>
where
    Qwen3<B>: Send,
{
    fn name(&self) -> String {
        self.label.clone()
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.settings.batch_size.max(1)) {
            let prompts = chunk
                .iter()
                .map(|r| prompt_tokens(&self.tokenizer, &r.messages, self.settings.enable_thinking))
                .collect::<Result<Vec<_>, _>>()?;
            let seeds: Vec<u64> = chunk.iter().map(|r| r.seed).collect();
            out.extend(self.complete(&prompts, &seeds, &self.settings)?);
        }
        Ok(out)
    }
}
