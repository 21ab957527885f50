//! `[policy]`: what writes the assistant messages.

use serde::{Deserialize, Serialize};
use vigil_core::Policy;

use super::BuiltEnv;

/// The `[policy]` section; `kind` picks the policy type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum PolicyConfig {
    /// One of the environment's scripted baselines (`exp eval` lists them on a bad name).
    Scripted {
        /// Baseline name, e.g. `"always_dismiss"` or `"oracle"`.
        baseline: String,
    },
}

impl PolicyConfig {
    /// Validates the policy's own options.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        match self {
            PolicyConfig::Scripted { baseline } => {
                anyhow::ensure!(!baseline.is_empty(), "baseline must not be empty");
                Ok(())
            }
        }
    }

    /// A short label for tables.
    pub(crate) fn label(&self) -> String {
        match self {
            PolicyConfig::Scripted { baseline } => baseline.clone(),
        }
    }

    /// Builds the policy for `env`.
    pub(crate) fn build(&self, env: &BuiltEnv, seed: u64) -> anyhow::Result<Box<dyn Policy>> {
        match self {
            PolicyConfig::Scripted { baseline } => env.baseline(baseline, seed),
        }
    }
}
