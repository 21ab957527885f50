//! Supervised warm-start: cross-entropy on the environment's gold answers, prompt tokens masked.
//!
//! Examples come from the environment itself (`Episode::gold_action`), so any environment with a
//! reference answer can be warm-started, multi-turn ones included (the gold trajectory is
//! followed turn by turn, each turn one example in the exact context the model will see).

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use vigil_core::{ChatMessage, Environment, GenerationRequest, Policy, SeedStream, Step};
use vigil_tokenizer::ChatTokenizer;

use crate::batch::{Row, micro_batches, pack};
use crate::curriculum::{TaskSampler, permutation};
use crate::error::{ConfigError, TrainerError};
use crate::learner::Learner;
use crate::logprobs::{host, matrix, packed_logprobs};
use crate::loss::{Aggregation, aggregation_weights};
use crate::metrics::{SftLine, Timing};
use crate::rollout::{end_of_turn, prompt_tokens};
use crate::schedule::{Schedule, ScheduleKind, check_lr};

fn default_examples() -> usize {
    600
}
fn default_lr() -> f64 {
    2e-4
}
fn one() -> usize {
    1
}
fn default_batch() -> usize {
    8
}
fn cosine() -> ScheduleKind {
    ScheduleKind::Cosine
}

/// The `[trainer.sft]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftConfig {
    /// Gold episodes drawn from the training split.
    #[serde(default = "default_examples")]
    pub examples: usize,
    /// Stages to draw them from, round-robin (default: every training task).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Passes over the examples.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Examples (turns) per optimizer step.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    #[serde(default = "one")]
    pub grad_accum: usize,
    /// Peak learning rate.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Linear warm-up steps.
    #[serde(default)]
    pub warmup_steps: u64,
    /// Decay after warm-up.
    #[serde(default = "cosine")]
    pub schedule: ScheduleKind,
    /// Final rate as a fraction of `lr`.
    #[serde(default)]
    pub min_lr_ratio: f64,
    /// A scripted baseline of the environment (by name) that answers each turn instead of the
    /// environment's gold answer: a procedure a small model can imitate from its context (the
    /// gold answer may name what only the ground truth knows). Checked against the
    /// environment's baselines before anything runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<String>,
    /// A folder where runs share their warm-start: a run whose SFT inputs (environment, model,
    /// init, this section, seed, threads; not the estimator or RL settings) match an entry
    /// starts from its weights instead of training ([`crate::sft_cache`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<std::path::PathBuf>,
}

