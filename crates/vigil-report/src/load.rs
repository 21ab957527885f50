//! Reading run folders through their typed schema (`vigil_schema`): `run.json`, each
//! evaluated policy's `summary.json` (and, on demand, its episodes), the trainer's
//! `metrics.jsonl`, and the sweep point record.
//!
//! Everything a table shows is read from these files; nothing else feeds a report, and no
//! reader knows any environment: what an environment reports comes from its declaration in
//! `run.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigil_core::{EnvSummary, Outcome, TaskId};
use vigil_metrics::summary::EvalSummary;
use vigil_rewards::RewardSet;
use vigil_schema::metrics::{MetricsLine, RlLine, RoleLine};
use vigil_schema::{PolicyRole, PolicySummary, RunInfo, files};

use crate::ReportError;
use crate::point::{FINISHED_FILE, PointRecord, SweepManifest};

/// One evaluated policy of a run (`eval/<policy>/summary.json`).
#[derive(Debug, Clone)]
pub struct PolicyEval {
    /// Policy label as the run wrote it.
    pub policy: String,
    /// Why the run evaluated it.
    pub role: PolicyRole,
    /// Aggregates, overall and per stage.
    pub summary: EvalSummary,
    /// The environment's own aggregate (empty if none).
    pub env_summary: EnvSummary,
    /// Folder holding `summary.json` and `episodes.jsonl`.
    pub dir: PathBuf,
}

/// The parts of an episode record reports use.
#[derive(Debug, Clone, Deserialize)]
pub struct EpisodeLite {
    /// Task.
    pub task: TaskId,
    /// Episode seed.
    pub seed: u64,
    /// Graded outcome.
    pub outcome: Outcome,
}

impl PolicyEval {
    /// Reads `episodes.jsonl` (errors name the file and line).
    pub fn episodes(&self) -> Result<Vec<EpisodeLite>, ReportError> {
        let path = self.dir.join(files::EPISODES);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| ReportError::parse(&path, Some(i + 1), e)))
            .collect()
    }
}

/// A curve quantity of an RL step besides the rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Diagnostic {
    /// Loss of the last optimizer epoch.
    Loss,
    /// KL to the reference.
    Kl,
    /// Share of clipped tokens.
    ClipFrac,
    /// Token-mean entropy.
    Entropy,
    /// Share of format-valid episodes.
    FormatValid,
    /// Gradient norm before clipping.
    GradNorm,
    /// Share of groups whose advantages are all zero (groups that teach nothing).
    ZeroAdvantage,
}

impl Diagnostic {
    /// Every diagnostic, in plotting order.
    pub const ALL: [Diagnostic; 7] =
        [Self::Loss, Self::Kl, Self::ClipFrac, Self::Entropy, Self::FormatValid, Self::GradNorm, Self::ZeroAdvantage];

    /// Its value in a metrics line.
    pub fn of(self, l: &RlLine) -> f64 {
        match self {
            Self::Loss => l.loss,
            Self::Kl => l.kl,
            Self::ClipFrac => l.clip_frac,
            Self::Entropy => l.entropy,
            Self::FormatValid => l.format_valid_rate,
            Self::GradNorm => l.grad_norm,
            Self::ZeroAdvantage => l.frac_zero_advantage,
        }
    }

    /// Column key in report tables.
    pub fn key(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Kl => "kl",
            Self::ClipFrac => "clip_frac",
            Self::Entropy => "entropy",
            Self::FormatValid => "format_valid_rate",
            Self::GradNorm => "grad_norm",
            Self::ZeroAdvantage => "frac_zero_advantage",
        }
    }

    /// Axis and table label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Kl => "kl",
            Self::ClipFrac => "clip frac",
            Self::Entropy => "entropy",
            Self::FormatValid => "format valid rate",
            Self::GradNorm => "grad norm",
            Self::ZeroAdvantage => "zero-advantage groups",
        }
    }
}

/// One RL step of `metrics.jsonl`, reduced to the numbers reports plot.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLine {
    /// 1-based RL step.
    pub step: u64,
    /// Curriculum stage.
    pub stage: String,
    /// Mean weighted total reward of the step's rollouts.
    pub reward: f64,
    /// Mean of each reward component.
    pub components: BTreeMap<String, f64>,
    /// Diagnostics.
    pub diagnostics: BTreeMap<Diagnostic, f64>,
    /// Self-play: each role's share of the step (empty for other runs).
    pub roles: Vec<RoleLine>,
    /// Signal diagnostics keyed `zero_std.<component>` (share of groups with zero std) and
    /// `corr.<a>__<b>` (Pearson r of two components; absent where undefined) and `hack.<detector>`
    /// (share of rollouts a reward-hacking detector flagged).
    pub signal: BTreeMap<String, f64>,
}

