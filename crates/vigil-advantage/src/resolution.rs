//! Signal resolution: how many distinct advantage vectors an estimator can give one group.
//!
//! GDPO's argument (arXiv 2601.05242, §3) is that summing components before normalizing maps
//! different reward patterns to the same advantages ("reward-advantage collapse"). This counts
//! it exhaustively, by running the estimator itself on every group a setting allows: `K` binary
//! components and `G` rollouts give `2^K` possible reward vectors per rollout, and every
//! multiset of `G` of them is one group (rollout order only permutes the advantages, so each
//! group's advantages are compared sorted). Two vectors count as the same when they agree to
//! 1e-9 (what the floating-point summation order can move).
//!
//! Estimators that couple groups through a batch step (GDPO's `batch_norm`, REINFORCE++'s
//! whitening) rescale every group by one batch-wide number, which would make the count depend
//! on which groups share a batch; they are counted here with that step switched off, i.e. at
//! the group level where the paper's figure compares them. Their ε (1e-4 in the std division)
//! is taken to its limit, the smallest positive float: it only keeps a constant group from
//! dividing 0 by 0, where at 1e-4 it would nudge groups the paper counts as collapsed (totals
//! (0, 1) and (0, 2) give ±0.70703 and ±0.70708) apart by less than any learning signal.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use vigil_core::{AdvantageEstimator, BatchError, RewardBatch};

use crate::AdvantageConfig;

/// Groups evaluated per estimator call.
const CHUNK: usize = 4096;

/// The largest `K` (binary components) accepted: `2^K` reward vectors per rollout.
pub const MAX_COMPONENTS: usize = 6;

/// A setting the enumeration cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolutionError {
    /// `K` out of range.
    #[error("components must be 1..={MAX_COMPONENTS}, got {0}")]
    Components(usize),
    /// `G` too small for a group.
    #[error("group size must be at least 2, got {0}")]
    Group(usize),
    /// More groups than the given limit.
    #[error("K = {components}, G = {group} has {groups} distinct groups, over the limit of {limit}")]
    TooMany {
        /// `K`.
        components: usize,
        /// `G`.
        group: usize,
        /// Multisets of `G` out of `2^K`.
        groups: u128,
        /// The caller's limit.
        limit: u128,
    },
    /// The estimator rejected a batch (a bug in the enumeration or the estimator).
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// The count for one estimator and one `(K, G)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// Groups enumerated (multisets of `G` reward vectors).
    pub groups: u64,
    /// Distinct sorted advantage vectors among them.
    pub distinct: u64,
}

/// Multisets of `g` items out of `n` kinds: `C(n + g - 1, g)`.
pub fn multisets(n: u128, g: u128) -> u128 {
    (1..=g).fold(1u128, |acc, i| acc * (n + i - 1) / i)
}

/// The number of groups `(K, G)` has, or why it cannot be enumerated within `limit` groups.
pub fn groups_in(components: usize, group: usize, limit: u128) -> Result<u128, ResolutionError> {
    if components == 0 || components > MAX_COMPONENTS {
        return Err(ResolutionError::Components(components));
    }
    if group < 2 {
        return Err(ResolutionError::Group(group));
    }
    let total = multisets(1 << components, group as u128);
    if total > limit {
        return Err(ResolutionError::TooMany { components, group, groups: total, limit });
    }
    Ok(total)
}

/// `estimator` with any batch-wide step switched off and ε taken to its limit 0 (see the module
/// doc).
pub fn group_level(estimator: &AdvantageConfig) -> AdvantageConfig {
    let mut e = estimator.clone();
    match &mut e {
        AdvantageConfig::Gdpo { batch_norm, epsilon, .. } => {
            *batch_norm = false;
            *epsilon = f64::MIN_POSITIVE;
        }
        AdvantageConfig::Grpo { epsilon, .. } | AdvantageConfig::ReinforcePpBaseline { epsilon, .. } => {
            *epsilon = f64::MIN_POSITIVE;
        }
        AdvantageConfig::DrGrpo { .. } | AdvantageConfig::Rloo { .. } => {}
    }
    e
}

