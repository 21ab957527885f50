//! Glue between `exp run` and `vigil_trainer`: builds the trainer's inputs from the config,
//! shows progress, evaluates during and after training, and implements `--dry-run`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use vigil_core::{AdvantageEstimator, Policy, SeedStream, TaskId};
use vigil_policy::{DeviceKind, Qwen3PolicyConfig, build_qwen3_policy, resolve_model_dir};
use vigil_schema::metrics::MetricsLine;
use vigil_schema::{PolicyRole, files};
use vigil_trainer::checkpoint::Phase;
use vigil_trainer::{
    GenerationSettings, ModelSource, TrainHooks, TrainOutcome, TrainSpec, TrainerConfig, estimate,
    scratch,
};

use crate::config::LoadedConfig;
use crate::evaluate::{self, EvalResult};
use crate::tensorboard::TbLog;
use crate::warmstart;
use crate::wiring::{Built, PolicyConfig};

/// The `[policy]` a training run needs: the Qwen3 whose weights are trained.
pub(crate) fn qwen3(loaded: &LoadedConfig) -> anyhow::Result<(&TrainerConfig, &Qwen3PolicyConfig)> {
    let t = loaded
        .config
        .trainer
        .as_ref()
        .context("no [trainer] section")?;
    match &loaded.config.policy {
        PolicyConfig::Qwen3(q) => Ok((t, q)),
        other => anyhow::bail!(
            "[trainer] trains a model: it needs [policy] kind = \"qwen3\", not `{}`",
            other.label()
        ),
    }
}

fn generation(q: &Qwen3PolicyConfig) -> GenerationSettings {
    GenerationSettings {
        max_new_tokens: q.max_new_tokens,
        sampling: q.sampling(),
        enable_thinking: q.enable_thinking,
        batch_size: q.batch_size,
    }
}

/// Resolves the model and tokenizer folders, building them first for `[trainer.init]`.
fn model_dirs(
    loaded: &LoadedConfig,
    built: &Built,
    build: bool,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (t, q) = qwen3(loaded)?;
    let as_path = PathBuf::from(&q.model);
    if let Some(init) = &t.init {
        if !scratch::exists(&as_path) {
            anyhow::ensure!(
                build,
                "{}: no model yet; `exp run` will build it from [trainer.init]",
                as_path.display()
            );
            let env = built.env.as_dyn();
            let mut teacher = warmstart::teacher(t, loaded, built)?;
            scratch::build(
                &as_path,
                env.as_ref(),
                init,
                loaded.config.seed,
                t.max_turns,
                teacher.as_deref_mut(),
            )
            .context("[trainer.init]")?;
        }
    }
    let model =
        resolve_model_dir(&q.model).with_context(|| format!("[policy] model = {:?}", q.model))?;
    let tokenizer = match &q.tokenizer {
        Some(tk) => {
            resolve_model_dir(tk).with_context(|| format!("[policy] tokenizer = {tk:?}"))?
        }
        None => model.clone(),
    };
    Ok((model, tokenizer))
}

