//! Tests of the row kernels against their definitions and finite differences.

use super::*;

#[test]
fn exp_is_close_to_std_and_masks_to_zero() {
    let mut worst = 0f32;
    let mut x = -87.0f32;
    while x < 88.0 {
        let (a, b) = (exp(x), x.exp());
        worst = worst.max(((a - b) / b).abs());
        x += 0.0137;
    }
    assert!(worst < 4e-7, "relative error {worst}");
    assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp(-100.0), 0.0);
    assert_eq!(exp(0.0), 1.0);
}

#[test]
fn softmax_and_backward_match_the_definitions() {
    let width = 37;
    let scores: Vec<f32> = (0..3 * width).map(|i| ((i * 7919) % 113) as f32 / 17.0 - 3.0).collect();
    let mut bias = vec![0f32; width];
    bias[5] = f32::NEG_INFINITY;
    let mut p = scores.clone();
    softmax_rows(&mut p, &bias, width);
    for r in 0..3 {
        let row = &scores[r * width..(r + 1) * width];
        let m = row.iter().enumerate().filter(|(j, _)| *j != 5).fold(f32::MIN, |m, (_, v)| m.max(*v));
        let z: f64 = row.iter().enumerate().filter(|(j, _)| *j != 5).map(|(_, v)| f64::from(v - m).exp()).sum();
        for j in 0..width {
            let want = if j == 5 { 0.0 } else { f64::from(row[j] - m).exp() / z };
            assert!((f64::from(p[r * width + j]) - want).abs() < 1e-6);
        }
    }
    let g: Vec<f32> = (0..3 * width).map(|i| (i % 5) as f32 - 2.0).collect();
    let mut ds = g.clone();
    softmax_backward_rows(&p, &mut ds, width);
    for r in 0..3 {
        let (pr, gr) = (&p[r * width..(r + 1) * width], &g[r * width..(r + 1) * width]);
        let dot: f32 = pr.iter().zip(gr).map(|(a, b)| a * b).sum();
        for j in 0..width {
            assert!((ds[r * width + j] - pr[j] * (gr[j] - dot)).abs() < 1e-6);
        }
    }
}

#[test]
fn target_logprobs_and_their_gradient_match_the_definitions() {
    let width = 300;
    let logits: Vec<f32> = (0..2 * width).map(|i| ((i * 31) % 97) as f32 / 9.0).collect();
    let targets = [3usize, 299];
    let rows = target_logprob_rows(&logits, width, &targets);
    for (r, &(lp, lse, h)) in rows.iter().enumerate() {
        let row = &logits[r * width..(r + 1) * width];
        let z: f64 = row.iter().map(|v| f64::from(*v).exp()).sum();
        let want_lse = z.ln();
        let want_h: f64 = -row.iter().map(|v| { let p = f64::from(*v).exp() / z; p * p.ln() }).sum::<f64>();
        assert!((f64::from(lse) - want_lse).abs() < 1e-4);
        assert!((f64::from(lp) - (f64::from(row[targets[r]]) - want_lse)).abs() < 1e-4);
        assert!((f64::from(h) - want_h).abs() < 1e-4);
    }
    let lse: Vec<f32> = rows.iter().map(|r| r.1).collect();
    let d = target_logprob_backward_rows(&logits, width, &targets, &lse, &[1.0, -2.0]);
    let row_sum: f32 = d[..width].iter().sum();
    assert!(row_sum.abs() < 1e-5, "gradient of a log-prob sums to 0 over the vocabulary");
    assert!(d[3] > 0.0 && d[width + 299] < 0.0);
}

#[test]
fn swiglu_and_its_gradient_match_finite_differences() {
    let g: Vec<f32> = (0..50).map(|i| i as f32 / 5.0 - 5.0).collect();
    let u: Vec<f32> = (0..50).map(|i| 1.5 - i as f32 / 20.0).collect();
    let mut h = vec![0f32; 50];
    swiglu(&g, &u, &mut h);
    let (mut dg, mut du) = (vec![0f32; 50], vec![0f32; 50]);
    swiglu_backward(&g, &u, &vec![1.0; 50], &mut dg, &mut du);
    let f = |g: f64, u: f64| g / (1.0 + (-g).exp()) * u;
    for i in 0..50 {
        let (gi, ui) = (f64::from(g[i]), f64::from(u[i]));
        assert!((f64::from(h[i]) - f(gi, ui)).abs() < 1e-5);
        let eps = 1e-4;
        let num_g = (f(gi + eps, ui) - f(gi - eps, ui)) / (2.0 * eps);
        let num_u = (f(gi, ui + eps) - f(gi, ui - eps)) / (2.0 * eps);
        assert!((f64::from(dg[i]) - num_g).abs() < 1e-4, "dg {i}");
        assert!((f64::from(du[i]) - num_u).abs() < 1e-4, "du {i}");
    }
}
