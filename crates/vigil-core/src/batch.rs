//! Grouped reward vectors: the input of every advantage estimator.

use thiserror::Error;

/// Why a reward batch (or its weights) was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BatchError {
    /// The batch has no group.
    #[error("the batch has no groups")]
    Empty,
    /// A group has fewer than two rollouts, so no group baseline exists.
    #[error("group {group} has {size} rollout(s); every group needs at least 2 (groups_of_one = \"zero\" or \"raw\" accepts them)")]
    GroupTooSmall {
        /// Index of the group.
        group: usize,
        /// Its size.
        size: usize,
    },
    /// A rollout's component count differs from the first rollout's.
    #[error("groups[{group}][{rollout}] has {found} components, expected {expected} (as in groups[0][0])")]
    Ragged {
        /// Index of the group.
        group: usize,
        /// Index of the rollout within the group.
        rollout: usize,
        /// Components found.
        found: usize,
        /// Components expected.
        expected: usize,
    },
    /// Rollouts carry no component at all.
    #[error("rollouts have no reward components")]
    NoComponents,
    /// A reward is NaN or infinite.
    #[error("groups[{group}][{rollout}][{component}] is not a finite number ({value})")]
    NonFinite {
        /// Index of the group.
        group: usize,
        /// Index of the rollout within the group.
        rollout: usize,
        /// Index of the component.
        component: usize,
        /// The offending value.
        value: f64,
    },
    /// The weight vector does not have one weight per component.
    #[error("got {found} weights for {expected} reward components")]
    WeightCount {
        /// Weights given.
        found: usize,
        /// Components in the batch.
        expected: usize,
    },
    /// A reward is missing (`null`) and the estimator does not skip missing values.
    #[error("groups[{group}][{rollout}][{component}] is missing (null); set missing = \"skip\" to leave missing values out of the statistics")]
    Missing {
        /// Index of the group.
        group: usize,
        /// Index of the rollout within the group.
        rollout: usize,
        /// Index of the component.
        component: usize,
    },
    /// The estimator whitens over tokens but the batch carries no response lengths.
    #[error("`{estimator}` with whiten = \"tokens\" needs the response length of every rollout (\"lengths\")")]
    NoLengths {
        /// The estimator's name.
        estimator: &'static str,
    },
    /// The response lengths are not shaped like the groups.
    #[error("lengths[{group}] has {found} entries for the {expected} rollouts of groups[{group}]")]
    LengthShape {
        /// Index of the group (`groups` when the group counts differ: then `found`/`expected` count groups).
        group: usize,
        /// Entries found.
        found: usize,
        /// Entries expected.
        expected: usize,
    },
    /// Token-weighted whitening over fewer than two tokens has no variance.
    #[error("token-weighted whitening needs at least 2 response tokens in the batch, got {tokens}")]
    TooFewTokens {
        /// Tokens in the scored rollouts.
        tokens: u64,
    },
    /// A weight is NaN or infinite.
    #[error("weights[{index}] is not a finite number ({value})")]
    NonFiniteWeight {
        /// Index of the weight.
        index: usize,
        /// The offending value.
        value: f64,
    },
}

/// Reward vectors of `B` prompts × `G_i` rollouts × `N` components, stored flat.
///
/// Groups may have different sizes (dynamic sampling drops rollouts), but every rollout has the
/// same `N` components and every value is finite. [`RewardBatch::from_nested`] also requires two
/// rollouts per group; [`RewardBatch::from_optional`] accepts groups of one and missing values
/// (stored as NaN), which only estimators configured for them accept. Each rollout may carry its
/// response length in tokens, for token-weighted whitening.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardBatch {
    /// Row-major `[rollout][component]`, rollouts of group 0 first; NaN marks a missing value.
    values: Vec<f64>,
    /// `offsets[i]..offsets[i+1]` are the rollout indices of group `i`.
    offsets: Vec<usize>,
    components: usize,
    /// Response length (tokens) of each rollout, when known.
    lengths: Option<Vec<u64>>,
    /// Whether any value is missing.
    missing: bool,
    /// Built by [`RewardBatch::from_optional`]: NaN is a missing value, groups of one are accepted.
    lenient: bool,
}