/// Trains, then evaluates the warm-started and final policies next to the baselines.
pub(crate) fn train_and_report(
    loaded: &LoadedConfig,
    built: &Built,
    dir: &Path,
) -> anyhow::Result<()> {
    let (t, q) = qwen3(loaded)?;
    let threads = vigil_policy::set_cpu_threads(q.threads)?;
    let (model_dir, tokenizer_dir) = model_dirs(loaded, built, true)?;
    let cfg = &loaded.config;
    // What evaluations run: `[eval] temperature` applied (`for_eval` keeps the variant).
    let eval_q = match cfg.policy.for_eval(cfg.eval.temperature) {
        PolicyConfig::Qwen3(e) => e,
        _ => q.clone(),
    };
    let seeds = SeedStream::new(cfg.seed);
    let jobs = evaluate::jobs(built, &cfg.eval, seeds.seed("eval"))?;
    let env = built.env.as_dyn();
    let self_play = match &t.self_play {
        Some(sp) => Some(crate::wiring::self_play_spec(cfg, &built.env, q, sp)?),
        None => None,
    };
    let teacher = warmstart::teacher(t, loaded, built)?.map(std::sync::Mutex::new);
    let spec = TrainSpec {
        env: env.as_ref(),
        rewards: &built.rewards,
        estimator: &cfg.advantage,
        config: t,
        source: ModelSource {
            model_dir: model_dir.clone(),
            adapter: q.adapter.clone(),
            dtype: q.dtype,
        },
        tokenizer_dir,
        generation: generation(q),
        eval_generation: generation(&eval_q),
        seed: cfg.seed,
        run_dir: dir.to_path_buf(),
        eval_every: u64::from(cfg.eval.every_steps),
        self_play,
        sft_teacher: teacher.as_ref(),
        sft_cache: warmstart::cache(t, loaded, dir, threads)?,
    };
    let mut hooks = Hooks {
        built,
        jobs: &jobs,
        loaded,
        dir,
        bar: None,
        tb: Some(TbLog::new(dir)),
    };
    let outcome = match q.device {
        DeviceKind::Cpu => vigil_trainer::train::<vigil_policy::CpuAutodiff>(
            &spec,
            &mut hooks,
            &Default::default(),
        ),
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => vigil_trainer::train::<vigil_policy::CudaAutodiff>(
            &spec,
            &mut hooks,
            &Default::default(),
        ),
        #[cfg(not(feature = "cuda"))]
        DeviceKind::Cuda => {
            anyhow::bail!("[policy] device = \"cuda\" needs exp built with `--features cuda`")
        }
        #[cfg(feature = "wgpu")]
        DeviceKind::Wgpu => vigil_trainer::train::<vigil_policy::WgpuAutodiff>(
            &spec,
            &mut hooks,
            &Default::default(),
        ),
        #[cfg(not(feature = "wgpu"))]
        DeviceKind::Wgpu => {
            anyhow::bail!("[policy] device = \"wgpu\" needs exp built with `--features wgpu`")
        }
    }
    .with_context(|| format!("training in {}", dir.display()))?;
    if let Some(b) = hooks.bar.take() {
        b.finish_and_clear();
    }
    let results = evaluate_outcome(loaded, built, &eval_q, &outcome, &jobs)?;
    if let Some(eval) = crate::selfplay_eval::after_training(loaded, built, &eval_q, &outcome)? {
        crate::selfplay_eval::write(&dir.join(files::EVAL_DIR), &eval)?;
    }
    #[allow(clippy::print_stdout)]
    {
        let after = AdvantageEstimator::name(&cfg.advantage);
        let before = if outcome.sft_policy.is_some() {
            "the SFT warm-start (`sft`)"
        } else {
            "nothing (no [trainer.sft])"
        };
        println!(
            "before: {before}; after: {after} training (`{after}`); hold-out: {} episodes\n",
            jobs.len()
        );
    }
    evaluate::report(&dir.join(files::EVAL_DIR), &results)
}

/// The policy saved in `artifact` (a PEFT adapter or a full model folder).
pub(crate) fn artifact_policy(
    q: &Qwen3PolicyConfig,
    artifact: &Path,
) -> anyhow::Result<Box<dyn Policy>> {
    let mut c = q.clone();
    if artifact.join("adapter_config.json").is_file() {
        c.adapter = Some(artifact.to_path_buf());
        c.merge_adapter = true;
    } else {
        c.model = artifact.display().to_string();
        c.tokenizer = Some(artifact.display().to_string());
        c.adapter = None;
    }
    build_qwen3_policy(&c).with_context(|| format!("loading {}", artifact.display()))
}

