//! The AdamW update of one flat f32 parameter, as one pass over memory on the CPU.
//!
//! Written with tensor ops, an update is about a dozen elementwise kernels per parameter, each
//! reading and writing the whole tensor: on the CPU backend that was about a fifth of a full
//! fine-tuning step. For burn-flex f32 tensors this computes the same formula element by
//! element in one parallel pass (fixed chunks, so the result does not depend on the thread
//! count); every other backend runs the tensor ops. The trainer's optimizer and `exp bench
//! model` share it.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use crate::model::kernels::{from_primitive, into_flex};

/// Hyper-parameters of one update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWStep {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// Learning rate.
    pub lr: f64,
    /// Decoupled weight decay (`p ← p·(1 − lr·wd)`).
    pub weight_decay: f64,
    /// 1-based update count (bias correction).
    pub step: i32,
}

/// Elements per parallel chunk (a constant: the split never depends on the machine).
const CHUNK: usize = 1 << 14;

/// `(p', m', v')` for parameter `p`, gradient `g` and the moments of the previous update
/// (`None` on the first: zeros). All flat f32 tensors of one length.
pub fn adamw_update<B: Backend>(
    p: Tensor<B, 1>,
    g: Tensor<B, 1>,
    moments: Option<(Tensor<B, 1>, Tensor<B, 1>)>,
    h: &AdamWStep,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let flat = [Some(&p), Some(&g), moments.as_ref().map(|m| &m.0), moments.as_ref().map(|m| &m.1)];
    if flat.into_iter().flatten().all(|t| t.dtype() == DType::F32 && t.dims() == p.dims()) {
        // Moved, not cloned: a buffer nobody else holds is updated in place.
        let n = p.dims()[0];
        match into_flex(p) {
            Ok(pf) => return flex_update(pf, n, g, moments, h),
            Err(back) => return generic_update(back, g, moments, h),
        }
    }
    generic_update(p, g, moments, h)
}

/// The update as tensor ops (every backend but burn-flex, and any dtype).
fn generic_update<B: Backend>(
    p: Tensor<B, 1>,
    g: Tensor<B, 1>,
    moments: Option<(Tensor<B, 1>, Tensor<B, 1>)>,
    h: &AdamWStep,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let (m, v) = match moments {
        Some((m, v)) => (m.mul_scalar(h.beta1), v.mul_scalar(h.beta2)),
        None => (g.zeros_like(), g.zeros_like()),
    };
    let m = m + g.clone().mul_scalar(1.0 - h.beta1);
    let v = v + g.clone().mul(g).mul_scalar(1.0 - h.beta2);
    let m_hat = m.clone().div_scalar(1.0 - h.beta1.powi(h.step));
    let v_hat = v.clone().div_scalar(1.0 - h.beta2.powi(h.step));
    let step = m_hat / (v_hat.sqrt().add_scalar(h.eps));
    let p = p.mul_scalar(1.0 - h.lr * h.weight_decay) - step.mul_scalar(h.lr);
    (p, m, v)
}

/// `t` as `B`'s burn-flex buffer: `B` is burn-flex (`p` was one), so `t` is too.
fn flex<B: Backend>(t: Tensor<B, 1>) -> FlexTensor {
    match into_flex(t) {
        Ok(f) => f,
        Err(_) => unreachable!("one backend B for every tensor of the update"),
    }
}

