//! [`OpenSocEnv`]: the `vigil_core::Environment` implementation.
//!
//! Task ids: `train/<stage>/<index>` (generated lazily from the config seed, stage and index, so
//! any id can be regenerated on any machine) and `holdout/NNN` (the frozen file).

use std::sync::{Arc, OnceLock, RwLock};

use vigil_core::{
    ComponentInfo, EnvError, Environment, Episode, EpisodeOptions, EpisodeRecord, RewardComponent, RoleInfo, Split, TaskId, derive_seed,
    rng_from_seed,
};

use crate::action::TriageAction;
use crate::attacker::{AttackerComponent, NoveltyArchive, attacker_component_infos, parse_craft, shape};
use crate::config::{Mode, OpenSocConfig};
use crate::episode::{ATTACKER_ROLE, DEFENDER_ROLE, DefenderEpisode, SelfPlayEpisode};
use crate::error::OpenSocError;
use crate::generator::{Generated, Stage, generate};
use crate::holdout::{HoldoutRecord, load_holdout};
use crate::render::{alert_id_for, system_prompt};
use crate::rubric::DefenderComponent;
use crate::schema::IncidentParams;
use crate::plausibility::check_plausibility;
use crate::verifier::compute_ground_truth;

/// Incidents per stage and label generated to build the novelty archive.
const ARCHIVE_PER_LABEL: u64 = 400;
/// Seed of the novelty archive (fixed: novelty means "unlike the stock generator").
const ARCHIVE_SEED: u64 = 0x0A7C_41FE;

/// A parsed task id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRef {
    /// A generated training incident.
    Train {
        /// Stage.
        stage: Stage,
        /// Index within the stage.
        index: u32,
    },
    /// Hold-out item `n`.
    Holdout(usize),
}

/// The OpenSOC environment. Immutable after construction; share it behind an `Arc`.
#[derive(Debug)]
pub struct OpenSocEnv {
    config: OpenSocConfig,
    holdout: Vec<HoldoutRecord>,
    cycles: [Vec<TriageAction>; 4],
    /// Built on first use: only self-play episodes need it.
    archive: OnceLock<Arc<NoveltyArchive>>,
    /// Shapes of plausible incidents crafted during training, in acceptance order, and the
    /// stock archive grown with them (what new self-play episodes score novelty against).
    grown: RwLock<(Vec<u64>, Option<Arc<NoveltyArchive>>)>,
    system: Arc<str>,
}

fn env_err(e: OpenSocError) -> EnvError {
    match e {
        OpenSocError::UnknownTask(t) => EnvError::UnknownTask(TaskId::new(t)),
        other => EnvError::Env { env: "opensoc", source: Box::new(other) },
    }
}

impl OpenSocEnv {
    /// Validates `config` and loads (and re-verifies) the hold-out file.
    pub fn new(config: &OpenSocConfig) -> Result<Self, OpenSocError> {
        config.validate()?;
        let holdout = load_holdout(&config.holdout)?;
        Self::with_holdout(config, holdout)
    }

    /// Like [`OpenSocEnv::new`] with hold-out records supplied directly (tests, generated sets).
    pub fn with_holdout(config: &OpenSocConfig, holdout: Vec<HoldoutRecord>) -> Result<Self, OpenSocError> {
        config.validate()?;
        for (n, r) in holdout.iter().enumerate() {
            if r.id != crate::holdout::holdout_id(n) {
                return Err(OpenSocError::Config {
                    field: "holdout".into(),
                    reason: format!("record {n} has id `{}`, expected `{}`", r.id, crate::holdout::holdout_id(n)),
                });
            }
        }
        let cycles = Stage::ALL.map(|s| config.label_mix.get(s).cycle());
        Ok(Self {
            config: config.clone(),
            holdout,
            cycles,
            archive: OnceLock::new(),
            grown: RwLock::new((Vec::new(), None)),
            system: system_prompt(config.runbook).into(),
        })
    }

    /// The validated config.
    pub fn config(&self) -> &OpenSocConfig {
        &self.config
    }

    /// The hold-out records.
    pub fn holdout(&self) -> &[HoldoutRecord] {
        &self.holdout
    }

