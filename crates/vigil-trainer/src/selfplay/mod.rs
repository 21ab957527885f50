//! Self-play training of multi-role environments (OpenSOC: an attacker crafts incidents, a
//! defender triages them), each role learning from its own reward vector.
//!
//! - [`config`]: `[trainer.self_play]` (group shapes, solo curriculum groups, per-role credit);
//! - [`credit`]: per-role advantages and the rows each role's generations are trained on;
//! - `rollout`: the tree of a step (crafts, then a group of answers per crafted incident);
//! - `step`: one self-play RL step and its metrics line (per-role sections).
//!
//! Who plays each role is a [`RolePlayer`]: the trained weights (shared by every learning role,
//! told apart by the environment's role prompts), the weights frozen at the start of RL, or a
//! scripted policy.

pub mod config;
pub mod credit;
pub(crate) mod rollout;
pub(crate) mod step;

use std::collections::BTreeMap;

use vigil_advantage::AdvantageConfig;
use vigil_core::{Policy, RoleInfo};
use vigil_rewards::{RewardSet, RewardsConfig};

pub use config::{LossBalance, RoleCreditConfig, SelfPlayConfig, SoloTasks};

use crate::error::{ConfigError, TrainerError};

/// A scripted player, built per step from a seed.
pub type ScriptedPlayer = Box<dyn Fn(u64) -> Box<dyn Policy> + Send + Sync>;

/// Who plays a role.
pub enum RolePlayer {
    /// The model being trained (weights shared with every other learning role).
    Learner,
    /// The policy as it was when RL started (the SFT warm-start, or the base), never updated.
    Frozen,
    /// A scripted policy (not trained).
    Scripted(ScriptedPlayer),
}

impl RolePlayer {
    /// Whether the role's generations are trained.
    pub fn learns(&self) -> bool {
        matches!(self, Self::Learner)
    }
}

impl std::fmt::Debug for RolePlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Learner => "Learner",
            Self::Frozen => "Frozen",
            Self::Scripted(_) => "Scripted",
        })
    }
}

/// One role, ready to train: its name, rewards, estimator and player.
#[derive(Debug)]
pub struct RoleSpec {
    /// Role name.
    pub name: String,
    /// Weights and gates over the role's own components.
    pub rewards: RewardSet,
    /// The role's estimator.
    pub estimator: AdvantageConfig,
    /// Who plays it.
    pub player: RolePlayer,
    /// The outcome metrics logged for it (every metric when the environment names none).
    pub metrics: Vec<String>,
}

/// Every role of the environment, in its order.
#[derive(Debug)]
pub struct SelfPlaySpec {
    /// Roles, indexed like `Environment::roles`.
    pub roles: Vec<RoleSpec>,
}

/// The run's `[rewards]` restricted to one role's components (weights and gates that name only
/// them); every component weighs 1 when none of them has a weight there.
pub fn role_rewards(all: &RewardsConfig, role: &RoleInfo) -> RewardsConfig {
    let mine = |n: &String| role.components.iter().any(|c| &c.name == n);
    RewardsConfig {
        weights: all
            .weights
            .iter()
            .filter(|(k, _)| mine(k))
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        gates: all
            .gates
            .iter()
            .filter(|g| mine(&g.component) && mine(&g.on))
            .cloned()
            .collect(),
    }
}

