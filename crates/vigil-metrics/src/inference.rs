//! Uncertainty for comparisons between runs: seeded percentile-bootstrap confidence intervals and
//! paired tests (Student's t and an exact sign-flip permutation test).
//!
//! Reports compare a handful of seeds per variant, so every function works for tiny samples and
//! says plainly when a quantity is undefined (`None`) instead of inventing a number. All
//! randomness comes from a caller-owned RNG, so a report is reproducible from its seed.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::MetricError;

/// A two-sided confidence interval around an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The point estimate (the sample mean).
    pub estimate: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Coverage, e.g. 0.95.
    pub level: f64,
    /// Sample size behind the estimate.
    pub n: usize,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn check_finite(xs: &[f64]) -> Result<(), MetricError> {
    if xs.is_empty() {
        return Err(MetricError::Empty);
    }
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(MetricError::NotFinite { index, value: xs[index] }),
        None => Ok(()),
    }
}

/// The `q`-quantile of sorted values with linear interpolation between order statistics
/// (NumPy's default, "type 7").
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile-bootstrap interval of the mean of `xs`: `resamples` resamples with replacement,
/// the interval is the `(1 − level)/2` and `(1 + level)/2` quantiles of the resampled means.
/// One value gives a zero-width interval (there is nothing to resample).
pub fn bootstrap_mean(xs: &[f64], resamples: usize, level: f64, rng: &mut impl Rng) -> Result<Interval, MetricError> {
    check_finite(xs)?;
    if !(level > 0.0 && level < 1.0) {
        return Err(MetricError::Level(level));
    }
    let n = xs.len();
    let estimate = mean(xs);
    if n == 1 || resamples == 0 {
        return Ok(Interval { estimate, lo: estimate, hi: estimate, level, n });
    }
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| xs[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    Ok(Interval { estimate, lo: quantile_sorted(&means, alpha), hi: quantile_sorted(&means, 1.0 - alpha), level, n })
}

/// Student's paired t-test on differences `d` (H0: mean difference 0), two-sided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TTest {
    /// Mean difference.
    pub mean: f64,
    /// t statistic (`None` when the differences have zero variance or n < 2).
    pub t: Option<f64>,
    /// Degrees of freedom (n − 1).
    pub df: usize,
    /// Two-sided p-value (`None` when `t` is undefined).
    pub p: Option<f64>,
}

/// Paired t-test of differences `d`. With zero variance the statistic is undefined (`None`):
/// identical differences carry no information about their spread.
pub fn paired_t(d: &[f64]) -> Result<TTest, MetricError> {
    check_finite(d)?;
    let n = d.len();
    let m = mean(d);
    if n < 2 {
        return Ok(TTest { mean: m, t: None, df: 0, p: None });
    }
    let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let df = n - 1;
    if se <= f64::EPSILON * m.abs().max(1.0) {
        return Ok(TTest { mean: m, t: None, df, p: None });
    }
    let t = m / se;
    Ok(TTest { mean: m, t: Some(t), df, p: Some(student_t_two_sided(t, df as f64)) })
}

/// Sign-flip permutation test on paired differences: the p-value is the share of the `2^n`
/// sign assignments whose |mean| is at least the observed |mean| (two-sided). Exact up to
/// `exact_max` pairs, Monte Carlo with `resamples` draws (plus the observed one) above that.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignFlip {
    /// Mean difference.
    pub mean: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Whether every sign assignment was enumerated.
    pub exact: bool,
    /// Number of pairs.
    pub n: usize,
}

/// See [`SignFlip`]. Note the floor: with `n` pairs the smallest exact p-value is `2 / 2^n`
/// (0.25 for three seeds), which a report should state next to the number.
pub fn sign_flip(d: &[f64], exact_max: usize, resamples: usize, rng: &mut impl Rng) -> Result<SignFlip, MetricError> {
    check_finite(d)?;
    let n = d.len();
    let observed = mean(d).abs();
    // Tolerance so that assignments equal to the observed one up to rounding count as "as extreme".
    let tol = 1e-12 * d.iter().map(|x| x.abs()).sum::<f64>().max(1e-300);
    let extreme = |signs: &mut dyn Iterator<Item = bool>| {
        let s: f64 = d.iter().zip(signs).map(|(x, neg)| if neg { -x } else { *x }).sum();
        (s / n as f64).abs() >= observed - tol
    };
    if n <= exact_max.min(24) {
        let total = 1u64 << n;
        let hits = (0..total).filter(|mask| extreme(&mut (0..n).map(|i| mask >> i & 1 == 1))).count();
        return Ok(SignFlip { mean: mean(d), p: hits as f64 / total as f64, exact: true, n });
    }
    let hits = (0..resamples).filter(|_| extreme(&mut (0..n).map(|_| rng.random_bool(0.5)))).count();
    Ok(SignFlip { mean: mean(d), p: (hits + 1) as f64 / (resamples + 1) as f64, exact: false, n })
}

