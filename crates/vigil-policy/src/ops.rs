//! Backend-erased model operations for the `exp model …` commands and tools: the caller picks
//! a [`DeviceKind`] and never names a burn type (only this crate and the trainer touch burn).

use std::path::{Path, PathBuf};

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::bench::{BenchOptions, BenchReport, bench_inference, bench_train};
use crate::config::ComputeDtype;
use crate::error::{ModelError, Result};
use crate::generate::{GenerateOptions, GenerateOutput};
use crate::hub::resolve_model_dir;
use crate::load::load_qwen3;
use crate::lora::{Adapter, apply_adapter};
use crate::model::Qwen3;
use crate::policy::DeviceKind;
use crate::safetensors::{FileDtype, to_bytes};
use crate::sampling::{Sampler, SamplingConfig};
use crate::train::{NamedTensors, lora_gradients, pg_loss};

/// What to load: a model (folder or HF id), optionally an adapter, a dtype and a device.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Folder or `Org/Name` in the local HF cache.
    pub model: String,
    /// PEFT adapter folder.
    pub adapter: Option<PathBuf>,
    /// Compute dtype.
    pub dtype: ComputeDtype,
    /// Device.
    pub device: DeviceKind,
}

macro_rules! on_device {
    ($device:expr, $B:ident, $AD:ident, $body:block) => {{
        match $device {
            DeviceKind::Cpu => {
                #[allow(dead_code)]
                type $B = crate::CpuBackend;
                #[allow(dead_code)]
                type $AD = crate::CpuAutodiff;
                $body
            }
            #[cfg(feature = "cuda")]
            DeviceKind::Cuda => {
                #[allow(dead_code)]
                type $B = crate::CudaBackend;
                #[allow(dead_code)]
                type $AD = crate::CudaAutodiff;
                $body
            }
            #[cfg(not(feature = "cuda"))]
            DeviceKind::Cuda => Err(ModelError::Input("this build has no `cuda` feature".into())),
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => {
                #[allow(dead_code)]
                type $B = crate::WgpuBackend;
                #[allow(dead_code)]
                type $AD = crate::WgpuAutodiff;
                $body
            }
            #[cfg(not(feature = "wgpu"))]
            DeviceKind::Wgpu => Err(ModelError::Input("this build has no `wgpu` feature".into())),
        }
    }};
}

fn load<B: Backend>(spec: &ModelSpec) -> Result<Qwen3<B>> {
    let dir = resolve_model_dir(&spec.model)?;
    let model = load_qwen3::<B>(&dir, spec.dtype, &Default::default())?;
    match &spec.adapter {
        Some(a) => apply_adapter(model, &Adapter::load(a)?, spec.dtype),
        None => Ok(model),
    }
}

/// Logits of `tokens` (`[positions][vocab]`), with the adapter when the spec has one.
pub fn logits(spec: &ModelSpec, tokens: &[u32]) -> Result<Vec<Vec<f32>>> {
    on_device!(spec.device, B, AD, {
        load::<B>(spec)?.logits_of(tokens, true)
    })
}

/// Teacher-forced log-probs of `tokens` (`n − 1` values).
pub fn logprobs(spec: &ModelSpec, tokens: &[u32]) -> Result<Vec<f32>> {
    on_device!(spec.device, B, AD, {
        load::<B>(spec)?.logprobs_of(tokens, true)
    })
}

/// Continues one prompt.
pub fn generate(
    spec: &ModelSpec,
    prompt: &[u32],
    sampling: SamplingConfig,
    seed: u64,
    opts: &GenerateOptions,
) -> Result<GenerateOutput> {
    let mut samplers = vec![Sampler::new(sampling, seed)?];
    on_device!(spec.device, B, AD, {
        let model = load::<B>(spec)?;
        let mut out = model.generate(&[prompt.to_vec()], &mut samplers, opts)?;
        out.pop()
            .ok_or_else(|| ModelError::Input("no output".into()))
    })
}

fn grads_on<AD: AutodiffBackend>(
    spec: &ModelSpec,
    tokens: &[u32],
    advantage: f32,
) -> Result<NamedTensors> {
    let model = load::<AD>(spec)?;
    if !model.has_adapters() {
        return Err(ModelError::Input(
            "gradients are taken w.r.t. LoRA tensors: give an adapter".into(),
        ));
    }
    let loss = pg_loss(&model, tokens, advantage)?;
    let grads = loss.backward();
    Ok(lora_gradients::<AD>(&model, &grads))
}

/// Gradients of `−A · mean_t log p(tokens[t+1] | ..t)` w.r.t. every LoRA tensor, by PEFT name.
pub fn lora_grad(spec: &ModelSpec, tokens: &[u32], advantage: f32) -> Result<NamedTensors> {
    on_device!(spec.device, B, AD, {
        grads_on::<AD>(spec, tokens, advantage)
    })
}

/// Writes named f32 tensors as safetensors, atomically.
pub fn write_tensors(path: &Path, tensors: &NamedTensors) -> Result<()> {
    vigil_core::write_atomic(path, &to_bytes(tensors, FileDtype::F32))
        .map_err(|e| ModelError::io(path, e))
}

/// Loads the model (for load-time and memory measurements); returns its parameter count.
pub fn load_only(spec: &ModelSpec) -> Result<usize> {
    on_device!(spec.device, B, AD, {
        let m = load::<B>(spec)?;
        Ok(burn::module::Module::num_params(&m))
    })
}

/// Throughput of the model in `spec` (see [`crate::bench`]).
pub fn bench(spec: &ModelSpec, opts: &BenchOptions) -> Result<BenchReport> {
    if opts.batch == 0 || opts.prompt == 0 || opts.new == 0 {
        return Err(ModelError::Input(
            "batch, prompt and new must be > 0".into(),
        ));
    }
    on_device!(spec.device, B, AD, {
        let model = load::<B>(spec)?;
        let params = burn::module::Module::num_params(&model);
        let c = &model.config;
        let untied_embedding = if c.tie_word_embeddings { 0 } else { c.vocab_size * c.hidden_size };
        let max = model.config.max_position_embeddings;
        if opts.prompt + opts.new > max {
            return Err(ModelError::Input(format!(
                "prompt + new = {} exceeds the model's context ({max})",
                opts.prompt + opts.new
            )));
        }
        let (prefill, decode, kv) = bench_inference(&model, spec.dtype, opts)?;
        drop(model);
        let train_step_s = match opts.train {
            Some(mode) => Some(bench_train(load::<AD>(spec)?, spec.dtype, mode, opts)?),
            None => None,
        };
        Ok(BenchReport {
            prefill_tok_s: prefill,
            decode_tok_s: decode,
            train_step_s,
            train_tok_s: train_step_s.map(|s| (opts.batch * opts.prompt) as f64 / s),
            weight_bytes: (params * spec.dtype.size()) as u64,
            step_read_bytes: ((params - untied_embedding) * spec.dtype.size()) as u64,
            kv_cache_bytes: kv,
        })
    })
}
