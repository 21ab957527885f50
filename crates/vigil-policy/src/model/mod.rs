//! The Qwen3 decoder in burn, generic over the backend `B` (CPU `Flex`, `Cuda`, and either
//! wrapped in `Autodiff` for training).
//!
//! Field names mirror the Hugging Face module tree (`model.layers.N.self_attn.q_proj`), so the
//! checkpoint and PEFT names map one-to-one onto this struct.

mod cols;
mod decode;
mod fused;
pub(crate) mod kernels;
mod layers;
mod rows;
pub(crate) use rows::{exp_tempered, logprob_at};
mod step;
mod swap;

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::module::embedding;
use burn::tensor::{DType, Int, Tensor};

pub use fused::target_logprobs;
pub use layers::{LoraAdapter, Mlp, Proj, RmsNorm};
pub use step::{StepInput, apply_rope, inv_freq};
use swap::swap12;

use crate::cache::KvCache;
use crate::config::Qwen3Config;

/// Grouped-query self-attention with per-head q/k RMSNorm and rotate-half RoPE.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// `[heads·d, hidden]`.
    pub q_proj: Proj<B>,
    /// `[kv·d, hidden]`.
    pub k_proj: Proj<B>,
    /// `[kv·d, hidden]`.
    pub v_proj: Proj<B>,
    /// `[hidden, heads·d]`.
    pub o_proj: Proj<B>,
    /// `[d]`, shared by all query heads.
    pub q_norm: RmsNorm<B>,
    /// `[d]`, shared by all key heads.
    pub k_norm: RmsNorm<B>,
    /// Query heads.
    #[module(skip)]
    pub heads: usize,
    /// Key/value heads.
    #[module(skip)]
    pub kv_heads: usize,
    /// Head width.
    #[module(skip)]
    pub head_dim: usize,
}

impl<B: Backend> Attention<B> {
    fn forward(
        &self,
        x: Tensor<B, 3>,
        step: &StepInput<B>,
        bias: &Tensor<B, 4>,
        cache: Option<(&mut KvCache<B>, usize)>,
        adapters: bool,
    ) -> Tensor<B, 3> {
        let [b, s, _] = x.dims();
        let (h, kvh, d) = (self.heads, self.kv_heads, self.head_dim);
        let q = self
            .q_proj
            .forward(x.clone(), adapters)
            .reshape([b, s, h, d]);
        let k = self
            .k_proj
            .forward(x.clone(), adapters)
            .reshape([b, s, kvh, d]);
        let v = swap12(self.v_proj.forward(x, adapters).reshape([b, s, kvh, d]));
        // Norm, RoPE and the 1/√d of the scores on the contiguous `[b, s, heads, d]` layout;
        // only then the heads move forward (one row copy each, `swap12`).
        let q = swap12(
            apply_rope(self.q_norm.forward(q), &step.cos, &step.sin)
                .mul_scalar(1.0 / (d as f64).sqrt()),
        );
        let k = swap12(apply_rope(self.k_norm.forward(k), &step.cos, &step.sin));
        let (k, v) = match cache {
            Some((c, layer)) => c.append(layer, k, v),
            None => (k, v),
        };
        let total = k.dims()[2];
        // Grouped-query attention without copying k/v per query head: the `n = h / kvh` query
        // heads that share kv head `i` are HF heads `i·n..(i+1)·n`, so `[b, h, s, d]` viewed as
        // `[b, kvh, n·s, d]` lines each group up with its kv head. (Repeating k/v instead copied
        // the whole KV cache at every decode step: over half of generation time.)
        let n = h / kvh;
        // softmax(q·kᵀ/√d + bias)·v with the scale folded into q, as one autodiff node on the
        // CPU training backend (`fused`). Not burn's `attention`: its autodiff graph has a
        // mask_fill and an expanded boolean mask.
        let q = q.reshape([b, kvh, n * s, d]);
        debug_assert_eq!(bias.dims(), [b, kvh, n * s, total]);
        let o = fused::attention(q, k, v, bias).reshape([b, h, s, d]);
        self.o_proj
            .forward(swap12(o).reshape([b, s, h * d]), adapters)
    }
}

