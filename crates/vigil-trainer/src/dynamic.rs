//! Dynamic sampling (DAPO): drop groups that carry no learning signal and sample more prompts.
//!
//! A group is uninformative when *every* weighted reward component is constant across its
//! rollouts: then every group-baselined estimator gives it zero advantage. The test is per
//! component, never on the weighted sum: two rollouts with vectors (1, 0) and (0, 1) have the
//! same sum but are exactly what GDPO is meant to tell apart.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

fn default_rounds() -> usize {
    4
}

/// The `[trainer.dynamic_sampling]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicSamplingConfig {
    /// Most sampling rounds per step (the first included); a step trains on the informative
    /// groups it has after that many rounds, or is skipped when it has none.
    #[serde(default = "default_rounds")]
    pub max_rounds: usize,
}

impl DynamicSamplingConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_rounds == 0 {
            return Err(ConfigError::new("dynamic_sampling.max_rounds", "must be ≥ 1"));
        }
        Ok(())
    }
}

/// Whether a group (`[rollout][component]`, gated values) has a weighted component that varies.
pub fn informative(group: &[Vec<f64>], weights: &[f64]) -> bool {
    let Some(first) = group.first() else { return false };
    (0..first.len()).any(|n| weights.get(n).is_some_and(|&w| w != 0.0) && group.iter().any(|r| r[n] != first[n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_component_not_by_sum() {
        let w = [1.0, 1.0];
        // Same sum (1), different composition: informative.
        assert!(informative(&[vec![1.0, 0.0], vec![0.0, 1.0]], &w));
        // Every component constant: not.
        assert!(!informative(&[vec![1.0, 0.5], vec![1.0, 0.5], vec![1.0, 0.5]], &w));
        // Only a zero-weight component varies: not.
        assert!(!informative(&[vec![1.0, 0.0], vec![1.0, 3.0]], &[1.0, 0.0]));
        assert!(!informative(&[], &w));
        assert!(DynamicSamplingConfig { max_rounds: 0 }.validate().is_err());
    }
}
