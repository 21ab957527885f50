//! Teacher-forced log-probs (and entropies) of the trained tokens of packed rows.
//!
//! Only the scored window (see [`Packed`]) goes through the vocabulary projection, so a long
//! prompt costs its forward pass but not `len × vocab` logits.

use burn::prelude::*;
use burn::tensor::DType;
use vigil_policy::{Qwen3, target_logprobs, token_tensor};

use crate::batch::Packed;
use crate::error::TrainerError;

/// `[rows, cols]` log-probs of the targets, and the per-position entropy of the model's
/// distribution (detached) when asked for.
///
/// `adapters = false` runs the base weights only (the reference of a LoRA run).
pub fn packed_logprobs<B: Backend>(
    model: &Qwen3<B>,
    adapters: bool,
    p: &Packed,
    with_entropy: bool,
) -> Result<(Tensor<B, 2>, Option<Tensor<B, 2>>), TrainerError> {
    let device = model.model.embed_tokens.val().device();
    let pads: Vec<usize> = p.tokens.iter().map(|t| p.len - t.len()).collect();
    let tokens = token_tensor::<B>(&p.tokens, p.len, &pads, model.config.vocab_size, &device).map_err(TrainerError::model)?;
    let step = model.step_input(&pads, 0, p.len, &device);
    let hidden = model.forward_hidden(tokens, &step, None, adapters);
    let window = hidden.narrow(1, p.start, p.cols);
    let logits = model.logits(window, adapters).cast(DType::F32);
    Ok(target_logprobs(logits, &p.targets, with_entropy))
}

/// A host `[rows, cols]` f32 matrix as a tensor.
pub fn matrix<B: Backend>(values: Vec<f32>, rows: usize, cols: usize, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), (device, DType::F32))
}

/// A host vector as a tensor.
pub fn vector<B: Backend>(values: Vec<f32>, device: &B::Device) -> Tensor<B, 1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), (device, DType::F32))
}

/// Reads a tensor back as f32s.
pub fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}