    /// The novelty archive self-play episodes score against (built on first call).
    pub fn archive(&self) -> &Arc<NoveltyArchive> {
        self.archive.get_or_init(|| Arc::new(stock_archive()))
    }

    /// The archive new self-play episodes score against: the stock shapes plus every accepted
    /// (plausible) incident crafted during training so far.
    pub fn current_archive(&self) -> Arc<NoveltyArchive> {
        let grown = self.grown.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        grown.1.clone().unwrap_or_else(|| self.archive().clone())
    }

    /// Shapes accepted during training, in acceptance order.
    pub fn accepted_shapes(&self) -> Vec<u64> {
        self.grown.read().unwrap_or_else(std::sync::PoisonError::into_inner).0.clone()
    }

    /// Adds shapes to the training archive (each once, in order).
    pub fn accept_shapes(&self, shapes: &[u64]) {
        let mut grown = self.grown.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = grown.0.len();
        for s in shapes {
            if !grown.0.contains(s) {
                grown.0.push(*s);
            }
        }
        if grown.0.len() != before {
            grown.1 = Some(Arc::new(self.archive().with(&grown.0)));
        }
    }

    /// The defender system prompt in use.
    pub fn system_prompt(&self) -> &Arc<str> {
        &self.system
    }

    /// Parses a task id this environment issues (or could issue).
    pub fn parse_task(&self, id: &str) -> Option<TaskRef> {
        if let Some(rest) = id.strip_prefix("train/") {
            let (stage, index) = rest.split_once('/')?;
            let stage = Stage::from_wire(stage).filter(|s| self.config.stages.contains(s))?;
            let ok = !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) && (index == "0" || !index.starts_with('0'));
            let index: u32 = if ok { index.parse().ok()? } else { return None };
            return (index < self.config.train_per_stage).then_some(TaskRef::Train { stage, index });
        }
        let n: usize = id.strip_prefix("holdout/")?.parse().ok()?;
        self.holdout.get(n).filter(|r| r.id == id).map(|_| TaskRef::Holdout(n))
    }

    /// The training incident `index` of `stage` (deterministic in config seed, stage, index).
    pub fn train_incident(&self, stage: Stage, index: u32) -> Generated {
        let label = self.cycles[stage as usize][index as usize % 100];
        let mut rng = rng_from_seed(derive_seed(self.config.seed, stage.as_str(), u64::from(index)));
        generate(stage, label, &mut rng)
    }

    /// The incident behind a task id.
    pub fn incident(&self, task: &TaskId) -> Result<(Stage, IncidentParams), OpenSocError> {
        match self.parse_task(task.as_str()) {
            Some(TaskRef::Train { stage, index }) => Ok((stage, self.train_incident(stage, index).params)),
            Some(TaskRef::Holdout(n)) => Ok((self.holdout[n].stage, self.holdout[n].incident.clone())),
            None => Err(OpenSocError::UnknownTask(task.to_string())),
        }
    }

    /// A defender episode on any incident (server sessions, the demo page, tests).
    pub fn defender_episode(&self, task: &str, params: IncidentParams) -> DefenderEpisode {
        DefenderEpisode::new(params, alert_id_for(task), self.system.clone())
    }

    /// The defender episode of a task (defender-only, whatever the configured mode).
    pub fn defender_episode_for(&self, task: &TaskId) -> Result<DefenderEpisode, OpenSocError> {
        let (_, params) = self.incident(task)?;
        Ok(self.defender_episode(task.as_str(), params))
    }

    /// The verifier-oracle's answer for a task's incident.
    pub fn gold_answer(&self, task: &TaskId) -> Result<String, OpenSocError> {
        Ok(self.defender_episode_for(task)?.oracle_answer())
    }

    /// Starts an episode in an explicit mode (what the server's `/reset?mode=` maps onto).
    /// Hold-out tasks are always defender-only: the frozen set is the evaluation benchmark.
    pub fn start_mode(&self, task: &TaskId, mode: Mode) -> Result<Box<dyn Episode>, OpenSocError> {
        match (self.parse_task(task.as_str()), mode) {
            (Some(TaskRef::Train { stage, index }), Mode::SelfPlay) => {
                let stock = self.train_incident(stage, index).params;
                let ep = SelfPlayEpisode::new(stage, stock.category, alert_id_for(task.as_str()), self.system.clone(), self.current_archive());
                Ok(Box::new(ep.with_gold(stock)))
            }
            _ => Ok(Box::new(self.defender_episode_for(task)?)),
        }
    }
}

