//! The estimators. Each reads the flat batch once or twice; no allocation beyond the output.

use vigil_core::{AdvantageEstimator, BatchError, RewardBatch};

use crate::stats::{moments, zscore_in_place};
use crate::{AdvantageConfig, GrpoScale, StdKind};

impl AdvantageEstimator for AdvantageConfig {
    fn name(&self) -> &'static str {
        match self {
            AdvantageConfig::Grpo { .. } => "grpo",
            AdvantageConfig::DrGrpo {} => "dr_grpo",
            AdvantageConfig::Gdpo { .. } => "gdpo",
            AdvantageConfig::Rloo {} => "rloo",
            AdvantageConfig::ReinforcePpBaseline { .. } => "reinforce_pp_baseline",
        }
    }

    fn estimate(&self, batch: &RewardBatch, weights: &[f64]) -> Result<Vec<f64>, BatchError> {
        batch.check_weights(weights)?;
        Ok(match *self {
            AdvantageConfig::Grpo { scale, epsilon, std } => grpo(batch, weights, scale, epsilon, std),
            AdvantageConfig::DrGrpo {} => grpo(batch, weights, GrpoScale::None, 0.0, StdKind::Sample),
            AdvantageConfig::Gdpo { epsilon, batch_norm, std } => gdpo(batch, weights, epsilon, batch_norm, std),
            AdvantageConfig::Rloo {} => rloo(batch, weights),
            AdvantageConfig::ReinforcePpBaseline { epsilon, std } => {
                let mut a = grpo(batch, weights, GrpoScale::None, 0.0, std);
                zscore_in_place(&mut a, epsilon, std);
                a
            }
        })
    }
}

/// Sum first, then centre on the group mean and optionally scale.
fn grpo(batch: &RewardBatch, weights: &[f64], scale: GrpoScale, eps: f64, kind: StdKind) -> Vec<f64> {
    let mut s = batch.weighted_sums(weights);
    let batch_inv = match scale {
        GrpoScale::Batch => moments(s.len(), |i| s[i], kind).map(|(_, sd)| 1.0 / (sd + eps)),
        _ => None,
    };
    for g in 0..batch.groups() {
        let xs = &mut s[batch.group_range(g)];
        match moments(xs.len(), |i| xs[i], kind) {
            None => xs.iter_mut().for_each(|x| *x = 0.0),
            Some((mean, sd)) => {
                let inv = match scale {
                    GrpoScale::Group => 1.0 / (sd + eps),
                    // A non-constant group implies a non-constant batch.
                    GrpoScale::Batch => batch_inv.unwrap_or(1.0),
                    GrpoScale::None => 1.0,
                };
                xs.iter_mut().for_each(|x| *x = (*x - mean) * inv);
            }
        }
    }
    s
}

/// Normalize each component within its group, weight and sum, then optionally z-score the batch.
///
/// Each group is read row by row (contiguous memory) in three passes: sums and constancy, squared
/// deviations, then the weighted z-scores, so the inner loops vectorize across components.
fn gdpo(batch: &RewardBatch, weights: &[f64], eps: f64, batch_norm: bool, kind: StdKind) -> Vec<f64> {
    let n = batch.components();
    let v = batch.values();
    let mut out = vec![0.0; batch.rollouts()];
    let (mut mean, mut ss, mut k) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut constant = vec![true; n];
    for g in 0..batch.groups() {
        let r = batch.group_range(g);
        let size = r.len();
        let rows = &v[r.start * n..r.end * n];
        let first = &rows[..n];
        mean.copy_from_slice(first);
        constant.iter_mut().for_each(|c| *c = true);
        for row in rows.chunks_exact(n).skip(1) {
            for c in 0..n {
                mean[c] += row[c];
                constant[c] &= row[c] == first[c];
            }
        }
        mean.iter_mut().for_each(|m| *m /= size as f64);
        ss.iter_mut().for_each(|x| *x = 0.0);
        for row in rows.chunks_exact(n) {
            for c in 0..n {
                let d = row[c] - mean[c];
                ss[c] += d * d;
            }
        }
        let denom = match kind {
            StdKind::Sample => (size - 1) as f64,
            StdKind::Population => size as f64,
        };
        for c in 0..n {
            // A constant component contributes exact zeros (never 0/0).
            k[c] = if constant[c] { 0.0 } else { weights[c] / ((ss[c] / denom).sqrt() + eps) };
        }
        for (o, row) in out[r].iter_mut().zip(rows.chunks_exact(n)) {
            let mut acc = 0.0;
            for c in 0..n {
                if !constant[c] {
                    acc += (row[c] - mean[c]) * k[c];
                }
            }
            *o = acc;
        }
    }
    if batch_norm {
        zscore_in_place(&mut out, eps, kind);
    }
    out
}

