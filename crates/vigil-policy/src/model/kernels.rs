//! A CPU fast path for `x · Wᵀ` with a few rows and a weight in HF's `[out, in]` layout: the
//! tied LM head (the embedding matrix) of decode steps and of a prefill's last position, and
//! LoRA factors. Projections are stored `[in, out]` and use [`super::cols`] instead.
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
    let ([m, k], [n, k2]) = (x.dims(), w.dims());
    (k == k2).then_some(())?;
    small_rows(x, w, n, |x, w| nt_matmul(x, w, m, n, k))
}

/// `kernel(x, w)` on the contiguous f32 buffers of `x: [m, k]` and `w`, as an `[m, n]` tensor,
/// when both are f32 burn-flex tensors and `1 ≤ m ≤ SMALL_ROWS`; `None` otherwise.
pub(crate) fn small_rows<B: Backend>(
    x: &Tensor<B, 2>,
    w: &Tensor<B, 2>,
    n: usize,
    kernel: impl FnOnce(&[f32], &[f32]) -> Vec<f32>,
) -> Option<Tensor<B, 2>> {
    let m = x.dims()[0];
    if m == 0 || m > SMALL_ROWS || x.dtype() != DType::F32 || w.dtype() != DType::F32 {
        return None;
    }
    let xp = x.clone().into_primitive().tensor();
    let wp = w.clone().into_primitive().tensor();
    let xf = (&xp as &dyn Any).downcast_ref::<FlexTensor>()?;
    let wf = (&wp as &dyn Any).downcast_ref::<FlexTensor>()?;
    // Cheap clones when already contiguous (the weights always are); a copy otherwise.
    let (xc, wc) = (xf.to_contiguous(), wf.to_contiguous());
    let out = kernel(xc.storage::<f32>(), wc.storage::<f32>());
    from_primitive(FlexTensor::from_data(TensorData::new(out, [m, n])))
}

/// Rotate-half RoPE, `x·cos + rotate_half(x)·sin`, for an f32 burn-flex `x: [b, s, h, d]` and
/// tables `[b, s, 1, d]`; `None` for every other backend, dtype or the autodiff backend (the
/// caller runs the generic ops). burn-flex's broadcast fast paths cover a shared last row or a
/// per-row scalar, not a table broadcast over the heads in the middle, so the generic form went
/// through its scalar strided iterator. Same products and sums per element as the generic form
/// (no fused multiply-add), hence the same bits.
pub(crate) fn rope<B: Backend>(
    x: &Tensor<B, 4>,
    cos: &Tensor<B, 4>,
    sin: &Tensor<B, 4>,
) -> Option<Tensor<B, 4>> {
    let [b, s, h, d] = x.dims();
    if x.dtype() != DType::F32 || cos.dims() != [b, s, 1, d] || sin.dims() != [b, s, 1, d] || d % 2 != 0 {
        return None;
    }
    let (xp, cp, sp) = (
        x.clone().into_primitive().tensor(),
        cos.clone().into_primitive().tensor(),
        sin.clone().into_primitive().tensor(),
    );
    let [xf, cf, sf] = [&xp, &cp, &sp].map(|t| (t as &dyn Any).downcast_ref::<FlexTensor>());
    let (xf, cf, sf) = (xf?.to_contiguous(), cf?.to_contiguous(), sf?.to_contiguous());
    fn slice(t: &FlexTensor) -> Option<&[f32]> {
        let (start, end) = t.layout().contiguous_offsets()?;
        (t.dtype() == DType::F32).then(|| &t.storage::<f32>()[start..end])
    }
    let (xs, cs, ss) = (slice(&xf)?, slice(&cf)?, slice(&sf)?);
    let half = d / 2;
    let mut out = vec![0f32; xs.len()];
    for (pos, (cos, sin)) in cs.chunks_exact(d).zip(ss.chunks_exact(d)).enumerate() {
        let rows = &xs[pos * h * d..(pos + 1) * h * d];
        let dst = &mut out[pos * h * d..(pos + 1) * h * d];
        for (x, y) in rows.chunks_exact(d).zip(dst.chunks_exact_mut(d)) {
            for i in 0..half {
                y[i] = x[i] * cos[i] + (-x[i + half]) * sin[i];
                y[i + half] = x[i + half] * cos[i + half] + x[i] * sin[i + half];
            }
        }
    }
    from_primitive(FlexTensor::from_data(TensorData::new(out, [b, s, h, d])))
}