/// Shapes of stock incidents: every template the generator picks, per stage and label.
fn stock_archive() -> NoveltyArchive {
    let mut shapes = Vec::new();
    for stage in Stage::ALL {
        for label in TriageAction::ALL {
            for k in 0..ARCHIVE_PER_LABEL {
                let mut rng = rng_from_seed(derive_seed(ARCHIVE_SEED, stage.as_str(), k * 8 + label as u64));
                let g = generate(stage, label, &mut rng);
                shapes.push(shape(&g.params, &compute_ground_truth(&g.params)));
            }
        }
    }
    NoveltyArchive::new(shapes)
}

impl Environment for OpenSocEnv {
    fn name(&self) -> &'static str {
        "opensoc"
    }

    fn reward_components(&self) -> Vec<ComponentInfo> {
        let mut v: Vec<ComponentInfo> = DefenderComponent::ALL.iter().map(RewardComponent::info).collect();
        if self.config.mode == Mode::SelfPlay {
            v.push(AttackerComponent.info());
            v.extend(attacker_component_infos());
        }
        v
    }

    /// In self-play: the attacker (its four components) and the defender (the five triage
    /// components); defender-only mode has a single role.
    fn roles(&self) -> Vec<RoleInfo> {
        if self.config.mode != Mode::SelfPlay {
            return Vec::new();
        }
        let mut roles = vec![RoleInfo::new("", Vec::new()); 2];
        roles[ATTACKER_ROLE] = RoleInfo::new("attacker", attacker_component_infos())
            .with_metrics(&["schema_violation", "plausible", "attacker_fooled", "novelty", "attacker_reward"]);
        roles[DEFENDER_ROLE] = RoleInfo::new("defender", DefenderComponent::ALL.iter().map(RewardComponent::info).collect())
            .with_metrics(&["action_correct", "answer_parsed", "citation_correct", "dismiss_on_malicious", "over_react"]);
        roles
    }

    /// The defender on the task's own generated (or hold-out) incident: the stock
    /// distribution mixed into self-play so the defender does not forget it.
    fn start_solo(&self, task: &TaskId, seed: u64, role: usize) -> Result<Box<dyn Episode>, EnvError> {
        let _ = seed;
        if role != DEFENDER_ROLE || self.config.mode != Mode::SelfPlay {
            return Err(EnvError::InvalidOption {
                option: "role".into(),
                reason: format!("opensoc plays only the defender (role {DEFENDER_ROLE}) alone in self-play, not role {role}"),
            });
        }
        self.start_mode(task, Mode::DefenderOnly).map_err(env_err)
    }

    /// `{"accepted": [shape, ...]}`: the incidents accepted into the novelty archive.
    fn training_state(&self) -> serde_json::Value {
        let accepted = self.accepted_shapes();
        if accepted.is_empty() { serde_json::Value::Null } else { serde_json::json!({ "accepted": accepted }) }
    }

    fn restore_training_state(&self, state: &serde_json::Value) -> Result<(), EnvError> {
        let bad = |reason: String| EnvError::InvalidOption { option: "training_state".into(), reason };
        let shapes: Vec<u64> = match state {
            serde_json::Value::Null => Vec::new(),
            v => {
                let list = v.get("accepted").filter(|_| v.as_object().is_some_and(|o| o.len() == 1));
                serde_json::from_value(list.cloned().ok_or_else(|| bad(format!("expected {{\"accepted\": [...]}}, got {v}")))?)
                    .map_err(|e| bad(e.to_string()))?
            }
        };
        *self.grown.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (Vec::new(), None);
        self.accept_shapes(&shapes);
        Ok(())
    }

    /// Grows the archive with every plausible crafted incident of the step (the attacker's
    /// first answer of each self-play episode), so repeating an accepted shape earns no novelty.
    fn observe_training(&self, records: &[EpisodeRecord]) {
        let shapes: Vec<u64> = records
            .iter()
            .filter(|r| r.outcome.metrics.get("plausible") == Some(&1.0))
            .filter_map(|r| parse_craft(&r.generations.first()?.text).ok())
            .filter(|p| check_plausibility(p).is_ok())
            .map(|p| shape(&p, &compute_ground_truth(&p)))
            .collect();
        self.accept_shapes(&shapes);
    }

    fn hacking_detectors(&self) -> Vec<vigil_core::DetectorInfo> {
        crate::hacking::detectors()
    }

    fn detect_hacking(&self, transcript: &[vigil_core::ChatMessage], outcome: &vigil_core::Outcome) -> vigil_core::HackingFlags {
        crate::hacking::detect(transcript, outcome)
    }

    fn metrics(&self) -> vigil_core::EnvMetrics {
        use vigil_core::{MetricInfo, MetricSource::*};
        vigil_core::EnvMetrics {
            title: "OpenSOC: triage on the frozen hold-out".into(),
            metrics: vec![
                MetricInfo::new("accuracy", "Accuracy", Accuracy).headline(),
                MetricInfo::new("macro_f1", "Macro F1", MacroF1).headline(),
                MetricInfo::new("dismiss_on_malicious", "Dismiss-on-malicious", Episode).headline(),
                MetricInfo::new("over_react", "Over-react", Episode).headline(),
                MetricInfo::new("citation_correct", "Citation correct", Episode),
                MetricInfo::new("format_valid", "Format valid", FormatValid),
            ],
            frontier: None,
            notes: vec!["Dismiss-on-malicious: share of malicious incidents dismissed; over-react: share of benign incidents answered with containment.".into()],
        }
    }

    fn stages(&self) -> Vec<String> {
        Stage::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    }

    fn tasks(&self, split: Split, stage: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
        let stage = match stage {
            None => None,
            Some(s) => Some(Stage::from_wire(s).ok_or_else(|| EnvError::UnknownStage {
                stage: s.to_owned(),
                available: Stage::ALL.map(Stage::as_str).join(", "),
            })?),
        };
        Ok(match split {
            Split::Eval => {
                self.holdout.iter().filter(|r| stage.is_none_or(|s| s == r.stage)).map(|r| TaskId::new(r.id.clone())).collect()
            }
            Split::Train => {
                let mut out = Vec::new();
                for s in self.config.stages.iter().filter(|s| stage.is_none_or(|x| x == **s)) {
                    out.extend((0..self.config.train_per_stage).map(|i| TaskId::new(format!("train/{}/{i}", s.as_str()))));
                }
                out
            }
        })
    }

    fn stage_of(&self, task: &TaskId) -> Option<String> {
        match self.parse_task(task.as_str())? {
            TaskRef::Train { stage, .. } => Some(stage.as_str().to_owned()),
            TaskRef::Holdout(n) => Some(self.holdout[n].stage.as_str().to_owned()),
        }
    }

    fn label_classes(&self) -> Option<Vec<String>> {
        Some(TriageAction::ALL.iter().map(|a| a.as_str().to_owned()).collect())
    }

    /// The incident is fixed by the task id (so a GRPO group sees one incident); `seed` is unused.
    fn start(&self, task: &TaskId, seed: u64) -> Result<Box<dyn Episode>, EnvError> {
        let _ = seed;
        self.start_mode(task, self.config.mode).map_err(env_err)
    }

    /// Accepts one option, `mode` (`"defender_only"` or `"self_play"`), overriding the config's
    /// mode for this episode (the HTTP server's `/reset?mode=`).
    fn start_with(&self, task: &TaskId, seed: u64, options: &EpisodeOptions) -> Result<Box<dyn Episode>, EnvError> {
        let _ = seed;
        let mut mode = self.config.mode;
        for (key, value) in options {
            let bad = |reason: String| EnvError::InvalidOption { option: key.clone(), reason };
            match key.as_str() {
                "mode" => {
                    mode = serde_json::from_value(value.clone())
                        .map_err(|_| bad(format!("expected \"defender_only\" or \"self_play\", got {value}")))?;
                }
                _ => return Err(bad("opensoc accepts only `mode` (\"defender_only\" or \"self_play\")".into())),
            }
        }
        self.start_mode(task, mode).map_err(env_err)
    }
}
