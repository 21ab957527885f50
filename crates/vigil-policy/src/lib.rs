//! Qwen3 in burn: Hugging Face checkpoints, KV-cached sampling, log-probs, PEFT LoRA.
//!
//! The model is generic over a burn backend `B`; [`CpuBackend`] (burn-flex) runs tests and the
//! quickstart, `CudaBackend` (feature `cuda`) runs on GPUs, `WgpuBackend` (feature `wgpu`) on
//! Vulkan/Metal/DX12 devices (and on the CPU through Mesa lavapipe, which CI uses to run the GPU
//! kernels), and any of them wrapped in [`burn::backend::Autodiff`] trains.
//!
//! For the trainer:
//! - [`load_qwen3`] (base, frozen) → [`lora::apply_adapter`] / [`lora::init_adapter`] (adapter
//!   trainable) or [`set_trainable`]`(…, Trainable::All)` for full fine-tuning;
//! - [`Qwen3::token_logprobs`] with `adapters = true` is the policy, `adapters = false` the
//!   reference (same weights, no second copy; call it on `model.valid()` to skip the graph);
//! - `loss.backward()` then burn's `GradientsParams::from_grads(grads, &model)` feeds any burn
//!   optimizer (frozen params get no gradient); [`lora_gradients`] reads them by PEFT name;
//! - [`lora::save_adapter`] writes a PEFT folder atomically.

/// The burn version this crate is built on (the trainer and benches use it through here).
pub use burn;

mod adamw;
pub mod bench;
mod cache;
pub mod chat;
mod config;
mod error;
mod generate;
mod hub;
mod init;
mod load;
pub mod lora;
mod model;
mod names;
pub mod openai;
pub mod ops;
mod policy;
mod roles;
mod safetensors;
mod sampling;
mod threads;
mod train;

pub use adamw::{AdamWStep, adamw_update};
pub use cache::KvCache;
pub use config::{ComputeDtype, Qwen3Config};
pub use error::{ModelError, Result};
pub use generate::{Decoder, GenerateOptions, GenerateOutput, token_tensor};
pub use hub::{hub_cache_dir, resolve_model_dir, resolve_model_dir_in};
pub use init::{InitOptions, init_values, write_random_checkpoint};
pub use load::{checkpoint_files, load_qwen3};
pub use model::{
    Attention, DecoderLayer, LoraAdapter, Mlp, Proj, Qwen3, Qwen3Body, RmsNorm, StepInput,
    apply_rope, inv_freq, target_logprobs,
};
pub use names::{LAYER_PROJECTIONS, expected_tensors};
pub use policy::{DeviceKind, Qwen3Policy, Qwen3PolicyConfig, build_qwen3_policy};
pub use roles::RolePolicyConfig;
pub use safetensors::{
    FileDtype, SafetensorsReader, TensorInfo, TensorSpec, to_bytes as safetensors_bytes,
    write_streaming,
};
pub use sampling::{Sampled, Sampler, SamplingConfig, log_softmax_at};
pub use threads::{available_threads, set_cpu_threads};
pub use train::{NamedTensors, Trainable, lora_gradients, lora_tensors, pg_loss, set_trainable};

/// CPU backend for tests and the quickstart.
pub type CpuBackend = burn::backend::Flex;
/// CPU backend with autodiff (training on CPU).
pub type CpuAutodiff = burn::backend::Autodiff<CpuBackend>;
/// CUDA backend.
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;
/// CUDA backend with autodiff.
#[cfg(feature = "cuda")]
pub type CudaAutodiff = burn::backend::Autodiff<CudaBackend>;
/// wgpu backend (cubecl kernels compiled to WGSL; Vulkan/Metal/DX12, or lavapipe on a CPU).
#[cfg(feature = "wgpu")]
pub type WgpuBackend = burn::backend::Wgpu;
/// wgpu backend with autodiff.
#[cfg(feature = "wgpu")]
pub type WgpuAutodiff = burn::backend::Autodiff<WgpuBackend>;