/// Evaluates the SFT and final checkpoints with `q` (the evaluation policy config), then the
/// baselines.
fn evaluate_outcome(
    loaded: &LoadedConfig,
    built: &Built,
    q: &Qwen3PolicyConfig,
    outcome: &TrainOutcome,
    jobs: &[(TaskId, u64)],
) -> anyhow::Result<Vec<EvalResult>> {
    let cfg = &loaded.config;
    let mut results = Vec::new();
    if let Some(sft) = &outcome.sft_policy {
        let mut p = artifact_policy(q, sft)?;
        results.push(evaluate::evaluate(
            built,
            p.as_mut(),
            (PolicyRole::WARMSTART_LABEL, PolicyRole::Warmstart),
            jobs,
            &cfg.eval,
        )?);
    }
    let label = AdvantageEstimator::name(&cfg.advantage);
    let mut p = artifact_policy(q, &outcome.final_policy)?;
    results.push(evaluate::evaluate(
        built,
        p.as_mut(),
        (label, PolicyRole::Trained),
        jobs,
        &cfg.eval,
    )?);
    let seeds = SeedStream::new(cfg.seed);
    for b in &cfg.eval.baselines {
        let mut p = built
            .env
            .baseline(b, seeds.seed("policy"))
            .context("[eval] baselines")?;
        results.push(evaluate::evaluate(
            built,
            p.as_mut(),
            (b, PolicyRole::Baseline),
            jobs,
            &cfg.eval,
        )?);
    }
    Ok(results)
}

struct Hooks<'a> {
    built: &'a Built,
    jobs: &'a [(TaskId, u64)],
    loaded: &'a LoadedConfig,
    dir: &'a Path,
    bar: Option<ProgressBar>,
    /// TensorBoard events (`None` after a write failed: training goes on without them).
    tb: Option<TbLog>,
}

impl TrainHooks for Hooks<'_> {
    fn phase(&mut self, phase: Phase, done: u64, total: u64) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let name = match phase {
            Phase::Sft => "sft",
            Phase::Rl => "rl",
            Phase::Done => "done",
        };
        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{prefix:>6} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(name);
        bar.set_position(done);
        self.bar = Some(bar);
    }

    fn step(&mut self, line: &MetricsLine) {
        if let Some(Err(e)) = self.tb.as_mut().map(|tb| tb.step(line)) {
            tracing::warn!(
                "TensorBoard events in {} stopped: {e}",
                self.dir.join(files::TB_DIR).display()
            );
            self.tb = None;
        }
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        match line {
            MetricsLine::Sft(l) => bar.set_message(format!("loss {:.3}", l.loss)),
            MetricsLine::Rl(l) => bar.set_message(format!(
                "[{}] reward {:+.3} format {:.2} kept {}/{} kl {:.4}",
                l.stage, l.reward.mean, l.format_valid_rate, l.groups_kept, l.groups_sampled, l.kl
            )),
        }
        tracing::info!(line = %serde_json::to_string(line).unwrap_or_default(), "step");
    }

    fn evaluate(
        &mut self,
        label: &str,
        policy: &mut dyn Policy,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let r = evaluate::evaluate(
            self.built,
            policy,
            (label, PolicyRole::During),
            self.jobs,
            &self.loaded.config.eval,
        )
        .map_err(|e| e.to_string())?;
        let during = self.dir.join(files::EVAL_DIR).join(files::DURING_DIR);
        evaluate::write(&during, &r).map_err(|e| e.to_string())?;
        if let Some(b) = &self.bar {
            b.println(format!(
                "eval {label}: hold-out reward {:+.3}, format {:.2}",
                r.summary.overall.total.mean, r.summary.overall.format_valid_rate
            ));
        }
        Ok(())
    }
}