/// `t`'s burn-flex tensor, or `t` back when the backend is another one.
pub(crate) fn into_flex<B: Backend, const D: usize>(
    t: Tensor<B, D>,
) -> Result<FlexTensor, Tensor<B, D>> {
    let prim = t.into_primitive().tensor();
    if !(&prim as &dyn Any).is::<FlexTensor>() {
        return Err(Tensor::from_primitive(TensorPrimitive::Float(prim)));
    }
    let boxed: Box<dyn Any> = Box::new(prim);
    match boxed.downcast::<FlexTensor>() {
        Ok(f) => Ok(*f),
        Err(_) => unreachable!("checked to be a FlexTensor"),
    }
}

/// A concrete backend's float primitive (a burn-flex tensor, or one of `Autodiff<Flex>`) as
/// `B`'s tensor; `None` when `B` is not that backend.
pub(crate) fn from_primitive<B: Backend, const D: usize>(prim: impl Any) -> Option<Tensor<B, D>> {
    let boxed: Box<dyn Any> = Box::new(prim);
    let prim = *boxed.downcast::<B::FloatTensorPrimitive>().ok()?;
    Some(Tensor::from_primitive(TensorPrimitive::Float(prim)))
}

/// `out[i, j] = dot(x[i, :], w[j, :])` for row-major `x: [m, k]`, `w: [n, k]`.
pub(crate) fn nt_matmul(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    // Computed transposed (`[n, m]`) so each task owns a contiguous block of outputs.
    let mut out_t = vec![0f32; n * m];
    let task = |(block, chunk): (usize, &mut [f32])| {
        let j0 = block * ROWS_PER_TASK;
        let rows = chunk.len() / m;
        let w = &w[j0 * k..(j0 + rows) * k];
        pulp::Arch::new().dispatch(Block {
            x,
            w,
            m,
            k,
            out: chunk,
        });
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

/// One task: every input row against a block of weight rows, written `[rows, m]`.
///
/// Compiled for the widest instruction set the CPU has (pulp's runtime dispatch: AVX-512,
/// AVX2 + FMA, or scalar), with no `unsafe` here. Tiles of 4 weight rows × up to 4 input rows
/// keep up to 16 independent accumulators in registers, so each weight vector loaded is used
/// for every input row of the tile. Every output is still one accumulator vector over `k` in
/// lane order, then a fixed pairwise lane sum, then the scalar tail: its bits do not depend on
/// the tile it was computed in, hence not on the batch size or the thread count.
struct Block<'a> {
    x: &'a [f32],
    w: &'a [f32],
    m: usize,
    k: usize,
    out: &'a mut [f32],
}

impl pulp::WithSimd for Block<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        let Block { x, w, m, k, out } = self;
        let rows = out.len() / m;
        let mut j = 0;
        while j < rows {
            let rw = (rows - j).min(4);
            let mut i = 0;
            while i < m {
                let rx = (m - i).min(4);
                match (rw, rx) {
                    (4, 4) => tile::<S, 4, 4>(simd, w, x, k, j, i, m, out),
                    (4, 3) => tile::<S, 4, 3>(simd, w, x, k, j, i, m, out),
                    (4, 2) => tile::<S, 4, 2>(simd, w, x, k, j, i, m, out),
                    (4, 1) => tile::<S, 4, 1>(simd, w, x, k, j, i, m, out),
                    (_, 4) => tile::<S, 1, 4>(simd, w, x, k, j, i, m, out),
                    (_, 3) => tile::<S, 1, 3>(simd, w, x, k, j, i, m, out),
                    (_, 2) => tile::<S, 1, 2>(simd, w, x, k, j, i, m, out),
                    _ => tile::<S, 1, 1>(simd, w, x, k, j, i, m, out),
                }
                i += rx;
            }
            j += if rw == 4 { 4 } else { 1 };
        }
    }
}