impl RewardBatch {
    /// Builds a batch from `groups[i][j][n]` = component `n` of rollout `j` of prompt `i`.
    pub fn from_nested(groups: &[Vec<Vec<f64>>]) -> Result<Self, BatchError> {
        let first = groups.first().ok_or(BatchError::Empty)?;
        let components = first.first().map_or(0, Vec::len);
        let mut b = Self::with_components(components)?;
        for g in groups {
            b.push_group(g.iter().map(Vec::as_slice))?;
        }
        Ok(b)
    }

    /// Like [`RewardBatch::from_nested`], but a `None` is a missing value (a reward function that
    /// does not apply to that rollout) and a group may have a single rollout. Whether the
    /// estimator accepts either is its own setting (`missing`, `groups_of_one`).
    pub fn from_optional(groups: &[Vec<Vec<Option<f64>>>]) -> Result<Self, BatchError> {
        let first = groups.first().ok_or(BatchError::Empty)?;
        let components = first.first().map_or(0, Vec::len);
        let mut b = Self::with_components(components)?;
        b.lenient = true;
        for g in groups {
            let rows: Vec<Vec<f64>> = g.iter().map(|r| r.iter().map(|x| x.unwrap_or(f64::NAN)).collect()).collect();
            b.push_group(rows.iter().map(Vec::as_slice))?;
        }
        Ok(b)
    }

    /// Attaches the response length of every rollout, shaped like the groups.
    pub fn with_lengths(mut self, lengths: &[Vec<u64>]) -> Result<Self, BatchError> {
        if lengths.len() != self.groups() {
            return Err(BatchError::LengthShape { group: lengths.len().min(self.groups()), found: lengths.len(), expected: self.groups() });
        }
        for (i, l) in lengths.iter().enumerate() {
            let expected = self.group_range(i).len();
            if l.len() != expected {
                return Err(BatchError::LengthShape { group: i, found: l.len(), expected });
            }
        }
        self.lengths = Some(lengths.concat());
        Ok(self)
    }

    /// Response length in tokens of each rollout (flat), when attached.
    pub fn lengths(&self) -> Option<&[u64]> {
        self.lengths.as_deref()
    }

    /// The first missing value, as `(group, rollout in group, component)`.
    pub fn first_missing(&self) -> Option<(usize, usize, usize)> {
        if !self.missing {
            return None;
        }
        let at = self.values.iter().position(|x| x.is_nan())?;
        let (r, c) = (at / self.components, at % self.components);
        let g = self.offsets.partition_point(|&o| o <= r) - 1;
        Some((g, r - self.offsets[g], c))
    }

    /// An empty batch whose rollouts will have `components` components.
    pub fn with_components(components: usize) -> Result<Self, BatchError> {
        if components == 0 {
            return Err(BatchError::NoComponents);
        }
        Ok(Self { values: Vec::new(), offsets: vec![0], components, lengths: None, missing: false, lenient: false })
    }

