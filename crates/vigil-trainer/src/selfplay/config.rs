//! `[trainer.self_play]`: the shape of a self-play step and each role's credit assignment.
//!
//! ```toml
//! [trainer.self_play]
//! fork_group = 4            # defender answers per crafted incident (the defender's G)
//! solo_groups = 1           # extra defender groups per step on stock curriculum incidents
//! solo_role = "defender"
//! solo_tasks = "all_stages" # solo groups on every stage of [env] (default: the step's stage)
//! grow_archive = true       # accepted incidents join the novelty archive (saved in checkpoints)
//! loss_balance = "per_role" # each role's loss is its own mean (default "pooled": one mean)
//! [trainer.self_play.roles.attacker]
//! advantage = { kind = "grpo" }                     # default: the run's [advantage]
//! loss_weight = 1.0                                  # share of the loss with per_role (default 1)
//! rewards = { weights = { attacker_plausible = 1.0, attacker_fooled = 1.0 } }
//! ```
//!
//! The attacker's groups are `trainer.group_size` crafts of one brief (`trainer.batch_prompts`
//! briefs per step); each crafted incident that reaches the defender is answered `fork_group`
//! times, and those answers form one defender group.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_advantage::AdvantageConfig;
use vigil_rewards::RewardsConfig;

use crate::error::ConfigError;

fn default_fork() -> usize {
    4
}
fn yes() -> bool {
    true
}

/// Where the solo groups' tasks come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoloTasks {
    /// The step's curriculum stage, like the crafted groups.
    #[default]
    Curriculum,
    /// Every training stage of the environment: the stock distribution the hold-out is drawn
    /// from, while the crafted groups follow the curriculum (a stage-1 attacker's defender would
    /// otherwise only ever see stage-1 stock incidents and drift on the others).
    AllStages,
}

/// How the roles' sequences share the loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossBalance {
    /// One mean over every trained sequence (`[trainer.loss] aggregation`): a role weighs in
    /// proportion to its sequences (OpenSOC: 16 crafts against 96 defender answers a step).
    #[default]
    Pooled,
    /// The aggregation within each role, the roles' losses then averaged: each role pulls
    /// the shared weights as hard as the other, whatever its number of sequences.
    PerRole,
}

/// How one role is credited: its estimator and its reward weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleCreditConfig {
    /// The role's estimator (default: the run's `[advantage]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advantage: Option<AdvantageConfig>,
    /// Weights and gates over the role's own components (default: the run's `[rewards]`
    /// restricted to them; every component weighs 1 when none of them is listed there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewards: Option<RewardsConfig>,
    /// The role's share of the loss under `loss_balance = "per_role"`, relative to the other
    /// roles' (default 1: equal shares); rejected with `"pooled"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_weight: Option<f64>,
}

/// The `[trainer.self_play]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlayConfig {
    /// Continuations per hand-off: each crafted incident is triaged this many times, and the
    /// answers to one incident form one group of the second role.
    #[serde(default = "default_fork")]
    pub fork_group: usize,
    /// Groups per step of single-role episodes on the environment's own tasks (OpenSOC: the
    /// defender on generated curriculum incidents), each of `trainer.group_size` episodes, so
    /// the defender keeps seeing the stock distribution.
    #[serde(default)]
    pub solo_groups: usize,
    /// The role that plays the solo episodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solo_role: Option<String>,
    /// Where the solo groups' tasks come from.
    #[serde(default)]
    pub solo_tasks: SoloTasks,
    /// Let the environment grow its training state (OpenSOC's novelty archive) from each
    /// step's episodes; the state is saved in every checkpoint.
    #[serde(default = "yes")]
    pub grow_archive: bool,
    /// How the roles' sequences share the loss.
    #[serde(default)]
    pub loss_balance: LossBalance,
    /// Per-role credit assignment, keyed by role name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, RoleCreditConfig>,
}

impl Default for SelfPlayConfig {
    fn default() -> Self {
        Self {
            fork_group: default_fork(),
            solo_groups: 0,
            solo_role: None,
            solo_tasks: SoloTasks::Curriculum,
            grow_archive: true,
            loss_balance: LossBalance::Pooled,
            roles: BTreeMap::new(),
        }
    }
}

impl SelfPlayConfig {
    /// Range checks (role names are checked against the environment when the run is built).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.fork_group < 2 {
            return Err(ConfigError::new(
                "self_play.fork_group",
                format!(
                    "must be at least 2 (a group baseline needs two answers), got {}",
                    self.fork_group
                ),
            ));
        }
        if self.solo_groups > 0 && self.solo_role.is_none() {
            return Err(ConfigError::new(
                "self_play.solo_role",
                "name the role that plays the solo groups",
            ));
        }
        for (name, r) in &self.roles {
            if let Some(a) = &r.advantage {
                a.validate().map_err(|e| {
                    ConfigError::new(format!("self_play.roles.{name}.advantage"), e.to_string())
                })?;
            }
            let field = || format!("self_play.roles.{name}.loss_weight");
            match (r.loss_weight, self.loss_balance) {
                (Some(w), LossBalance::PerRole) if !(w.is_finite() && w > 0.0) => {
                    return Err(ConfigError::new(field(), format!("must be > 0, got {w}")));
                }
                (Some(_), LossBalance::Pooled) => {
                    return Err(ConfigError::new(
                        field(),
                        "only applies with loss_balance = \"per_role\"",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use vigil_core::AdvantageEstimator;

    use super::*;

    #[test]
    fn parses_validates_and_rejects_unknown_keys() {
        let c: SelfPlayConfig = toml::from_str(
            "fork_group = 3\nsolo_groups = 1\nsolo_role = \"defender\"\nsolo_tasks = \"all_stages\"\n[roles.attacker]\nadvantage = { kind = \"grpo\" }\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.solo_tasks, SoloTasks::AllStages);
        assert!(toml::from_str::<SelfPlayConfig>("solo_tasks = \"every\"").is_err());
        assert_eq!(c.loss_balance, LossBalance::Pooled);
        let per_role: SelfPlayConfig = toml::from_str("loss_balance = \"per_role\"").unwrap();
        assert_eq!(per_role.loss_balance, LossBalance::PerRole);
        assert!(toml::from_str::<SelfPlayConfig>("loss_balance = \"per_unit\"").is_err());
        let weighted = |b: &str, w: f64| {
            toml::from_str::<SelfPlayConfig>(&format!(
                "loss_balance = \"{b}\"\n[roles.defender]\nloss_weight = {w:?}\n"
            ))
            .unwrap()
            .validate()
        };
        weighted("per_role", 2.0).unwrap();
        assert!(
            weighted("per_role", 0.0)
                .unwrap_err()
                .to_string()
                .contains("loss_weight")
        );
        assert!(
            weighted("pooled", 2.0)
                .unwrap_err()
                .to_string()
                .contains("per_role")
        );
        assert_eq!(
            c.roles["attacker"].advantage.as_ref().map(|a| a.name()),
            Some("grpo")
        );
        assert!(toml::from_str::<SelfPlayConfig>("fork = 3").is_err());
        assert!(toml::from_str::<SelfPlayConfig>("[roles.attacker]\nadvantag = {}").is_err());
        let bad = SelfPlayConfig {
            fork_group: 1,
            ..SelfPlayConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("fork_group")
        );
        let bad = SelfPlayConfig {
            solo_groups: 2,
            ..SelfPlayConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("solo_role")
        );
    }
}
