//! Batched, KV-cached generation over left-padded prompts.
//!
//! All sequences of a batch share one cache `[b, kv, prompt + max_new, d]`; finished sequences
//! keep stepping (fed a padding token) but their outputs are ignored, so every sequence's tokens
//! depend only on its own prompt and sampler.

use std::collections::HashSet;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
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
        if prompts.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(i) = prompts.iter().position(Vec::is_empty) {
            return Err(ModelError::Input(format!("prompt {i} is empty")));
        }
        let device = self.model.embed_tokens.val().device();
        let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
        let pads: Vec<usize> = prompts.iter().map(|p| width - p.len()).collect();
        let b = prompts.len();
        let vocab = self.config.vocab_size;
        let mut outs: Vec<GenerateOutput> = (0..b)
            .map(|_| GenerateOutput {
                tokens: vec![],
                sample_logprobs: vec![],
                model_logprobs: vec![],
                finish: FinishReason::Length,
            })
            .collect();
        let mut done = vec![false; b];
        if opts.max_new_tokens == 0 {
            return Ok(outs);
        }
        let mut cache = opts.use_cache.then(|| {
            KvCache::<B>::new(
                &self.config,
                b,
                width + opts.max_new_tokens,
                self.dtype,
                &device,
            )
        });
        let mut seqs: Vec<Vec<u32>> = prompts.to_vec();
        let mut next: Vec<u32> = Vec::new();
        for step in 0..opts.max_new_tokens {
            let hidden = match cache.as_mut() {
                Some(c) if step > 0 => {
                    let input = Tensor::from_data(
                        TensorData::new(
                            next.iter().map(|&t| i64::from(t)).collect::<Vec<_>>(),
                            [b, 1],
                        ),
                        &device,
                    );
                    let si = self.step_input(&pads, c.len(), 1, &device);
                    self.forward_hidden(input, &si, Some(c), opts.adapters)
                }
                c => {
                    let len = width + step;
                    let input = token_tensor::<B>(&seqs, len, &pads, vocab, &device)?;
                    let si = self.step_input(&pads, 0, len, &device);
                    self.forward_hidden(input, &si, c, opts.adapters)
                }
            };
            let rows = last_logits(self, hidden, opts.adapters)?;
            next.clear();
            for (i, row) in rows.iter().enumerate() {
                if done[i] {
                    next.push(0);
                    seqs[i].push(0);
                    continue;
                }
                let s = samplers[i].sample(row);
                let o = &mut outs[i];
                o.tokens.push(s.token);
                o.sample_logprobs.push(s.sample_logprob);
                o.model_logprobs.push(s.model_logprob);
                if opts.stop_tokens.contains(&s.token) {
                    o.finish = FinishReason::Stop;
                    done[i] = true;
                }
                next.push(s.token);
                seqs[i].push(s.token);
            }
            if done.iter().all(|&d| d) {
                break;
            }
        }
        Ok(outs)
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
