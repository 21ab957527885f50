//! Qwen3 building blocks: projections with optional LoRA, RMSNorm, SwiGLU MLP.
//!
//! Projection weights are stored `[in, out]`, transposed once at load from Hugging Face's
//! `[out, in]`: every matmul then reads its weight operand contiguously (on CPU, gemm packs a
//! transposed view element by element, which cost prefill a third of its time and scaled badly
//! to two threads). PEFT factors (`lora_A [r, in]`, `lora_B [out, r]`) and the tied embedding
//! stay exactly as on disk and go through [`linear_hf`].

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use super::cols::small_rows_matmul_nn;
use super::kernels::{SMALL_ROWS, small_rows_matmul};

/// `x · W (+ b)` for a weight stored `[in, out]`: a few rows (decode) go to the batch-invariant
/// CPU kernel of [`super::cols`]; everything else is one 2-D product of all rows by the weight.
pub(crate) fn linear<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    weight: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
) -> Tensor<B, D> {
    let out = weight.dims()[1];
    rows_product(x, out, bias, |x| small_rows_matmul_nn(x, &weight), |x| x.matmul(weight.clone()))
}

/// `x · Wᵀ (+ b)` for a weight in HF's `[out, in]` layout (the tied LM head, LoRA factors),
/// without copying the weight.
///
/// burn's `linear` wants `[in, out]` and reshapes the weight to the input's rank; on a transposed
/// view that reshape materialized a full copy of the matrix on every call (88% of decode time
/// on CPU). Here the weight is only ever viewed: a few rows (decode) go to the batch-invariant
/// CPU kernel of [`super::kernels`]; everything else is one 2-D product of all rows by the
/// transposed view `[in, out]` (read with strides by every backend).
pub(crate) fn linear_hf<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    weight: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
) -> Tensor<B, D> {
    let out = weight.dims()[0];
    rows_product(x, out, bias, |x| small_rows_matmul(x, &weight), |x| x.matmul(weight.clone().transpose()))
}

/// `x: [.., in]` → `[.., out]` as one `[rows, in]` product (`few` for up to [`SMALL_ROWS`] rows
/// when it applies, `many` otherwise), plus the bias. One product for all rows, not one per
/// sequence: gemm packs the weight operand once per call.
fn rows_product<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    out: usize,
    bias: Option<Tensor<B, 1>>,
    few: impl FnOnce(&Tensor<B, 2>) -> Option<Tensor<B, 2>>,
    many: impl FnOnce(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Tensor<B, D> {
    let mut dims = x.dims();
    let inner = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    dims[D - 1] = out;
    let x = x.reshape([rows, inner]);
    let fast = (rows <= SMALL_ROWS).then(|| few(&x)).flatten();
    let y = fast.unwrap_or_else(|| many(x)).reshape(dims);
    match bias {
        Some(b) => {
            let mut shape = [1usize; D];
            shape[D - 1] = b.dims()[0];
            y + b.reshape(shape)
        }
        None => y,
    }
}

/// A LoRA adapter on one projection: `Δy = scale · (x · Aᵀ) · Bᵀ`.
#[derive(Module, Debug)]
pub struct LoraAdapter<B: Backend> {
    /// PEFT `lora_A.weight`, `[r, in]`.
    pub lora_a: Param<Tensor<B, 2>>,
    /// PEFT `lora_B.weight`, `[out, r]`.
    pub lora_b: Param<Tensor<B, 2>>,
    /// `alpha / r` (or `alpha / √r` with rsLoRA).
    #[module(skip)]
    pub scale: f64,
}

impl<B: Backend> LoraAdapter<B> {
    /// The low-rank update for `x: [.., in]` → `[.., out]`, computed without forming `B·A`.
    pub fn delta<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let a = self.lora_a.val();
        let adtype = a.dtype();
        let xdtype = x.dtype();
        let x = if xdtype == adtype { x } else { x.cast(adtype) };
        let h = linear_hf(x, a, None);
        let y = linear_hf(h, self.lora_b.val(), None).mul_scalar(self.scale);
        if y.dtype() == xdtype {
            y
        } else {
            y.cast(xdtype)
        }
    }
}

