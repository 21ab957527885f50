//! Batched, KV-cached generation over left-padded prompts.
//!
//! All sequences of a batch share one cache `[b, kv, prompt + max_new, d]`; finished sequences
//! keep stepping (fed a padding token) but their outputs are ignored, so every sequence's tokens
//! depend only on its own prompt and sampler.

use std::collections::HashSet;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rayon::prelude::*;
use vigil_core::FinishReason;

use crate::cache::KvCache;
use crate::error::{ModelError, Result};
use crate::model::Qwen3;
use crate::sampling::Sampler;

/// Generation limits and stopping.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// New tokens at most.
    pub max_new_tokens: usize,
    /// Ids that end a sequence (the stop token is kept in the output).
    pub stop_tokens: HashSet<u32>,
    /// Decode with the KV cache (false recomputes the whole prefix each step: slow; for checks).
    pub use_cache: bool,
    /// Run the LoRA adapter (false = base model).
    pub adapters: bool,
}

/// One generated continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOutput {
    /// New token ids (stop token included when `finish == Stop`).
    pub tokens: Vec<u32>,
    /// Log-probs under the sampling distribution.
    pub sample_logprobs: Vec<f32>,
    /// Log-probs under the unmodified model.
    pub model_logprobs: Vec<f32>,
    /// Why it stopped.
    pub finish: FinishReason,
}

/// Left-pads `seqs` to `len` and uploads them as `[b, len]` ids; pads get id 0 (masked).
pub fn token_tensor<B: Backend>(
    seqs: &[Vec<u32>],
    len: usize,
    pads: &[usize],
    vocab: usize,
    device: &B::Device,
) -> Result<Tensor<B, 2, Int>> {
    let mut ids = Vec::with_capacity(seqs.len() * len);
    for (s, &pad) in seqs.iter().zip(pads) {
        if let Some(bad) = s.iter().find(|&&t| t as usize >= vocab) {
            return Err(ModelError::Input(format!(
                "token id {bad} is out of range for vocab size {vocab}"
            )));
        }
        ids.extend(std::iter::repeat_n(0i64, pad));
        ids.extend(s.iter().map(|&t| i64::from(t)));
    }
    Ok(Tensor::from_data(
        TensorData::new(ids, [seqs.len(), len]),
        device,
    ))
}

fn last_logits<B: Backend>(
    model: &Qwen3<B>,
    hidden: Tensor<B, 3>,
    adapters: bool,
) -> Result<Vec<Vec<f32>>> {
    let [b, s, _] = hidden.dims();
    let logits = model.logits(hidden.narrow(1, s - 1, 1), adapters);
    let v = model.config.vocab_size;
    let flat = logits
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| ModelError::Input(format!("logits readback failed: {e:?}")))?;
    Ok((0..b).map(|i| flat[i * v..(i + 1) * v].to_vec()).collect())
}

impl<B: Backend> Qwen3<B> {
    /// Continues each prompt (one sampler per prompt). Prompts may differ in length.
    pub fn generate(
        &self,
        prompts: &[Vec<u32>],
        samplers: &mut [Sampler],
        opts: &GenerateOptions,
    ) -> Result<Vec<GenerateOutput>> {
        if prompts.len() != samplers.len() {
            return Err(ModelError::Input(format!(
                "{} prompts but {} samplers",
                prompts.len(),
                samplers.len()
            )));
        }
        let mut decoder = Decoder::new(self.clone(), prompts, opts.clone())?;
        while !decoder.is_finished() {
            decoder.step(samplers)?;
        }
        Ok(decoder.finish())
    }

    /// Logits of one unpadded sequence, `[s][vocab]` (all positions), in f32.
    pub fn logits_of(&self, tokens: &[u32], adapters: bool) -> Result<Vec<Vec<f32>>> {
        if tokens.is_empty() {
            return Err(ModelError::Input("no tokens".into()));
        }
        let device = self.model.embed_tokens.val().device();
        let t = token_tensor::<B>(
            &[tokens.to_vec()],
            tokens.len(),
            &[0],
            self.config.vocab_size,
            &device,
        )?;
        let logits = self.forward(t, &[0], adapters);
        let v = self.config.vocab_size;
        let flat = logits
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| ModelError::Input(format!("{e:?}")))?;
        Ok(flat.chunks(v).map(<[f32]>::to_vec).collect())
    }

    /// Teacher-forced log-probs of one unpadded sequence on the host: element `t` =
    /// `log_softmax(logits[t])[tokens[t+1]]`.
    pub fn logprobs_of(&self, tokens: &[u32], adapters: bool) -> Result<Vec<f32>> {
        if tokens.len() < 2 {
            return Err(ModelError::Input(
                "need at least 2 tokens for log-probs".into(),
            ));
        }
        let device = self.model.embed_tokens.val().device();
        let t = token_tensor::<B>(
            &[tokens.to_vec()],
            tokens.len(),
            &[0],
            self.config.vocab_size,
            &device,
        )?;
        let lp = self.token_logprobs(t, &[0], adapters);
        lp.into_data()
            .to_vec::<f32>()
            .map_err(|e| ModelError::Input(format!("{e:?}")))
    }
}

