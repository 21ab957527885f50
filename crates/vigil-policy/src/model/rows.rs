//! Row-wise f32 kernels for the fused training ops of [`super::fused`]: a masked softmax and the
//! target log-probs of vocabulary rows (each with its backward), SwiGLU and RMSNorm.
//!
//! burn 0.21's autodiff decomposes softmax and log-softmax into max, subtract, a scalar `exp`,
//! sum and divide, each with its own tensor and backward node: on the quickstart model that was
//! over a third of a training step. Here each row is one pass, with a polynomial `exp` that the
//! compiler vectorizes (pulp's run-time dispatch compiles the loops for AVX-512 or AVX2).
//!
//! Determinism: each row is computed by one task in one fixed order (16 strided partial sums
//! added pairwise), with plain multiplies and adds (no fused multiply-add), so the bits depend
//! neither on the thread count nor on the instruction set.

use rayon::prelude::*;

/// Lanes of the strided partial sums (one AVX-512 vector of f32).
const LANES: usize = 16;

/// Floats per parallel task (enough to amortize a task, small enough to spread short batches).
const TASK_FLOATS: usize = 1 << 15;

/// `eˣ` to about 2 ulp for `x ≤ 88.3`; exactly 0 below −87.3 (masked scores stay masked).
///
/// Cody–Waite range reduction `x = n·ln2 + r` and Cephes' degree-6 polynomial for `eʳ`; the
/// power of two is written into the exponent bits. Branch-free, so loops of it vectorize.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2²³ rounds to the nearest integer in the low mantissa bits (no `floor`,
    // which is a library call without SSE4.1).
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-87.3, 88.3);
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * (r * r) + r + 1.0;
    let e = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32) + 127;
    let scale = f32::from_bits((e as u32) << 23);
    if x < -87.3 { 0.0 } else { y * scale }
}

/// The sum of `xs` in a fixed order: 16 strided partial sums, added pairwise.
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    for (a, v) in acc.iter_mut().zip(chunks.remainder()) {
        *a += v;
    }
    pairwise(acc)
}

#[inline(always)]
fn pairwise(mut acc: [f32; LANES]) -> f32 {
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            acc[i] += acc[i + w];
        }
        w /= 2;
    }
    acc[0]
}

#[inline(always)]
fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = a.max(*v);
        }
    }
    for (a, v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = a.max(*v);
    }
    acc.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v))
}

/// A loop body compiled for the widest SIMD level the CPU has. (A closure handed to pulp is
/// not inlined into its dispatch, so it ran without AVX; `run` is `inline(always)`.)
pub(crate) trait Job {
    fn run(self);
}

struct Dispatch<J>(J);

impl<J: Job> pulp::WithSimd for Dispatch<J> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.0.run()
    }
}

pub(crate) fn simd(job: impl Job) {
    pulp::Arch::new().dispatch(Dispatch(job))
}

/// Rows per task for rows of `width` floats.
fn rows_per_task(width: usize) -> usize {
    (TASK_FLOATS / width.max(1)).max(1)
}

/// In place, each row `r` of `scores` (`width` wide) becomes `softmax(scores[r] + bias[r % bias_rows])`.
///
/// Every row must have a finite entry after the bias (the causal mask keeps the diagonal).
pub(crate) fn softmax_rows(scores: &mut [f32], bias: &[f32], width: usize) {
    let bias_rows = bias.len() / width;
    let per = rows_per_task(width);
    scores.par_chunks_mut(per * width).enumerate().for_each(|(task, chunk)| {
        simd(Softmax { chunk, bias, bias_rows, first: task * per, width })
    });
}

struct Softmax<'a> {
    chunk: &'a mut [f32],
    bias: &'a [f32],
    bias_rows: usize,
    first: usize,
    width: usize,
}

impl Job for Softmax<'_> {
    #[inline(always)]
    fn run(self) {
        let Softmax { chunk, bias, bias_rows, first, width } = self;
        for (i, row) in chunk.chunks_exact_mut(width).enumerate() {
            let r = (first + i) % bias_rows;
            softmax_row(row, &bias[r * width..(r + 1) * width]);
        }
    }
}

