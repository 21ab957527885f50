//! `CertEnv`: single-turn verdict episodes over user/day windows.
//!
//! `Split::Eval` is the `dev_balanced_*` split, `Split::Train` the `train_balanced_*` one.
//! Stages are per-scenario report groups (`benign` for users who are not insiders, then
//! `scenario_1` … `scenario_3`), so per-stage summaries show detection per insider scenario.
//! Each episode takes one answer and ends in an [`Outcome`] with the components `label`,
//! `evidence`, `format`, `length` (see [`crate::reward`]) and the metrics `label_correct`,
//! `actionable`, `response_words`, `cited_ids` (when the evidence field parsed),
//! `hallucinated_ids`, `evidence_grounding` (when something was cited), `evidence_precision`
//! (when something was cited and the window has malicious events) and `evidence_recall`
//! (when the window has malicious events).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use vigil_core::{
    ChatMessage, ComponentInfo, EnvError, Environment, Episode, Outcome, Prediction, RewardComponent, Split, Step,
    TaskId, score_components,
};

use crate::config::{CertConfig, SourceConfig};
use crate::error::CertError;
use crate::metrics::soc_narrative_metrics;
use crate::pipeline::Dataset;
use crate::prompt::{gold_answer, messages};
use crate::record::{Window, read_jsonl};
use crate::reward::{GradedAnswer, grade};
use crate::source::{DataSource, FsSource};
use crate::split::{SplitManifest, check_disjoint};
use crate::synth::generate_in_memory;
use crate::window::BuildSummary;

/// Report stages, in order.
pub const STAGES: [&str; 4] = ["benign", "scenario_1", "scenario_2", "scenario_3"];

type Components = Arc<[Box<dyn RewardComponent<GradedAnswer>>]>;

/// The CERT insider-threat environment.
pub struct CertEnv {
    config: CertConfig,
    train: Vec<Arc<Window>>,
    eval: Vec<Arc<Window>>,
    index: HashMap<String, Arc<Window>>,
    components: Components,
    manifest: Option<SplitManifest>,
    build: Option<BuildSummary>,
}

impl std::fmt::Debug for CertEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertEnv").field("train", &self.train.len()).field("eval", &self.eval.len()).finish()
    }
}

impl CertEnv {
    /// Builds the environment: generates or reads the dataset and selects the splits, or
    /// loads prebuilt split files.
    pub fn new(config: &CertConfig) -> Result<Self, CertError> {
        config.validate()?;
        let (train, eval, manifest, build) = match &config.source {
            SourceConfig::Splits { train, eval } => (read_jsonl(train)?, read_jsonl(eval)?, None, None),
            SourceConfig::Synthetic(s) => {
                let (src, _) = generate_in_memory(s)?;
                let src: Arc<dyn DataSource> = Arc::new(src);
                let ds = Dataset::open(src, &s.release, config.labels.clone())?;
                let (sp, summary) = ds.splits(&config.window, &config.split)?;
                (sp.train, sp.eval, Some(sp.manifest), Some(summary))
            }
            SourceConfig::Dataset { dir, answers_dir, release } => {
                let src: Arc<dyn DataSource> = Arc::new(FsSource::new(dir, answers_dir.clone()));
                let ds = Dataset::open(src, release, config.labels.clone())?;
                let (sp, summary) = ds.splits(&config.window, &config.split)?;
                (sp.train, sp.eval, Some(sp.manifest), Some(summary))
            }
        };
        Self::from_windows(config, train, eval, manifest, build)
    }

    /// Builds the environment from windows already in memory.
    pub fn from_windows(
        config: &CertConfig,
        train: Vec<Window>,
        eval: Vec<Window>,
        manifest: Option<SplitManifest>,
        build: Option<BuildSummary>,
    ) -> Result<Self, CertError> {
        check_disjoint(&train, &eval)?;
        if eval.is_empty() {
            return Err(CertError::Split { split: "eval".into(), reason: "has no windows".into() });
        }
        let train: Vec<Arc<Window>> = train.into_iter().map(Arc::new).collect();
        let eval: Vec<Arc<Window>> = eval.into_iter().map(Arc::new).collect();
        let index = train.iter().chain(&eval).map(|w| (w.id.clone(), Arc::clone(w))).collect();
        let components: Components = config.reward.components().into();
        Ok(Self { config: config.clone(), train, eval, index, components, manifest, build })
    }

    /// The window behind a task id.
    pub fn window(&self, task: &TaskId) -> Option<&Arc<Window>> {
        self.index.get(task.as_str())
    }

    /// Windows of a split.
    pub fn windows(&self, split: Split) -> &[Arc<Window>] {
        match split {
            Split::Train => &self.train,
            Split::Eval => &self.eval,
        }
    }

