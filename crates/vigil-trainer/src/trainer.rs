//! The training run: resume or start, SFT warm-start, RL over the curriculum, final policy.
//!
//! Each phase is a short loop over steps (`sft::sft_step`, `rl::rl_step`), logging a metrics
//! line, checkpointing and evaluating on schedule. Everything random derives from the run seed
//! and step counters, so a resumed run repeats the uninterrupted one exactly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::backend::AutodiffBackend;
use vigil_core::{AdvantageEstimator, Environment, EpisodeRecord, Policy, SeedStream};
use vigil_policy::lora::{Adapter, apply_adapter};
use vigil_policy::openai::OpenAiPolicy;
use vigil_policy::{Qwen3, load_qwen3};
use vigil_rewards::RewardSet;
use vigil_tokenizer::ChatTokenizer;

use crate::checkpoint::{Checkpoints, FORMAT, OPTIMIZER, Phase, Progress, WEIGHTS, read_optimizer, write_optimizer};
use crate::config::TrainerConfig;
use crate::curriculum::{Plan, TaskSampler};
use crate::error::{ConfigError, TrainerError};
use crate::learner::{Learner, ModelSource};
use crate::metrics::{MetricsLine, MetricsLog};
use crate::optim::AdamW;
use crate::rl::{RlContext, rl_step};
use crate::rollout::{BurnPolicy, GenerationSettings, RolloutConfig};
use crate::schedule::Schedule;
use crate::selfplay::SoloTasks;
use crate::selfplay::step::{SelfPlayContext, self_play_step};
use crate::selfplay::{RolePlayer, SelfPlaySpec};
use crate::sft::{batch_rows, gold_turns, sft_rows, sft_step};

/// Folder of the warm-started policy inside `checkpoints/`.
pub const SFT_POLICY: &str = "sft";
/// Folder of the final policy inside the run folder.
pub const FINAL_POLICY: &str = "final";

/// Everything a run needs, built by the caller (`exp run`).
pub struct TrainSpec<'a> {
    /// The environment.
    pub env: &'a dyn Environment,
    /// `[rewards]` bound to the environment.
    pub rewards: &'a RewardSet,
    /// `[advantage]`.
    pub estimator: &'a dyn AdvantageEstimator,
    /// `[trainer]`.
    pub config: &'a TrainerConfig,
    /// Starting weights.
    pub source: ModelSource,
    /// Tokenizer folder.
    pub tokenizer_dir: PathBuf,
    /// Sampling for rollouts.
    pub generation: GenerationSettings,
    /// Sampling for evaluations during training.
    pub eval_generation: GenerationSettings,
    /// Run seed.
    pub seed: u64,
    /// Run folder.
    pub run_dir: PathBuf,
    /// Evaluate every N RL steps (0: never during training).
    pub eval_every: u64,
    /// The roles of a self-play run (needed exactly when `[trainer.self_play]` is set).
    pub self_play: Option<SelfPlaySpec>,
    /// The policy `[trainer.sft] teacher` names (needed exactly when it is set).
    pub sft_teacher: Option<&'a std::sync::Mutex<Box<dyn vigil_core::Policy>>>,
    /// Where the warm-start is shared with other runs (`[trainer.sft] cache`).
    pub sft_cache: Option<crate::sft_cache::SftCache>,
}

impl std::fmt::Debug for TrainSpec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainSpec").field("env", &self.env.name()).field("run_dir", &self.run_dir).finish()
    }
}

/// Callbacks for progress display and evaluation; all optional.
pub trait TrainHooks {
    /// A phase starts (or resumes) with `done` of `total` steps behind it.
    fn phase(&mut self, phase: Phase, done: u64, total: u64) {
        let _ = (phase, done, total);
    }
    /// A rollout episode finished.
    fn episode(&mut self, record: &EpisodeRecord) {
        let _ = record;
    }
    /// A step finished.
    fn step(&mut self, line: &MetricsLine) {
        let _ = line;
    }
    /// Evaluate the current policy (`label`: `step-N`).
    fn evaluate(&mut self, label: &str, policy: &mut dyn Policy) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let _ = (label, policy);
        Ok(())
    }
}

/// Hooks that do nothing.
#[derive(Debug, Default)]
pub struct NoHooks;
impl TrainHooks for NoHooks {}