/// `exp run --dry-run`: validate, check files, count parameters, estimate memory.
pub(crate) fn dry_run(loaded: &LoadedConfig, built: &Built) -> anyhow::Result<()> {
    let Some(t) = &loaded.config.trainer else {
        #[allow(clippy::print_stdout)]
        {
            println!(
                "{}: OK (no [trainer]: `exp run` evaluates the configured policy)",
                loaded.path.display()
            );
        }
        return Ok(());
    };
    let (_, q) = qwen3(loaded)?;
    let mut out = format!("{}: configuration OK\n", loaded.path.display());
    let as_path = PathBuf::from(&q.model);
    if t.init.is_some() && !scratch::exists(&as_path) {
        out.push_str(&format!(
            "model: {} will be built from scratch by [trainer.init]\n",
            as_path.display()
        ));
        #[allow(clippy::print_stdout)]
        {
            print!("{out}");
        }
        return Ok(());
    }
    let (model_dir, tokenizer_dir) = model_dirs(loaded, built, false)?;
    let mc = estimate::model_config(&model_dir)?;
    let p = estimate::params(&mc, t);
    let files = estimate::check_files(&model_dir, &tokenizer_dir);
    let (prompt, how) = prompt_tokens(built, &tokenizer_dir, q)?;
    let mem = estimate::memory(&mc, t, q.dtype, &generation(q), prompt);
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    out.push_str(&format!(
        "model: {} — Qwen3, {} layers, hidden {}, heads {}/{} (kv), vocab {}, tied embeddings: {}\n",
        model_dir.display(),
        mc.num_hidden_layers,
        mc.hidden_size,
        mc.num_attention_heads,
        mc.num_key_value_heads,
        mc.vocab_size,
        mc.tie_word_embeddings
    ));
    out.push_str(&format!(
        "parameters: {} total ({:.2} B); trainable {} ({:.3}% — {})\n",
        p.total,
        p.total as f64 / 1e9,
        p.trainable,
        100.0 * p.trainable as f64 / p.total as f64,
        match &t.finetune {
            vigil_trainer::FinetuneConfig::Lora {
                r,
                alpha,
                target_modules,
                ..
            } => format!("LoRA r {r}, alpha {alpha} on {}", target_modules.join(", ")),
            vigil_trainer::FinetuneConfig::Full {} => "full fine-tuning".into(),
        }
    ));
    if files.weights_missing.is_empty() {
        out.push_str(&format!(
            "weights: found {}\n",
            files.weights_found.join(", ")
        ));
    } else {
        out.push_str(&format!(
            "weights: MISSING {} in {}\n",
            files.weights_missing.join(", "),
            model_dir.display()
        ));
    }
    if !files.tokenizer_missing.is_empty() {
        out.push_str(&format!(
            "tokenizer: MISSING {} in {}\n",
            files.tokenizer_missing.join(", "),
            tokenizer_dir.display()
        ));
    }
    out.push_str(&format!(
        "GPU memory estimate ({:?}, prompts ≈ {} tokens {how}, B {} × G {}, grad_accum {}): ≈ {:.1} GiB\n",
        q.dtype,
        mem.prompt_tokens,
        t.batch_prompts,
        t.group_size,
        t.grad_accum,
        gib(mem.total)
    ));
    for m in &mem.items {
        out.push_str(&format!("  {:>8.2} GiB  {}\n", gib(m.bytes), m.what));
    }
    out.push_str(&format!(
        "RL steps: {}; SFT: {}\n",
        t.rl_steps(),
        t.sft.as_ref().map_or("none".into(), |s| format!(
            "{} examples × {} epochs",
            s.examples, s.epochs
        ))
    ));
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    if !files.weights_missing.is_empty() || !files.tokenizer_missing.is_empty() {
        tracing::warn!("model files are missing: the run itself would fail to load");
    }
    Ok(())
}

/// Typical prompt length of the training tasks: tokenized when the tokenizer is there, else
/// estimated from characters (≈ 3.5 per token for English text and logs).
fn prompt_tokens(
    built: &Built,
    tokenizer_dir: &Path,
    q: &Qwen3PolicyConfig,
) -> anyhow::Result<(usize, &'static str)> {
    let env = built.env.as_dyn();
    let tasks = env
        .tasks(vigil_core::Split::Train, None)
        .context("listing training tasks")?;
    let tok = vigil_tokenizer::ChatTokenizer::from_dir(tokenizer_dir).ok();
    let mut lens = Vec::new();
    for (i, t) in tasks.iter().take(16).enumerate() {
        let ep = env.start(t, i as u64)?;
        let msgs = ep.prompt();
        let n = match &tok {
            Some(tk) => vigil_trainer::rollout::prompt_tokens(tk, &msgs, q.enable_thinking)?.len(),
            None => msgs.iter().map(|m| m.content.len()).sum::<usize>() * 2 / 7 + 16,
        };
        lens.push(n);
    }
    let max = lens.into_iter().max().unwrap_or(1024);
    Ok((
        max,
        if tok.is_some() {
            "(tokenized, max of 16 training prompts)"
        } else {
            "(estimated from characters)"
        },
    ))
}