    /// Split counts, when the splits were selected here.
    pub fn split_manifest(&self) -> Option<&SplitManifest> {
        self.manifest.as_ref()
    }

    /// Window-building counts, when the windows were built here.
    pub fn build_summary(&self) -> Option<&BuildSummary> {
        self.build.as_ref()
    }

    /// The config.
    pub fn config(&self) -> &CertConfig {
        &self.config
    }
}

fn stage(w: &Window) -> &'static str {
    match w.scenario {
        Some(n @ 1..=3) => STAGES[n as usize],
        _ => STAGES[0],
    }
}

impl Environment for CertEnv {
    fn name(&self) -> &'static str {
        "cert"
    }

    fn reward_components(&self) -> Vec<ComponentInfo> {
        self.components.iter().map(|c| c.info()).collect()
    }

    fn stages(&self) -> Vec<String> {
        STAGES.iter().map(|s| s.to_string()).collect()
    }

    fn tasks(&self, split: Split, stage_name: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
        if let Some(s) = stage_name {
            if !STAGES.contains(&s) {
                return Err(EnvError::UnknownStage { stage: s.into(), available: STAGES.join(", ") });
            }
        }
        Ok(self
            .windows(split)
            .iter()
            .filter(|w| stage_name.is_none_or(|s| stage(w) == s))
            .map(|w| TaskId::new(w.id.clone()))
            .collect())
    }

    fn stage_of(&self, task: &TaskId) -> Option<String> {
        self.window(task).map(|w| stage(w).to_string())
    }

    fn label_classes(&self) -> Option<Vec<String>> {
        Some(crate::labels::RiskLabel::ALL.iter().map(|l| l.to_string()).collect())
    }

    fn start(&self, task: &TaskId, _seed: u64) -> Result<Box<dyn Episode>, EnvError> {
        let w = self.window(task).ok_or_else(|| EnvError::UnknownTask(task.clone()))?;
        Ok(Box::new(CertEpisode {
            prompt: messages(w, &self.config.prompt),
            window: Arc::clone(w),
            components: Arc::clone(&self.components),
            done: false,
        }))
    }

    fn hacking_detectors(&self) -> Vec<vigil_core::DetectorInfo> {
        crate::hacking::detectors()
    }

    fn detect_hacking(&self, transcript: &[ChatMessage], outcome: &Outcome) -> vigil_core::HackingFlags {
        crate::hacking::detect(transcript, outcome)
    }

    fn metrics(&self) -> vigil_core::EnvMetrics {
        crate::metrics::declared_metrics()
    }

    fn summarize(&self, outcomes: &[Outcome]) -> vigil_core::EnvSummary {
        crate::metrics::env_summary(&soc_narrative_metrics(outcomes))
    }
}

/// One verdict episode.
pub struct CertEpisode {
    window: Arc<Window>,
    prompt: Vec<ChatMessage>,
    components: Components,
    done: bool,
}

impl std::fmt::Debug for CertEpisode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertEpisode").field("window", &self.window.id).field("done", &self.done).finish()
    }
}

/// The outcome of answering `w` with `answer` under `components`.
pub fn outcome(w: &Window, answer: &str, components: &[Box<dyn RewardComponent<GradedAnswer>>]) -> Outcome {
    let g = grade(w, answer);
    let rewards = score_components(components, &g);
    let mut m = BTreeMap::new();
    let flag = |b: bool| f64::from(u8::from(b));
    m.insert("label_correct".to_string(), flag(g.parsed.label == Some(g.gold)));
    m.insert("actionable".to_string(), flag(g.actionable));
    m.insert("response_words".to_string(), f64::from(g.words));
    if g.parsed.evidence.is_some() {
        m.insert("cited_ids".to_string(), g.cited().len() as f64);
        m.insert("hallucinated_ids".to_string(), (g.cited().len() - g.cited_existing()) as f64);
    }
    for (k, v) in [("evidence_grounding", g.grounding()), ("evidence_precision", g.precision()), ("evidence_recall", g.recall())] {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Outcome {
        rewards,
        format_valid: g.parsed.format_valid(),
        metrics: m,
        prediction: Some(Prediction {
            predicted: g.parsed.label.map(|l| l.to_string()),
            gold: g.gold.to_string(),
            confidence: None,
        }),
        steps: 1,
    }
}

impl Episode for CertEpisode {
    fn prompt(&self) -> Vec<ChatMessage> {
        self.prompt.clone()
    }

    fn step(&mut self, action: &str) -> Result<Step, EnvError> {
        if self.done {
            return Err(EnvError::EpisodeOver);
        }
        self.done = true;
        Ok(Step::Done(Box::new(outcome(&self.window, action, &self.components))))
    }

    fn gold_action(&self) -> Option<String> {
        Some(gold_answer(&self.window))
    }
}
