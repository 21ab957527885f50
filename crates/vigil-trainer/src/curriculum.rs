//! The curriculum (ordered stages with a step budget each) and the deterministic order in
//! which training prompts are drawn.
//!
//! Prompt `k` of a stage is position `k mod n` of the `⌊k / n⌋`-th shuffle of the stage's `n`
//! tasks, each shuffle seeded from the run seed, the stage and the epoch. The only state is the
//! number of prompts drawn per stage, which the checkpoint records: a resumed run draws exactly
//! the prompts the uninterrupted one would have.

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use vigil_core::{Environment, SeedStream, Split, TaskId};

use crate::error::{ConfigError, TrainerError};

/// One `[[trainer.curriculum]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// Environment stage (curriculum stage or difficulty tier) to draw prompts from.
    pub stage: String,
    /// RL steps spent on it.
    pub steps: u64,
}

/// The plan of the RL phase: `(stage, steps)` in order; a `None` stage draws from every task.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Stages in order.
    pub stages: Vec<(Option<String>, u64)>,
}

impl Plan {
    /// From the config: the curriculum if any, else `steps` over all training tasks.
    pub fn new(curriculum: &[StageConfig], steps: u64) -> Self {
        if curriculum.is_empty() {
            Self { stages: vec![(None, steps)] }
        } else {
            Self { stages: curriculum.iter().map(|s| (Some(s.stage.clone()), s.steps)).collect() }
        }
    }

    /// Total RL steps.
    pub fn total(&self) -> u64 {
        self.stages.iter().map(|(_, n)| n).sum()
    }

    /// The stage that RL step `step` (0-based) belongs to.
    pub fn stage_at(&self, step: u64) -> Option<&str> {
        let mut end = 0;
        for (s, n) in &self.stages {
            end += n;
            if step < end {
                return s.as_deref();
            }
        }
        self.stages.last().and_then(|(s, _)| s.as_deref())
    }

    /// Checks the stages against the environment (names, non-empty task lists).
    pub fn check(&self, env: &dyn Environment) -> Result<(), TrainerError> {
        let known = env.stages();
        for (i, (s, n)) in self.stages.iter().enumerate() {
            if *n == 0 {
                return Err(ConfigError::new(format!("curriculum[{i}].steps"), "must be ≥ 1").into());
            }
            if let Some(s) = s
                && !known.contains(s)
            {
                return Err(ConfigError::new(
                    format!("curriculum[{i}].stage"),
                    format!("`{s}` is not a stage of {}; it has: {}", env.name(), known.join(", ")),
                )
                .into());
            }
        }
        Ok(())
    }
}

/// Label of a stage for file names and metrics (`all` for no stage).
pub fn stage_label(stage: Option<&str>) -> String {
    stage.unwrap_or("all").to_string()
}

/// Draws training prompts per stage in the deterministic order described above.
#[derive(Debug, Clone)]
pub struct TaskSampler {
    seeds: SeedStream,
    tasks: BTreeMap<String, Vec<TaskId>>,
    /// Prompts drawn so far, per stage label.
    pub drawn: BTreeMap<String, u64>,
}

impl TaskSampler {
    /// Lists the training tasks of every stage in `stages` (`None` = all tasks).
    pub fn new(env: &dyn Environment, stages: &[Option<String>], seed: u64) -> Result<Self, TrainerError> {
        let mut tasks = BTreeMap::new();
        for s in stages {
            let label = stage_label(s.as_deref());
            if tasks.contains_key(&label) {
                continue;
            }
            let list = env.tasks(Split::Train, s.as_deref())?;
            if list.is_empty() {
                return Err(TrainerError::NoTasks { what: format!("the train split of {} (stage {label})", env.name()) });
            }
            tasks.insert(label, list);
        }
        Ok(Self { seeds: SeedStream::new(seed), tasks, drawn: BTreeMap::new() })
    }

    /// The next `n` prompts of `stage`.
    pub fn draw(&mut self, stage: Option<&str>, n: usize) -> Vec<TaskId> {
        let label = stage_label(stage);
        let list = &self.tasks[&label];
        let start = *self.drawn.get(&label).unwrap_or(&0);
        let len = list.len() as u64;
        let mut out = Vec::with_capacity(n);
        let mut order: Option<(u64, Vec<usize>)> = None;
        for k in start..start + n as u64 {
            let epoch = k / len;
            if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                let seed = self.seeds.seed_at(&format!("data/{label}"), epoch);
                order = Some((epoch, permutation(list.len(), seed)));
            }
            let perm = &order.as_ref().expect("set above").1;
            out.push(list[perm[(k % len) as usize]].clone());
        }
        self.drawn.insert(label, start + n as u64);
        out
    }
}

/// A Fisher–Yates permutation of `0..n` from `seed`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = vigil_core::rng_from_seed(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_maps_steps_to_stages() {
        let c = vec![StageConfig { stage: "a".into(), steps: 2 }, StageConfig { stage: "b".into(), steps: 3 }];
        let p = Plan::new(&c, 99);
        assert_eq!(p.total(), 5);
        assert_eq!(p.stage_at(0), Some("a"));
        assert_eq!(p.stage_at(1), Some("a"));
        assert_eq!(p.stage_at(2), Some("b"));
        assert_eq!(p.stage_at(4), Some("b"));
        let p = Plan::new(&[], 7);
        assert_eq!((p.total(), p.stage_at(3)), (7, None));
    }

    #[test]
    fn permutations_cover_and_depend_on_seed() {
        let p = permutation(10, 1);
        let mut s = p.clone();
        s.sort_unstable();
        assert_eq!(s, (0..10).collect::<Vec<_>>());
        assert_eq!(p, permutation(10, 1));
        assert_ne!(p, permutation(10, 2));
    }
}
