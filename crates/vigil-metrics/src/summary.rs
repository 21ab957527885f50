//! Aggregating finished episodes into the summary every evaluation writes.
//!
//! One summary shape serves `exp eval`, the trainer's periodic evaluations and `exp report`, so
//! numbers in a paper table can be traced back to per-episode records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_core::Outcome;
use vigil_rewards::{RewardError, RewardSet};

use crate::calibration::{Binning, Calibration, calibration};
use crate::classification::ClassReport;
use crate::stats::Describe;

/// Bins used for the calibration block of a summary.
pub const CALIBRATION_BINS: usize = 10;

/// Statistics of one reward component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentStats {
    /// Component name.
    pub name: String,
    /// Its statistics over the episodes.
    #[serde(flatten)]
    pub stats: Describe,
}

/// Aggregate of a set of finished episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    /// Number of episodes.
    pub episodes: usize,
    /// Fraction of episodes whose answers all parsed.
    pub format_valid_rate: f64,
    /// Weighted total reward (Σ weight · component).
    pub total: Describe,
    /// Each reward component, in the environment's order.
    pub rewards: Vec<ComponentStats>,
    /// Each episode metric, averaged over the episodes that report it.
    pub metrics: BTreeMap<String, Describe>,
    /// Policy turns per episode.
    pub steps: Describe,
    /// Label metrics, when the environment labels its outcomes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub classification: Option<ClassReport>,
    /// Equal-width and equal-mass calibration, when predictions carry confidences.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub calibration: Vec<Calibration>,
}

impl EpisodeSummary {
    /// Summarizes `outcomes`. `rewards` gives the weighted total (gates applied:
    /// [`RewardSet::weighted_total`]); `classes` enables the label metrics. `None` for an empty
    /// set; an error when an outcome lacks a component the reward set weighs.
    pub fn of(outcomes: &[&Outcome], rewards: &RewardSet, classes: Option<&[String]>) -> Result<Option<Self>, RewardError> {
        let Some(first) = outcomes.first() else { return Ok(None) };
        let n = outcomes.len();
        let totals: Vec<f64> = outcomes.iter().map(|o| rewards.weighted_total(&o.rewards)).collect::<Result<_, _>>()?;
        let components = first
            .rewards
            .names()
            .filter_map(|name| {
                let xs: Vec<f64> = outcomes.iter().filter_map(|o| o.rewards.get(name)).collect();
                Describe::of(&xs).map(|stats| ComponentStats { name: name.to_string(), stats })
            })
            .collect();
        let mut by_metric: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for o in outcomes {
            for (k, v) in &o.metrics {
                by_metric.entry(k.clone()).or_default().push(*v);
            }
        }
        let metrics = by_metric.into_iter().filter_map(|(k, xs)| Describe::of(&xs).map(|d| (k, d))).collect();
        let steps: Vec<f64> = outcomes.iter().map(|o| f64::from(o.steps)).collect();
        let preds: Vec<_> = outcomes.iter().filter_map(|o| o.prediction.as_ref()).collect();
        let classification = classes
            .filter(|_| !preds.is_empty())
            .and_then(|cs| ClassReport::new(cs, preds.iter().map(|p| (p.gold.as_str(), p.predicted.as_deref()))).ok());
        let conf: Vec<(f64, bool)> = preds
            .iter()
            .filter_map(|p| p.confidence.map(|c| (c, p.predicted.as_deref() == Some(p.gold.as_str()))))
            .collect();
        let calibration = [Binning::EqualWidth, Binning::EqualMass]
            .into_iter()
            .filter_map(|b| calibration(&conf, CALIBRATION_BINS, b).ok())
            .collect();
        let (Some(total), Some(steps)) = (Describe::of(&totals), Describe::of(&steps)) else { return Ok(None) };
        Ok(Some(Self {
            episodes: n,
            format_valid_rate: outcomes.iter().filter(|o| o.format_valid).count() as f64 / n as f64,
            total,
            rewards: components,
            metrics,
            steps,
            classification,
            calibration,
        }))
    }
}

