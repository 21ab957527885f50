//! The estimators. Each reads the flat batch once or twice; no allocation beyond the output.
//!
//! Missing values are NaN in the batch and in intermediate sums (a rollout whose every component
//! is missing stays NaN), so every statistic skips them; the final NaNs become 0.

use vigil_core::{AdvantageEstimator, BatchError, RewardBatch};

use crate::gdpo::{GdpoSteps, gdpo};
use crate::stats::{Whitening, divisor, moments, zero_present};
use crate::{AdvantageConfig, EpsilonOn, GroupsOfOne, GrpoScale, Missing, StdKind};

impl AdvantageEstimator for AdvantageConfig {
    fn name(&self) -> &'static str {
        match self {
            AdvantageConfig::Grpo { .. } => "grpo",
            AdvantageConfig::DrGrpo { .. } => "dr_grpo",
            AdvantageConfig::Gdpo { .. } => "gdpo",
            AdvantageConfig::Rloo { .. } => "rloo",
            AdvantageConfig::ReinforcePpBaseline { .. } => "reinforce_pp_baseline",
        }
    }

    fn estimate(&self, batch: &RewardBatch, weights: &[f64]) -> Result<Vec<f64>, BatchError> {
        batch.check_weights(weights)?;
        self.check_batch(batch)?;
        if batch.first_missing().is_some() {
            let mut a = self.run::<true>(batch, weights)?;
            a.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = 0.0);
            Ok(a)
        } else {
            self.run::<false>(batch, weights)
        }
    }
}

impl AdvantageConfig {
    /// The estimator; `M`: the batch has missing values (NaN), else every NaN check compiles away.
    fn run<const M: bool>(
        &self,
        batch: &RewardBatch,
        weights: &[f64],
    ) -> Result<Vec<f64>, BatchError> {
        let lengths = batch.lengths();
        Ok(match *self {
            AdvantageConfig::Grpo {
                scale,
                epsilon,
                epsilon_on,
                std,
                groups_of_one,
                ..
            } => Grpo {
                scale,
                eps: epsilon,
                on: epsilon_on,
                std,
                groups_of_one,
            }
            .run::<M>(batch, weights),
            AdvantageConfig::DrGrpo { groups_of_one, .. } => {
                Grpo::centre(StdKind::Sample, groups_of_one).run::<M>(batch, weights)
            }
            AdvantageConfig::Gdpo {
                epsilon,
                epsilon_on,
                group_std,
                batch_norm,
                whiten,
                batch_epsilon,
                batch_epsilon_on,
                std,
                groups_of_one,
                ..
            } => {
                let batch_step = batch_norm.then_some(Whitening {
                    weights: whiten,
                    eps: batch_epsilon,
                    on: batch_epsilon_on,
                    std,
                });
                let steps = GdpoSteps {
                    eps: epsilon,
                    on: epsilon_on,
                    group_std,
                    std,
                    groups_of_one,
                };
                gdpo::<M>(batch, weights, &steps, batch_step, lengths)?
            }
            AdvantageConfig::Rloo { groups_of_one, .. } => rloo::<M>(batch, weights, groups_of_one),
            AdvantageConfig::ReinforcePpBaseline {
                epsilon,
                epsilon_on,
                whiten,
                std,
                groups_of_one,
                ..
            } => {
                let mut a = Grpo::centre(std, groups_of_one).run::<M>(batch, weights);
                Whitening {
                    weights: whiten,
                    eps: epsilon,
                    on: epsilon_on,
                    std,
                }
                .apply::<M>(&mut a, lengths, self.name())?;
                a
            }
        })
    }

    fn policies(&self) -> (GroupsOfOne, Missing) {
        match *self {
            AdvantageConfig::Grpo {
                groups_of_one,
                missing,
                ..
            }
            | AdvantageConfig::DrGrpo {
                groups_of_one,
                missing,
                ..
            }
            | AdvantageConfig::Gdpo {
                groups_of_one,
                missing,
                ..
            }
            | AdvantageConfig::Rloo {
                groups_of_one,
                missing,
                ..
            }
            | AdvantageConfig::ReinforcePpBaseline {
                groups_of_one,
                missing,
                ..
            } => (groups_of_one, missing),
        }
    }

