//! GDPO: normalize each component within its group, weight and sum, then optionally whiten the
//! batch.

use vigil_core::{BatchError, RewardBatch};

use crate::stats::{Whitening, denominator, divisor};
use crate::{EpsilonOn, GroupsOfOne, StdKind};

/// The per-group step's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GdpoSteps {
    pub(crate) eps: f64,
    pub(crate) on: EpsilonOn,
    /// Divide by the component's group std (else only centre it).
    pub(crate) group_std: bool,
    pub(crate) std: StdKind,
    pub(crate) groups_of_one: GroupsOfOne,
}

/// Each group is read row by row (contiguous memory) in three passes: sums and constancy, squared
/// deviations, then the weighted z-scores, so the inner loops vectorize across components.
/// A missing value (NaN) is left out of its component's statistics and of the sum; a component
/// with fewer than two present values in a group contributes 0 (TRL's NaN, dropped by `nansum`).
pub(crate) fn gdpo<const M: bool>(
    batch: &RewardBatch,
    weights: &[f64],
    steps: &GdpoSteps,
    batch_step: Option<Whitening>,
    lengths: Option<&[u64]>,
) -> Result<Vec<f64>, BatchError> {
    let n = batch.components();
    let v = batch.values();
    let mut out = vec![0.0; batch.rollouts()];
    let (mut mean, mut ss, mut k) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut first, mut count) = (vec![0.0; n], vec![0usize; n]);
    let mut constant = vec![true; n];
    for g in 0..batch.groups() {
        let r = batch.group_range(g);
        let rows = &v[r.start * n..r.end * n];
        count.iter_mut().for_each(|c| *c = 0);
        constant.iter_mut().for_each(|c| *c = true);
        for row in rows.chunks_exact(n) {
            for c in 0..n {
                let x = row[c];
                if M && x.is_nan() {
                    continue;
                }
                if count[c] == 0 {
                    first[c] = x;
                    mean[c] = x;
                } else {
                    mean[c] += x;
                    constant[c] &= x == first[c];
                }
                count[c] += 1;
            }
        }
        if r.len() == 1 {
            // Baseline 0 and std 1 (`raw`), or no signal (`zero`).
            let raw = steps.groups_of_one == GroupsOfOne::Raw;
            let scale = if steps.group_std {
                1.0 / divisor(1.0, steps.eps, steps.on)
            } else {
                1.0
            };
            for c in 0..n {
                mean[c] = 0.0;
                constant[c] = !raw;
                k[c] = weights[c] * scale;
            }
        } else {
            for c in 0..n {
                mean[c] /= count[c] as f64;
                // Fewer than two values: no spread to normalize (TRL's NaN std).
                constant[c] |= count[c] < 2;
            }
            ss.iter_mut().for_each(|x| *x = 0.0);
            for row in rows.chunks_exact(n) {
                for c in 0..n {
                    if !(M && row[c].is_nan()) {
                        let d = row[c] - mean[c];
                        ss[c] += d * d;
                    }
                }
            }
            for c in 0..n {
                // A constant component contributes exact zeros (never 0/0).
                k[c] = if constant[c] {
                    0.0
                } else if steps.group_std {
                    weights[c]
                        / divisor(
                            ss[c] / denominator(count[c], steps.std),
                            steps.eps,
                            steps.on,
                        )
                } else {
                    weights[c]
                };
            }
        }
        for (o, row) in out[r].iter_mut().zip(rows.chunks_exact(n)) {
            if M && row.iter().all(|x| x.is_nan()) {
                *o = f64::NAN;
                continue;
            }
            let mut acc = 0.0;
            for c in 0..n {
                if !(constant[c] || M && row[c].is_nan()) {
                    acc += (row[c] - mean[c]) * k[c];
                }
            }
            *o = acc;
        }
    }
    if let Some(w) = batch_step {
        w.apply::<M>(&mut out, lengths, "gdpo")?;
    }
    Ok(out)
}
