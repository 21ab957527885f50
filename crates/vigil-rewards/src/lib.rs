//! Which reward components count, and how much.
//!
//! Environments compute every component they know (a [`RewardVector`]); the experiment's
//! `[rewards]` section decides what the trainer optimizes:
//!
//! ```toml
//! [rewards]
//! weights = { attribution = 1.0, containment = 1.0, injection = 1.0, efficiency = 0.5 }
//!
//! # Optional conditioned reward (GDPO paper, Eq. 8): pay `format` only when `correctness` >= 1.
//! [[rewards.gates]]
//! component = "format"
//! on = "correctness"
//! threshold = 1.0
//! ```
//!
//! An empty `weights` table means every component weighs 1. Components left out of a non-empty
//! table weigh 0: they are still logged and reported, but do not drive the advantage. Raw values
//! are kept next to the weighted total so thresholds and reports always see unnormalized rewards.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use vigil_core::{ComponentInfo, RewardVector};

/// The `[rewards]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardsConfig {
    /// Weight of each named component.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Conditioned rewards, applied in order before weighting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
}

/// Zero `component` unless `on` reaches `threshold` (the harder objective gates the easier one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The component that is paid only conditionally.
    pub component: String,
    /// The component that must reach the threshold.
    pub on: String,
    /// Minimum value of `on` for `component` to be paid.
    pub threshold: f64,
}

/// A `[rewards]` section that does not fit the environment.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RewardError {
    /// A weight or gate names a component the environment does not produce.
    #[error("rewards: unknown component `{name}` in {place}; the environment provides: {available}")]
    UnknownComponent {
        /// The name used.
        name: String,
        /// Where it was used (`weights`, `gates[0].on`, ...).
        place: String,
        /// Comma-separated valid names.
        available: String,
    },
    /// A weight or threshold is NaN or infinite.
    #[error("rewards: {place} must be a finite number, got {value}")]
    NotFinite {
        /// Where.
        place: String,
        /// The value.
        value: f64,
    },
    /// Every weight is zero: nothing to optimize.
    #[error("rewards: every weight is 0, so there is nothing to optimize")]
    AllZero,
    /// An outcome lacks a component the environment promised.
    #[error("reward vector lacks component `{0}`")]
    Missing(String),
}

/// A validated `[rewards]` section bound to an environment's components.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardSet {
    names: Vec<String>,
    weights: Vec<f64>,
    gates: Vec<(usize, usize, f64)>,
}

impl RewardSet {
    /// Binds `config` to the components an environment provides, rejecting unknown names.
    pub fn new(config: &RewardsConfig, components: &[ComponentInfo]) -> Result<Self, RewardError> {
        let names: Vec<String> = components.iter().map(|c| c.name.clone()).collect();
        let available = names.join(", ");
        let index = |name: &str, place: String| {
            names.iter().position(|n| n == name).ok_or_else(|| RewardError::UnknownComponent {
                name: name.to_string(),
                place,
                available: available.clone(),
            })
        };
        let mut weights = vec![if config.weights.is_empty() { 1.0 } else { 0.0 }; names.len()];
        for (k, &w) in &config.weights {
            let i = index(k, "weights".into())?;
            if !w.is_finite() {
                return Err(RewardError::NotFinite { place: format!("weights.{k}"), value: w });
            }
            weights[i] = w;
        }
        if weights.iter().all(|&w| w == 0.0) {
            return Err(RewardError::AllZero);
        }
        let mut gates = Vec::new();
        for (i, g) in config.gates.iter().enumerate() {
            let c = index(&g.component, format!("gates[{i}].component"))?;
            let on = index(&g.on, format!("gates[{i}].on"))?;
            if !g.threshold.is_finite() {
                return Err(RewardError::NotFinite { place: format!("gates[{i}].threshold"), value: g.threshold });
            }
            gates.push((c, on, g.threshold));
        }
        Ok(Self { names, weights, gates })
    }

    /// Component names, in the environment's order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// One weight per component, in the same order.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// `(name, weight)` pairs.
    pub fn named_weights(&self) -> Vec<(String, f64)> {
        self.names.iter().cloned().zip(self.weights.iter().copied()).collect()
    }

    /// The component values the estimator sees (gates applied), in order.
    pub fn values(&self, rewards: &RewardVector) -> Result<Vec<f64>, RewardError> {
        let raw: Vec<f64> = self
            .names
            .iter()
            .map(|n| rewards.get(n).ok_or_else(|| RewardError::Missing(n.clone())))
            .collect::<Result<_, _>>()?;
        let mut out = raw.clone();
        for &(c, on, t) in &self.gates {
            if raw[on] < t {
                out[c] = 0.0;
            }
        }
        Ok(out)
    }

