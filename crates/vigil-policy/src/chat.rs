//! Chat generation settings and the chat-template helpers every chat policy shares: the burn
//! sampler in the trainer, the OpenAI-compatible client and the server of `exp serve`.

use serde::{Deserialize, Serialize};
use vigil_core::PolicyError;
use vigil_tokenizer::{ChatOptions, ChatTokenizer, Message};

use crate::SamplingConfig;

/// How assistant messages are sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationSettings {
    /// Most new tokens per assistant message.
    pub max_new_tokens: usize,
    /// Token choice.
    pub sampling: SamplingConfig,
    /// Qwen3's `enable_thinking` in the chat template.
    pub enable_thinking: bool,
    /// Most conversations per forward batch.
    pub batch_size: usize,
}

/// The id that closes an assistant turn in the chat template (`<|im_end|>` for Qwen).
pub fn end_of_turn(tokenizer: &ChatTokenizer) -> Option<u32> {
    tokenizer.token_to_id("<|im_end|>").or_else(|| tokenizer.stop_token_ids().first().copied())
}

/// The chat-template prompt of a conversation, as the model sees it.
pub fn prompt_tokens(tokenizer: &ChatTokenizer, messages: &[vigil_core::ChatMessage], enable_thinking: bool) -> Result<Vec<u32>, PolicyError> {
    let msgs: Vec<Message> = messages.iter().map(Message::from).collect();
    tokenizer.encode_chat(&msgs, &ChatOptions::generation(enable_thinking)).map_err(|e| PolicyError::BadRequest(e.to_string()))
}