/// Counts distinct advantage vectors of `estimator` (made [`group_level`]) over every group of
/// `group` rollouts with `components` binary components, unit weights; refuses settings with
/// more than `limit` groups.
pub fn distinct_advantages(
    estimator: &AdvantageConfig,
    components: usize,
    group: usize,
    limit: u128,
) -> Result<Resolution, ResolutionError> {
    let total = groups_in(components, group, limit)?;
    let kinds = 1usize << components;
    let estimator = group_level(estimator);
    let weights = vec![1.0; components];
    // Reward vector of each kind: bit n of the kind is component n.
    let vectors: Vec<Vec<f64>> =
        (0..kinds).map(|t| (0..components).map(|n| f64::from((t >> n) as u8 & 1)).collect()).collect();
    let mut prints = Vec::with_capacity(usize::try_from(total).unwrap_or(0).min(1 << 24));
    let mut kinds_of = vec![0usize; group];
    let mut more = true;
    let mut groups = 0u64;
    while more {
        let mut batch = RewardBatch::with_components(components)?;
        let mut n = 0;
        while more && n < CHUNK {
            batch.push_group(kinds_of.iter().map(|&t| vectors[t].as_slice()))?;
            n += 1;
            more = next_multiset(&mut kinds_of, kinds);
        }
        let advantages = estimator.estimate(&batch, &weights)?;
        for chunk in advantages.chunks_exact(group) {
            prints.push(fingerprint(chunk));
        }
        groups += n as u64;
    }
    prints.sort_unstable();
    prints.dedup();
    Ok(Resolution { groups, distinct: prints.len() as u64 })
}

/// The next non-decreasing sequence over `0..kinds` in lexicographic order; false after the last.
fn next_multiset(seq: &mut [usize], kinds: usize) -> bool {
    let Some(i) = seq.iter().rposition(|&t| t + 1 < kinds) else {
        return false;
    };
    let v = seq[i] + 1;
    seq[i..].iter_mut().for_each(|t| *t = v);
    true
}

/// A 64-bit fingerprint of the sorted advantages, rounded to 1e-9 (collisions among 3·10^8
/// vectors: about 0.002 expected).
fn fingerprint(advantages: &[f64]) -> u64 {
    let mut q: Vec<i64> = advantages.iter().map(|a| (a * 1e9).round() as i64).collect();
    q.sort_unstable();
    let mut h = DefaultHasher::new();
    q.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpo() -> AdvantageConfig {
        toml::from_str("kind = \"grpo\"").unwrap()
    }

    fn gdpo() -> AdvantageConfig {
        AdvantageConfig::default()
    }

    /// The paper's toy setting (two binary rewards, two rollouts): 2 distinct groups of
    /// advantages under GRPO, 3 under GDPO (zero, ±0.7071, ±1.4142).
    #[test]
    fn reproduces_the_papers_toy_example() {
        let r = distinct_advantages(&grpo(), 2, 2, u128::MAX).unwrap();
        assert_eq!(r, Resolution { groups: 10, distinct: 2 });
        let r = distinct_advantages(&gdpo(), 2, 2, u128::MAX).unwrap();
        assert_eq!(r, Resolution { groups: 10, distinct: 3 });
    }

    /// Cells of `exp resolution`'s table (paper/why-gdpo), through the estimators at their
    /// defaults: `(K, G, GRPO, GDPO)`.
    #[test]
    fn pins_cells_of_the_table() {
        for (k, g, a, b) in [(2, 4, 7, 14), (2, 8, 29, 81), (3, 4, 14, 45), (3, 8, 106, 1002), (4, 4, 23, 127)] {
            let ga = distinct_advantages(&grpo(), k, g, u128::MAX).unwrap().distinct;
            let gb = distinct_advantages(&gdpo(), k, g, u128::MAX).unwrap().distinct;
            assert_eq!((ga, gb), (a, b), "K={k} G={g}");
        }
    }

    #[test]
    fn enumerates_every_multiset_once() {
        for (k, g) in [(1, 5), (2, 4), (3, 3)] {
            let r = distinct_advantages(&grpo(), k, g, u128::MAX).unwrap();
            assert_eq!(u128::from(r.groups), multisets(1 << k, g as u128), "K={k} G={g}");
        }
        assert_eq!(multisets(16, 16), 300_540_195);
    }

    /// With one component every estimator sees the same totals, so GDPO cannot resolve more
    /// than GRPO; with more components it must resolve at least as much.
    #[test]
    fn gdpo_resolves_at_least_grpo() {
        for (k, g) in [(1, 6), (2, 4), (3, 4), (2, 8)] {
            let a = distinct_advantages(&grpo(), k, g, u128::MAX).unwrap().distinct;
            let b = distinct_advantages(&gdpo(), k, g, u128::MAX).unwrap().distinct;
            if k == 1 {
                assert_eq!(a, b, "K={k} G={g}");
            } else {
                assert!(b > a, "K={k} G={g}: gdpo {b} vs grpo {a}");
            }
        }
    }

    #[test]
    fn rejects_settings_it_cannot_run() {
        assert_eq!(distinct_advantages(&grpo(), 0, 4, 10), Err(ResolutionError::Components(0)));
        assert_eq!(distinct_advantages(&grpo(), 2, 1, 10), Err(ResolutionError::Group(1)));
        assert!(matches!(distinct_advantages(&grpo(), 4, 16, 1000), Err(ResolutionError::TooMany { .. })));
    }
}
