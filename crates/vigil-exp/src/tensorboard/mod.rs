//! TensorBoard logs of a training run: `runs/<name>/tb/events.out.tfevents.*`, one event per
//! line of `metrics.jsonl`, readable by `tensorboard --logdir runs` and by `wandb sync
//! --sync-tensorboard`.
//!
//! RL scalars use TRL's GRPO names where TRL has one (`reward`, `reward_std`,
//! `rewards/<component>/mean|std`, `frac_reward_zero_std`, `kl`, `clip_ratio/region_mean|low_mean|high_mean`,
//! `entropy`, `completions/*`, `loss`, `grad_norm`, `learning_rate`), so dashboards built for
//! TRL runs read Vigil runs; Vigil's own numbers sit under `rewards/<component>/frac_zero_std`,
//! `advantages/…`, `vigil/…` (with `vigil/corr/<a>__<b>`, the Pearson correlation of two components
//! over the step's rollouts, absent where undefined; `vigil/hacking/<detector>`, the share of rollouts a
//! reward-hacking detector flagged) and `timing/…`. SFT steps are logged under `sft/…` (their step
//! counter is separate from the RL one). Self-play steps add each role's share under
//! `roles/<role>/reward|advantage`, `roles/<role>/rewards/<component>` and
//! `roles/<role>/metrics/<metric>` (means).
//!
//! The event file mirrors `metrics.jsonl`: when a process first logs a step it starts a new
//! file from every line `metrics.jsonl` holds (which a resumed run has already cut back to its
//! checkpoint), so a resumed run's curves have no duplicate or orphaned steps.

mod event;

use std::path::{Path, PathBuf};

use vigil_schema::files;
use vigil_schema::metrics::{MetricsLine, RlLine, SftLine, Stat};

use event::EventFile;

/// The step and scalars of one `metrics.jsonl` line.
pub(crate) fn scalars(line: &MetricsLine) -> (u64, Vec<(String, f64)>) {
    match line {
        MetricsLine::Rl(l) => (l.step, rl(l)),
        MetricsLine::Sft(l) => (l.step, sft(l)),
    }
}

fn stat(out: &mut Vec<(String, f64)>, prefix: &str, s: &Stat) {
    out.push((format!("{prefix}/mean"), s.mean));
    out.push((format!("{prefix}/std"), s.std));
}