/// In place, `row ← softmax(row + bias)`: the one masked softmax of training, prefill and
/// decode (so their bits agree).
#[inline(always)]
pub(crate) fn softmax_row(row: &mut [f32], bias: &[f32]) {
    for (x, b) in row.iter_mut().zip(bias) {
        *x += b;
    }
    let m = max(row);
    for x in row.iter_mut() {
        *x = exp(*x - m);
    }
    let inv = 1.0 / sum(row);
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// The softmax backward, in place: `dp[r] ← p[r] ∘ (dp[r] − ⟨p[r], dp[r]⟩)` (the score gradient).
pub(crate) fn softmax_backward_rows(p: &[f32], dp: &mut [f32], width: usize) {
    let per = rows_per_task(width);
    dp.par_chunks_mut(per * width).enumerate().for_each(|(task, chunk)| {
        let p = &p[task * per * width..][..chunk.len()];
        simd(SoftmaxBackward { p, chunk, width })
    });
}

struct SoftmaxBackward<'a> {
    p: &'a [f32],
    chunk: &'a mut [f32],
    width: usize,
}

impl Job for SoftmaxBackward<'_> {
    #[inline(always)]
    fn run(self) {
        let SoftmaxBackward { p, chunk, width } = self;
        for (p, g) in p.chunks_exact(width).zip(chunk.chunks_exact_mut(width)) {
            let dot = dot(p, g);
            for (gv, pv) in g.iter_mut().zip(p) {
                *gv = pv * (*gv - dot);
            }
        }
    }
}

/// Per row of `logits` (`width` wide): `(log p(target), log-sum-exp, entropy)`.
pub(crate) fn target_logprob_rows(
    logits: &[f32],
    width: usize,
    targets: &[usize],
) -> Vec<(f32, f32, f32)> {
    let per = rows_per_task(width);
    let mut out = vec![(0f32, 0f32, 0f32); targets.len()];
    out.par_chunks_mut(per).enumerate().for_each(|(task, chunk)| {
        let first = task * per;
        let logits = &logits[first * width..][..chunk.len() * width];
        let targets = &targets[first..][..chunk.len()];
        simd(TargetLogprob { logits, targets, out: chunk, width })
    });
    out
}

/// `out[i] = exp(row[i] / temperature − shift)`, vectorized, on the calling thread (the
/// weights of temperature sampling).
pub(crate) fn exp_tempered(row: &[f32], temperature: f32, shift: f32, out: &mut Vec<f32>) {
    out.clear();
    out.resize(row.len(), 0.0);
    simd(Tempered { row, temperature, shift, out });
}

struct Tempered<'a> {
    row: &'a [f32],
    temperature: f32,
    shift: f32,
    out: &'a mut [f32],
}

impl Job for Tempered<'_> {
    #[inline(always)]
    fn run(self) {
        for (o, l) in self.out.iter_mut().zip(self.row) {
            *o = exp(*l / self.temperature - self.shift);
        }
    }
}

/// `log p(target)` of one row, on the calling thread (sampling: one row per sequence per step).
pub(crate) fn logprob_at(row: &[f32], target: usize) -> f32 {
    let mut out = [(0f32, 0f32, 0f32)];
    simd(TargetLogprob { logits: row, targets: &[target], out: &mut out, width: row.len() });
    out[0].0
}

struct TargetLogprob<'a> {
    logits: &'a [f32],
    targets: &'a [usize],
    out: &'a mut [(f32, f32, f32)],
    width: usize,
}

impl Job for TargetLogprob<'_> {
    #[inline(always)]
    fn run(self) {
        let TargetLogprob { logits, targets, out, width } = self;
        let mut e = vec![0f32; width];
        for ((row, &t), o) in logits.chunks_exact(width).zip(targets).zip(out.iter_mut()) {
            let m = max(row);
            for (ev, x) in e.iter_mut().zip(row) {
                *ev = exp(*x - m);
            }
            let z = sum(&e);
            for (ev, x) in e.iter_mut().zip(row) {
                *ev *= *x - m;
            }
            let ln_z = z.ln();
            let lse = m + ln_z;
            // H = lse − Σ p·x = ln z − Σ e·(x − m) / z.
            let entropy = ln_z - sum(&e) / z;
            *o = (row[t] - lse, lse, entropy);
        }
    }
}

