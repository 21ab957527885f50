//! [`OpenSecEnv`]: the compiled scenarios of a seed set behind `vigil_core::Environment`.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_core::{ComponentInfo, EnvError, Environment, Episode, RewardComponent, Split, TaskId, derive_seed};

use crate::episode::OpenSecEpisode;
use crate::scenario::Scenario;
use crate::score::{GradedEpisode, components};
use crate::seed::{LoadedSeed, load_jsonl, load_manifest};
use crate::{OpenSecConfig, OpenSecError, ScoringMode, Tier};

/// The OpenSec environment: immutable after construction, shared by any number of episodes.
pub struct OpenSecEnv {
    config: OpenSecConfig,
    /// Each task's seed-0 episode, compiled once.
    scenarios: Vec<Arc<Scenario>>,
    /// The loaded seeds, parallel to `scenarios` (hardened episodes recompile them renamed).
    loaded: Vec<LoadedSeed>,
    by_id: HashMap<String, usize>,
    components: Arc<Vec<Box<dyn RewardComponent<GradedEpisode>>>>,
    system: Arc<str>,
}

impl std::fmt::Debug for OpenSecEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSecEnv").field("config", &self.config).field("scenarios", &self.scenarios.len()).finish()
    }
}

impl OpenSecEnv {
    /// Loads, validates, filters and compiles the seeds the config names.
    pub fn new(config: &OpenSecConfig) -> Result<Self, OpenSecError> {
        config.validate()?;
        let loaded = if config.seeds.extension().is_some_and(|e| e == "jsonl") {
            load_jsonl(&config.seeds)?
        } else {
            load_manifest(&config.seeds)?
        };
        Self::from_seeds(config, loaded)
    }