    /// Rejects what this estimator's settings do not accept: missing values, groups of one, a
    /// token-weighted step without lengths.
    fn check_batch(&self, batch: &RewardBatch) -> Result<(), BatchError> {
        let (groups_of_one, missing) = self.policies();
        if missing == Missing::Reject
            && let Some((group, rollout, component)) = batch.first_missing()
        {
            return Err(BatchError::Missing {
                group,
                rollout,
                component,
            });
        }
        if groups_of_one == GroupsOfOne::Reject
            && let Some(group) = (0..batch.groups()).find(|&g| batch.group_range(g).len() < 2)
        {
            return Err(BatchError::GroupTooSmall {
                group,
                size: batch.group_range(group).len(),
            });
        }
        if self.needs_lengths() && batch.lengths().is_none() {
            return Err(BatchError::NoLengths {
                estimator: self.name(),
            });
        }
        Ok(())
    }
}

/// Weighted sum of the present components of each rollout; NaN when none is present.
pub(crate) fn weighted_sums<const M: bool>(batch: &RewardBatch, weights: &[f64]) -> Vec<f64> {
    batch
        .values()
        .chunks_exact(batch.components())
        .map(|r| {
            if M && r.iter().all(|x| x.is_nan()) {
                f64::NAN
            } else {
                r.iter()
                    .zip(weights)
                    .filter(|(x, _)| !(M && x.is_nan()))
                    .map(|(x, w)| x * w)
                    .sum()
            }
        })
        .collect()
}

/// GRPO's settings: sum first, then centre on the group mean and optionally scale.
struct Grpo {
    scale: GrpoScale,
    eps: f64,
    on: EpsilonOn,
    std: StdKind,
    groups_of_one: GroupsOfOne,
}

impl Grpo {
    /// Centre only (Dr.GRPO, and REINFORCE++'s baseline before its whitening).
    fn centre(std: StdKind, groups_of_one: GroupsOfOne) -> Self {
        Grpo {
            scale: GrpoScale::None,
            eps: 0.0,
            on: EpsilonOn::Std,
            std,
            groups_of_one,
        }
    }

    fn run<const M: bool>(&self, batch: &RewardBatch, weights: &[f64]) -> Vec<f64> {
        let (scale, eps, on) = (self.scale, self.eps, self.on);
        let mut s = weighted_sums::<M>(batch, weights);
        let batch_inv = match scale {
            GrpoScale::Batch => moments::<M>(s.len(), |i| s[i], self.std)
                .map(|(_, var)| 1.0 / divisor(var, eps, on)),
            _ => None,
        };
        for g in 0..batch.groups() {
            let xs = &mut s[batch.group_range(g)];
            if let [x] = xs {
                // A group of one: baseline 0 and std 1 (`raw`), or no signal (`zero`).
                match (self.groups_of_one, scale) {
                    (GroupsOfOne::Raw, GrpoScale::Group) => *x /= divisor(1.0, eps, on),
                    (GroupsOfOne::Raw, GrpoScale::Batch) => *x *= batch_inv.unwrap_or(1.0),
                    (GroupsOfOne::Raw, GrpoScale::None) => {}
                    _ if x.is_nan() => {}
                    _ => *x = 0.0,
                }
                continue;
            }
            match moments::<M>(xs.len(), |i| xs[i], self.std) {
                None => zero_present(xs),
                Some((mean, var)) => {
                    let inv = match scale {
                        GrpoScale::Group => 1.0 / divisor(var, eps, on),
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
}

/// Leave-one-out baseline: each rollout against the mean of the others (present ones only).
fn rloo<const M: bool>(
    batch: &RewardBatch,
    weights: &[f64],
    groups_of_one: GroupsOfOne,
) -> Vec<f64> {
    let mut s = weighted_sums::<M>(batch, weights);
    for g in 0..batch.groups() {
        let xs = &mut s[batch.group_range(g)];
        if xs.len() == 1 {
            if groups_of_one != GroupsOfOne::Raw {
                zero_present(xs);
            }
            continue;
        }
        let count = if M {
            xs.iter().filter(|x| !x.is_nan()).count()
        } else {
            xs.len()
        };
        let first = xs.iter().copied().find(|x| !x.is_nan());
        if count < 2 || xs.iter().all(|&x| Some(x) == first || (M && x.is_nan())) {
            zero_present(xs);
            continue;
        }
        let total: f64 = xs.iter().filter(|x| !(M && x.is_nan())).sum();
        let others = (count - 1) as f64;
        xs.iter_mut().for_each(|x| *x -= (total - *x) / others);
    }
    s
}