/// Where the results are.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The final policy (adapter or model folder).
    pub final_policy: PathBuf,
    /// The warm-started policy, when there was an SFT phase.
    pub sft_policy: Option<PathBuf>,
    /// The checkpoint the run resumed from.
    pub resumed_from: Option<PathBuf>,
}

/// The weights of a frozen self-play role, and whether its adapters are on.
type Frozen<B> = (Qwen3<<B as AutodiffBackend>::InnerBackend>, bool);

struct Run<'a, B: AutodiffBackend> {
    spec: &'a TrainSpec<'a>,
    tokenizer: Arc<ChatTokenizer>,
    ckpts: Checkpoints,
    progress: Progress,
    learner: Learner<B>,
    log: MetricsLog,
    device: B::Device,
}

/// Trains (or resumes) the run described by `spec` on `device`.
pub fn train<B: AutodiffBackend>(spec: &TrainSpec<'_>, hooks: &mut dyn TrainHooks, device: &B::Device) -> Result<TrainOutcome, TrainerError>
where
    Qwen3<B::InnerBackend>: Send,
{
    spec.config.validate()?;
    if spec.config.self_play.is_some() != spec.self_play.is_some() {
        return Err(TrainerError::SelfPlay("[trainer.self_play] and the roles given to the trainer must come together".into()));
    }
    let plan = Plan::new(&spec.config.curriculum, spec.config.rl_steps());
    plan.check(spec.env)?;
    let tokenizer = Arc::new(ChatTokenizer::from_dir(&spec.tokenizer_dir)?);
    let ckpts = Checkpoints::new(&spec.run_dir, spec.config.keep_checkpoints);
    let trainer_json = serde_json::to_value(spec.config).map_err(|e| TrainerError::Reward(e.to_string()))?;
    let latest = ckpts.latest()?;
    // A fresh run whose warm-start is in the cache starts from its weights (loaded once).
    let cached = match (&latest, &spec.sft_cache, &spec.config.sft) {
        (None, Some(cache), Some(_)) => cache.lookup()?.map(|lines| (cache.weights(), lines)),
        _ => None,
    };
    let (progress, learner) = match &latest {
        Some(dir) => resume::<B>(spec, dir, &trainer_json, device)?,
        None => {
            let weights = cached.as_ref().map(|(w, _)| w.as_path());
            let l = Learner::load(&spec.source, &spec.config.finetune, weights, &spec.config.adamw, SeedStream::new(spec.seed).seed("lora-init"), device)?;
            (Progress::new(spec.seed, trainer_json, spec.config.sft.is_some()), l)
        }
    };
    if let Some(dir) = &latest {
        tracing::info!(checkpoint = %dir.display(), phase = ?progress.phase, "resuming");
    }
    let log = MetricsLog::open(&spec.run_dir.join(vigil_schema::files::METRICS), progress.metrics_lines)?;
    let mut run = Run { spec, tokenizer, ckpts, progress, learner, log, device: device.clone() };
    if run.progress.phase == Phase::Sft {
        run.sft(hooks, cached.map(|(_, lines)| lines))?;
    }
    if run.progress.phase == Phase::Rl {
        run.rl(&plan, hooks)?;
    }
    let final_dir = spec.run_dir.join(FINAL_POLICY);
    if run.progress.phase != Phase::Done {
        run.save_policy(&final_dir)?;
        run.progress.phase = Phase::Done;
        run.checkpoint("done")?;
    }
    let sft = run.progress.has_sft.then(|| run.ckpts.dir.join(SFT_POLICY));
    Ok(TrainOutcome { final_policy: final_dir, sft_policy: sft, resumed_from: latest })
}

fn resume<B: AutodiffBackend>(
    spec: &TrainSpec<'_>,
    dir: &Path,
    trainer_json: &serde_json::Value,
    device: &B::Device,
) -> Result<(Progress, Learner<B>), TrainerError> {
    let progress = Checkpoints::progress(dir)?;
    if progress.seed != spec.seed {
        return Err(TrainerError::checkpoint(dir, format!("was written with seed {}, the config says {}", progress.seed, spec.seed)));
    }
    if &progress.trainer != trainer_json {
        return Err(TrainerError::checkpoint(dir, "was written with a different [trainer] section; start a new run folder"));
    }
    let mut learner = Learner::<B>::load(&spec.source, &spec.config.finetune, Some(&dir.join(WEIGHTS)), &spec.config.adamw, 0, device)?;
    match progress.format {
        FORMAT => {}
        1 if learner.lora => {}
        1 => return Err(TrainerError::checkpoint(dir, "was written by an older Vigil (checkpoint format 1) whose full fine-tuning moments are laid out [out, in]; start a new run folder")),
        f => return Err(TrainerError::checkpoint(dir, format!("has checkpoint format {f}; this Vigil reads formats 1 and {FORMAT}"))),
    }
    let opt_file = dir.join(OPTIMIZER);
    let (steps, tensors) = read_optimizer(&opt_file)?;
    let mut opt = AdamW::new(spec.config.adamw.clone());
    opt.load_state(&learner.model, steps, tensors, &opt_file)?;
    learner.opt = opt;
    if progress.phase == Phase::Rl && spec.config.loss.beta > 0.0 {
        let ckpts = dir.parent().unwrap_or(dir);
        learner.reference = reference::<B>(spec, &learner, progress.has_sft, ckpts, device)?;
    }
    Ok((progress, learner))
}

/// The KL reference of a resumed RL phase: the warm-started policy, or the base.
fn reference<B: AutodiffBackend>(
    spec: &TrainSpec<'_>,
    learner: &Learner<B>,
    has_sft: bool,
    ckpts: &Path,
    device: &B::Device,
) -> Result<Option<Qwen3<B::InnerBackend>>, TrainerError> {
    let sft_dir = ckpts.join(SFT_POLICY);
    Ok(match (learner.lora, has_sft) {
        (true, false) => None,
        (true, true) => {
            let a = Adapter::load(&sft_dir).map_err(TrainerError::model)?;
            Some(apply_adapter(learner.snapshot(), &a, learner.dtype).map_err(TrainerError::model)?)
        }
        (false, true) => Some(load_qwen3(&sft_dir, learner.dtype, device).map_err(TrainerError::model)?),
        (false, false) => Some(load_qwen3(&spec.source.model_dir, learner.dtype, device).map_err(TrainerError::model)?),
    })
}

impl<B: AutodiffBackend> Run<'_, B>
where
    Qwen3<B::InnerBackend>: Send,
{
    /// Writes a checkpoint of the current state.
    fn checkpoint(&mut self, name: &str) -> Result<(), TrainerError> {
        self.progress.opt_steps = self.learner.opt.steps();
        self.progress.metrics_lines = self.log.lines;
        let (steps, tensors) = self.learner.opt.state(&self.learner.model);
        let learner = &self.learner;
        let tok = &self.spec.tokenizer_dir;
        self.ckpts.save(name, &self.progress, |tmp| {
            learner.save(&tmp.join(WEIGHTS), tok)?;
            write_optimizer(&tmp.join(OPTIMIZER), steps, &tensors)
        })?;
        Ok(())
    }

    /// Saves the policy into `dir` atomically (temp folder, then rename).
    fn save_policy(&self, dir: &Path) -> Result<(), TrainerError> {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.with_file_name(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))?;
        }
        self.learner.save(&tmp, &self.spec.tokenizer_dir)?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| TrainerError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| TrainerError::io(dir, e))
    }

    /// `cached`: the SFT lines of a cache entry whose weights the learner already holds.
    fn sft(&mut self, hooks: &mut dyn TrainHooks, cached: Option<Vec<MetricsLine>>) -> Result<(), TrainerError> {
        let Some(cfg) = self.spec.config.sft.clone() else { return Ok(()) };
        if let Some(lines) = cached {
            tracing::info!("warm-start taken from the SFT cache");
            hooks.phase(Phase::Sft, 0, lines.len() as u64);
            for line in &lines {
                self.log.append(line)?;
                hooks.step(line);
            }
            self.progress.sft_step = lines.len() as u64;
            return self.end_sft();
        }
        let mut teacher = match (&cfg.teacher, self.spec.sft_teacher) {
            (None, _) => None,
            (Some(_), Some(t)) => Some(t.lock().map_err(|_| ConfigError::new("sft.teacher", "the teacher policy panicked earlier"))?),
            (Some(name), None) => {
                return Err(ConfigError::new("sft.teacher", format!("`{name}` was not built (TrainSpec::sft_teacher)")).into());
            }
        };
        let turns =
            gold_turns(self.spec.env, &cfg, self.spec.seed, self.spec.config.max_turns, teacher.as_deref_mut().map(|b| &mut **b))?;
        let rows = sft_rows(&turns, &self.tokenizer, self.spec.generation.enable_thinking)?;
        let total = cfg.steps(rows.len());
        let schedule = cfg.schedule(total);
        hooks.phase(Phase::Sft, self.progress.sft_step, total);
        while self.progress.sft_step < total {
            let step = self.progress.sft_step;
            let (epoch, batch) = batch_rows(&rows, &cfg, step, self.spec.seed);
            let line = sft_step(&mut self.learner, &batch, &cfg, step, epoch, schedule.lr(step), self.spec.config.clip())?;
            let line = MetricsLine::Sft(line);
            self.log.append(&line)?;
            self.progress.sft_step += 1;
            hooks.step(&line);
            if self.progress.sft_step % self.spec.config.checkpoint_every == 0 && self.progress.sft_step < total {
                self.checkpoint(&format!("sft-{:06}", self.progress.sft_step))?;
            }
        }
        if let Some(cache) = &self.spec.sft_cache {
            let lines = self.sft_lines()?;
            let (learner, tok) = (&self.learner, &self.spec.tokenizer_dir);
            cache.store(&lines, |dir| learner.save(dir, tok))?;
        }
        self.end_sft()
    }

    /// This run's SFT metric lines (all of them, also those written before a resume).
    fn sft_lines(&self) -> Result<Vec<MetricsLine>, TrainerError> {
        let lines = crate::metrics::read_lines(&self.spec.run_dir.join(vigil_schema::files::METRICS))?;
        Ok(lines.into_iter().filter(|l| matches!(l, MetricsLine::Sft(_))).collect())
    }

    /// Warm-start done: keep the policy (report "before", KL reference), reset the optimizer
    /// for RL and make the transition durable.
    fn end_sft(&mut self) -> Result<(), TrainerError> {
        self.save_policy(&self.ckpts.dir.join(SFT_POLICY))?;
        self.progress.has_sft = true;
        self.progress.phase = Phase::Rl;
        self.learner.opt = AdamW::new(self.spec.config.adamw.clone());
        self.checkpoint(&format!("rl-{:06}", 0))
    }

    fn rl(&mut self, plan: &Plan, hooks: &mut dyn TrainHooks) -> Result<(), TrainerError> {
        let cfg = self.spec.config;
        let total = plan.total();
        if cfg.loss.beta > 0.0 && self.learner.reference.is_none() && (self.progress.has_sft || !self.learner.lora) {
            // At the start of RL the current weights are the reference; later (a resume that
            // did not restore one) it is rebuilt from the saved warm-start or the base.
            self.learner.reference = if self.progress.rl_step == 0 {
                Some(self.learner.snapshot())
            } else {
                reference::<B>(self.spec, &self.learner, self.progress.has_sft, &self.ckpts.dir, &self.device)?
            };
        }
        self.spec.env.restore_training_state(&self.progress.env_state)?;
        let frozen = self.frozen()?;
        let mut stages: Vec<Option<String>> = plan.stages.iter().map(|(s, _)| s.clone()).collect();
        if cfg.self_play.as_ref().is_some_and(|c| c.solo_groups > 0 && c.solo_tasks == SoloTasks::AllStages) {
            stages.push(None);
        }
        let mut tasks = TaskSampler::new(self.spec.env, &stages, SeedStream::new(self.spec.seed).seed("rl-data"))?;
        tasks.drawn = self.progress.drawn.clone();
        let schedule = Schedule { peak: cfg.lr, warmup: cfg.warmup_steps, kind: cfg.schedule, min_ratio: cfg.min_lr_ratio, total };
        let norm_len = cfg.loss.norm_len.unwrap_or(self.spec.generation.max_new_tokens);
        let ctx = RlContext {
            env: self.spec.env,
            rewards: self.spec.rewards,
            estimator: self.spec.estimator,
            cfg,
            plan,
            seed: self.spec.seed,
            norm_len,
        };
        let mut http = match &cfg.rollout {
            RolloutConfig::Burn {} => None,
            RolloutConfig::Openai(c) => Some(OpenAiPolicy::new(c.clone(), Some(self.tokenizer.clone()), self.spec.generation.clone())?),
        };
        if let (Some(h), RolloutConfig::Openai(c)) = (http.as_mut(), &cfg.rollout) {
            if c.lora_hot_load {
                self.push_adapter(h)?;
            } else {
                tracing::warn!("rollouts come from the server's fixed model `{}` (lora_hot_load = false)", c.model);
            }
        }
        hooks.phase(Phase::Rl, self.progress.rl_step, total);
        while self.progress.rl_step < total {
            let step = self.progress.rl_step;
            let line = match (&self.spec.self_play, cfg.self_play.as_ref()) {
                (Some(sp), Some(config)) => {
                    let sctx = SelfPlayContext { env: self.spec.env, spec: sp, config, cfg, plan, seed: self.spec.seed, norm_len };
                    let mut players = self.players(sp, frozen.as_ref(), step);
                    self_play_step(&sctx, &mut self.learner, &mut tasks, &mut players, step, schedule.lr(step), &mut |r| hooks.episode(r))?
                }
                _ => {
                    let mut burn_policy;
                    let policy: &mut dyn Policy = match http.as_mut() {
                        Some(h) => h,
                        None => {
                            burn_policy = BurnPolicy::new(self.learner.snapshot(), self.tokenizer.clone(), self.spec.generation.clone(), true, "policy");
                            &mut burn_policy
                        }
                    };
                    rl_step(&ctx, &mut self.learner, &mut tasks, policy, step, schedule.lr(step), &mut |r| hooks.episode(r))?
                }
            };
            let line = MetricsLine::Rl(line);
            self.log.append(&line)?;
            self.progress.rl_step += 1;
            self.progress.drawn = tasks.drawn.clone();
            self.progress.env_state = self.spec.env.training_state();
            hooks.step(&line);
            if let (Some(h), RolloutConfig::Openai(c)) = (http.as_mut(), &cfg.rollout) {
                if c.lora_hot_load {
                    self.push_adapter(h)?;
                }
            }
            let done = self.progress.rl_step;
            if self.spec.eval_every > 0 && done % self.spec.eval_every == 0 && done < total {
                let mut p = BurnPolicy::new(self.learner.snapshot(), self.tokenizer.clone(), self.spec.eval_generation.clone(), true, "policy");
                hooks.evaluate(&format!("step-{done}"), &mut p).map_err(TrainerError::Hook)?;
            }
            if done % cfg.checkpoint_every == 0 || done == total {
                self.checkpoint(&format!("rl-{done:06}"))?;
            }
        }
        Ok(())
    }

    /// The weights a frozen role plays with: the policy as RL started (the warm-start, or the
    /// base), with whether its adapters are on. `None` when no role is frozen.
    fn frozen(&self) -> Result<Option<Frozen<B>>, TrainerError> {
        let Some(sp) = &self.spec.self_play else { return Ok(None) };
        if !sp.roles.iter().any(|r| matches!(r.player, RolePlayer::Frozen)) {
            return Ok(None);
        }
        if self.progress.rl_step == 0 {
            return Ok(Some((self.learner.snapshot(), true)));
        }
        Ok(Some(match reference::<B>(self.spec, &self.learner, self.progress.has_sft, &self.ckpts.dir, &self.device)? {
            Some(m) => (m, true),
            None => (self.learner.snapshot(), false),
        }))
    }

    /// One policy per role for step `step`: the current weights, the frozen ones, or a script.
    fn players(&self, sp: &SelfPlaySpec, frozen: Option<&Frozen<B>>, step: u64) -> Vec<Box<dyn Policy>> {
        let burn = |m: Qwen3<B::InnerBackend>, adapters: bool, label: &str| -> Box<dyn Policy> {
            Box::new(BurnPolicy::new(m, self.tokenizer.clone(), self.spec.generation.clone(), adapters, label))
        };
        sp.roles
            .iter()
            .map(|r| match (&r.player, frozen) {
                (RolePlayer::Scripted(make), _) => make(SeedStream::new(self.spec.seed).seed_at("scripted-role", step)),
                (RolePlayer::Frozen, Some((m, adapters))) => burn(m.clone(), *adapters, "frozen"),
                _ => burn(self.learner.snapshot(), true, "policy"),
            })
            .collect()
    }

    /// Saves the current adapter where the rollout server can read it and hot-loads it.
    fn push_adapter(&self, http: &mut OpenAiPolicy) -> Result<(), TrainerError> {
        let name = format!("vigil-step-{}", self.progress.rl_step);
        let dir = self.spec.run_dir.join("rollout_adapters").join(&name);
        self.learner.save(&dir, &self.spec.tokenizer_dir)?;
        http.load_adapter(&name, &dir)?;
        // Older adapters are no longer served.
        if let Some(prev) = self.progress.rl_step.checked_sub(1) {
            let old = self.spec.run_dir.join("rollout_adapters").join(format!("vigil-step-{prev}"));
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }
}