/// A Linear layer with an optional LoRA adapter.
#[derive(Module, Debug)]
pub struct Proj<B: Backend> {
    /// `[in, out]`: HF's `[out, in]` transposed (see the module doc); [`Proj::hf_weight`] gives
    /// HF's view back.
    pub weight: Param<Tensor<B, 2>>,
    /// `[out]`, when the config has biases.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// LoRA factors, when an adapter targets this module.
    pub lora: Option<LoraAdapter<B>>,
}

impl<B: Backend> Proj<B> {
    /// A projection from a weight already in `[in, out]` layout.
    pub fn new(weight: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Self {
        Self {
            weight: Param::from_tensor(weight),
            bias: bias.map(Param::from_tensor),
            lora: None,
        }
    }

    /// HF's `[out, in]` shape of the weight.
    pub fn out_in(&self) -> [usize; 2] {
        let [i, o] = self.weight.val().dims();
        [o, i]
    }

    /// The weight in HF's `[out, in]` layout (a transposed view; for saving and comparing).
    pub fn hf_weight(&self) -> Tensor<B, 2> {
        self.weight.val().transpose()
    }

    /// `x · W + b (+ LoRA)`; `adapters = false` gives the base model (the frozen reference).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>, adapters: bool) -> Tensor<B, D> {
        let base = linear(
            x.clone(),
            self.weight.val(),
            self.bias.as_ref().map(Param::val),
        );
        match (&self.lora, adapters) {
            (Some(l), true) => base + l.delta(x),
            _ => base,
        }
    }

    /// Folds the adapter into the weight (`W + s·(B·A)ᵀ` in `[in, out]`) for fast inference
    /// and drops it.
    pub fn merge(&mut self) {
        if let Some(l) = self.lora.take() {
            let w = self.weight.val();
            let dtype = w.dtype();
            let delta = l
                .lora_a
                .val()
                .transpose()
                .matmul(l.lora_b.val().transpose())
                .mul_scalar(l.scale)
                .cast(dtype);
            let merged = (w + delta).detach();
            self.weight = Param::from_tensor(merged).set_require_grad(false);
        }
    }
}

/// RMSNorm computed in f32 like transformers (`weight * (x / rms(x)).to(dtype)`).
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    /// `[dim]`.
    pub weight: Param<Tensor<B, 1>>,
    /// Epsilon inside the square root.
    #[module(skip)]
    pub eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// A norm from a loaded weight.
    pub fn new(weight: Tensor<B, 1>, eps: f64) -> Self {
        Self {
            weight: Param::from_tensor(weight),
            eps,
        }
    }

    /// Normalizes over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        if let Some(y) = super::fused::rms_norm(&x, &self.weight.val(), self.eps) {
            return y;
        }
        let dtype = x.dtype();
        let xf = if dtype == DType::F32 {
            x
        } else {
            x.cast(DType::F32)
        };
        let inv = xf
            .clone()
            .square()
            .mean_dim(D - 1)
            .add_scalar(self.eps)
            .sqrt()
            .recip();
        let normed = xf * inv;
        let normed = if dtype == DType::F32 {
            normed
        } else {
            normed.cast(dtype)
        };
        let w = self.weight.val();
        let mut shape = [1usize; D];
        shape[D - 1] = w.dims()[0];
        normed * w.reshape(shape)
    }
}

/// SwiGLU feed-forward: `down(silu(gate(x)) · up(x))`.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// `[intermediate, hidden]`.
    pub gate_proj: Proj<B>,
    /// `[intermediate, hidden]`.
    pub up_proj: Proj<B>,
    /// `[hidden, intermediate]`.
    pub down_proj: Proj<B>,
}

impl<B: Backend> Mlp<B> {
    /// `[b, s, hidden]` → `[b, s, hidden]`.
    pub fn forward(&self, x: Tensor<B, 3>, adapters: bool) -> Tensor<B, 3> {
        let g = self.gate_proj.forward(x.clone(), adapters);
        let u = self.up_proj.forward(x, adapters);
        self.down_proj.forward(super::fused::swiglu(g, u), adapters)
    }
}
