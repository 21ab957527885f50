//! `exp bench model`: prefill, KV-cached decode and training-step throughput of the burn Qwen3,
//! measured the way `tools/bench_model.py` measures PyTorch on the same folder, so the two can
//! be put side by side as a ratio (absolute times on a shared machine are noise).
//!
//! Prefill: a generation's first step (one forward of `batch × prompt` tokens up to the last
//! position's logits, then sampling). Decode: the next `new` greedy steps of the whole batch
//! with the KV cache, logits read back and sampled on the host as in every generation. Train: one
//! forward + backward + AdamW step (the trainer's update, [`adamw_update`]) of mean token
//! log-likelihood over `batch × prompt` tokens, on LoRA r16 (q/k/v/o) or on every weight.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Int, Tensor, TensorData};
use serde::Serialize;

use crate::config::ComputeDtype;
use crate::adamw::{AdamWStep, adamw_update};
use crate::error::{ModelError, Result};
use crate::generate::{Decoder, GenerateOptions};
use crate::lora::{LoraConfig, ModuleSelector, init_adapter};
use crate::model::Qwen3;
use crate::sampling::{Sampler, SamplingConfig};
use crate::train::{Trainable, set_trainable};

/// What to train in the training-step measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainMode {
    /// LoRA r16, alpha 32, on q/k/v/o (the loaded adapter instead, when one is given).
    Lora,
    /// Every weight (full fine-tuning).
    Full,
}

/// Shapes and repetitions of one benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Sequences per batch.
    pub batch: usize,
    /// Prompt tokens per sequence.
    pub prompt: usize,
    /// Greedy tokens decoded after the prompt.
    pub new: usize,
    /// Timed repetitions of each phase (the best one is reported, after one warm-up).
    pub iters: usize,
    /// Training step to time, if any.
    pub train: Option<TrainMode>,
}

/// Measured throughput (best of `iters`), JSON-serializable for the side-by-side table.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Prompt tokens per second (all sequences).
    pub prefill_tok_s: f64,
    /// Generated tokens per second (all sequences), prefill excluded.
    pub decode_tok_s: f64,
    /// Seconds per training step, when measured.
    pub train_step_s: Option<f64>,
    /// Training tokens per second, when measured.
    pub train_tok_s: Option<f64>,
    /// Bytes of all weights (resident memory).
    pub weight_bytes: u64,
    /// Bytes one decode step must read at least once: every weight but an untied input
    /// embedding, of which a step reads one row per sequence (a tied one is the LM head).
    pub step_read_bytes: u64,
    /// Bytes of the KV cache: `batch × (prompt + new + 1)` positions (the decoder's capacity).
    pub kv_cache_bytes: u64,
}

/// Deterministic pseudo-random token ids in `[0, vocab)` (a Weyl sequence).
pub fn bench_tokens(n: usize, vocab: usize, salt: u64) -> Vec<u32> {
    (0..n as u64)
        .map(|i| ((i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 7) % vocab as u64) as u32)
        .collect()
}

fn ids<B: Backend>(rows: &[Vec<u32>], device: &B::Device) -> Tensor<B, 2, Int> {
    let width = rows[0].len();
    let flat: Vec<i64> = rows.iter().flatten().map(|&t| i64::from(t)).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

fn best_of(iters: usize, mut f: impl FnMut() -> Result<f64>) -> Result<f64> {
    f()?; // warm-up: allocator, caches, lazily built tables
    let mut best = f64::INFINITY;
    for _ in 0..iters.max(1) {
        best = best.min(f()?);
    }
    Ok(best)
}

/// Times prefill and decode on an inference model: (prefill tok/s, decode tok/s, KV bytes).
/// Both run through [`Decoder`], the loop every generation uses, with greedy samplers: the
/// first step is the prefill, the next `new` steps the decode.
pub fn bench_inference<B: Backend>(
    model: &Qwen3<B>,
    dtype: ComputeDtype,
    opts: &BenchOptions,
) -> Result<(f64, f64, u64)> {
    let cfg = &model.config;
    let prompts: Vec<Vec<u32>> = (0..opts.batch)
        .map(|i| bench_tokens(opts.prompt, cfg.vocab_size, i as u64 * 7919))
        .collect();
    let gen_opts = GenerateOptions {
        max_new_tokens: opts.new + 1,
        stop_tokens: HashSet::new(),
        use_cache: true,
        adapters: model.has_adapters(),
    };
    let start = || -> Result<(Decoder<B>, Vec<Sampler>)> {
        let samplers = (0..opts.batch)
            .map(|_| Sampler::new(SamplingConfig::Greedy, 0))
            .collect::<Result<_>>()?;
        Ok((
            Decoder::new(model.clone(), &prompts, gen_opts.clone())?,
            samplers,
        ))
    };
    let prefill_s = best_of(opts.iters, || {
        let (mut decoder, mut samplers) = start()?;
        let t = Instant::now();
        decoder.step(&mut samplers)?;
        Ok(t.elapsed().as_secs_f64())
    })?;
    let decode_s = best_of(opts.iters, || {
        let (mut decoder, mut samplers) = start()?;
        decoder.step(&mut samplers)?;
        let t = Instant::now();
        while !decoder.is_finished() {
            decoder.step(&mut samplers)?;
        }
        Ok(t.elapsed().as_secs_f64())
    })?;
    let kv_bytes = 2
        * cfg.num_hidden_layers
        * opts.batch
        * cfg.num_key_value_heads
        * (opts.prompt + gen_opts.max_new_tokens)
        * cfg.head_dim
        * dtype.size();
    let tokens = (opts.batch * opts.prompt) as f64;
    let generated = (opts.batch * opts.new) as f64;
    Ok((tokens / prefill_s, generated / decode_s, kv_bytes as u64))
}

/// Flat f32 moments of one parameter on the inner backend.
type Moments<AD> = (Tensor<<AD as AutodiffBackend>::InnerBackend, 1>, Tensor<<AD as AutodiffBackend>::InnerBackend, 1>);

/// The AdamW update the trainer applies ([`adamw_update`], default betas, no decay), over every
/// parameter that got a gradient: the optimizer a user's run pays for.
struct BenchAdamW<'a, AD: AutodiffBackend> {
    grads: &'a AD::Gradients,
    moments: &'a mut HashMap<ParamId, Moments<AD>>,
    step: i32,
}

