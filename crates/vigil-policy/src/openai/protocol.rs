//! The OpenAI chat-completions wire format, as far as Vigil speaks it: the client
//! ([`super::OpenAiPolicy`]) and the server of `exp serve` ([`super::serve`]) share these types.
//!
//! Requests are strict (`deny_unknown_fields`: a typo'd option is a 400 naming it, not a
//! silently ignored knob); responses are read leniently, since vLLM and SGLang add fields.

use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, Role};

/// One chat message on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: Role,
    /// Text (a `null` content reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub content: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl From<&ChatMessage> for WireMessage {
    fn from(m: &ChatMessage) -> Self {
        Self { role: m.role, content: m.content.clone() }
    }
}

impl From<&WireMessage> for ChatMessage {
    fn from(m: &WireMessage) -> Self {
        ChatMessage::new(m.role, m.content.clone())
    }
}

/// vLLM's `chat_template_kwargs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTemplateKwargs {
    /// Qwen3's thinking switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_thinking: Option<bool>,
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// Served model or LoRA adapter name.
    pub model: String,
    /// The conversation.
    pub messages: Vec<WireMessage>,
    /// Token budget (legacy name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Token budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<usize>,
    /// 0 = greedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// vLLM extension; −1 or 0 = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Return per-token log-probs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// Alternatives per position (only 0 is served by `exp serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Completions per request (only 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Streaming (not served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// vLLM extension: log-prob tokens as `token_id:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_tokens_as_token_ids: Option<bool>,
    /// vLLM extension: template switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template_kwargs: Option<ChatTemplateKwargs>,
}

/// One token's log-prob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// Token text, or `token_id:<id>`.
    pub token: String,
    /// Log-prob under the model.
    pub logprob: f32,
    /// UTF-8 bytes of the token, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Vec<u8>>,
    /// Alternatives (always empty from `exp serve`).
    #[serde(default)]
    pub top_logprobs: Vec<serde_json::Value>,
}

/// Log-probs of a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceLogprobs {
    /// One entry per generated token (the stop token excluded).
    #[serde(default)]
    pub content: Option<Vec<TokenLogprob>>,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// 0.
    pub index: u32,
    /// The assistant message.
    pub message: WireMessage,
    /// `stop` or `length`.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// When asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<ChoiceLogprobs>,
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Generated tokens.
    pub completion_tokens: usize,
    /// Sum.
    pub total_tokens: usize,
}

/// The response of `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// `chatcmpl-…`.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// Completions.
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
}

/// `POST /v1/load_lora_adapter` (vLLM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadLora {
    /// Name requests will use as `model`.
    pub lora_name: String,
    /// PEFT adapter folder, as the server sees it.
    pub lora_path: String,
}

/// `POST /v1/unload_lora_adapter` (vLLM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnloadLora {
    /// The adapter's name.
    pub lora_name: String,
    /// Ignored (vLLM accepts it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_int_id: Option<u64>,
}

/// An error body as OpenAI servers send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Inside [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Human-readable message.
    pub message: String,
    /// `invalid_request_error`, `not_found_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending parameter, when there is one.
    #[serde(default)]
    pub param: Option<String>,
}

/// Parses `token_id:<id>` (vLLM's `return_tokens_as_token_ids`).
pub fn token_id(token: &str) -> Option<u32> {
    token.strip_prefix("token_id:").and_then(|s| s.parse().ok())
}