fn rl(l: &RlLine) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = vec![
        ("reward".into(), l.reward.mean),
        ("reward_std".into(), l.reward_group_std),
        ("frac_reward_zero_std".into(), l.frac_reward_zero_std),
        ("vigil/frac_zero_advantage".into(), l.frac_zero_advantage),
    ];
    for c in &l.components {
        stat(&mut v, &format!("rewards/{}", c.name), &c.stat);
        v.push((format!("rewards/{}/frac_zero_std", c.name), c.frac_zero_std));
    }
    // Undefined correlations (a constant component) are left out, not logged as 0.
    for c in &l.component_corr {
        if let Some(r) = c.r {
            v.push((format!("vigil/corr/{}__{}", c.a, c.b), r));
        }
    }
    for h in &l.hacking {
        v.push((format!("vigil/hacking/{}", h.name), h.rate));
    }
    v.extend([
        ("loss".into(), l.loss),
        ("kl".into(), l.kl),
        ("clip_ratio/region_mean".into(), l.clip_frac),
        ("clip_ratio/low_mean".into(), l.clip_low_frac),
        ("clip_ratio/high_mean".into(), l.clip_frac - l.clip_low_frac),
        ("entropy".into(), l.entropy),
        ("grad_norm".into(), l.grad_norm),
        ("learning_rate".into(), l.lr),
        ("completions/mean_length".into(), l.completion_tokens.mean),
        ("completions/min_length".into(), l.completion_tokens.min),
        ("completions/max_length".into(), l.completion_tokens.max),
        ("completions/clipped_ratio".into(), l.truncated_frac),
    ]);
    stat(&mut v, "advantages", &l.advantage);
    for c in &l.components {
        if let Some(a) = &c.advantage {
            stat(&mut v, &format!("advantages/{}", c.name), a);
        }
    }
    v.extend([
        ("vigil/reward_total_std".into(), l.reward.std),
        ("vigil/format_valid_rate".into(), l.format_valid_rate),
        ("vigil/ratio_mean".into(), l.ratio_mean),
        ("vigil/logprob_gap".into(), l.logprob_gap),
        ("vigil/turns_mean".into(), l.turns.mean),
        ("vigil/groups_sampled".into(), l.groups_sampled as f64),
        ("vigil/groups_kept".into(), l.groups_kept as f64),
        ("vigil/rollout_tokens".into(), l.rollout_tokens as f64),
        ("vigil/train_tokens".into(), l.train_tokens as f64),
        ("timing/rollout_s".into(), l.timing.rollout_s),
        ("timing/update_s".into(), l.timing.update_s),
        (
            "timing/rollout_tokens_per_s".into(),
            l.timing.rollout_tokens_per_s,
        ),
        (
            "timing/train_tokens_per_s".into(),
            l.timing.train_tokens_per_s,
        ),
    ]);
    for r in &l.roles {
        let p = format!("roles/{}", r.role);
        v.push((format!("{p}/reward"), r.reward.mean));
        v.push((format!("{p}/advantage"), r.advantage.mean));
        for c in &r.components {
            v.push((format!("{p}/rewards/{}", c.name), c.stat.mean));
        }
        for (k, x) in &r.metrics {
            v.push((format!("{p}/metrics/{k}"), *x));
        }
    }
    v
}

fn sft(l: &SftLine) -> Vec<(String, f64)> {
    vec![
        ("sft/loss".into(), l.loss),
        ("sft/grad_norm".into(), l.grad_norm),
        ("sft/learning_rate".into(), l.lr),
        ("sft/epoch".into(), l.epoch as f64),
        ("sft/tokens".into(), l.tokens as f64),
        ("sft/timing/update_s".into(), l.timing.update_s),
        (
            "sft/timing/train_tokens_per_s".into(),
            l.timing.train_tokens_per_s,
        ),
    ]
}

/// The TensorBoard log of one run folder, opened on the first step a process logs.
#[derive(Debug)]
pub(crate) struct TbLog {
    run_dir: PathBuf,
    file: Option<EventFile>,
}

impl TbLog {
    /// The log of `run_dir` (nothing is written until the first step).
    pub(crate) fn new(run_dir: &Path) -> Self {
        Self {
            run_dir: run_dir.to_path_buf(),
            file: None,
        }
    }

    /// Logs `line`, which the trainer has just appended to `metrics.jsonl`. The first call
    /// replaces the folder's event files by one rebuilt from `metrics.jsonl`.
    pub(crate) fn step(&mut self, line: &MetricsLine) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => {
                let (step, v) = scalars(line);
                f.scalars(step, &v)
            }
            None => {
                let f = self.rebuild()?;
                tracing::info!(file = %f.path().display(), "TensorBoard events");
                self.file = Some(f);
                Ok(())
            }
        }
    }

    fn rebuild(&self) -> std::io::Result<EventFile> {
        let dir = self.run_dir.join(files::TB_DIR);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.filter_map(Result::ok) {
                if e.file_name().to_string_lossy().contains("tfevents") {
                    std::fs::remove_file(e.path())?;
                }
            }
        }
        let mut f = EventFile::create(&dir)?;
        let text = std::fs::read_to_string(self.run_dir.join(files::METRICS))?;
        for l in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let line: MetricsLine = serde_json::from_str(l).map_err(std::io::Error::other)?;
            let (step, v) = scalars(&line);
            f.scalars(step, &v)?;
        }
        Ok(f)
    }
}
