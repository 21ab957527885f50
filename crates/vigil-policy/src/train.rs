//! What the trainer needs: choosing trainable parameters, and reading gradients by PEFT name.
//!
//! burn optimizers step a whole module with `GradientsParams`; parameters with
//! `require_grad = false` get no gradient and are left untouched, so "train only the adapter"
//! is a matter of freezing the base ([`Trainable::Adapters`]).

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Tensor};

use crate::error::{ModelError, Result};
use crate::lora::peft_key;
use crate::model::Qwen3;

/// Which parameters receive gradients on an autodiff backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trainable {
    /// Nothing (inference, reference policy).
    Nothing,
    /// Only LoRA factors (the base is frozen).
    Adapters,
    /// Every parameter (full fine-tuning of a small model).
    All,
}

struct RequireGrad {
    path: Vec<String>,
    mode: Trainable,
}

impl<B: Backend> ModuleMapper<B> for RequireGrad {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let in_adapter = self.path.iter().any(|p| p == "lora");
        let on = match self.mode {
            Trainable::Nothing => false,
            Trainable::Adapters => in_adapter,
            Trainable::All => true,
        };
        param.set_require_grad(on)
    }
}

/// Sets `require_grad` on every parameter according to `mode`.
pub fn set_trainable<B: Backend>(model: Qwen3<B>, mode: Trainable) -> Qwen3<B> {
    model.map(&mut RequireGrad {
        path: Vec::new(),
        mode,
    })
}

impl<B: Backend> Qwen3<B> {
    /// Ids of the LoRA parameters, keyed by PEFT tensor name (for optimizers that take ids).
    pub fn lora_param_ids(&self) -> BTreeMap<String, ParamId> {
        let mut out = BTreeMap::new();
        for (path, p) in self.projections() {
            if let Some(l) = &p.lora {
                out.insert(peft_key(&path, "lora_A"), l.lora_a.id);
                out.insert(peft_key(&path, "lora_B"), l.lora_b.id);
            }
        }
        out
    }
}

/// A named host-side tensor: shape and f32 values.
pub type NamedTensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> (Vec<usize>, Vec<f32>) {
    let shape = t.dims().to_vec();
    let t = if t.dtype() == DType::F32 {
        t
    } else {
        t.cast(DType::F32)
    };
    let values = t.into_data().to_vec::<f32>().unwrap_or_default();
    (shape, values)
}

/// Gradients of every LoRA factor after `loss.backward()`, under the adapter's own PEFT names
/// (`base_model.model.<path>.lora_A.weight` `[r, in]`, `lora_B.weight` `[out, r]`).
/// A factor that got no gradient (not on the loss path) is reported as zeros.
pub fn lora_gradients<B: AutodiffBackend>(model: &Qwen3<B>, grads: &B::Gradients) -> NamedTensors {
    let mut out = BTreeMap::new();
    for (path, p) in model.projections() {
        if let Some(l) = &p.lora {
            for (kind, param) in [("lora_A", &l.lora_a), ("lora_B", &l.lora_b)] {
                let t = param.val();
                let g = match t.grad(grads) {
                    Some(g) => host(g),
                    None => {
                        let dims = t.dims().to_vec();
                        let n = dims.iter().product();
                        (dims, vec![0.0; n])
                    }
                };
                out.insert(peft_key(&path, kind), g);
            }
        }
    }
    out
}

/// The adapter's current LoRA factors under their PEFT names (what `save_adapter` writes).
pub fn lora_tensors<B: Backend>(model: &Qwen3<B>) -> NamedTensors {
    let mut out = BTreeMap::new();
    for (path, p) in model.projections() {
        if let Some(l) = &p.lora {
            out.insert(peft_key(&path, "lora_A"), host(l.lora_a.val()));
            out.insert(peft_key(&path, "lora_B"), host(l.lora_b.val()));
        }
    }
    out
}

/// The policy-gradient loss of one sequence used by `exp model grad` and its tests:
/// `−A · mean_t log p(tokens[t+1] | tokens[..=t])`.
pub fn pg_loss<B: Backend>(
    model: &Qwen3<B>,
    tokens: &[u32],
    advantage: f32,
) -> Result<Tensor<B, 1>> {
    if tokens.len() < 2 {
        return Err(ModelError::Input(
            "need at least 2 tokens for log-probs".into(),
        ));
    }
    let device = model.model.embed_tokens.val().device();
    let t = crate::generate::token_tensor::<B>(
        &[tokens.to_vec()],
        tokens.len(),
        &[0],
        model.config.vocab_size,
        &device,
    )?;
    let lp = model.token_logprobs(t, &[0], true);
    Ok(lp.mean().mul_scalar(-advantage))
}
