//! Mean and standard deviation over strided views of the flat reward matrix.

use crate::StdKind;

/// Mean and std of `n >= 2` values read through `get`, or `None` when all values are equal
/// (bit-for-bit), in which case the caller writes exact zeros instead of dividing.
#[inline]
pub(crate) fn moments(n: usize, get: impl Fn(usize) -> f64, kind: StdKind) -> Option<(f64, f64)> {
    let first = get(0);
    let mut sum = first;
    let mut constant = true;
    for i in 1..n {
        let x = get(i);
        constant &= x == first;
        sum += x;
    }
    if constant {
        return None;
    }
    let mean = sum / n as f64;
    let mut ss = 0.0;
    for i in 0..n {
        let d = get(i) - mean;
        ss += d * d;
    }
    let denom = match kind {
        StdKind::Sample => (n - 1) as f64,
        StdKind::Population => n as f64,
    };
    Some((mean, (ss / denom).sqrt()))
}

/// Z-scores `xs` in place over the whole slice (`(x - mean) / (std + eps)`); an all-equal slice
/// becomes all zeros.
pub(crate) fn zscore_in_place(xs: &mut [f64], eps: f64, kind: StdKind) {
    match moments(xs.len(), |i| xs[i], kind) {
        None => xs.iter_mut().for_each(|x| *x = 0.0),
        Some((mean, std)) => {
            let inv = 1.0 / (std + eps);
            xs.iter_mut().for_each(|x| *x = (*x - mean) * inv);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_and_population_std() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        let (m, s) = moments(4, |i| xs[i], StdKind::Sample).unwrap();
        assert_eq!(m, 2.5);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let (_, p) = moments(4, |i| xs[i], StdKind::Population).unwrap();
        assert!((p - 1.25f64.sqrt()).abs() < 1e-15);
        assert_eq!(moments(3, |_| 0.1, StdKind::Sample), None);
    }
}
