//! `[policy.roles.<role>]`: who plays each role of a multi-role environment in self-play
//! training. Roles not listed play with the trained weights.

use serde::{Deserialize, Serialize};

/// Who plays one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RolePolicyConfig {
    /// The model being trained; every shared role uses the same weights, told apart by the
    /// environment's role prompts.
    Shared {},
    /// The model as it was when RL started (the SFT warm-start, or the base), never updated.
    Frozen {},
    /// A scripted policy of the environment for this role (names as the environment lists).
    Scripted {
        /// The scripted policy's name.
        baseline: String,
    },
}