impl From<&RlLine> for StepLine {
    fn from(l: &RlLine) -> Self {
        Self {
            step: l.step,
            stage: l.stage.clone(),
            reward: l.reward.mean,
            components: l.components.iter().map(|c| (c.name.clone(), c.stat.mean)).collect(),
            diagnostics: Diagnostic::ALL.iter().map(|d| (*d, d.of(l))).collect(),
            roles: l.roles.clone(),
            signal: l
                .components
                .iter()
                .map(|c| (format!("zero_std.{}", c.name), c.frac_zero_std))
                .chain(l.component_corr.iter().filter_map(|c| c.r.map(|r| (format!("corr.{}__{}", c.a, c.b), r))))
                .chain(l.hacking.iter().map(|h| (format!("hack.{}", h.name), h.rate)))
                .collect(),
        }
    }
}

/// Reads the RL lines of `metrics.jsonl`. A torn last line (a run killed mid-write) is skipped
/// with a warning; any other bad line is an error naming the line.
pub fn read_metrics(path: &Path) -> Result<Vec<StepLine>, ReportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ReportError::io(path, e)),
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<MetricsLine>(l) {
            Ok(MetricsLine::Rl(rl)) => out.push(StepLine::from(&rl)),
            Ok(MetricsLine::Sft(_)) => {}
            Err(_) if i + 1 == lines.len() && !complete => {
                tracing::warn!(file = %path.display(), line = i + 1, "skipping a torn last line");
            }
            Err(e) => return Err(ReportError::parse(path, Some(i + 1), e)),
        }
    }
    Ok(out)
}

/// Everything a report knows about one run folder.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The folder.
    pub dir: PathBuf,
    /// `run.json`: name, seed, environment (with its metric declarations), rewards, baselines.
    pub info: RunInfo,
    /// The run's reward set, for weighted totals of episodes.
    pub rewards: RewardSet,
    /// The sweep point record, for runs made by `exp sweep`.
    pub point: Option<PointRecord>,
    /// Evaluated policies, in the run's comparison order.
    pub policies: Vec<PolicyEval>,
    /// RL steps of `metrics.jsonl` (empty for evaluation-only runs).
    pub steps: Vec<StepLine>,
    /// `eval/self-play.json` of a self-play run: the game each checkpoint played.
    pub self_play: Option<vigil_schema::SelfPlayEval>,
}

impl RunData {
    /// Reads a run folder.
    pub fn read(dir: &Path) -> Result<Self, ReportError> {
        let path = dir.join(files::RUN_INFO);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        let info: RunInfo = serde_json::from_str(&text).map_err(|e| ReportError::parse(&path, None, e))?;
        let rewards = info.reward_set().map_err(|e| ReportError::parse(&path, None, e))?;
        let point = PointRecord::read(dir)?;
        let policies = read_policies(dir)?;
        let steps = read_metrics(&dir.join(files::METRICS))?;
        let game = dir.join(files::EVAL_DIR).join(files::SELF_PLAY);
        let self_play = match std::fs::read_to_string(&game) {
            Ok(text) => Some(serde_json::from_str(&text).map_err(|e| ReportError::parse(&game, None, e))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ReportError::io(&game, e)),
        };
        Ok(Self { dir: dir.to_path_buf(), info, rewards, point, policies, steps, self_play })
    }

    /// Run name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Root seed of the run.
    pub fn seed(&self) -> u64 {
        self.info.seed
    }

    /// The scripted baselines the run compared against (`[eval] baselines`).
    pub fn baselines(&self) -> &[String] {
        &self.info.baselines
    }

    /// The policy the run is about: the last evaluated policy whose role is the trained or
    /// the configured one, else the first.
    pub fn main_policy(&self) -> Option<&PolicyEval> {
        self.policies.iter().rev().find(|p| p.role.is_main()).or_else(|| self.policies.first())
    }

    /// Variant label (sweep assignments without the seed axis, else the run name) and seed.
    pub fn variant(&self, seed_key: &str) -> String {
        self.point.as_ref().map_or_else(|| self.info.name.clone(), |p| p.variant(seed_key))
    }

    /// Whether the run finished (its final results file exists).
    pub fn finished(&self) -> bool {
        self.dir.join(FINISHED_FILE).is_file()
    }
}

fn read_policies(dir: &Path) -> Result<Vec<PolicyEval>, ReportError> {
    let eval = dir.join(files::EVAL_DIR);
    // The comparison file fixes the order; without it (a run still going), read the folders.
    let order: Vec<String> = match std::fs::read_to_string(dir.join(FINISHED_FILE)) {
        Ok(s) => {
            let all: Vec<PolicySummary> = serde_json::from_str(&s).map_err(|e| ReportError::parse(dir.join(FINISHED_FILE), None, e))?;
            all.into_iter().map(|p| p.policy).collect()
        }
        Err(_) => Vec::new(),
    };
    let mut subdirs: Vec<PathBuf> = match std::fs::read_dir(&eval) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join(files::SUMMARY).is_file()).collect(),
        Err(_) => Vec::new(),
    };
    subdirs.sort();
    let mut out = Vec::new();
    for d in subdirs {
        let path = d.join(files::SUMMARY);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        let f: PolicySummary = serde_json::from_str(&text).map_err(|e| ReportError::parse(&path, None, e))?;
        out.push(PolicyEval { policy: f.policy, role: f.role, summary: f.summary, env_summary: f.env_summary, dir: d });
    }
    out.sort_by_key(|p| order.iter().position(|o| *o == p.policy).unwrap_or(usize::MAX));
    Ok(out)
}