/// The gradient of `Σ_r g[r] · log p(target_r)` w.r.t. the logits: `g[r]·(onehot − softmax)`.
pub(crate) fn target_logprob_backward_rows(
    logits: &[f32],
    width: usize,
    targets: &[usize],
    lse: &[f32],
    g: &[f32],
) -> Vec<f32> {
    let per = rows_per_task(width);
    let mut out = vec![0f32; logits.len()];
    out.par_chunks_mut(per * width).enumerate().for_each(|(task, chunk)| {
        let (first, n) = (task * per, chunk.len() / width);
        simd(TargetLogprobBackward {
            logits: &logits[first * width..][..chunk.len()],
            targets: &targets[first..][..n],
            lse: &lse[first..][..n],
            g: &g[first..][..n],
            out: chunk,
            width,
        })
    });
    out
}

struct TargetLogprobBackward<'a> {
    logits: &'a [f32],
    targets: &'a [usize],
    lse: &'a [f32],
    g: &'a [f32],
    out: &'a mut [f32],
    width: usize,
}

impl Job for TargetLogprobBackward<'_> {
    #[inline(always)]
    fn run(self) {
        let TargetLogprobBackward { logits, targets, lse, g, out, width } = self;
        let rows = logits.chunks_exact(width).zip(out.chunks_exact_mut(width));
        for (r, (row, d)) in rows.enumerate() {
            let (gr, l) = (g[r], lse[r]);
            for (dv, x) in d.iter_mut().zip(row) {
                *dv = -gr * exp(*x - l);
            }
            d[targets[r]] += gr;
        }
    }
}

/// SwiGLU, elementwise: `h = silu(g)·u` (into `h`).
pub(crate) fn swiglu(g: &[f32], u: &[f32], h: &mut [f32]) {
    h.par_chunks_mut(TASK_FLOATS).enumerate().for_each(|(task, out)| {
        let at = task * TASK_FLOATS;
        let n = out.len();
        simd(Swiglu { g: &g[at..at + n], u: &u[at..at + n], out, grad: None })
    });
}

/// SwiGLU's backward: `dg = dh·u·σ(g)·(1 + g·(1 − σ(g)))` (into `dg`), `du = dh·silu(g)` (into `du`).
pub(crate) fn swiglu_backward(g: &[f32], u: &[f32], dh: &[f32], dg: &mut [f32], du: &mut [f32]) {
    dg.par_chunks_mut(TASK_FLOATS).zip(du.par_chunks_mut(TASK_FLOATS)).enumerate().for_each(
        |(task, (dg, du))| {
            let at = task * TASK_FLOATS;
            let n = dg.len();
            let (g, u) = (&g[at..at + n], &u[at..at + n]);
            simd(Swiglu { g, u, out: dg, grad: Some((&dh[at..at + n], du)) })
        },
    );
}

/// Forward (`grad: None`, `out = h`) or backward (`grad: Some((dh, du))`, `out = dg`).
struct Swiglu<'a> {
    g: &'a [f32],
    u: &'a [f32],
    out: &'a mut [f32],
    grad: Option<(&'a [f32], &'a mut [f32])>,
}

impl Job for Swiglu<'_> {
    #[inline(always)]
    fn run(self) {
        let Swiglu { g, u, out, grad } = self;
        match grad {
            None => {
                for ((h, g), u) in out.iter_mut().zip(g).zip(u) {
                    let sig = 1.0 / (1.0 + exp(-g));
                    *h = g * sig * u;
                }
            }
            Some((dh, du)) => {
                for ((((dg, du), g), u), dh) in out.iter_mut().zip(du.iter_mut()).zip(g).zip(u).zip(dh) {
                    let sig = 1.0 / (1.0 + exp(-g));
                    *du = dh * (g * sig);
                    *dg = dh * u * (sig * (1.0 + g * (1.0 - sig)));
                }
            }
        }
    }
}

