//! Per-call inputs shared by every layer: rotary tables and the attention bias for a
//! left-padded batch, built on the host once per forward.
//!
//! Sequence `i` of the batch has `pads[i]` left-padding slots. The query at buffer index `q`
//! (0-based over the cache + new tokens) has rotary position `q − pads[i]`, may attend to keys
//! `j ≤ q` with `j ≥ pads[i]`, and always to itself, so a padding row is never fully masked
//! (a fully masked row would be 0/0 in softmax; its output is ignored anyway).
//!
//! The mask is an additive bias (0 or −∞), not a boolean: adding it is one broadcast op whose
//! backward is the identity, where a boolean `mask_fill` materializes the expanded mask in both
//! passes (a quarter of a CPU training step before this change).

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

/// Rotary tables and mask for one forward call.
#[derive(Debug, Clone)]
pub struct StepInput<B: Backend> {
    /// `[b, s, 1, head_dim]` in the compute dtype (broadcast over the heads of `[b, s, h, d]`).
    pub cos: Tensor<B, 4>,
    /// `[b, s, 1, head_dim]` in the compute dtype.
    pub sin: Tensor<B, 4>,
    /// `[b, 1, s, past + s]` additive attention bias: 0 where a key is visible, −∞ where not.
    pub bias: Tensor<B, 4>,
    /// Tokens already in the cache (0 without a cache).
    pub past: usize,
}

/// RoPE inverse frequencies as transformers computes them: `1 / θ^(2i/d)` in f32.
pub fn inv_freq(head_dim: usize, theta: f64) -> Vec<f32> {
    (0..head_dim / 2)
        .map(|i| {
            let exponent = (2 * i) as f32 / head_dim as f32;
            (1.0 / theta.powf(f64::from(exponent))) as f32
        })
        .collect()
}

impl<B: Backend> StepInput<B> {
    /// Builds the tables for `new` tokens after `past` cached ones.
    pub fn new(
        pads: &[usize],
        past: usize,
        new: usize,
        head_dim: usize,
        theta: f64,
        dtype: DType,
        device: &B::Device,
    ) -> Self {
        let b = pads.len();
        let half = head_dim / 2;
        let freqs = inv_freq(head_dim, theta);
        let total = past + new;
        let mut cos = Vec::with_capacity(b * new * head_dim);
        let mut sin = Vec::with_capacity(b * new * head_dim);
        let mut bias = Vec::with_capacity(b * new * total);
        for &pad in pads {
            for s in 0..new {
                let q = past + s;
                let pos = q.saturating_sub(pad) as f32;
                for k in 0..head_dim {
                    // f32 product as in transformers, then cos/sin of that value.
                    let angle = f64::from(pos * freqs[k % half]);
                    cos.push(angle.cos() as f32);
                    sin.push(angle.sin() as f32);
                }
                for j in 0..total {
                    let masked = j != q && (j > q || j < pad);
                    bias.push(if masked { f32::NEG_INFINITY } else { 0.0 });
                }
            }
        }
        let shape = [b, new, 1, head_dim];
        let cos = Tensor::<B, 4>::from_data(TensorData::new(cos, shape), (device, dtype));
        let sin = Tensor::<B, 4>::from_data(TensorData::new(sin, shape), (device, dtype));
        let bias =
            Tensor::<B, 4>::from_data(TensorData::new(bias, [b, 1, new, total]), (device, dtype));
        Self {
            cos,
            sin,
            bias,
            past,
        }
    }
}

/// Applies rotate-half RoPE to `x: [b, s, heads, d]` (the projections' own layout); on burn-flex
/// f32 (inference) through the fused CPU kernel of `kernels::rope`, whose bits are the same.
pub fn apply_rope<B: Backend>(
    x: Tensor<B, 4>,
    cos: &Tensor<B, 4>,
    sin: &Tensor<B, 4>,
) -> Tensor<B, 4> {
    if let Some(y) = super::kernels::rope(&x, cos, sin).or_else(|| super::fused::rope(&x, cos, sin)) {
        return y;
    }
    let d = x.dims()[3];
    let half = d / 2;
    let x1 = x.clone().narrow(3, 0, half);
    let x2 = x.clone().narrow(3, half, half);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos.clone() + rotated * sin.clone()
}