    /// Weighted total of `values` (as returned by [`RewardSet::values`]).
    pub fn total(&self, values: &[f64]) -> f64 {
        values.iter().zip(&self.weights).map(|(v, w)| v * w).sum()
    }

    /// The weighted total of an outcome's rewards, gates applied: the one definition evaluation
    /// summaries and reports use. A component the outcome lacks counts 0 (an episode in which a
    /// role did not play carries none of that role's components: the attacker's on a
    /// defender-only hold-out episode of a self-play run), unless a gate reads it: then the
    /// total is an error. Training reads [`RewardSet::values`], where every component must be
    /// present.
    pub fn weighted_total(&self, rewards: &RewardVector) -> Result<f64, RewardError> {
        let mut filled = rewards.clone();
        for (i, n) in self.names.iter().enumerate() {
            let gated = self.gates.iter().any(|&(_, on, _)| on == i);
            if rewards.get(n).is_none() && !gated {
                filled.push(n.clone(), 0.0);
            }
        }
        Ok(self.total(&self.values(&filled)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(names: &[&str]) -> Vec<ComponentInfo> {
        names.iter().map(|n| ComponentInfo::new(*n, -1.0, 1.0, "")).collect()
    }

    #[test]
    fn defaults_to_unit_weights_and_rejects_unknown_names() {
        let s = RewardSet::new(&RewardsConfig::default(), &comps(&["a", "b"])).unwrap();
        assert_eq!(s.weights(), &[1.0, 1.0]);
        let cfg: RewardsConfig = toml::from_str("weights = { b = 2.0 }").unwrap();
        let s = RewardSet::new(&cfg, &comps(&["a", "b"])).unwrap();
        assert_eq!(s.weights(), &[0.0, 2.0]);
        let cfg: RewardsConfig = toml::from_str("weights = { c = 2.0 }").unwrap();
        let e = RewardSet::new(&cfg, &comps(&["a", "b"])).unwrap_err();
        assert_eq!(e.to_string(), "rewards: unknown component `c` in weights; the environment provides: a, b");
        let cfg: RewardsConfig = toml::from_str("weights = { a = 0.0 }").unwrap();
        assert_eq!(RewardSet::new(&cfg, &comps(&["a"])).unwrap_err(), RewardError::AllZero);
        assert!(toml::from_str::<RewardsConfig>("weight = {}").unwrap_err().to_string().contains("unknown field `weight`"));
    }

    #[test]
    fn gates_zero_the_gated_component() {
        let cfg: RewardsConfig =
            toml::from_str("[[gates]]\ncomponent = \"format\"\non = \"correct\"\nthreshold = 1.0").unwrap();
        let s = RewardSet::new(&cfg, &comps(&["correct", "format"])).unwrap();
        let v = s.values(&RewardVector::from_pairs([("correct", 0.0), ("format", 1.0)])).unwrap();
        assert_eq!(v, vec![0.0, 0.0]);
        let v = s.values(&RewardVector::from_pairs([("correct", 1.0), ("format", 1.0)])).unwrap();
        assert_eq!((v.clone(), s.total(&v)), (vec![1.0, 1.0], 2.0));
        assert_eq!(s.weighted_total(&RewardVector::from_pairs([("correct", 0.0), ("format", 1.0)])), Ok(0.0));
        let e = s.values(&RewardVector::from_pairs([("correct", 1.0)])).unwrap_err();
        assert_eq!(e, RewardError::Missing("format".into()));
    }

    #[test]
    fn a_missing_component_counts_zero_in_a_total_unless_a_gate_reads_it() {
        let cfg: RewardsConfig = toml::from_str("weights = { a = 1.0, b = 2.0, attacker = 1.0 }").unwrap();
        let s = RewardSet::new(&cfg, &comps(&["a", "b", "attacker"])).unwrap();
        // An episode the attacker did not play in carries no `attacker`: it earned nothing.
        assert_eq!(s.weighted_total(&RewardVector::from_pairs([("a", 1.0), ("b", 0.5)])), Ok(2.0));
        // Training's values stay strict.
        assert_eq!(s.values(&RewardVector::from_pairs([("a", 1.0), ("b", 0.5)])), Err(RewardError::Missing("attacker".into())));
        // A component a gate reads must be there.
        let gated: RewardsConfig =
            toml::from_str("weights = { a = 1.0 }\n[[gates]]\ncomponent = \"a\"\non = \"attacker\"\nthreshold = 0.0").unwrap();
        let s = RewardSet::new(&gated, &comps(&["a", "attacker"])).unwrap();
        assert_eq!(s.weighted_total(&RewardVector::from_pairs([("a", 1.0)])), Err(RewardError::Missing("attacker".into())));
    }
}