    /// Builds the environment from already loaded seeds (the config's `seeds` path is ignored).
    pub fn from_seeds(config: &OpenSecConfig, loaded: Vec<LoadedSeed>) -> Result<Self, OpenSecError> {
        config.validate()?;
        let keep = |s: &LoadedSeed| {
            (config.tiers.is_empty() || config.tiers.contains(&s.tier))
                && (config.families.is_empty() || config.families.contains(&s.taxonomy_family))
                && (config.tasks.is_empty() || config.tasks.contains(&s.seed.scenario_id))
        };
        let loaded: Vec<LoadedSeed> = loaded.into_iter().filter(|s| keep(s)).collect();
        let scenarios: Vec<Arc<Scenario>> = loaded
            .iter()
            .map(|s| compile(config, s, &s.seed.scenario_id, 0).map(Arc::new))
            .collect::<Result<_, _>>()?;
        if scenarios.is_empty() {
            return Err(OpenSecError::NoTasks(format!(
                "{} with tiers {:?}, families {:?}, tasks {:?}",
                config.seeds.display(),
                config.tiers,
                config.families,
                config.tasks
            )));
        }
        if let Some(missing) = config.tasks.iter().find(|t| !scenarios.iter().any(|s| &s.id == *t)) {
            return Err(OpenSecError::config("tasks", format!("`{missing}` is not in {}", config.seeds.display())));
        }
        let max_required = scenarios
            .iter()
            .flat_map(|s| {
                [s.required.isolate_hosts.len(), s.required.block_domains.len(), s.required.reset_users.len()]
            })
            .max()
            .unwrap_or(0);
        let max_payloads = scenarios.iter().map(|s| s.injections.len()).max().unwrap_or(0);
        let max_steps = scenarios.iter().map(|s| s.max_steps).max().unwrap_or(0);
        let by_id = scenarios.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        Ok(Self {
            config: config.clone(),
            components: Arc::new(components(config.scoring, max_required, max_payloads, max_steps)),
            system: Arc::from(crate::observation::system_prompt(config.scoring == ScoringMode::Compat, config.observation)),
            scenarios,
            loaded,
            by_id,
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &OpenSecConfig {
        &self.config
    }

    /// Every compiled scenario, in manifest order.
    pub fn scenarios(&self) -> &[Arc<Scenario>] {
        &self.scenarios
    }

    /// One scenario by task id.
    pub fn scenario(&self, task: &TaskId) -> Option<&Arc<Scenario>> {
        self.by_id.get(task.as_str()).map(|&i| &self.scenarios[i])
    }

    /// The scenario of the episode that `start(task, seed)` plays: in hardened mode its ids
    /// (entities, domains, case, row and email ids) are drawn from the episode seed.
    pub fn episode_scenario(&self, task: &TaskId, seed: u64) -> Result<Arc<Scenario>, OpenSecError> {
        let i = *self.by_id.get(task.as_str()).ok_or_else(|| OpenSecError::NoTasks(format!("task `{task}`")))?;
        if self.config.scoring == ScoringMode::Compat || seed == 0 {
            return Ok(Arc::clone(&self.scenarios[i]));
        }
        compile(&self.config, &self.loaded[i], task.as_str(), seed).map(Arc::new)
    }

    /// The scenario whose agent-visible incident id is `case` (what the oracle reads from the
    /// prompt); `None` when `case` is not an id this task can show.
    pub fn scenario_for_case(&self, task: &TaskId, case: &str) -> Option<Arc<Scenario>> {
        if self.config.scoring == ScoringMode::Compat {
            return self.scenario(task).filter(|s| s.case_id() == case).cloned();
        }
        let hex = case.strip_prefix("case-").filter(|h| h.len() == 8)?;
        self.scenario_for_nonce(task, u32::from_str_radix(hex, 16).ok()?).ok()
    }

    fn scenario_for_nonce(&self, task: &TaskId, nonce: u32) -> Result<Arc<Scenario>, OpenSecError> {
        let i = *self.by_id.get(task.as_str()).ok_or_else(|| OpenSecError::NoTasks(format!("task `{task}`")))?;
        let base = &self.scenarios[i];
        if self.config.scoring == ScoringMode::Compat || base.case_id() == crate::rename::case_id(nonce) {
            return Ok(Arc::clone(base));
        }
        let mut sc = compile_nonce(&self.config, &self.loaded[i], nonce)?;
        sc.row_salt = u64::from(nonce);
        Ok(Arc::new(sc))
    }

    /// Starts the episode `start(task, 0)` plays, with its concrete type (benchmarks, typed
    /// inspection).
    pub fn start_episode(&self, task: &TaskId) -> Result<OpenSecEpisode, EnvError> {
        self.start_seeded(task, 0)
    }

    /// Starts an episode with its concrete type.
    pub fn start_seeded(&self, task: &TaskId, seed: u64) -> Result<OpenSecEpisode, EnvError> {
        if self.scenario(task).is_none() {
            return Err(EnvError::UnknownTask(task.clone()));
        }
        let sc =
            self.episode_scenario(task, seed).map_err(|e| EnvError::Env { env: "opensec", source: Box::new(e) })?;
        Ok(OpenSecEpisode::new(
            sc,
            self.config.scoring,
            self.config.observation,
            Arc::clone(&self.components),
            Arc::clone(&self.system),
        ))
    }

    fn manifest_split(&self, split: Split) -> Split {
        match split {
            Split::Train => self.config.train_split,
            Split::Eval => self.config.eval_split,
        }
    }
}

impl Environment for OpenSecEnv {
    fn name(&self) -> &'static str {
        "opensec"
    }

    fn reward_components(&self) -> Vec<ComponentInfo> {
        self.components.iter().map(|c| c.info()).collect()
    }

    fn hacking_detectors(&self) -> Vec<vigil_core::DetectorInfo> {
        crate::hacking::detectors()
    }

    fn detect_hacking(&self, transcript: &[vigil_core::ChatMessage], outcome: &vigil_core::Outcome) -> vigil_core::HackingFlags {
        crate::hacking::detect(transcript, outcome)
    }

    fn metrics(&self) -> vigil_core::EnvMetrics {
        crate::metrics::declared_metrics()
    }

    fn summarize(&self, outcomes: &[vigil_core::Outcome]) -> vigil_core::EnvSummary {
        crate::metrics::summarize(outcomes)
    }

    fn stages(&self) -> Vec<String> {
        Tier::ALL
            .into_iter()
            .filter(|t| self.scenarios.iter().any(|s| s.tier == *t))
            .map(|t| t.as_str().to_string())
            .collect()
    }

    fn tasks(&self, split: Split, stage: Option<&str>) -> Result<Vec<TaskId>, EnvError> {
        let tier = match stage {
            None => None,
            Some(s) => {
                Some(Tier::parse(s).filter(|t| self.scenarios.iter().any(|x| x.tier == *t)).ok_or_else(|| {
                    EnvError::UnknownStage { stage: s.to_string(), available: self.stages().join(", ") }
                })?)
            }
        };
        let want = self.manifest_split(split);
        Ok(self
            .scenarios
            .iter()
            .filter(|s| s.split == want && tier.is_none_or(|t| s.tier == t))
            .map(|s| TaskId::new(s.id.clone()))
            .collect())
    }

    fn stage_of(&self, task: &TaskId) -> Option<String> {
        self.scenario(task).map(|s| s.tier.as_str().to_string())
    }

    /// The attacker is scripted; in hardened mode `seed` draws the episode's ids.
    fn start(&self, task: &TaskId, seed: u64) -> Result<Box<dyn Episode>, EnvError> {
        Ok(Box::new(self.start_seeded(task, seed)?))
    }
}

/// The renaming nonce of episode `seed` of `task` (unused in compat mode).
fn nonce(config: &OpenSecConfig, task: &str, seed: u64) -> u32 {
    (derive_seed(config.rename_seed, task, seed) & 0xffff_ffff) as u32
}

/// The scenario of episode `seed` of `task`.
fn compile(config: &OpenSecConfig, s: &LoadedSeed, task: &str, seed: u64) -> Result<Scenario, OpenSecError> {
    let mut sc = compile_nonce(config, s, nonce(config, task, seed))?;
    sc.row_salt = derive_seed(seed, task, 1);
    Ok(sc)
}

fn compile_nonce(config: &OpenSecConfig, s: &LoadedSeed, nonce: u32) -> Result<Scenario, OpenSecError> {
    let mut sc = Scenario::compile(s, config.scoring, nonce, config.mask_injections, config.default_max_steps)?;
    if let Some(cap) = config.max_steps_cap {
        sc.max_steps = sc.max_steps.min(cap);
    }
    Ok(sc)
}