/// The `[b, 1, s, total]` bias laid out for grouped attention, `[b, kvh, n·s, total]`, and
/// contiguous: built once per forward for every layer (adding a stride-0 broadcast view goes
/// through burn-flex's slow strided iterator in every layer and pass).
fn group_bias<B: Backend>(bias: &Tensor<B, 4>, config: &Qwen3Config) -> Tensor<B, 4> {
    let (h, kvh) = (config.num_attention_heads, config.num_key_value_heads);
    let mut out = bias.clone();
    if h / kvh > 1 {
        out = out.repeat_dim(2, h / kvh);
    }
    if kvh > 1 {
        out = out.repeat_dim(1, kvh);
    }
    out
}

/// One pre-norm decoder layer.
#[derive(Module, Debug)]
pub struct DecoderLayer<B: Backend> {
    /// Norm before attention.
    pub input_layernorm: RmsNorm<B>,
    /// Attention block.
    pub self_attn: Attention<B>,
    /// Norm before the MLP.
    pub post_attention_layernorm: RmsNorm<B>,
    /// SwiGLU block.
    pub mlp: Mlp<B>,
}

/// `model.*`: embeddings, layers, final norm.
#[derive(Module, Debug)]
pub struct Qwen3Body<B: Backend> {
    /// `[vocab, hidden]`.
    pub embed_tokens: Param<Tensor<B, 2>>,
    /// Decoder stack.
    pub layers: Vec<DecoderLayer<B>>,
    /// Final norm.
    pub norm: RmsNorm<B>,
}

/// A Qwen3 causal LM: stateless (the KV cache is passed in), clonable, trainable.
#[derive(Module, Debug)]
pub struct Qwen3<B: Backend> {
    /// The decoder.
    pub model: Qwen3Body<B>,
    /// Output head; `None` when tied to `model.embed_tokens`.
    pub lm_head: Option<Proj<B>>,
    /// Hyper-parameters.
    #[module(skip)]
    pub config: Qwen3Config,
    /// Compute dtype of weights and activations.
    #[module(skip)]
    pub dtype: DType,
    /// The attached LoRA adapter's config (written back by `save_adapter`).
    #[module(skip)]
    pub lora: Option<crate::lora::LoraConfig>,
}

impl<B: Backend> Qwen3<B> {
    /// Hidden states after the final norm, `[b, s, hidden]`.
    ///
    /// `tokens: [b, s]` continue `step.past` cached positions; `adapters = false` runs the base
    /// weights only (the reference policy shares the weights, no second copy).
    pub fn forward_hidden(
        &self,
        tokens: Tensor<B, 2, Int>,
        step: &StepInput<B>,
        mut cache: Option<&mut KvCache<B>>,
        adapters: bool,
    ) -> Tensor<B, 3> {
        let s = tokens.dims()[1];
        let bias = group_bias(&step.bias, &self.config);
        let mut x = embedding(self.model.embed_tokens.val(), tokens);
        for (i, layer) in self.model.layers.iter().enumerate() {
            let c = cache.as_deref_mut().map(|c| (c, i));
            let h = layer.self_attn.forward(
                layer.input_layernorm.forward(x.clone()),
                step,
                &bias,
                c,
                adapters,
            );
            x = x + h;
            let h = layer
                .mlp
                .forward(layer.post_attention_layernorm.forward(x.clone()), adapters);
            x = x + h;
        }
        if let Some(c) = cache {
            c.advance(s);
        }
        self.model.norm.forward(x)
    }

    /// Logits for hidden states, `[b, s, vocab]`, in f32.
    pub fn logits(&self, hidden: Tensor<B, 3>, adapters: bool) -> Tensor<B, 3> {
        let logits = match &self.lm_head {
            Some(head) => head.forward(hidden, adapters),
            None => layers::linear_hf(hidden, self.model.embed_tokens.val(), None),
        };
        if logits.dtype() == DType::F32 {
            logits
        } else {
            logits.cast(DType::F32)
        }
    }

