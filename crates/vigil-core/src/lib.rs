//! Vigil's shared vocabulary.
//!
//! Every other crate speaks in these types: a [`RewardVector`] of named components (GDPO needs
//! each component separately, never only the sum), a [`RewardBatch`] of grouped rollouts for the
//! advantage estimators, and the four seams of the framework:
//!
//! - [`Environment`] / [`Episode`]: text-in, text-out episodes that end in an [`Outcome`];
//! - [`RewardComponent`]: one named, bounded reward computed from an environment's graded episode;
//! - [`AdvantageEstimator`]: grouped reward vectors to one advantage per rollout;
//! - [`Policy`]: batched generation that returns tokens and their log-probs.
//!
//! The crate is plain Rust: no burn, no tokenizers, so everything downstream of it stays fast to
//! compile and to property-test.

mod advantage;
pub mod auth;
mod batch;
pub mod civil;
mod driver;
mod env;
mod env_metrics;
pub mod hacking;
mod io;
mod policy;
mod reward;
mod rng;
mod roles;

pub use advantage::AdvantageEstimator;
pub use batch::{BatchError, RewardBatch};
pub use driver::{DriverError, DriverLimits, EpisodeRecord, run_episodes, run_episodes_by_role};
pub use env::{
    ChatMessage, EnvError, Environment, Episode, EpisodeOptions, Outcome, Prediction, Role, Split,
    Step, TaskId,
};
pub use env_metrics::{Confusion, EnvMetrics, EnvSummary, Frontier, MetricInfo, MetricSource};
pub use hacking::{DetectorInfo, HackingFlags, hacking_rates, keyword_count, last_answer};
pub use io::{write_atomic, write_json_atomic};
pub use policy::{FinishReason, Generation, GenerationRequest, Policy, PolicyError};
pub use reward::{ComponentInfo, RewardComponent, RewardVector, score_components};
pub use rng::{SeedStream, derive_seed, rng_from_seed};
pub use roles::{RoleInfo, role_index};
