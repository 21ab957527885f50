//! `x · W` for a few rows and a weight stored `[in, out]` (the projections' layout, see
//! [`super::layers::Proj`]): the decode steps.
//!
//! Decode multiplies `b ≤ 16` rows by every weight matrix and is bound by reading the weights.
//! The weight is cut into blocks of [`ROWS_PER_TASK`] input rows × a width sized so the batch's
//! accumulators stay in L1 (at most [`COLS_PER_TASK`] columns); one parallel task streams a
//! block's row segments once for the whole batch. Inside a task every output column is one SIMD lane that adds `x[i, t] · W[t, j]`
//! for `t` in order, one fused multiply-add each; the blocks' partial sums are then added in
//! block order. The summation order is therefore fixed by the shapes alone: results do not
//! depend on the batch size, the batch composition or the thread count.
//!
//! Chosen at run time for burn-flex f32 tensors (a downcast, no `unsafe`); every other
//! backend, dtype or the autodiff backend takes the generic matmul.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::kernels::small_rows;

/// Input rows (weight rows) per block: 128 rows of a 1024-wide weight is 512 KiB per task.
/// A constant, so the summation order never depends on the machine.
const ROWS_PER_TASK: usize = 128;

/// Columns per block at most, and the accumulator floats a block aims at (`m × cols`: 16 KiB,
/// so the accumulators and a group of weight rows stay in L1). Columns never change an output's
/// summation order, so the block width may depend on the batch size.
const COLS_PER_TASK: usize = 2048;
const ACC_FLOATS: usize = 4096;

/// Weight rows applied per pass over a task's accumulators.
const GROUP: usize = 8;

/// `x · W` for `x: [m, in]`, `w: [in, out]`, when both are f32 burn-flex tensors and
/// `m ≤ SMALL_ROWS` (see [`small_rows`]); `None` otherwise (the caller runs the generic path).
pub(crate) fn small_rows_matmul_nn<B: Backend>(
    x: &Tensor<B, 2>,
    w: &Tensor<B, 2>,
) -> Option<Tensor<B, 2>> {
    let ([m, k], [k2, n]) = (x.dims(), w.dims());
    (k == k2).then_some(())?;
    small_rows(x, w, n, |x, w| nn_matmul(x, w, m, n, k))
}

/// `out[i, j] = Σ_t x[i, t] · w[t, j]` for row-major `x: [m, k]`, `w: [k, n]`.
pub(crate) fn nn_matmul(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let width = (ACC_FLOATS / m.max(1) / 64 * 64).clamp(256, COLS_PER_TASK);
    let blocks: Vec<(usize, usize)> = (0..k)
        .step_by(ROWS_PER_TASK)
        .flat_map(|t0| (0..n).step_by(width).map(move |j0| (t0, j0)))
        .collect();
    let task = |&(t0, j0): &(usize, usize)| {
        let cols = width.min(n - j0);
        let mut acc = vec![0f32; m * cols];
        pulp::Arch::new().dispatch(Block {
            x,
            w,
            n,
            k,
            t0,
            t1: (t0 + ROWS_PER_TASK).min(k),
            j0,
            acc: &mut acc,
        });
        acc
    };
    let parts: Vec<Vec<f32>> = if n * k >= 1 << 15 {
        blocks.par_iter().map(task).collect()
    } else {
        blocks.iter().map(task).collect()
    };
    // Blocks are ordered by first weight row: each output adds them in that order.
    let mut out = vec![0f32; m * n];
    for (&(t0, j0), part) in blocks.iter().zip(&parts) {
        let cols = part.len() / m;
        for (i, row) in part.chunks_exact(cols).enumerate() {
            let dst = &mut out[i * n + j0..i * n + j0 + cols];
            if t0 == 0 {
                dst.copy_from_slice(row);
            } else {
                dst.iter_mut().zip(row).for_each(|(o, p)| *o += p);
            }
        }
    }
    out
}

/// One task: weight rows `t0..t1`, columns `j0 .. j0 + acc.len() / m`, summed into `acc`
/// (`[m, cols]`). Compiled for the widest instruction set the CPU has (pulp's runtime
/// dispatch).
struct Block<'a> {
    x: &'a [f32],
    w: &'a [f32],
    n: usize,
    k: usize,
    t0: usize,
    t1: usize,
    j0: usize,
    acc: &'a mut [f32],
}

impl pulp::WithSimd for Block<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(mut self, simd: S) -> Self::Output {
        let mut t = self.t0;
        while t + GROUP <= self.t1 {
            self.group::<S, GROUP>(simd, t);
            t += GROUP;
        }
        while t < self.t1 {
            self.group::<S, 1>(simd, t);
            t += 1;
        }
    }
}

impl Block<'_> {
    /// Adds weight rows `t .. t + G` to every accumulator: for each input row, each
    /// accumulator vector is loaded once, takes `G` fused multiply-adds in row order, and is
    /// stored back (the weight rows stay in L1 across input rows).
    #[inline(always)]
    fn group<S: pulp::Simd, const G: usize>(&mut self, simd: S, t: usize) {
        let (n, k, j0) = (self.n, self.k, self.j0);
        let m = self.x.len() / k;
        let cols = self.acc.len() / m;
        let rows: [&[f32]; G] = std::array::from_fn(|q| &self.w[(t + q) * n + j0..][..cols]);
        let wv: [&[S::f32s]; G] = std::array::from_fn(|q| S::as_simd_f32s(rows[q]).0);
        let vectors = wv[0].len();
        let body = vectors * (std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>());
        for i in 0..m {
            let xi = &self.x[i * k + t..][..G];
            let xs: [S::f32s; G] = std::array::from_fn(|q| simd.splat_f32s(xi[q]));
            let (av, at) = S::as_mut_simd_f32s(&mut self.acc[i * cols..(i + 1) * cols]);
            let mut v = 0;
            // Four independent accumulators per step keep both FMA ports busy.
            while v + 4 <= vectors {
                let mut s: [S::f32s; 4] = [av[v], av[v + 1], av[v + 2], av[v + 3]];
                for q in 0..G {
                    for (u, su) in s.iter_mut().enumerate() {
                        *su = simd.mul_add_f32s(wv[q][v + u], xs[q], *su);
                    }
                }
                av[v..v + 4].copy_from_slice(&s);
                v += 4;
            }
            while v < vectors {
                let mut s = av[v];
                for q in 0..G {
                    s = simd.mul_add_f32s(wv[q][v], xs[q], s);
                }
                av[v] = s;
                v += 1;
            }
            // The last columns (less than one vector): the same fused multiply-adds in the
            // same order, so a column's bits do not depend on which path computed it.
            for (c, a) in at.iter_mut().enumerate() {
                for q in 0..G {
                    *a = xi[q].mul_add(rows[q][body + c], *a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_float64_reference_and_is_invariant_to_the_row_count() {
        // Spans several row blocks (k > 128), a column block boundary (n > 2048) and tails.
        let shapes = [(1, 7, 3), (3, 130, 37), (8, 300, 1024), (16, 65, 64), (5, 600, 70), (2, 2100, 139)];
        super::super::kernels::tests::check_few_rows(nn_matmul, |t, j, n, _| t * n + j, &shapes);
    }
}
