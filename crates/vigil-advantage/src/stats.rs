//! Mean, variance and whitening over strided views of the flat reward matrix. NaN marks a value
//! that is missing (or a rollout with no reward at all): it is left out of every statistic.

use vigil_core::BatchError;

use crate::{EpsilonOn, StdKind, Whiten};

/// Mean and variance of the present (non-NaN) values among `n` read through `get`, or `None`
/// when fewer than two are present or all present values are equal (bit-for-bit), in which case
/// the caller writes exact zeros instead of dividing. `M`: the values may contain NaN (a batch
/// with missing values); when false the NaN checks compile away.
#[inline]
pub(crate) fn moments<const M: bool>(
    n: usize,
    get: impl Fn(usize) -> f64,
    kind: StdKind,
) -> Option<(f64, f64)> {
    let mut present = (0..n).map(&get).filter(|x| !(M && x.is_nan()));
    let first = present.next()?;
    let (mut sum, mut count, mut constant) = (first, 1usize, true);
    for x in present {
        constant &= x == first;
        sum += x;
        count += 1;
    }
    if constant {
        return None;
    }
    let mean = sum / count as f64;
    let mut ss = 0.0;
    for i in 0..n {
        let x = get(i);
        if !(M && x.is_nan()) {
            let d = x - mean;
            ss += d * d;
        }
    }
    Some((mean, ss / denominator(count, kind)))
}

/// `n - 1` (sample) or `n` (population).
#[inline]
pub(crate) fn denominator(count: usize, kind: StdKind) -> f64 {
    match kind {
        StdKind::Sample => (count - 1) as f64,
        StdKind::Population => count as f64,
    }
}

/// What to divide by for variance `var`: `sqrt(var) + ε` or `sqrt(var + ε)`.
#[inline]
pub(crate) fn divisor(var: f64, eps: f64, on: EpsilonOn) -> f64 {
    match on {
        EpsilonOn::Std => var.sqrt() + eps,
        EpsilonOn::Variance => (var + eps).sqrt(),
    }
}

/// Sets every present value of `xs` to exactly 0.
pub(crate) fn zero_present(xs: &mut [f64]) {
    xs.iter_mut().filter(|x| !x.is_nan()).for_each(|x| *x = 0.0);
}

/// One batch-wide whitening step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Whitening {
    pub(crate) weights: Whiten,
    pub(crate) eps: f64,
    pub(crate) on: EpsilonOn,
    pub(crate) std: StdKind,
}

/// verl's guard in the denominator of a token mean (`mask.sum() + 1e-8`).
const TOKEN_MEAN_GUARD: f64 = 1e-8;

impl Whitening {
    /// Whitens the present values of `xs` in place (missing ones stay NaN).
    pub(crate) fn apply<const M: bool>(
        &self,
        xs: &mut [f64],
        lengths: Option<&[u64]>,
        estimator: &'static str,
    ) -> Result<(), BatchError> {
        match self.weights {
            Whiten::Rollouts => {
                match moments::<M>(xs.len(), |i| xs[i], self.std) {
                    None => zero_present(xs),
                    Some((mean, var)) => {
                        let inv = 1.0 / divisor(var, self.eps, self.on);
                        xs.iter_mut().for_each(|x| *x = (*x - mean) * inv);
                    }
                }
                Ok(())
            }
            Whiten::Tokens => {
                let lengths = lengths.ok_or(BatchError::NoLengths { estimator })?;
                self.apply_tokens(xs, lengths)
            }
        }
    }

    /// verl's `masked_whiten`: every token of a rollout carries the rollout's value.
    fn apply_tokens(&self, xs: &mut [f64], lengths: &[u64]) -> Result<(), BatchError> {
        let present = || xs.iter().zip(lengths).filter(|(x, _)| !x.is_nan());
        let tokens: u64 = present().map(|(_, &l)| l).sum();
        if tokens < 2 {
            return Err(BatchError::TooFewTokens { tokens });
        }
        let t = tokens as f64;
        let mean = present().map(|(x, &l)| l as f64 * x).sum::<f64>() / (t + TOKEN_MEAN_GUARD);
        let ss: f64 = present()
            .map(|(x, &l)| l as f64 * (x - mean) * (x - mean))
            .sum();
        let mut var = ss / (t + TOKEN_MEAN_GUARD);
        if self.std == StdKind::Sample {
            var *= t / (t - 1.0);
        }
        let d = divisor(var, self.eps, self.on);
        for (x, &l) in xs.iter_mut().zip(lengths) {
            if !x.is_nan() {
                // A rollout without tokens has no advantage to carry; a zero divisor means every
                // token holds the same value.
                *x = if l == 0 || d == 0.0 {
                    0.0
                } else {
                    (*x - mean) / d
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_and_population_variance() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        let (m, v) = moments::<false>(4, |i| xs[i], StdKind::Sample).unwrap();
        assert_eq!(m, 2.5);
        assert!((v - 5.0 / 3.0).abs() < 1e-15);
        let (_, p) = moments::<false>(4, |i| xs[i], StdKind::Population).unwrap();
        assert!((p - 1.25).abs() < 1e-15);
        assert_eq!(moments::<false>(3, |_| 0.1, StdKind::Sample), None);
        let ys = [f64::NAN, 1.0, f64::NAN, 3.0];
        assert_eq!(
            moments::<true>(4, |i| ys[i], StdKind::Sample),
            Some((2.0, 2.0))
        );
        assert_eq!(
            moments::<true>(
                4,
                |i| [f64::NAN, 1.0, f64::NAN, f64::NAN][i],
                StdKind::Sample
            ),
            None
        );
    }

    #[test]
    fn token_whitening_weights_by_length() {
        // Values 1 (3 tokens) and -1 (1 token): mean ≈ 0.5, var ≈ (3·0.25 + 2.25)/4 · 4/3 = 1.
        let w = Whitening {
            weights: Whiten::Tokens,
            eps: 0.0,
            on: EpsilonOn::Variance,
            std: StdKind::Sample,
        };
        let mut xs = [1.0, -1.0, f64::NAN, 5.0];
        w.apply::<true>(&mut xs, Some(&[3, 1, 7, 0]), "gdpo")
            .unwrap();
        assert!(
            (xs[0] - 0.5).abs() < 1e-7 && (xs[1] + 1.5).abs() < 1e-7,
            "{xs:?}"
        );
        assert!(xs[2].is_nan() && xs[3] == 0.0);
        assert_eq!(
            w.apply::<false>(&mut [1.0, 2.0], None, "gdpo"),
            Err(BatchError::NoLengths { estimator: "gdpo" })
        );
        assert_eq!(
            w.apply::<false>(&mut [1.0, 2.0], Some(&[1, 0]), "gdpo"),
            Err(BatchError::TooFewTokens { tokens: 1 })
        );
    }
}