/// `RW` weight rows from `j` times `RX` input rows from `i`, into `out[(j + a) * m + i + b]`.
#[allow(clippy::too_many_arguments)] // one tile's coordinates; a struct would only rename them
#[inline(always)]
fn tile<S: pulp::Simd, const RW: usize, const RX: usize>(
    simd: S,
    w: &[f32],
    x: &[f32],
    k: usize,
    j: usize,
    i: usize,
    m: usize,
    out: &mut [f32],
) {
    let wr: [(&[S::f32s], &[f32]); RW] =
        std::array::from_fn(|a| S::as_simd_f32s(&w[(j + a) * k..(j + a + 1) * k]));
    let xr: [(&[S::f32s], &[f32]); RX] =
        std::array::from_fn(|b| S::as_simd_f32s(&x[(i + b) * k..(i + b + 1) * k]));
    let mut acc = [[simd.splat_f32s(0.0); RX]; RW];
    for t in 0..wr[0].0.len() {
        let xv: [S::f32s; RX] = std::array::from_fn(|b| xr[b].0[t]);
        for a in 0..RW {
            let wv = wr[a].0[t];
            for b in 0..RX {
                acc[a][b] = simd.mul_add_f32s(wv, xv[b], acc[a][b]);
            }
        }
    }
    for a in 0..RW {
        for b in 0..RX {
            let mut s = simd.reduce_sum_f32s(acc[a][b]);
            for (p, q) in wr[a].1.iter().zip(xr[b].1) {
                s += p * q;
            }
            out[(j + a) * m + i + b] = s;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn values(len: usize, salt: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| {
                ((i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 8) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    /// Checks a few-rows product `kernel(x, w, m, n, k)` against a float64 reference, where
    /// `at(t, j, n, k)` is the index of `W[t, j]` in `w`'s buffer, and that each row computed
    /// alone gives the same bits (batch invariance).
    pub(crate) fn check_few_rows(
        kernel: impl Fn(&[f32], &[f32], usize, usize, usize) -> Vec<f32>,
        at: impl Fn(usize, usize, usize, usize) -> usize,
        shapes: &[(usize, usize, usize)],
    ) {
        for &(m, n, k) in shapes {
            let (x, w) = (values(m * k, 1), values(n * k, 2));
            let out = kernel(&x, &w, m, n, k);
            for i in 0..m {
                for j in 0..n {
                    let r: f64 = (0..k).map(|t| f64::from(x[i * k + t]) * f64::from(w[at(t, j, n, k)])).sum();
                    let a = f64::from(out[i * n + j]);
                    assert!((a - r).abs() <= 1e-4 * (1.0 + r.abs()), "{m}x{n}x{k}: {a} vs {r}");
                }
            }
            for i in 0..m {
                let alone = kernel(&x[i * k..(i + 1) * k], &w, 1, n, k);
                assert_eq!(alone, out[i * n..(i + 1) * n].to_vec(), "{m}x{n}x{k}: row {i}");
            }
        }
    }

    #[test]
    fn rope_kernel_is_bitwise_the_generic_rope() {
        use burn::tensor::Distribution;
        type B = crate::CpuBackend;
        let device = Default::default();
        let x = Tensor::<B, 4>::random([2, 5, 3, 8], Distribution::Normal(0.0, 1.0), &device);
        let cos = Tensor::<B, 4>::random([2, 5, 1, 8], Distribution::Normal(0.0, 1.0), &device);
        let sin = Tensor::<B, 4>::random([2, 5, 1, 8], Distribution::Normal(0.0, 1.0), &device);
        let fast = rope(&x, &cos, &sin).expect("f32 burn-flex takes the kernel");
        let x1 = x.clone().narrow(3, 0, 4);
        let x2 = x.clone().narrow(3, 4, 4);
        let generic = x * cos + Tensor::cat(vec![x2.neg(), x1], 3) * sin;
        assert_eq!(fast.into_data(), generic.into_data());
    }

    #[test]
    fn matches_a_float64_reference_and_is_invariant_to_the_row_count() {
        let shapes = [(1, 7, 3), (3, 130, 37), (8, 300, 1024), (16, 65, 64)];
        check_few_rows(nt_matmul, |t, j, _, k| j * k + t, &shapes);
    }
}