impl SftConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_lr("sft.lr", self.lr, self.min_lr_ratio)?;
        for (k, v) in [("sft.examples", self.examples), ("sft.epochs", self.epochs), ("sft.batch_size", self.batch_size), ("sft.grad_accum", self.grad_accum)] {
            if v == 0 {
                return Err(ConfigError::new(k, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// Optimizer steps for `rows` examples.
    pub fn steps(&self, rows: usize) -> u64 {
        (rows.div_ceil(self.batch_size) * self.epochs) as u64
    }

    /// The learning-rate schedule over `total` steps.
    pub fn schedule(&self, total: u64) -> Schedule {
        Schedule { peak: self.lr, warmup: self.warmup_steps, kind: self.schedule, min_ratio: self.min_lr_ratio, total }
    }
}

/// Conversations ending in a gold assistant answer: `(messages, answer)`. The answers are the
/// environment's gold actions, or `teacher`'s (the policy named by [`SftConfig::teacher`]).
pub fn gold_turns(
    env: &dyn Environment,
    cfg: &SftConfig,
    seed: u64,
    max_turns: u32,
    mut teacher: Option<&mut (dyn Policy + '_)>,
) -> Result<Vec<(Vec<ChatMessage>, String)>, TrainerError> {
    let stages: Vec<Option<String>> =
        if cfg.stages.is_empty() { vec![None] } else { cfg.stages.iter().cloned().map(Some).collect() };
    let known = env.stages();
    if let Some(bad) = cfg.stages.iter().find(|s| !known.contains(s)) {
        return Err(ConfigError::new("sft.stages", format!("`{bad}` is not a stage of {}; it has: {}", env.name(), known.join(", "))).into());
    }
    let mut sampler = TaskSampler::new(env, &stages, SeedStream::new(seed).seed("sft-data"))?;
    let seeds = SeedStream::new(seed);
    let mut out = Vec::new();
    for i in 0..cfg.examples {
        let stage = &stages[i % stages.len()];
        let task = sampler.draw(stage.as_deref(), 1).remove(0);
        let mut ep = env.start(&task, seeds.seed_at("sft-episode", i as u64))?;
        let mut messages = ep.prompt();
        for turn in 0..max_turns {
            let gold = match teacher.as_deref_mut() {
                Some(t) => {
                    let seed = seeds.seed_at("sft-teacher", (i as u64) << 16 | u64::from(turn));
                    let req = GenerationRequest { task: task.clone(), messages: messages.clone(), seed };
                    let answer = t.generate(std::slice::from_ref(&req))?.pop();
                    answer.ok_or_else(|| ConfigError::new("sft.teacher", format!("`{}` gave no answer", t.name())))?.text
                }
                None => ep.gold_action().ok_or_else(|| {
                    ConfigError::new("sft", format!("the {} environment has no gold answer for task `{task}` (turn {turn}); it cannot be warm-started", env.name()))
                })?,
            };
            out.push((messages.clone(), gold.clone()));
            let role = ep.role();
            match ep.step(&gold)? {
                Step::Done(_) => break,
                // A new role that sees its own conversation (self-play) starts from it.
                Step::Continue { .. } if ep.role() != role && ep.role_prompt().is_some() => {
                    messages = ep.role_prompt().unwrap_or_default();
                }
                Step::Continue { observation } => {
                    messages.push(ChatMessage::assistant(gold));
                    messages.push(observation);
                }
            }
        }
    }
    Ok(out)
}

/// Tokenizes gold turns into trained rows (answer + end-of-turn token).
pub fn sft_rows(turns: &[(Vec<ChatMessage>, String)], tokenizer: &ChatTokenizer, enable_thinking: bool) -> Result<Vec<Row>, TrainerError> {
    let end = end_of_turn(tokenizer).ok_or_else(|| ConfigError::new("sft", "the tokenizer has no end-of-turn token"))?;
    turns
        .iter()
        .enumerate()
        .map(|(i, (msgs, gold))| {
            let prompt = prompt_tokens(tokenizer, msgs, enable_thinking)?;
            let mut answer = tokenizer.encode(gold, false)?;
            answer.push(end);
            Ok(Row::new(&prompt, &answer, i))
        })
        .collect()
}

/// One SFT optimizer step over `rows` (already the step's batch); returns its metrics line.
pub fn sft_step<B: AutodiffBackend>(
    learner: &mut Learner<B>,
    rows: &[Row],
    cfg: &SftConfig,
    step: u64,
    epoch: u64,
    lr: f64,
    clip: Option<f64>,
) -> Result<SftLine, TrainerError> {
    let start = Instant::now();
    let lengths: Vec<usize> = rows.iter().map(Row::trained).collect();
    let w = aggregation_weights(Aggregation::TokenMean, &lengths, 1);
    let tokens: usize = lengths.iter().sum();
    let device = learner.model.model.embed_tokens.val().device();
    let mut loss_sum = 0.0;
    let mut forwarded = 0usize;
    // Similar lengths share a micro-batch, so little of each forward is padding (the loss is a
    // sum over rows: the order changes nothing but rounding, and is itself deterministic).
    let mut sorted: Vec<Row> = rows.to_vec();
    sorted.sort_by_key(|r| (r.tokens.len(), r.seq));
    for mb in micro_batches(&sorted, cfg.grad_accum) {
        let p = pack(&mb)?;
        forwarded += p.tokens.len() * p.len;
        let weights: Vec<f32> = mb.iter().enumerate().flat_map(|(r, row)| {
            let wr = w[row.seq] as f32;
            p.mask[r * p.cols..(r + 1) * p.cols].iter().map(move |m| m * wr).collect::<Vec<_>>()
        }).collect();
        let (logp, _) = packed_logprobs(&learner.model, true, &p, false)?;
        let wt = matrix::<B>(weights, mb.len(), p.cols, &device);
        let loss = (logp * wt).sum().neg();
        loss_sum += f64::from(host(loss.clone().detach())[0]);
        let grads = loss.backward();
        learner.acc.add(&learner.model, grads);
    }
    if !loss_sum.is_finite() {
        return Err(TrainerError::NonFinite { what: "SFT loss", step });
    }
    let norm = learner.update(lr, clip);
    let secs = start.elapsed().as_secs_f64();
    Ok(SftLine {
        step: step + 1,
        epoch,
        lr,
        loss: loss_sum,
        grad_norm: norm,
        tokens: tokens as u64,
        timing: Timing { update_s: secs, train_tokens_per_s: forwarded as f64 / secs.max(1e-9), ..Timing::default() },
    })
}

/// The rows of SFT step `step` (0-based): epoch-wise shuffles seeded from the run seed.
pub fn batch_rows(rows: &[Row], cfg: &SftConfig, step: u64, seed: u64) -> (u64, Vec<Row>) {
    let per_epoch = rows.len().div_ceil(cfg.batch_size) as u64;
    let epoch = step / per_epoch;
    let k = (step % per_epoch) as usize;
    let perm = permutation(rows.len(), SeedStream::new(seed).seed_at("sft-order", epoch));
    let idx = &perm[k * cfg.batch_size..((k + 1) * cfg.batch_size).min(rows.len())];
    let batch = idx.iter().enumerate().map(|(j, &i)| Row { seq: j, ..rows[i].clone() }).collect();
    (epoch, batch)
}

#[cfg(test)]
mod tests {
    use vigil_testkit::mock::{ConstantPolicy, MockEnv};

    use super::*;

    fn cfg() -> SftConfig {
        SftConfig {
            examples: 6,
            stages: Vec::new(),
            epochs: 1,
            batch_size: 1,
            grad_accum: 1,
            lr: 1e-3,
            warmup_steps: 0,
            schedule: ScheduleKind::Constant,
            min_lr_ratio: 0.0,
            teacher: None,
            cache: None,
        }
    }

    /// A teacher answers every turn, and the conversation goes on from its answers (the next
    /// turn's context holds them), not from the environment's gold action.
    #[test]
    fn a_teacher_replaces_the_gold_answers_turn_by_turn() {
        let env = MockEnv::new(4).with_extra_turns(2);
        let gold = gold_turns(&env, &cfg(), 3, 8, None).unwrap();
        assert!(gold.iter().all(|(_, a)| a == "ok"));
        let mut teacher = ConstantPolicy::new("teacher", "wait");
        let taught = gold_turns(&env, &cfg(), 3, 8, Some(&mut teacher)).unwrap();
        assert_eq!(taught.len(), gold.len(), "same episodes, same number of turns");
        assert!(taught.iter().all(|(_, a)| a == "wait"));
        let later: Vec<_> = taught.iter().filter(|(m, _)| m.len() > 2).collect();
        assert!(!later.is_empty(), "multi-turn episodes");
        for (msgs, _) in later {
            let said: Vec<&str> =
                msgs.iter().filter(|m| m.role == vigil_core::Role::Assistant).map(|m| m.content.as_str()).collect();
            assert!(said.iter().all(|s| *s == "wait"), "{said:?}");
        }
    }
}