/// Leave-one-out baseline: each rollout against the mean of the others.
fn rloo(batch: &RewardBatch, weights: &[f64]) -> Vec<f64> {
    let mut s = batch.weighted_sums(weights);
    for g in 0..batch.groups() {
        let xs = &mut s[batch.group_range(g)];
        let first = xs[0];
        if xs.iter().all(|&x| x == first) {
            xs.iter_mut().for_each(|x| *x = 0.0);
            continue;
        }
        let total: f64 = xs.iter().sum();
        let others = (xs.len() - 1) as f64;
        xs.iter_mut().for_each(|x| *x -= (total - *x) / others);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(cfg: &AdvantageConfig, groups: &[Vec<Vec<f64>>], w: &[f64]) -> Vec<f64> {
        cfg.estimate(&RewardBatch::from_nested(groups).unwrap(), w).unwrap()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
        }
    }

    const GDPO_RAW: AdvantageConfig = AdvantageConfig::Gdpo { epsilon: 0.0, batch_norm: false, std: StdKind::Sample };
    const GRPO: AdvantageConfig = AdvantageConfig::Grpo { scale: GrpoScale::Group, epsilon: 0.0, std: StdKind::Sample };

    /// The paper's collapse example: totals (0,1) and (0,2).
    #[test]
    fn gdpo_separates_what_grpo_collapses() {
        let g = [vec![vec![0.0, 0.0], vec![1.0, 0.0]], vec![vec![0.0, 0.0], vec![1.0, 1.0]]];
        let h = std::f64::consts::FRAC_1_SQRT_2;
        close(&est(&GRPO, &g, &[1.0, 1.0]), &[-h, h, -h, h]);
        close(&est(&GDPO_RAW, &g, &[1.0, 1.0]), &[-h, h, -2.0 * h, 2.0 * h]);
        // After the batch z-score over these two groups (sample std of [-h,h,-2h,2h] = sqrt(10/3)/2... ).
        let bn = AdvantageConfig::Gdpo { epsilon: 0.0, batch_norm: true, std: StdKind::Sample };
        let sd = (2.5f64 / 3.0).sqrt() * std::f64::consts::SQRT_2;
        let a = est(&bn, &g, &[1.0, 1.0]);
        close(&a, &[-h / sd, h / sd, -2.0 * h / sd, 2.0 * h / sd]);
        assert!((a[1] - 0.5477225575).abs() < 1e-9 && (a[3] - 1.0954451150).abs() < 1e-9);
    }

    #[test]
    fn pinned_hand_computed_values() {
        // One group, rewards 1,2,3,6 (one component): mean 3, sample std sqrt(14/3).
        let g = [vec![vec![1.0], vec![2.0], vec![3.0], vec![6.0]]];
        let sd = (14.0f64 / 3.0).sqrt();
        close(&est(&GRPO, &g, &[1.0]), &[-2.0 / sd, -1.0 / sd, 0.0, 3.0 / sd]);
        close(&est(&AdvantageConfig::DrGrpo {}, &g, &[2.0]), &[-4.0, -2.0, 0.0, 6.0]);
        // RLOO: 1 - (11/3), 2 - 10/3, 3 - 3, 6 - 2.
        close(&est(&AdvantageConfig::Rloo {}, &g, &[1.0]), &[1.0 - 11.0 / 3.0, 2.0 - 10.0 / 3.0, 0.0, 4.0]);
        let pop = AdvantageConfig::Grpo { scale: GrpoScale::Group, epsilon: 0.5, std: StdKind::Population };
        let sp = 3.5f64.sqrt() + 0.5;
        close(&est(&pop, &g, &[1.0]), &[-2.0 / sp, -1.0 / sp, 0.0, 3.0 / sp]);
    }

    #[test]
    fn constant_groups_are_exact_zeros() {
        let g = [vec![vec![0.1, 0.7], vec![0.1, 0.7], vec![0.1, 0.7]]];
        for cfg in [
            GRPO,
            GDPO_RAW,
            AdvantageConfig::default(),
            AdvantageConfig::Rloo {},
            AdvantageConfig::DrGrpo {},
            AdvantageConfig::ReinforcePpBaseline { epsilon: 0.0, std: StdKind::Sample },
            AdvantageConfig::Grpo { scale: GrpoScale::Batch, epsilon: 0.0, std: StdKind::Sample },
        ] {
            assert_eq!(est(&cfg, &g, &[1.0, 3.0]), vec![0.0; 3], "{cfg:?}");
        }
    }

    #[test]
    fn batch_scale_uses_std_of_all_sums() {
        let g = [vec![vec![0.0], vec![2.0]], vec![vec![0.0], vec![0.0], vec![4.0]]];
        let all = [0.0f64, 2.0, 0.0, 0.0, 4.0];
        let m = all.iter().sum::<f64>() / 5.0;
        let sd = (all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 4.0).sqrt();
        let cfg = AdvantageConfig::Grpo { scale: GrpoScale::Batch, epsilon: 1e-3, std: StdKind::Sample };
        let k = 1.0 / (sd + 1e-3);
        let m2 = 4.0 / 3.0;
        close(&est(&cfg, &g, &[1.0]), &[-k, k, -m2 * k, -m2 * k, (4.0 - m2) * k]);
    }

    #[test]
    fn weight_mismatch_is_an_error() {
        let b = RewardBatch::from_nested(&[vec![vec![0.0, 1.0], vec![1.0, 0.0]]]).unwrap();
        let e = AdvantageConfig::default().estimate(&b, &[1.0]).unwrap_err();
        assert_eq!(e, BatchError::WeightCount { found: 1, expected: 2 });
    }
}
