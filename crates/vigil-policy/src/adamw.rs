//! The AdamW update of one flat f32 parameter, as one pass over memory on the CPU.
//!
//! Written with tensor ops, an update is about a dozen elementwise kernels per parameter, each
//! reading and writing the whole tensor: on the CPU backend that was about a fifth of a full
//! fine-tuning step. For burn-flex f32 tensors this computes the same formula element by
//! element in one parallel pass (fixed chunks, so the result does not depend on the thread
//! count); every other backend runs the tensor ops. The trainer's optimizer and `exp bench
//! model` share it.

use std::any::Any;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use crate::model::kernels::from_primitive;

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
    if let Some(out) = flex_update(&p, &g, moments.as_ref(), h) {
        return out;
    }
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

/// The contiguous f32 values of a burn-flex tensor; `None` for any other backend or dtype.
fn values<B: Backend>(t: &Tensor<B, 1>) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let prim = t.clone().into_primitive().tensor();
    (&prim as &dyn Any)
        .downcast_ref::<FlexTensor>()
        .map(FlexTensor::to_contiguous)
}

#[allow(clippy::type_complexity)] // the three updated tensors
fn flex_update<B: Backend>(
    p: &Tensor<B, 1>,
    g: &Tensor<B, 1>,
    moments: Option<&(Tensor<B, 1>, Tensor<B, 1>)>,
    h: &AdamWStep,
) -> Option<(Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>)> {
    let (pf, gf) = (values(p)?, values(g)?);
    let mv = match moments {
        Some((m, v)) => Some((values(m)?, values(v)?)),
        None => None,
    };
    let n = p.dims()[0];
    if g.dims()[0] != n || moments.is_some_and(|(m, v)| m.dims()[0] != n || v.dims()[0] != n) {
        return None;
    }
    let (ps, gs) = (&pf.storage::<f32>()[..n], &gf.storage::<f32>()[..n]);
    let zeros = vec![0f32; if mv.is_none() { n } else { 0 }];
    let (ms, vs) = match &mv {
        Some((m, v)) => (&m.storage::<f32>()[..n], &v.storage::<f32>()[..n]),
        None => (&zeros[..], &zeros[..]),
    };
    // The scalars as the tensor ops apply them: computed in f64, used as f32.
    let b1 = h.beta1 as f32;
    let b2 = h.beta2 as f32;
    let (c1, c2) = ((1.0 - h.beta1) as f32, (1.0 - h.beta2) as f32);
    let (bc1, bc2) = (
        (1.0 - h.beta1.powi(h.step)) as f32,
        (1.0 - h.beta2.powi(h.step)) as f32,
    );
    let (eps, lr, decay) = (h.eps as f32, h.lr as f32, (1.0 - h.lr * h.weight_decay) as f32);
    let (mut po, mut mo, mut vo) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    po.par_chunks_mut(CHUNK)
        .zip(mo.par_chunks_mut(CHUNK))
        .zip(vo.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, ((po, mo), vo))| {
            let r = c * CHUNK..c * CHUNK + po.len();
            let (p, g, m, v) = (&ps[r.clone()], &gs[r.clone()], &ms[r.clone()], &vs[r]);
            for i in 0..po.len() {
                let m1 = m[i] * b1 + g[i] * c1;
                let v1 = v[i] * b2 + (g[i] * g[i]) * c2;
                let step = (m1 / bc1) / ((v1 / bc2).sqrt() + eps);
                po[i] = p[i] * decay - step * lr;
                mo[i] = m1;
                vo[i] = v1;
            }
        });
    let wrap = |x: Vec<f32>| from_primitive::<B, 1>(FlexTensor::from_data(TensorData::new(x, [n])));
    Some((wrap(po)?, wrap(mo)?, wrap(vo)?))
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
            let fast = flex_update(&p, &g, moments.as_ref(), &h).expect("f32 burn-flex");
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