/// Expands the report's inputs into run folders: a run folder is itself; a sweep folder gives
/// its points in manifest order (else its run subfolders, sorted).
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    for dir in inputs {
        if dir.join(files::RUN_INFO).is_file() {
            out.push(dir.clone());
            continue;
        }
        if !dir.is_dir() {
            return Err(ReportError::io(dir, std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder")));
        }
        let found: Vec<PathBuf> = match SweepManifest::read(dir)? {
            Some(m) => m.points.iter().map(|p| dir.join(p)).filter(|p| p.join(files::RUN_INFO).is_file()).collect(),
            None => {
                let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(|e| ReportError::io(dir, e))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join(files::RUN_INFO).is_file())
                    .collect();
                v.sort();
                v
            }
        };
        if found.is_empty() {
            return Err(ReportError::NotARun(dir.clone()));
        }
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_schema::metrics::{ComponentStat, SftLine, Stat, Timing};

    #[test]
    fn metrics_lines_are_typed_and_a_torn_tail_is_skipped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(files::METRICS);
        let sft = MetricsLine::Sft(SftLine { step: 1, epoch: 0, lr: 0.1, loss: 2.0, grad_norm: 1.0, tokens: 5, timing: Timing::default() });
        let rl = RlLine {
            step: 1,
            stage: "s1".into(),
            lr: 0.1,
            reward: Stat { mean: 0.5, std: 1.0, min: 0.0, max: 1.0 },
            reward_group_std: 0.5,
            frac_reward_zero_std: 0.0,
            frac_zero_advantage: 0.0,
            components: vec![ComponentStat { name: "a".into(), stat: Stat { mean: 0.25, ..Stat::default() }, frac_zero_std: 0.0, advantage: None }],
            component_corr: Vec::new(),
            hacking: Vec::new(),
            advantage: Stat::default(),
            loss: 0.1,
            kl: 0.0,
            clip_frac: 0.0,
            clip_low_frac: 0.0,
            ratio_mean: 1.0,
            entropy: 1.0,
            grad_norm: 1.0,
            completion_tokens: Stat::default(),
            turns: Stat::default(),
            truncated_frac: 0.0,
            format_valid_rate: 1.0,
            groups_sampled: 1,
            groups_kept: 1,
            logprob_gap: 0.0,
            rollout_tokens: 1,
            train_tokens: 1,
            timing: Timing::default(),
            roles: Vec::new(),
        };
        let line = |m: &MetricsLine| serde_json::to_string(m).unwrap() + "\n";
        let text = line(&sft) + &line(&MetricsLine::Rl(rl.clone())) + "{\"phase\":\"rl\",\"st";
        std::fs::write(&p, text).unwrap();
        let lines = read_metrics(&p).unwrap();
        assert_eq!(lines, vec![StepLine::from(&rl)]);
        assert_eq!((lines[0].reward, lines[0].components["a"]), (0.5, 0.25));
        assert_eq!(lines[0].diagnostics[&Diagnostic::Loss], 0.1);
        // A line without `roles` (any run but self-play, and lines older than it) has none.
        assert!(!line(&MetricsLine::Rl(rl.clone())).contains("roles") && lines[0].roles.is_empty());
        // Self-play lines carry each role's share, typed.
        let role = RoleLine {
            role: "attacker".into(),
            trained: true,
            reward: Stat { mean: 0.4, ..Stat::default() },
            components: vec![ComponentStat { name: "attacker_plausible".into(), stat: Stat { mean: 0.5, ..Stat::default() }, frac_zero_std: 0.0, advantage: None }],
            advantage: Stat::default(),
            units: 4,
            groups: 2,
            metrics: BTreeMap::from([("plausible".to_string(), 0.5)]),
        };
        let sp = RlLine { step: 2, roles: vec![role.clone()], ..rl.clone() };
        std::fs::write(&p, line(&MetricsLine::Rl(sp))).unwrap();
        assert_eq!(read_metrics(&p).unwrap()[0].roles, vec![role]);
        // A line that is not a metrics line (a renamed or missing field) is an error, not a default.
        std::fs::write(&p, line(&sft) + "{\"phase\":\"rl\",\"step\":2}\n").unwrap();
        let e = read_metrics(&p).unwrap_err().to_string();
        assert!(e.contains("metrics.jsonl:2:"), "{e}");
    }
}