    /// Appends one group; on error the batch is unchanged.
    pub fn push_group<'a, I>(&mut self, rollouts: I) -> Result<(), BatchError>
    where
        I: IntoIterator<Item = &'a [f64]>,
    {
        let group = self.groups();
        let start = self.values.len();
        let mut size = 0;
        for (j, r) in rollouts.into_iter().enumerate() {
            let check = if r.len() != self.components {
                Err(BatchError::Ragged { group, rollout: j, found: r.len(), expected: self.components })
            } else if let Some((n, &value)) = r.iter().enumerate().find(|(_, x)| !(x.is_finite() || self.lenient && x.is_nan())) {
                Err(BatchError::NonFinite { group, rollout: j, component: n, value })
            } else {
                Ok(())
            };
            if let Err(e) = check {
                self.values.truncate(start);
                return Err(e);
            }
            self.values.extend_from_slice(r);
            self.missing |= r.iter().any(|x| x.is_nan());
            size += 1;
        }
        if size < 2 - usize::from(self.lenient) {
            self.values.truncate(start);
            return Err(BatchError::GroupTooSmall { group, size });
        }
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last + size);
        Ok(())
    }

    /// Number of groups (prompts).
    pub fn groups(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Total number of rollouts.
    pub fn rollouts(&self) -> usize {
        self.values.len() / self.components
    }

    /// Number of reward components per rollout.
    pub fn components(&self) -> usize {
        self.components
    }

    /// Rollout index range of group `i`.
    pub fn group_range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// Rollout offsets: group `i` is `offsets()[i]..offsets()[i + 1]`.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Flat row-major values, `[rollout * components + component]`; NaN is a missing value
    /// (only in batches built by [`RewardBatch::from_optional`]).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Component vector of rollout `r`.
    pub fn rollout(&self, r: usize) -> &[f64] {
        &self.values[r * self.components..(r + 1) * self.components]
    }

    /// Checks that `weights` has one finite weight per component.
    pub fn check_weights(&self, weights: &[f64]) -> Result<(), BatchError> {
        if weights.len() != self.components {
            return Err(BatchError::WeightCount { found: weights.len(), expected: self.components });
        }
        match weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
            Some((index, &value)) => Err(BatchError::NonFiniteWeight { index, value }),
            None => Ok(()),
        }
    }

    /// Weighted sum of components per rollout.
    pub fn weighted_sums(&self, weights: &[f64]) -> Vec<f64> {
        self.values
            .chunks_exact(self.components)
            .map(|r| r.iter().zip(weights).map(|(x, w)| x * w).sum())
            .collect()
    }

    /// Reshapes a flat per-rollout vector (e.g. advantages) into `[group][rollout]`.
    pub fn nest<T: Clone>(&self, flat: &[T]) -> Vec<Vec<T>> {
        (0..self.groups()).map(|i| flat[self.group_range(i)].to_vec()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_uneven_groups() {
        let b = RewardBatch::from_nested(&[
            vec![vec![0.0, 1.0], vec![0.0, 2.0]],
            vec![vec![1.0, 0.0], vec![0.0, 0.0], vec![3.0, 3.0]],
        ])
        .unwrap();
        assert_eq!(b.groups(), 2);
        assert_eq!(b.rollouts(), 5);
        assert_eq!(b.group_range(1), 2..5);
        assert_eq!(b.rollout(4), &[3.0, 3.0]);
        assert_eq!(b.weighted_sums(&[1.0, 2.0]), vec![2.0, 4.0, 1.0, 0.0, 9.0]);
    }

    #[test]
    fn rejects_bad_shapes_and_values() {
        let e = RewardBatch::from_nested(&[vec![vec![0.0, 1.0], vec![0.0]]]).unwrap_err();
        assert_eq!(e, BatchError::Ragged { group: 0, rollout: 1, found: 1, expected: 2 });
        let e = RewardBatch::from_nested(&[vec![vec![0.0]]]).unwrap_err();
        assert_eq!(e, BatchError::GroupTooSmall { group: 0, size: 1 });
        let e = RewardBatch::from_nested(&[vec![vec![0.0], vec![f64::NAN]]]).unwrap_err();
        assert!(matches!(e, BatchError::NonFinite { group: 0, rollout: 1, component: 0, .. }));
        assert_eq!(RewardBatch::from_nested(&[]).unwrap_err(), BatchError::Empty);
        assert_eq!(RewardBatch::from_nested(&[vec![vec![], vec![]]]).unwrap_err(), BatchError::NoComponents);
        let b = RewardBatch::from_nested(&[vec![vec![0.0], vec![1.0]]]).unwrap();
        assert_eq!(b.check_weights(&[1.0, 2.0]).unwrap_err(), BatchError::WeightCount { found: 2, expected: 1 });
        assert!(b.check_weights(&[f64::INFINITY]).is_err());
    }

    #[test]
    fn optional_values_groups_of_one_and_lengths() {
        let b = RewardBatch::from_optional(&[vec![vec![Some(1.0), None]], vec![vec![Some(0.0), Some(2.0)], vec![None, Some(1.0)]]])
            .unwrap();
        assert_eq!((b.groups(), b.rollouts()), (2, 3));
        assert_eq!(b.first_missing(), Some((0, 0, 1)));
        assert!(RewardBatch::from_optional(&[vec![vec![Some(f64::INFINITY)]]]).is_err());
        let b = b.with_lengths(&[vec![3], vec![0, 5]]).unwrap();
        assert_eq!(b.lengths(), Some(&[3, 0, 5][..]));
        let e = b.clone().with_lengths(&[vec![3], vec![5]]).unwrap_err();
        assert_eq!(e, BatchError::LengthShape { group: 1, found: 1, expected: 2 });
        assert!(matches!(b.with_lengths(&[vec![3]]).unwrap_err(), BatchError::LengthShape { found: 1, expected: 2, .. }));
        let strict = RewardBatch::from_nested(&[vec![vec![0.0], vec![1.0]]]).unwrap();
        assert_eq!((strict.first_missing(), strict.lengths()), (None, None));
    }
}
