//! `[b, x, y, d] → [b, y, x, d]`, materialized: the heads moved in front of the positions (q, k
//! and v before attention) and back (the attention output).
//!
//! burn-flex copies such a view element by element through its strided iterator (its fast
//! copies cover layouts that collapse to at most two dimensions; this one has three): about
//! 15% of a small model's prefill. Here each row of `d` floats is one slice copy. On the CPU
//! training backend it is one node whose backward is the same swap of the gradient; every other
//! backend gets burn's `swap_dims` view.

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorMetadata};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::fused::{cpu, f32s, finish, owned};

/// Floats from which the copy runs on the thread pool.
const PARALLEL_FLOATS: usize = 1 << 18;

/// `x.swap_dims(1, 2)` for `x: [b, x, y, d]`, contiguous on the CPU backends.
pub(crate) fn swap12<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    swap12_cpu(&x).unwrap_or_else(|| x.swap_dims(1, 2))
}

fn swap12_cpu<B: Backend>(x: &Tensor<B, 4>) -> Option<Tensor<B, 4>> {
    let (xf, xa) = cpu(x)?;
    let out = swapped(&owned(xf));
    finish(SwapBackward, [xa], || (), out)
}

/// The contiguous `[b, y, x, d]` copy of a contiguous f32 `t: [b, x, y, d]`.
fn swapped(t: &FlexTensor) -> FlexTensor {
    let [b, nx, ny, d] = t.shape().dims::<4>();
    let src = f32s(t);
    let mut dst = vec![0f32; src.len()];
    // One chunk per (sequence, new row `yi`): `nx` rows of `d` gathered from stride `ny·d`.
    let fill = |(i, chunk): (usize, &mut [f32])| {
        let (bi, yi) = (i / ny.max(1), i % ny.max(1));
        for (xi, row) in chunk.chunks_exact_mut(d).enumerate() {
            let at = ((bi * nx + xi) * ny + yi) * d;
            row.copy_from_slice(&src[at..at + d]);
        }
    };
    let per = (nx * d).max(1);
    if src.len() >= PARALLEL_FLOATS {
        dst.par_chunks_mut(per).enumerate().for_each(fill);
    } else {
        dst.chunks_mut(per).enumerate().for_each(fill);
    }
    FlexTensor::from_data(TensorData::new(dst, [b, ny, nx, d]))
}

#[derive(Debug)]
struct SwapBackward;

impl Backward<Flex, 1> for SwapBackward {
    type State = ();

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = owned(grads.consume::<Flex>(&ops.node));
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<Flex>(node.id, swapped(&grad));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use burn::backend::Autodiff;

    fn input<B: Backend>(device: &B::Device) -> Tensor<B, 4> {
        let shape = [2, 3, 4, 5];
        let values: Vec<f32> = (0..120).map(|i| i as f32 * 0.5 - 7.0).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Same values as burn's view on the inference and training backends, and the gradient of
    /// a weighted sum through the swap is the weights swapped back.
    #[test]
    fn equals_swap_dims_forward_and_backward() {
        let device = Default::default();
        let x = input::<CpuBackend>(&device);
        assert_eq!(swap12(x.clone()).into_data(), x.clone().swap_dims(1, 2).into_data());

        type Ad = Autodiff<CpuBackend>;
        let xa = input::<Ad>(&device).require_grad();
        let w = input::<Ad>(&device).swap_dims(1, 2).mul_scalar(0.25);
        let y = swap12(xa.clone());
        assert_eq!(y.clone().into_data(), xa.clone().swap_dims(1, 2).into_data());
        let grads = (y * w.clone()).sum().backward();
        let g = xa.grad(&grads).expect("a gradient");
        assert_eq!(g.into_data(), w.inner().swap_dims(1, 2).into_data());
    }
}
