//! Small descriptive statistics shared by summaries and reports.

use serde::{Deserialize, Serialize};

/// Mean, sample std, min, max and count of a set of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Describe {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Bessel-corrected std (0 for a single value).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Describe {
    /// Describes `xs`; `None` when empty.
    pub fn of(xs: &[f64]) -> Option<Self> {
        if xs.is_empty() {
            return None;
        }
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Self { n, mean, std, min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes() {
        let d = Describe::of(&[1.0, 2.0, 3.0, 6.0]).unwrap();
        assert_eq!((d.n, d.mean, d.min, d.max), (4, 3.0, 1.0, 6.0));
        assert!((d.std - (14.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(Describe::of(&[2.0]).unwrap().std, 0.0);
        assert!(Describe::of(&[]).is_none());
    }
}
