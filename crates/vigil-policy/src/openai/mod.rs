//! The OpenAI chat-completions protocol on both sides: [`OpenAiPolicy`], a [`vigil_core::Policy`]
//! that asks an OpenAI-compatible server (vLLM, SGLang, `exp serve`) for rollouts or
//! evaluations, and [`serve`], the server `exp serve` runs over the burn Qwen3. Both speak the
//! wire types of [`protocol`].

mod client;
pub mod protocol;
pub mod serve;

use thiserror::Error;

pub use client::{HttpError, OpenAiConfig, OpenAiPolicy, OpenAiPolicyConfig};

/// What stops a client or a server from starting or serving.
#[derive(Debug, Error)]
pub enum OpenAiError {
    /// A setting of `[trainer.rollout]`, `[policy] kind = "openai"` or `exp serve` that cannot be
    /// used.
    #[error("{field}: {reason}")]
    Config {
        /// Dotted key (`rollout.base_url`, `policy.max_new_tokens`, `serve.max_batch`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Loading the model or an adapter failed.
    #[error("model: {0}")]
    Model(#[from] crate::ModelError),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] vigil_tokenizer::TokenizerError),
    /// The client could not be built.
    #[error("policy: {0}")]
    Policy(#[from] vigil_core::PolicyError),
    /// The adapter root, the listening socket or the worker thread failed.
    #[error("{what}: {source}")]
    Io {
        /// The path, `<socket>` or `<thread>`.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A [`OpenAiError::Config`] about `field`.
pub(crate) fn config_error(field: impl Into<String>, reason: impl Into<String>) -> OpenAiError {
    OpenAiError::Config { field: field.into(), reason: reason.into() }
}

/// An I/O error about `what`.
pub(crate) fn io_error(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> OpenAiError {
    move |source| OpenAiError::Io { what: what.to_string(), source }
}