/// Binds the per-role config to the environment's roles: each role gets its
/// `[trainer.self_play.roles.<name>]` credit (default: the run's `advantage` and `rewards`) and
/// its player (default: the learner). Names that are not roles of the environment are errors.
pub fn build_roles(
    roles: &[RoleInfo],
    cfg: &SelfPlayConfig,
    advantage: &AdvantageConfig,
    rewards: &RewardsConfig,
    mut players: BTreeMap<String, RolePlayer>,
) -> Result<SelfPlaySpec, TrainerError> {
    if roles.is_empty() {
        return Err(TrainerError::SelfPlay("[trainer.self_play] needs an environment with roles (OpenSOC: env.mode = \"self_play\")".into()));
    }
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    let unknown = |place: &str, name: &str| {
        ConfigError::new(
            place.to_string(),
            format!(
                "`{name}` is not a role of the environment; it has: {}",
                names.join(", ")
            ),
        )
    };
    if let Some(n) = cfg.roles.keys().find(|n| !names.contains(&n.as_str())) {
        return Err(unknown(&format!("self_play.roles.{n}"), n).into());
    }
    if let Some(n) = players.keys().find(|n| !names.contains(&n.as_str())) {
        return Err(TrainerError::SelfPlay(format!(
            "[policy.roles.{n}]: `{n}` is not a role of the environment; it has: {}",
            names.join(", ")
        )));
    }
    if let Some(n) = cfg.solo_role.as_deref().filter(|n| !names.contains(n)) {
        return Err(unknown("self_play.solo_role", n).into());
    }
    let mut out = Vec::with_capacity(roles.len());
    for r in roles {
        let credit = cfg.roles.get(&r.name).cloned().unwrap_or_default();
        let rc = credit.rewards.unwrap_or_else(|| role_rewards(rewards, r));
        let set = RewardSet::new(&rc, &r.components).map_err(|e| {
            ConfigError::new(format!("self_play.roles.{}.rewards", r.name), e.to_string())
        })?;
        let player = players.remove(&r.name).unwrap_or(RolePlayer::Learner);
        let estimator = credit.advantage.unwrap_or_else(|| advantage.clone());
        out.push(RoleSpec {
            name: r.name.clone(),
            rewards: set,
            estimator,
            player,
            metrics: r.metrics.clone(),
        });
    }
    if !out.iter().any(|r| r.player.learns()) {
        return Err(TrainerError::SelfPlay(
            "[policy.roles]: every role is frozen or scripted, so nothing would be trained".into(),
        ));
    }
    Ok(SelfPlaySpec { roles: out })
}

#[cfg(test)]
mod tests {
    use vigil_core::{AdvantageEstimator, ComponentInfo};

    use super::*;

    #[test]
    fn roles_default_to_the_run_and_reject_unknown_names() {
        let c = |n: &str| ComponentInfo::new(n, 0.0, 1.0, "");
        let roles = vec![
            RoleInfo::new("attacker", vec![c("a1"), c("a2")]),
            RoleInfo::new("defender", vec![c("d1")]),
        ];
        let adv: AdvantageConfig = toml::from_str("kind = \"gdpo\"").unwrap();
        let rewards: RewardsConfig = toml::from_str("weights = { d1 = 2.0 }").unwrap();
        let mut cfg = SelfPlayConfig::default();
        cfg.roles.insert(
            "attacker".into(),
            toml::from_str("advantage = { kind = \"rloo\" }").unwrap(),
        );
        let spec = build_roles(
            &roles,
            &cfg,
            &adv,
            &rewards,
            BTreeMap::from([("attacker".into(), RolePlayer::Frozen)]),
        )
        .unwrap();
        assert_eq!(spec.roles[0].estimator.name(), "rloo");
        assert_eq!(spec.roles[1].estimator.name(), "gdpo");
        assert_eq!(
            spec.roles[0].rewards.weights(),
            &[1.0, 1.0],
            "no attacker weight in [rewards]: all 1"
        );
        assert_eq!(spec.roles[1].rewards.weights(), &[2.0]);
        assert!(!spec.roles[0].player.learns() && spec.roles[1].player.learns());
        let e = build_roles(
            &roles,
            &cfg,
            &adv,
            &rewards,
            BTreeMap::from([("attackr".into(), RolePlayer::Frozen)]),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("policy.roles.attackr")
                && e.to_string().contains("attacker, defender"),
            "{e}"
        );
        let both = BTreeMap::from([
            ("attacker".into(), RolePlayer::Frozen),
            ("defender".into(), RolePlayer::Frozen),
        ]);
        assert!(
            build_roles(&roles, &cfg, &adv, &rewards, both)
                .unwrap_err()
                .to_string()
                .contains("nothing would be trained")
        );
        assert!(build_roles(&[], &cfg, &adv, &rewards, BTreeMap::new()).is_err());
    }
}