/// RMSNorm rows: `y = w ∘ x / √(mean(x²) + eps)`; returns each row's `1/√(mean(x²) + eps)`.
pub(crate) fn rms_norm_rows(x: &[f32], w: &[f32], eps: f32, y: &mut [f32]) -> Vec<f32> {
    let width = w.len();
    let per = rows_per_task(width);
    let mut inv = vec![0f32; x.len() / width];
    y.par_chunks_mut(per * width).zip(inv.par_chunks_mut(per)).enumerate().for_each(|(task, (y, inv))| {
        let x = &x[task * per * width..][..y.len()];
        simd(RmsNorm { x, w, eps, y, inv })
    });
    inv
}

struct RmsNorm<'a> {
    x: &'a [f32],
    w: &'a [f32],
    eps: f32,
    y: &'a mut [f32],
    inv: &'a mut [f32],
}

impl Job for RmsNorm<'_> {
    #[inline(always)]
    fn run(self) {
        let RmsNorm { x, w, eps, y, inv } = self;
        let width = w.len();
        for ((x, y), inv) in x.chunks_exact(width).zip(y.chunks_exact_mut(width)).zip(inv.iter_mut()) {
            let r = 1.0 / (dot(x, x) / width as f32 + eps).sqrt();
            for ((y, x), w) in y.iter_mut().zip(x).zip(w) {
                *y = w * (x * r);
            }
            *inv = r;
        }
    }
}

/// RMSNorm's backward: `dx` (into `dx`) and `dw` (returned; per-task partial sums added in
/// task order, so the bits do not depend on the thread count).
pub(crate) fn rms_norm_backward_rows(x: &[f32], w: &[f32], inv: &[f32], g: &[f32], dx: &mut [f32]) -> Vec<f32> {
    let width = w.len();
    let per = rows_per_task(width);
    let partial: Vec<Vec<f32>> = dx
        .par_chunks_mut(per * width)
        .enumerate()
        .map(|(task, dx)| {
            let at = task * per * width;
            let n = dx.len();
            let mut dw = vec![0f32; width];
            let inv = &inv[task * per..][..n / width];
            simd(RmsNormBackward { x: &x[at..at + n], w, inv, g: &g[at..at + n], dx, dw: &mut dw });
            dw
        })
        .collect();
    let mut dw = vec![0f32; width];
    for p in &partial {
        for (a, b) in dw.iter_mut().zip(p) {
            *a += b;
        }
    }
    dw
}

struct RmsNormBackward<'a> {
    x: &'a [f32],
    w: &'a [f32],
    inv: &'a [f32],
    g: &'a [f32],
    dx: &'a mut [f32],
    dw: &'a mut [f32],
}

impl Job for RmsNormBackward<'_> {
    #[inline(always)]
    fn run(self) {
        let RmsNormBackward { x, w, inv, g, dx, dw } = self;
        let width = w.len();
        let rows = x.chunks_exact(width).zip(g.chunks_exact(width)).zip(dx.chunks_exact_mut(width));
        for (((x, g), dx), &r) in rows.zip(inv) {
            // gx = g ∘ w; dx = r·gx − x·r³·⟨gx, x⟩ / width.
            let mut acc = [0f32; LANES];
            for (l, ((g, w), x)) in g.iter().zip(w).zip(x).enumerate() {
                acc[l % LANES] += (g * w) * x;
            }
            let c = pairwise(acc) * (r * r * r) / width as f32;
            for (((d, g), w), x) in dx.iter_mut().zip(g).zip(w).zip(x) {
                *d = r * (g * w) - x * c;
            }
            for ((d, g), x) in dw.iter_mut().zip(g).zip(x) {
                *d += g * (x * r);
            }
        }
    }
}

/// `⟨a, b⟩` in the fixed order of [`sum`].
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (mut ac, mut bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (x, y) in (&mut ac).zip(&mut bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ac.remainder().iter().zip(bc.remainder()).enumerate() {
        acc[l] += x * y;
    }
    pairwise(acc)
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;
