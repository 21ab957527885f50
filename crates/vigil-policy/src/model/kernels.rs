//! A CPU fast path for projections of a few rows (decode steps, the LM head of a prefill).
//!
//! Decode multiplies `b ≤ 16` rows by every weight matrix; it is bound by reading the weights.
//! gemm runs such a product on one thread (its GEMV) and picks its summation order by the row
//! count, so the same sequence got different last bits in batches of 2 and 3. This kernel
//! computes every output as a dot product of a weight row (`[out, in]`, read in place) with an
//! input row, in one fixed order (16 strided partial sums, added pairwise), split over the
//! thread pool by blocks of weight rows. So:
//! - each weight byte is read once per step for the whole batch, on every core;
//! - results do not depend on the batch size, the batch composition or the thread count.
//!
//! It is chosen at run time for burn-flex f32 tensors (a downcast, no `unsafe`); every other
//! backend, dtype or the autodiff backend takes the generic matmul.

use std::any::Any;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive};
use burn_flex::FlexTensor;
use rayon::prelude::*;

/// Rows up to which the fast path is used (beyond it gemm's blocked kernels win).
pub(crate) const SMALL_ROWS: usize = 16;

/// Weight rows per parallel task: 64 rows of 1024 floats is 256 KiB, enough to amortize a task.
const ROWS_PER_TASK: usize = 64;

/// `x · Wᵀ` for `x: [m, in]`, `w: [out, in]`, when both are f32 burn-flex tensors and
/// `m ≤ SMALL_ROWS`; `None` otherwise (the caller runs the generic path).
pub(crate) fn small_rows_matmul<B: Backend>(
    x: &Tensor<B, 2>,
    w: &Tensor<B, 2>,
) -> Option<Tensor<B, 2>> {
    let [m, k] = x.dims();
    let [n, k2] = w.dims();
    if m == 0 || m > SMALL_ROWS || k != k2 || x.dtype() != DType::F32 || w.dtype() != DType::F32 {
        return None;
    }
    let xp = x.clone().into_primitive().tensor();
    let wp = w.clone().into_primitive().tensor();
    let xf = (&xp as &dyn Any).downcast_ref::<FlexTensor>()?;
    let wf = (&wp as &dyn Any).downcast_ref::<FlexTensor>()?;
    // Cheap clones when already contiguous (the weights always are); a copy otherwise.
    let (xc, wc) = (xf.to_contiguous(), wf.to_contiguous());
    let out = nt_matmul(xc.storage::<f32>(), wc.storage::<f32>(), m, n, k);
    let flex = FlexTensor::from_data(TensorData::new(out, [m, n]));
    let boxed: Box<dyn Any> = Box::new(flex);
    let prim = *boxed.downcast::<B::FloatTensorPrimitive>().ok()?;
    Some(Tensor::from_primitive(TensorPrimitive::Float(prim)))
}

/// `out[i, j] = dot(x[i, :], w[j, :])` for row-major `x: [m, k]`, `w: [n, k]`.
pub(crate) fn nt_matmul(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    // Computed transposed (`[n, m]`) so each task owns a contiguous block of outputs.
    let mut out_t = vec![0f32; n * m];
    let task = |(block, chunk): (usize, &mut [f32])| {
        let j0 = block * ROWS_PER_TASK;
        for (dj, outs) in chunk.chunks_exact_mut(m).enumerate() {
            let wrow = &w[(j0 + dj) * k..(j0 + dj + 1) * k];
            for (i, o) in outs.iter_mut().enumerate() {
                *o = dot(wrow, &x[i * k..(i + 1) * k]);
            }
        }
    };
    if n * k >= 1 << 15 {
        out_t
            .par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(task);
    } else {
        out_t
            .chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(task);
    }
    let mut out = vec![0f32; m * n];
    for (j, col) in out_t.chunks_exact(m).enumerate() {
        for (i, &v) in col.iter().enumerate() {
            out[i * n + j] = v;
        }
    }
    out
}

/// A dot product in one fixed order: 16 lane sums over `k / 16` blocks, added pairwise, then
/// the tail in sequence.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ab, bb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (at, bt) = (ab.remainder(), bb.remainder());
    for (x, y) in ab.zip(bb) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut width = 8;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    let mut s = acc[0];
    for (x, y) in at.iter().zip(bt) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
        let mut out = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|t| f64::from(x[i * k + t]) * f64::from(w[j * k + t]))
                    .sum();
            }
        }
        out
    }

    fn values(len: usize, salt: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| {
                ((i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 8) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_a_float64_reference_and_is_invariant_to_the_row_count() {
        for &(m, n, k) in &[(1, 7, 3), (3, 130, 37), (8, 300, 1024), (16, 65, 64)] {
            let x = values(m * k, 1);
            let w = values(n * k, 2);
            let out = nt_matmul(&x, &w, m, n, k);
            let reference = naive(&x, &w, m, n, k);
            for (a, b) in out.iter().zip(&reference) {
                assert!(
                    (f64::from(*a) - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{a} vs {b}"
                );
            }
            // Row i alone gives bit-identical outputs (batch invariance).
            for i in 0..m {
                let alone = nt_matmul(&x[i * k..(i + 1) * k], &w, 1, n, k);
                assert_eq!(alone, out[i * n..(i + 1) * n].to_vec());
            }
        }
    }
}