/// Two-sided tail probability P(|T| ≥ |t|) of Student's t with `df` degrees of freedom:
/// I_{df/(df+t²)}(df/2, 1/2).
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    regularized_beta(x, df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~1e-15 relative accuracy).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularized incomplete beta I_x(a, b) by Lentz's continued fraction, using the symmetry
/// I_x(a,b) = 1 − I_{1−x}(b,a) where the fraction converges slowly.
pub fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_beta(1.0 - x, b, a);
    }
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        for step in [num, -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))] {
            d = 1.0 + step * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + step / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    ln_front.exp() * h / a
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn student_t_matches_tables() {
        // df = 1 is Cauchy: P(|T| ≥ 1) = 0.5 exactly.
        assert!((student_t_two_sided(1.0, 1.0) - 0.5).abs() < 1e-12);
        // df = 2 has a closed form: p = 1 − t / sqrt(2 + t²).
        for t in [0.3_f64, 1.0, 2.0, 4.303] {
            let want = 1.0 - t / (2.0 + t * t).sqrt();
            assert!((student_t_two_sided(t, 2.0) - want).abs() < 1e-12, "t={t}");
        }
        // Critical values from standard tables: t_{0.975}(4) = 2.776, t_{0.975}(30) = 2.042.
        assert!((student_t_two_sided(2.776_445, 4.0) - 0.05).abs() < 1e-5);
        assert!((student_t_two_sided(2.042_272, 30.0) - 0.05).abs() < 1e-5);
        assert_eq!(student_t_two_sided(0.0, 5.0), 1.0);
    }

    #[test]
    fn paired_t_hand_computed() {
        // d = 1, 2, 3: mean 2, sd 1, se 1/sqrt(3), t = 2 sqrt(3), df 2.
        let r = paired_t(&[1.0, 2.0, 3.0]).unwrap();
        let t = 2.0 * 3f64.sqrt();
        assert!((r.t.unwrap() - t).abs() < 1e-12);
        assert_eq!(r.df, 2);
        assert!((r.p.unwrap() - (1.0 - t / (2.0 + t * t).sqrt())).abs() < 1e-12);
        assert_eq!(paired_t(&[0.5, 0.5]).unwrap().t, None);
        assert_eq!(paired_t(&[0.5]).unwrap().p, None);
        assert_eq!(paired_t(&[]), Err(MetricError::Empty));
        assert!(matches!(paired_t(&[1.0, f64::NAN]), Err(MetricError::NotFinite { index: 1, .. })));
    }

    #[test]
    fn sign_flip_exact_and_monte_carlo() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // Three positive differences: only all-plus and all-minus are as extreme: 2/8.
        let r = sign_flip(&[1.0, 2.0, 3.0], 16, 0, &mut rng).unwrap();
        assert!(r.exact);
        assert_eq!(r.p, 0.25);
        // d = (1, -1): every assignment has |mean| 0 or 1... observed 0 -> p = 1.
        assert_eq!(sign_flip(&[1.0, -1.0], 16, 0, &mut rng).unwrap().p, 1.0);
        // Monte Carlo on 30 clearly positive pairs gives a tiny p, floored at 1/(R+1).
        let d: Vec<f64> = (1..=30).map(f64::from).collect();
        let mc = sign_flip(&d, 10, 999, &mut rng).unwrap();
        assert!(!mc.exact);
        assert_eq!(mc.p, 1.0 / 1000.0);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let xs = [1.0, 2.0, 3.0, 4.0, 10.0];
        let a = bootstrap_mean(&xs, 2000, 0.95, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        let b = bootstrap_mean(&xs, 2000, 0.95, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.estimate, 4.0);
        assert!(a.lo < 4.0 && a.hi > 4.0 && a.lo >= 1.0 && a.hi <= 10.0);
        // Another seed resamples differently (on 5 points the percentiles can coincide, so use 40).
        let ys: Vec<f64> = (1..=40).map(|i| f64::from(i).sqrt() * 1.37).collect();
        let c7 = bootstrap_mean(&ys, 2000, 0.95, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        let c8 = bootstrap_mean(&ys, 2000, 0.95, &mut ChaCha8Rng::seed_from_u64(8)).unwrap();
        assert_ne!(c7, c8);
        let one = bootstrap_mean(&[3.0], 100, 0.95, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        assert_eq!((one.lo, one.hi), (3.0, 3.0));
        assert_eq!(bootstrap_mean(&xs, 10, 1.5, &mut ChaCha8Rng::seed_from_u64(7)), Err(MetricError::Level(1.5)));
        // Constant data: a zero-width interval.
        let k = bootstrap_mean(&[2.0; 4], 100, 0.9, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!((k.lo, k.hi), (2.0, 2.0));
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        assert!((quantile_sorted(&s, 0.025) - 1.075).abs() < 1e-12);
    }
}
