//! SFT warm-start and GRPO/GDPO training with LoRA (or full fine-tuning) through burn autodiff.
//!
//! A run ([`train`]) joins an environment, a reward set, an advantage estimator and a Qwen3
//! policy, all chosen in the experiment config:
//!
//! - [`sft`]: cross-entropy on the environment's gold answers, prompt tokens masked;
//! - [`rl`]: one step = rollout (B prompts × G completions through `vigil_core::run_episodes`,
//!   multi-turn included) → reward vectors → advantages → [`update`] (clipped surrogate, KL,
//!   aggregation from [`loss`]) → a line of `metrics.jsonl` ([`metrics`]);
//! - [`curriculum`]: ordered stages and the deterministic prompt order; [`dynamic`] sampling;
//! - [`checkpoint`]: atomic checkpoints (weights, [`optim`] state, progress) and exact resume;
//! - [`rollout`]: the in-process burn sampler or an OpenAI-compatible server (the client and the
//!   server `exp serve` runs live in `vigil_policy::openai`);
//! - [`selfplay`]: self-play of multi-role environments, each role credited with its own
//!   reward vector and estimator;
//! - [`scratch`]: a tokenizer and a random model built from nothing (the CPU quickstart);
//! - [`estimate`]: parameter counts and memory estimates for `exp run --dry-run`.

pub mod aggregate;
pub mod batch;
pub mod checkpoint;
mod config;
pub mod curriculum;
pub mod dynamic;
mod error;
pub mod estimate;
pub mod learner;
pub mod logprobs;
pub mod loss;
pub mod metrics;
pub mod optim;
pub mod rl;
pub mod rollout;
pub mod schedule;
pub mod scratch;
pub mod selfplay;
pub mod sft;
pub mod sft_cache;
mod trainer;
pub mod update;

pub use config::{DEFAULT_STEPS, TrainerConfig, TrainerConfigError};
pub use error::{ConfigError, TrainerError};
pub use learner::{FinetuneConfig, ModelSource};
pub use rollout::{BurnPolicy, GenerationSettings, RolloutConfig};
pub use trainer::{FINAL_POLICY, NoHooks, SFT_POLICY, TrainHooks, TrainOutcome, TrainSpec, train};