impl<AD: AutodiffBackend> ModuleMapper<AD> for BenchAdamW<'_, AD> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<AD, D>>) -> Param<Tensor<AD, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(g) = tensor.grad(self.grads) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let (shape, dtype) = (tensor.shape(), tensor.dtype());
        let n = shape.num_elements();
        let h = AdamWStep { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-5, weight_decay: 0.0, step: self.step };
        let p = tensor.inner().cast(DType::F32).reshape([n]);
        let g = g.cast(DType::F32).reshape([n]);
        let (p, m, v) = adamw_update(p, g, self.moments.remove(&id), &h);
        self.moments.insert(id, (m, v));
        let out = Tensor::from_inner(p.reshape(shape).cast(dtype)).require_grad();
        Param::from_mapped_value(id, out, mapper)
    }
}

/// Times one forward + backward + AdamW step on `batch × prompt` tokens.
pub fn bench_train<AD: AutodiffBackend>(
    model: Qwen3<AD>,
    dtype: ComputeDtype,
    mode: TrainMode,
    opts: &BenchOptions,
) -> Result<f64> {
    let model = match mode {
        TrainMode::Full => set_trainable(model, Trainable::All),
        TrainMode::Lora if model.has_adapters() => set_trainable(model, Trainable::Adapters),
        TrainMode::Lora => {
            let targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
                .map(String::from)
                .to_vec();
            let cfg = LoraConfig::new(16, 32.0, ModuleSelector::Names(targets))?;
            init_adapter(model, cfg, dtype, 0)?
        }
    };
    let vocab = model.config.vocab_size;
    let device = model.model.embed_tokens.val().device();
    let rows: Vec<Vec<u32>> = (0..opts.batch)
        .map(|i| bench_tokens(opts.prompt, vocab, i as u64 * 104_729))
        .collect();
    let pads = vec![0; opts.batch];
    let mut moments = HashMap::new();
    let mut step = 0;
    let mut slot = Some(model);
    best_of(opts.iters, || {
        let m = slot
            .take()
            .ok_or_else(|| ModelError::Input("model lost".into()))?;
        let t = Instant::now();
        let loss = m
            .token_logprobs(ids::<AD>(&rows, &device), &pads, true)
            .mean()
            .neg();
        let grads = loss.backward();
        step += 1;
        let m = m.map(&mut BenchAdamW::<AD> { grads: &grads, moments: &mut moments, step });
        // Reading a weight back synchronizes asynchronous backends.
        let _ = m.model.norm.weight.val().into_data();
        slot = Some(m);
        Ok(t.elapsed().as_secs_f64())
    })
}

/// Streaming-read bandwidth of this machine in GB/s on the current thread pool: the best of 5
/// parallel sums over a 256 MiB buffer (far larger than any cache), one contiguous slice per
/// thread. It bounds decode: every weight is read once per step, so a batch of `b` cannot
/// decode faster than `b · bandwidth / step_read_bytes` tokens per second.
pub fn read_bandwidth_gb_s() -> f64 {
    use rayon::prelude::*;
    const BYTES: usize = 256 << 20;
    let data = vec![1.0f32; BYTES / 4];
    let threads = rayon::current_num_threads().max(1);
    let chunk = data.len().div_ceil(threads);
    let mut best = f64::INFINITY;
    let mut checksum = 0.0f32;
    for _ in 0..5 {
        let t = Instant::now();
        let s: f32 = data
            .par_chunks(chunk)
            .map(|c| {
                let mut acc = [0f32; 16];
                for block in c.chunks_exact(16) {
                    for (a, x) in acc.iter_mut().zip(block) {
                        *a += x;
                    }
                }
                acc.iter().sum::<f32>()
            })
            .sum();
        best = best.min(t.elapsed().as_secs_f64());
        checksum += s;
    }
    std::hint::black_box(checksum);
    BYTES as f64 / best / 1e9
}
