//! Confidence calibration: reliability bins, ECE, MCE and the Brier score.
//!
//! Inputs are `(confidence, correct)` pairs: the probability the policy gave to its own answer
//! and whether that answer was right. A calibrated policy is right 70% of the time when it says
//! 0.7.

use serde::{Deserialize, Serialize};

use crate::MetricError;

/// How samples are assigned to bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// `B` bins of width `1/B` over [0, 1]; the last bin includes 1.0.
    EqualWidth,
    /// Samples sorted by confidence and split into `B` bins of (near) equal count
    /// (bin `k` holds sorted indices `k·n/B .. (k+1)·n/B`); empty bins are dropped.
    EqualMass,
}

/// One reliability-diagram bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Lower edge (equal-width) or smallest confidence in the bin (equal-mass).
    pub lo: f64,
    /// Upper edge (equal-width) or largest confidence in the bin (equal-mass).
    pub hi: f64,
    /// Samples in the bin.
    pub count: usize,
    /// Mean confidence of the bin (`None` if empty).
    pub confidence: Option<f64>,
    /// Fraction correct in the bin (`None` if empty).
    pub accuracy: Option<f64>,
}

/// Reliability table plus the summary errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Binning used.
    pub binning: Binning,
    /// Bins, low confidence first.
    pub bins: Vec<Bin>,
    /// Expected calibration error: Σ_b (n_b / n) · |acc_b − conf_b|.
    pub ece: f64,
    /// Maximum calibration error over non-empty bins.
    pub mce: f64,
    /// Mean of (confidence − correct)².
    pub brier: f64,
    /// Number of samples.
    pub n: usize,
}

fn check(samples: &[(f64, bool)]) -> Result<(), MetricError> {
    if samples.is_empty() {
        return Err(MetricError::Empty);
    }
    match samples.iter().position(|(c, _)| !(0.0..=1.0).contains(c)) {
        Some(index) => Err(MetricError::Probability { index, value: samples[index].0 }),
        None => Ok(()),
    }
}

/// Brier score of `(probability, outcome)` pairs.
pub fn brier(samples: &[(f64, bool)]) -> Result<f64, MetricError> {
    check(samples)?;
    Ok(samples.iter().map(|&(c, y)| (c - f64::from(u8::from(y))).powi(2)).sum::<f64>() / samples.len() as f64)
}

/// Reliability bins, ECE, MCE and Brier with `bins` bins.
pub fn calibration(samples: &[(f64, bool)], bins: usize, binning: Binning) -> Result<Calibration, MetricError> {
    check(samples)?;
    if bins == 0 {
        return Err(MetricError::NoBins);
    }
    let n = samples.len();
    let groups: Vec<(f64, f64, Vec<(f64, bool)>)> = match binning {
        Binning::EqualWidth => {
            let mut g: Vec<Vec<(f64, bool)>> = vec![Vec::new(); bins];
            for &s in samples {
                let b = ((s.0 * bins as f64) as usize).min(bins - 1);
                g[b].push(s);
            }
            g.into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64 / bins as f64, (i + 1) as f64 / bins as f64, v))
                .collect()
        }
        Binning::EqualMass => {
            let mut sorted = samples.to_vec();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            (0..bins)
                .map(|k| sorted[k * n / bins..(k + 1) * n / bins].to_vec())
                .filter(|v| !v.is_empty())
                .map(|v| (v[0].0, v[v.len() - 1].0, v))
                .collect()
        }
    };
    let mut ece = 0.0;
    let mut mce: f64 = 0.0;
    let bins = groups
        .into_iter()
        .map(|(lo, hi, v)| {
            let count = v.len();
            let (confidence, accuracy) = if count == 0 {
                (None, None)
            } else {
                let conf = v.iter().map(|s| s.0).sum::<f64>() / count as f64;
                let acc = v.iter().filter(|s| s.1).count() as f64 / count as f64;
                let gap = (acc - conf).abs();
                ece += count as f64 / n as f64 * gap;
                mce = mce.max(gap);
                (Some(conf), Some(acc))
            };
            Bin { lo, hi, count, confidence, accuracy }
        })
        .collect();
    Ok(Calibration { binning, bins, ece, mce, brier: brier(samples)?, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_width_hand_computed() {
        // Two bins. Bin 0: conf 0.2 (wrong), 0.4 (right) -> conf .3 acc .5 gap .2
        // Bin 1: 0.9 right, 0.9 right, 1.0 wrong -> conf .9333 acc .6667 gap .26667
        let s = [(0.2, false), (0.4, true), (0.9, true), (0.9, true), (1.0, false)];
        let c = calibration(&s, 2, Binning::EqualWidth).unwrap();
        assert_eq!(c.bins.iter().map(|b| b.count).collect::<Vec<_>>(), vec![2, 3]);
        let g1 = (2.8f64 / 3.0 - 2.0 / 3.0).abs();
        assert!((c.ece - (0.4 * 0.2 + 0.6 * g1)).abs() < 1e-12);
        assert!((c.mce - g1).abs() < 1e-12);
        let b = (0.04 + 0.36 + 0.01 + 0.01 + 1.0) / 5.0;
        assert!((c.brier - b).abs() < 1e-12);
    }

    #[test]
    fn equal_mass_splits_by_rank() {
        let s = [(0.9, true), (0.1, false), (0.8, false), (0.3, true)];
        let c = calibration(&s, 2, Binning::EqualMass).unwrap();
        // sorted: .1 F, .3 T | .8 F, .9 T -> bin gaps |0.5-0.2|=0.3, |0.5-0.85|=0.35
        assert_eq!(c.bins.len(), 2);
        assert!((c.ece - (0.5 * 0.3 + 0.5 * 0.35)).abs() < 1e-12);
        assert!((c.mce - 0.35).abs() < 1e-12);
        assert_eq!((c.bins[1].lo, c.bins[1].hi), (0.8, 0.9));
    }

    #[test]
    fn perfect_calibration_and_errors() {
        let s = [(1.0, true), (0.0, false)];
        let c = calibration(&s, 10, Binning::EqualWidth).unwrap();
        assert_eq!((c.ece, c.mce, c.brier), (0.0, 0.0, 0.0));
        assert_eq!(calibration(&[], 10, Binning::EqualWidth), Err(MetricError::Empty));
        assert_eq!(calibration(&s, 0, Binning::EqualMass), Err(MetricError::NoBins));
        assert!(matches!(brier(&[(1.5, true)]), Err(MetricError::Probability { index: 0, .. })));
        assert!(matches!(brier(&[(f64::NAN, true)]), Err(MetricError::Probability { index: 0, .. })));
    }
}