/// The one-pass update of contiguous f32 buffers, in place where nothing else holds them
/// (burn-flex's `storage_mut` copies a shared buffer first).
fn flex_update<B: Backend>(
    pf: FlexTensor,
    n: usize,
    g: Tensor<B, 1>,
    moments: Option<(Tensor<B, 1>, Tensor<B, 1>)>,
    h: &AdamWStep,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let (mut pf, gf) = (pf.to_contiguous(), flex(g).to_contiguous());
    let (mut mf, mut vf) = match moments {
        Some((m, v)) => (flex(m).to_contiguous(), flex(v).to_contiguous()),
        None => {
            let zeros = || FlexTensor::from_data(TensorData::new(vec![0f32; n], [n]));
            (zeros(), zeros())
        }
    };
    // The scalars as the tensor ops apply them: computed in f64, used as f32.
    let k = Consts {
        b1: h.beta1 as f32,
        b2: h.beta2 as f32,
        c1: (1.0 - h.beta1) as f32,
        c2: (1.0 - h.beta2) as f32,
        bc1: (1.0 - h.beta1.powi(h.step)) as f32,
        bc2: (1.0 - h.beta2.powi(h.step)) as f32,
        eps: h.eps as f32,
        lr: h.lr as f32,
        decay: (1.0 - h.lr * h.weight_decay) as f32,
    };
    let gs = &gf.storage::<f32>()[..n];
    pf.storage_mut::<f32>()[..n]
        .par_chunks_mut(CHUNK)
        .zip(mf.storage_mut::<f32>()[..n].par_chunks_mut(CHUNK))
        .zip(vf.storage_mut::<f32>()[..n].par_chunks_mut(CHUNK))
        .zip(gs.par_chunks(CHUNK))
        .for_each(|(((p, m), v), g)| pulp::Arch::new().dispatch(Chunk { p, m, v, g, k }));
    let back = |f: FlexTensor| match from_primitive::<B, 1>(f) {
        Some(t) => t,
        None => unreachable!("B is burn-flex"),
    };
    (back(pf), back(mf), back(vf))
}

#[derive(Clone, Copy)]
struct Consts {
    b1: f32,
    b2: f32,
    c1: f32,
    c2: f32,
    bc1: f32,
    bc2: f32,
    eps: f32,
    lr: f32,
    decay: f32,
}

/// One chunk, compiled for the widest instruction set the CPU has (pulp's runtime dispatch),
/// where the element loop vectorizes, divisions and square roots included.
struct Chunk<'a> {
    p: &'a mut [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
    g: &'a [f32],
    k: Consts,
}

impl pulp::WithSimd for Chunk<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Chunk { p, m, v, g, k } = self;
        for (((p, m), v), g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            let m1 = *m * k.b1 + g * k.c1;
            let v1 = *v * k.b2 + (g * g) * k.c2;
            let step = (m1 / k.bc1) / ((v1 / k.bc2).sqrt() + k.eps);
            *p = *p * k.decay - step * k.lr;
            *m = m1;
            *v = v1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    type B = crate::CpuBackend;

    #[test]
    fn the_one_pass_kernel_matches_the_tensor_formula() {
        let device = Default::default();
        let n = 3 * CHUNK + 17;
        let t = |seed: u64| {
            <B as Backend>::seed(&device, seed);
            Tensor::<B, 1>::random([n], Distribution::Normal(0.0, 1.0), &device)
        };
        let (p, g, m) = (t(1), t(2), t(3));
        let v = t(4).abs();
        let h = AdamWStep { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3, weight_decay: 0.01, step: 3 };
        for moments in [None, Some((m.clone(), v.clone()))] {
            let fast = flex_update(flex(p.clone()), n, g.clone(), moments.clone(), &h);
            // The generic path: the same formula as tensor ops.
            let (m0, v0) = match moments.clone() {
                Some((m, v)) => (m.mul_scalar(h.beta1), v.mul_scalar(h.beta2)),
                None => (g.zeros_like(), g.zeros_like()),
            };
            let m1 = m0 + g.clone().mul_scalar(1.0 - h.beta1);
            let v1 = v0 + g.clone().mul(g.clone()).mul_scalar(1.0 - h.beta2);
            let step = m1.clone().div_scalar(1.0 - h.beta1.powi(h.step))
                / v1.clone().div_scalar(1.0 - h.beta2.powi(h.step)).sqrt().add_scalar(h.eps);
            let p1 = p.clone().mul_scalar(1.0 - h.lr * h.weight_decay) - step.mul_scalar(h.lr);
            for (a, b) in [(fast.0, p1), (fast.1, m1), (fast.2, v1)] {
                let (a, b) = (a.into_data().to_vec::<f32>().unwrap(), b.into_data().to_vec::<f32>().unwrap());
                for (x, y) in a.iter().zip(&b) {
                    assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
                }
            }
        }
    }
}
