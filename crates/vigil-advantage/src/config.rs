//! `[advantage]` configuration: one serde-tagged variant per estimator.

use serde::{Deserialize, Serialize};

/// Default `epsilon` added to every std before dividing.
pub const DEFAULT_EPSILON: f64 = 1e-6;

fn default_epsilon() -> f64 {
    DEFAULT_EPSILON
}

fn default_true() -> bool {
    true
}

/// Which standard deviation to divide by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StdKind {
    /// Bessel-corrected (divide by `n - 1`), as `torch.std` and every peer framework.
    #[default]
    Sample,
    /// Population std (divide by `n`), as `numpy.std`.
    Population,
}

/// How GRPO scales the centred reward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrpoScale {
    /// Divide by the std of the group (DeepSeekMath GRPO).
    #[default]
    Group,
    /// Divide by the std of all weighted rewards in the batch.
    Batch,
    /// Do not divide (Dr.GRPO).
    None,
}

/// The `[advantage]` section: which estimator, with its own knobs only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdvantageConfig {
    /// Weighted sum of components, group mean baseline, optional std scaling.
    Grpo {
        /// Std used for scaling.
        #[serde(default)]
        scale: GrpoScale,
        /// Added to the std before dividing.
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// Sample or population std.
        #[serde(default)]
        std: StdKind,
    },
    /// GRPO without std scaling (same as `grpo` with `scale = "none"`).
    DrGrpo {},
    /// Group-decoupled normalization: z-score each component within its group, weighted sum,
    /// then (optionally) z-score over the whole batch.
    Gdpo {
        /// Added to the std in both normalization steps.
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// Apply the batch-wise z-score after the weighted sum.
        #[serde(default = "default_true")]
        batch_norm: bool,
        /// Sample or population std (both steps).
        #[serde(default)]
        std: StdKind,
    },
    /// Leave-one-out baseline, no scaling.
    Rloo {},
    /// Group mean baseline, then whitening over the batch.
    ReinforcePpBaseline {
        /// Added to the batch std before dividing.
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        /// Sample or population std.
        #[serde(default)]
        std: StdKind,
    },
}

impl Default for AdvantageConfig {
    fn default() -> Self {
        AdvantageConfig::Gdpo { epsilon: DEFAULT_EPSILON, batch_norm: true, std: StdKind::Sample }
    }
}

/// A config value that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("advantage.epsilon must be finite and >= 0, got {0}")]
pub struct InvalidEpsilon(pub f64);

impl AdvantageConfig {
    /// Checks values serde cannot (a negative or NaN epsilon).
    pub fn validate(&self) -> Result<(), InvalidEpsilon> {
        let eps = match *self {
            AdvantageConfig::Grpo { epsilon, .. }
            | AdvantageConfig::Gdpo { epsilon, .. }
            | AdvantageConfig::ReinforcePpBaseline { epsilon, .. } => epsilon,
            AdvantageConfig::DrGrpo {} | AdvantageConfig::Rloo {} => 0.0,
        };
        if eps.is_finite() && eps >= 0.0 { Ok(()) } else { Err(InvalidEpsilon(eps)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tagged_toml_and_rejects_unknown_keys() {
        let c: AdvantageConfig = toml::from_str("kind = \"gdpo\"\nepsilon = 1e-4").unwrap();
        assert_eq!(c, AdvantageConfig::Gdpo { epsilon: 1e-4, batch_norm: true, std: StdKind::Sample });
        let c: AdvantageConfig = toml::from_str("kind = \"grpo\"\nscale = \"none\"").unwrap();
        assert!(matches!(c, AdvantageConfig::Grpo { scale: GrpoScale::None, .. }));
        let e = toml::from_str::<AdvantageConfig>("kind = \"gdpo\"\nbatchnorm = true").unwrap_err();
        assert!(e.to_string().contains("unknown field `batchnorm`"), "{e}");
        let e = toml::from_str::<AdvantageConfig>("kind = \"rloo\"\nepsilon = 1.0").unwrap_err();
        assert!(e.to_string().contains("unknown field `epsilon`"), "{e}");
        let e = toml::from_str::<AdvantageConfig>("kind = \"ppo\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `ppo`"), "{e}");
    }

    #[test]
    fn rejects_bad_epsilon() {
        let c = AdvantageConfig::Gdpo { epsilon: -1.0, batch_norm: true, std: StdKind::Sample };
        assert_eq!(c.validate(), Err(InvalidEpsilon(-1.0)));
    }
}