    /// Full forward without cache: logits `[b, s, vocab]` for left-padded `tokens`.
    pub fn forward(
        &self,
        tokens: Tensor<B, 2, Int>,
        pads: &[usize],
        adapters: bool,
    ) -> Tensor<B, 3> {
        let step = self.step_input(pads, 0, tokens.dims()[1], &tokens.device());
        let hidden = self.forward_hidden(tokens, &step, None, adapters);
        self.logits(hidden, adapters)
    }

    /// Teacher-forced log-probs: element `[i, t]` = `log p(tokens[i, t+1] | tokens[i, ..=t])`,
    /// `[b, s-1]`, differentiable under `Autodiff`. Entries whose target is padding are
    /// meaningless and must be masked by the caller (left padding: the first `pads[i]`).
    pub fn token_logprobs(
        &self,
        tokens: Tensor<B, 2, Int>,
        pads: &[usize],
        adapters: bool,
    ) -> Tensor<B, 2> {
        let [b, s] = tokens.dims();
        let step = self.step_input(pads, 0, s, &tokens.device());
        let hidden = self
            .forward_hidden(tokens.clone(), &step, None, adapters)
            .narrow(1, 0, s - 1);
        let targets: Vec<i64> = tokens
            .narrow(1, 1, s - 1)
            .into_data()
            .convert::<i64>()
            .into_vec()
            .unwrap_or_default();
        debug_assert_eq!(targets.len(), b * (s - 1));
        fused::target_logprobs(self.logits(hidden, adapters), &targets, false).0
    }

    /// Rotary tables and mask for a call (see [`StepInput`]).
    pub fn step_input(
        &self,
        pads: &[usize],
        past: usize,
        new: usize,
        device: &B::Device,
    ) -> StepInput<B> {
        StepInput::new(
            pads,
            past,
            new,
            self.config.head_dim,
            self.config.rope_theta,
            self.dtype,
            device,
        )
    }

    /// Every projection with its HF module path, for adapters and gradients.
    pub fn projections(&self) -> Vec<(String, &Proj<B>)> {
        let mut out = Vec::new();
        for (i, l) in self.model.layers.iter().enumerate() {
            let a = &l.self_attn;
            let m = &l.mlp;
            let named = [
                ("self_attn.q_proj", &a.q_proj),
                ("self_attn.k_proj", &a.k_proj),
                ("self_attn.v_proj", &a.v_proj),
                ("self_attn.o_proj", &a.o_proj),
                ("mlp.gate_proj", &m.gate_proj),
                ("mlp.up_proj", &m.up_proj),
                ("mlp.down_proj", &m.down_proj),
            ];
            out.extend(
                named
                    .into_iter()
                    .map(|(n, p)| (format!("model.layers.{i}.{n}"), p)),
            );
        }
        if let Some(h) = &self.lm_head {
            out.push(("lm_head".to_string(), h));
        }
        out
    }

    /// Mutable twin of [`Self::projections`].
    pub fn projections_mut(&mut self) -> Vec<(String, &mut Proj<B>)> {
        let mut out = Vec::new();
        for (i, l) in self.model.layers.iter_mut().enumerate() {
            let a = &mut l.self_attn;
            let m = &mut l.mlp;
            let named = [
                ("self_attn.q_proj", &mut a.q_proj),
                ("self_attn.k_proj", &mut a.k_proj),
                ("self_attn.v_proj", &mut a.v_proj),
                ("self_attn.o_proj", &mut a.o_proj),
                ("mlp.gate_proj", &mut m.gate_proj),
                ("mlp.up_proj", &mut m.up_proj),
                ("mlp.down_proj", &mut m.down_proj),
            ];
            out.extend(
                named
                    .into_iter()
                    .map(|(n, p)| (format!("model.layers.{i}.{n}"), p)),
            );
        }
        if let Some(h) = &mut self.lm_head {
            out.push(("lm_head".to_string(), h));
        }
        out
    }

    /// True when any projection carries a LoRA adapter.
    pub fn has_adapters(&self) -> bool {
        self.projections().iter().any(|(_, p)| p.lora.is_some())
    }

    /// Folds every adapter into its base weight (inference only; training keeps them apart).
    pub fn merge_adapters(mut self) -> Self {
        for (_, p) in self.projections_mut() {
            p.merge();
        }
        self
    }
}