/// One batch's generation as a resumable state: [`Decoder::step`] samples one token per
/// unfinished sequence, so a caller (a server) can interleave several batches, drop sequences
/// whose client went away, and stop at a deadline. [`Qwen3::generate`] runs one to the end.
pub struct Decoder<B: Backend> {
    model: Qwen3<B>,
    opts: GenerateOptions,
    cache: Option<KvCache<B>>,
    seqs: Vec<Vec<u32>>,
    next: Vec<u32>,
    pads: Vec<usize>,
    width: usize,
    step: usize,
    outs: Vec<GenerateOutput>,
    done: Vec<bool>,
}

impl<B: Backend> std::fmt::Debug for Decoder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("batch", &self.seqs.len())
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Decoder<B> {
    /// Prepares a batch; the KV cache holds `longest prompt + max_new_tokens` positions, a sum
    /// that must not overflow.
    pub fn new(model: Qwen3<B>, prompts: &[Vec<u32>], opts: GenerateOptions) -> Result<Self> {
        if let Some(i) = prompts.iter().position(Vec::is_empty) {
            return Err(ModelError::Input(format!("prompt {i} is empty")));
        }
        let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
        let capacity = width.checked_add(opts.max_new_tokens).ok_or_else(|| {
            ModelError::Input(format!(
                "prompt length {width} + max_new_tokens {} overflows",
                opts.max_new_tokens
            ))
        })?;
        let b = prompts.len();
        let device = model.model.embed_tokens.val().device();
        let cache = (opts.use_cache && b > 0 && opts.max_new_tokens > 0)
            .then(|| KvCache::<B>::new(&model.config, b, capacity, model.dtype, &device));
        let outs = (0..b)
            .map(|_| GenerateOutput {
                tokens: vec![],
                sample_logprobs: vec![],
                model_logprobs: vec![],
                finish: FinishReason::Length,
            })
            .collect();
        Ok(Self {
            pads: prompts.iter().map(|p| width - p.len()).collect(),
            seqs: prompts.to_vec(),
            next: Vec::new(),
            width,
            step: 0,
            outs,
            done: vec![false; b],
            cache,
            model,
            opts,
        })
    }

    /// True when every sequence stopped or the token budget is spent.
    pub fn is_finished(&self) -> bool {
        self.step >= self.opts.max_new_tokens || self.done.iter().all(|&d| d)
    }

    /// Tokens sampled per sequence so far.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Ends sequence `i` now (its output keeps the tokens so far, finish reason `Length`).
    pub fn abandon(&mut self, i: usize) {
        if let Some(d) = self.done.get_mut(i) {
            *d = true;
        }
    }

    /// Whether sequence `i` has ended.
    pub fn is_done(&self, i: usize) -> bool {
        self.done.get(i).copied().unwrap_or(true)
    }

    /// Samples one token for every unfinished sequence (`samplers[i]` for sequence `i`).
    pub fn step(&mut self, samplers: &mut [Sampler]) -> Result<()> {
        if samplers.len() != self.seqs.len() {
            return Err(ModelError::Input(format!(
                "{} prompts but {} samplers",
                self.seqs.len(),
                samplers.len()
            )));
        }
        if self.is_finished() {
            return Ok(());
        }
        let b = self.seqs.len();
        let model = &self.model;
        let device = model.model.embed_tokens.val().device();
        let hidden = match self.cache.as_mut() {
            Some(c) if self.step > 0 => {
                let ids = self.next.iter().map(|&t| i64::from(t)).collect::<Vec<_>>();
                let input = Tensor::from_data(TensorData::new(ids, [b, 1]), &device);
                let si = model.step_input(&self.pads, c.len(), 1, &device);
                model.forward_hidden(input, &si, Some(c), self.opts.adapters)
            }
            c => {
                let len = self.width + self.step;
                let input = token_tensor::<B>(
                    &self.seqs,
                    len,
                    &self.pads,
                    model.config.vocab_size,
                    &device,
                )?;
                let si = model.step_input(&self.pads, 0, len, &device);
                model.forward_hidden(input, &si, c, self.opts.adapters)
            }
        };
        let rows = last_logits(model, hidden, self.opts.adapters)?;
        // Each row's sampler is independent (its own RNG), so the rows are sampled in
        // parallel: a log-softmax over the vocabulary per row is serial work of the size of
        // the LM head's output, a sixth of a small model's decode step at batch 8.
        let done = &self.done;
        let picks: Vec<Option<crate::sampling::Sampled>> = rows
            .par_iter()
            .zip(samplers.par_iter_mut())
            .enumerate()
            .map(|(i, (row, sampler))| (!done[i]).then(|| sampler.sample(row)))
            .collect();
        self.next.clear();
        for (i, pick) in picks.into_iter().enumerate() {
            let Some(s) = pick else {
                self.next.push(0);
                self.seqs[i].push(0);
                continue;
            };
            let o = &mut self.outs[i];
            o.tokens.push(s.token);
            o.sample_logprobs.push(s.sample_logprob);
            o.model_logprobs.push(s.model_logprob);
            if self.opts.stop_tokens.contains(&s.token) {
                o.finish = FinishReason::Stop;
                self.done[i] = true;
            }
            self.next.push(s.token);
            self.seqs[i].push(s.token);
        }
        self.step += 1;
        Ok(())
    }

    /// The outputs, one per prompt.
    pub fn finish(self) -> Vec<GenerateOutput> {
        self.outs
    }
}
