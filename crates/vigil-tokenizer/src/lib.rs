//! Hugging Face tokenizer folders and the Qwen3 chat template, rendered exactly as transformers'
//! `apply_chat_template` does, in plain Rust.
//!
//! - [`ChatTokenizer`] loads `tokenizer.json` (via the `tokenizers` crate), `tokenizer_config.json`
//!   (chat template, eos/pad tokens, added tokens), `chat_template.jinja` and
//!   `generation_config.json`, from a folder or a model id in the local HF cache
//!   ([`resolve_model_dir`]; never the network).
//! - [`Message`] / [`ChatOptions`] are the inputs of `apply_chat_template`; the Qwen3 logic
//!   (reasoning kept only after the last query, tool calls, tool responses, `enable_thinking`)
//!   lives in `qwen3.rs`.
//! - [`build_tiny_tokenizer`] trains a small byte-level BPE with Qwen's special tokens and chat
//!   template, so tests and the CPU quickstart use the same code path with no download.

mod config;
mod error;
mod hub;
mod message;
mod pyjson;
mod qwen3;
mod rendered;
mod template;
mod tiny;
mod tokenizer;

pub use config::{GenerationConfig, TokenizerConfig};
pub use error::{Result, TokenizerError};
pub use hub::{hub_cache_dir, resolve_model_dir};
pub use message::{Message, ToolCall};
pub use qwen3::{ChatOptions, QWEN3_CHAT_TEMPLATE};
pub use rendered::Rendered;
pub use template::{ChatTemplate, ChatTemplateKind};
pub use tiny::{QWEN_SPECIAL_TOKENS, TinyTokenizer, build_tiny_tokenizer};
pub use tokenizer::ChatTokenizer;
