//! The trainer's typed errors: each names the file, field, task or URL it is about.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A `[trainer]` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("trainer.{field}: {reason}")]
pub struct ConfigError {
    /// Dotted key below `[trainer]`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Everything that can stop a training run.
#[derive(Debug, Error)]
pub enum TrainerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Loading, running or saving the model failed.
    #[error("model: {0}")]
    Model(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] vigil_tokenizer::TokenizerError),
    /// The environment failed.
    #[error("environment: {0}")]
    Env(#[from] vigil_core::EnvError),
    /// Running episodes failed.
    #[error("rollout: {0}")]
    Driver(#[from] vigil_core::DriverError),
    /// A policy call failed outside the episode driver.
    #[error("policy: {0}")]
    Policy(#[from] vigil_core::PolicyError),
    /// Rewards could not be turned into advantages.
    #[error("advantage: {0}")]
    Batch(#[from] vigil_core::BatchError),
    /// An episode's reward vector does not fit `[rewards]`.
    #[error("rewards: {0}")]
    Reward(String),
    /// A self-play run cannot be set up or played (an environment without roles or forks, a
    /// role without a player).
    #[error("self-play: {0}")]
    SelfPlay(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint is missing, torn or does not match the config.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment split or stage has no tasks to train on.
    #[error("no training tasks in {what}")]
    NoTasks {
        /// Which split/stage.
        what: String,
    },
    /// A hook (evaluation, progress) failed.
    #[error("{0}")]
    Hook(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The loss or a gradient became NaN or infinite.
    #[error("non-finite {what} at step {step}")]
    NonFinite {
        /// Loss, gradient norm, ...
        what: &'static str,
        /// The step.
        step: u64,
    },
}

impl TrainerError {
    /// An I/O error about `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
    /// A checkpoint error about `path`.
    pub fn checkpoint(path: &Path, message: impl Into<String>) -> Self {
        Self::Checkpoint { path: path.to_path_buf(), message: message.into() }
    }
    /// Wraps a model-side error.
    pub fn model(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Model(Box::new(e))
    }
}
