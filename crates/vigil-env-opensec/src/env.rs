//! [`OpenSecEnv`]: the compiled scenarios of a seed set behind `vigil_core::Environment`.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_core::{ComponentInfo, EnvError, Environment, Episode, RewardComponent, Split, TaskId};

use crate::episode::OpenSecEpisode;
use crate::scenario::Scenario;
use crate::score::{GradedEpisode, components};
use crate::seed::{LoadedSeed, load_jsonl, load_manifest};
use crate::{OpenSecConfig, OpenSecError, ScoringMode, Tier};

/// The OpenSec environment: immutable after construction, shared by any number of episodes.
pub struct OpenSecEnv {
    config: OpenSecConfig,
    scenarios: Vec<Arc<Scenario>>,
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
        let scenarios: Vec<Arc<Scenario>> = loaded
            .iter()
            .filter(|s| keep(s))
            .map(|s| {
                Scenario::compile(
                    s,
                    config.scoring,
                    config.rename_seed,
                    config.mask_injections,
                    config.default_max_steps,
                )
                .map(|mut sc| {
                    if let Some(cap) = config.max_steps_cap {
                        sc.max_steps = sc.max_steps.min(cap);
                    }
                    Arc::new(sc)
                })
            })
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
            system: Arc::from(crate::observation::system_prompt(config.scoring == ScoringMode::Compat)),
            scenarios,
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

    /// Starts an episode with its concrete type (benchmarks, typed inspection).
    pub fn start_episode(&self, task: &TaskId) -> Result<OpenSecEpisode, EnvError> {
        let sc = self.scenario(task).ok_or_else(|| EnvError::UnknownTask(task.clone()))?;
        Ok(OpenSecEpisode::new(
            Arc::clone(sc),
            self.config.scoring,
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

    /// Episodes are deterministic: the attacker is scripted, so `seed` is unused.
    fn start(&self, task: &TaskId, _seed: u64) -> Result<Box<dyn Episode>, EnvError> {
        Ok(Box::new(self.start_episode(task)?))
    }
}