/// An evaluation: overall and per stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// All episodes.
    pub overall: EpisodeSummary,
    /// Episodes grouped by stage / tier (absent stage: not listed).
    pub stages: BTreeMap<String, EpisodeSummary>,
}

impl EvalSummary {
    /// Summarizes `(stage, outcome)` pairs; `None` for an empty set.
    pub fn of(episodes: &[(Option<String>, &Outcome)], rewards: &RewardSet, classes: Option<&[String]>) -> Result<Option<Self>, RewardError> {
        let all: Vec<&Outcome> = episodes.iter().map(|(_, o)| *o).collect();
        let Some(overall) = EpisodeSummary::of(&all, rewards, classes)? else { return Ok(None) };
        let mut grouped: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
        for (s, o) in episodes {
            if let Some(s) = s {
                grouped.entry(s.clone()).or_default().push(o);
            }
        }
        let mut stages = BTreeMap::new();
        for (s, os) in grouped {
            if let Some(x) = EpisodeSummary::of(&os, rewards, classes)? {
                stages.insert(s, x);
            }
        }
        Ok(Some(Self { overall, stages }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{Prediction, RewardVector};

    fn outcome(a: f64, b: f64, valid: bool, ttfc: Option<f64>, pred: (&str, Option<&str>, Option<f64>)) -> Outcome {
        let mut metrics = BTreeMap::new();
        metrics.insert("fp".to_string(), if a > 0.0 { 0.0 } else { 1.0 });
        if let Some(t) = ttfc {
            metrics.insert("ttfc".to_string(), t);
        }
        Outcome {
            rewards: RewardVector::from_pairs([("a", a), ("b", b)]),
            format_valid: valid,
            metrics,
            prediction: Some(Prediction {
                gold: pred.0.into(),
                predicted: pred.1.map(Into::into),
                confidence: pred.2,
            }),
            steps: 2,
        }
    }

    #[test]
    fn aggregates_components_metrics_and_labels() {
        let o1 = outcome(1.0, 0.0, true, Some(4.0), ("x", Some("x"), Some(0.9)));
        let o2 = outcome(0.0, 2.0, false, None, ("y", Some("x"), Some(0.6)));
        let classes = vec!["x".to_string(), "y".to_string()];
        let comps: Vec<_> = ["a", "b"].iter().map(|n| vigil_core::ComponentInfo::new(*n, 0.0, 2.0, "")).collect();
        let cfg = vigil_rewards::RewardsConfig { weights: [("a".to_string(), 2.0), ("b".to_string(), 1.0)].into(), gates: Vec::new() };
        let w = RewardSet::new(&cfg, &comps).unwrap();
        let ep = [(Some("s1".to_string()), &o1), (Some("s2".to_string()), &o2)];
        let s = EvalSummary::of(&ep, &w, Some(&classes)).unwrap().unwrap();
        let o = &s.overall;
        assert_eq!(o.episodes, 2);
        assert_eq!(o.format_valid_rate, 0.5);
        assert_eq!(o.total.mean, 2.0); // (2*1 + 0) and (0 + 2) -> mean 2
        assert_eq!(o.rewards[1].name, "b");
        assert_eq!(o.rewards[1].stats.mean, 1.0);
        assert_eq!(o.metrics["ttfc"].n, 1); // only the episode that contained
        assert_eq!(o.metrics["fp"].mean, 0.5);
        let c = o.classification.as_ref().unwrap();
        assert_eq!(c.accuracy, 0.5);
        assert_eq!(o.calibration.len(), 2);
        assert_eq!(s.stages.len(), 2);
        assert_eq!(s.stages["s1"].total.mean, 2.0);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["overall"]["rewards"][0]["name"], "a");
        assert_eq!(json["overall"]["rewards"][0]["mean"], 0.5);
    }
}
