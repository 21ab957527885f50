//! The `[trainer]` section.

use serde::{Deserialize, Serialize};
use thiserror::Error;

fn default_steps() -> u32 {
    100
}
fn default_lr() -> f64 {
    1e-5
}
fn default_group() -> usize {
    8
}
fn default_batch() -> usize {
    8
}

/// Hyper-parameters of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerConfig {
    /// RL optimizer steps.
    #[serde(default = "default_steps")]
    pub steps: u32,
    /// Peak learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Completions per prompt (G).
    #[serde(default = "default_group")]
    pub group_size: usize,
    /// Prompts per step (B).
    #[serde(default = "default_batch")]
    pub batch_prompts: usize,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self { steps: default_steps(), lr: default_lr(), group_size: default_group(), batch_prompts: default_batch() }
    }
}

/// A `[trainer]` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrainerConfigError {
    /// A field is out of its range.
    #[error("trainer.{field}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl TrainerConfig {
    /// Checks ranges serde cannot.
    pub fn validate(&self) -> Result<(), TrainerConfigError> {
        let bad = |field, reason: String| Err(TrainerConfigError::Invalid { field, reason });
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("must be a positive number, got {}", self.lr));
        }
        if self.group_size < 2 {
            return bad("group_size", format!("must be at least 2 (a group baseline needs two rollouts), got {}", self.group_size));
        }
        if self.batch_prompts == 0 {
            return bad("batch_prompts", "must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_keys_fail() {
        TrainerConfig::default().validate().unwrap();
        let c: TrainerConfig = toml::from_str("lr = 2e-6\ngroup_size = 4").unwrap();
        assert_eq!((c.lr, c.group_size, c.steps), (2e-6, 4, 100));
        assert!(toml::from_str::<TrainerConfig>("lrr = 1").unwrap_err().to_string().contains("unknown field `lrr`"));
        let c = TrainerConfig { group_size: 1, ..TrainerConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("group_size"));
    }
}
