//! The policy seam: batched generation with log-probs.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{ChatMessage, TaskId};

/// One conversation to continue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRequest {
    /// The task the conversation belongs to (scripted baselines read their ground truth by it).
    pub task: TaskId,
    /// The conversation so far; the policy writes the next assistant message.
    pub messages: Vec<ChatMessage>,
    /// Seed for this request's sampling, derived from the run seed by the caller.
    pub seed: u64,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A stop token was produced.
    Stop,
    /// The token budget ran out.
    Length,
}

/// One generated assistant message.
///
/// Model policies fill the token fields; scripted policies leave them empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// The assistant text (without the stop token).
    pub text: String,
    /// Prompt token ids as the model saw them (chat template applied).
    pub prompt_tokens: Vec<u32>,
    /// Generated token ids (including the stop token when `finish == Stop`).
    pub tokens: Vec<u32>,
    /// Log-prob of each generated token under the sampling distribution (temperature, top-k/p).
    pub sample_logprobs: Vec<f32>,
    /// Log-prob of each generated token under the unmodified model distribution.
    pub model_logprobs: Vec<f32>,
    /// Why generation stopped.
    pub finish: FinishReason,
}

impl Generation {
    /// A text-only generation (scripted policies).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            prompt_tokens: Vec::new(),
            tokens: Vec::new(),
            sample_logprobs: Vec::new(),
            model_logprobs: Vec::new(),
            finish: FinishReason::Stop,
        }
    }
}

/// Failures while generating.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// A scripted policy was asked about a task it has no data for.
    #[error("policy has no data for task `{0}`")]
    UnknownTask(TaskId),
    /// The request cannot be served (e.g. prompt longer than the context window).
    #[error("bad generation request: {0}")]
    BadRequest(String),
    /// A backend-specific error (burn, HTTP, ...), with its typed source.
    #[error("{policy}: {source}")]
    Backend {
        /// Policy name.
        policy: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Anything that writes the next assistant message for a batch of conversations.
pub trait Policy: Send {
    /// Short name for logs and reports.
    fn name(&self) -> String;

    /// Continues every conversation in `requests`; one [`Generation`] per request, in order.
    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError>;
}
