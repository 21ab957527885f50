//! Self-play roles: `[policy.roles.<role>]` (who plays) and `[trainer.self_play]` (how each
//! role is credited) bound to the environment's roles.

use std::collections::BTreeMap;

use anyhow::Context;
use vigil_core::role_index;
use vigil_env_opensoc::episode::{ATTACKER_ROLE, DEFENDER_ROLE};
use vigil_policy::{Qwen3PolicyConfig, RolePolicyConfig};
use vigil_trainer::selfplay::{RolePlayer, SelfPlayConfig, SelfPlaySpec, build_roles};

use super::{BuiltEnv, PolicyConfig};
use crate::config::ExperimentConfig;

/// The roles of a self-play run, ready for the trainer.
pub(crate) fn self_play_spec(
    config: &ExperimentConfig,
    env: &BuiltEnv,
    q: &Qwen3PolicyConfig,
    sp: &SelfPlayConfig,
) -> anyhow::Result<SelfPlaySpec> {
    let roles = env.as_dyn().roles();
    let mut players = BTreeMap::new();
    for (name, p) in &q.roles {
        let player = match p {
            RolePolicyConfig::Shared {} => RolePlayer::Learner,
            RolePolicyConfig::Frozen {} => RolePlayer::Frozen,
            RolePolicyConfig::Scripted { baseline } => {
                let role = role_index(&roles, name).with_context(|| {
                    format!("[policy.roles.{name}]: the environment has no role `{name}`")
                })?;
                scripted(env, role, baseline)
                    .with_context(|| format!("[policy.roles.{name}]"))?
            }
        };
        players.insert(name.clone(), player);
    }
    Ok(build_roles(
        &roles,
        sp,
        &config.advantage,
        &config.rewards,
        players,
    )?)
}

/// A scripted player for role `role` by name.
fn scripted(env: &BuiltEnv, role: usize, name: &str) -> anyhow::Result<RolePlayer> {
    let BuiltEnv::Opensoc(e) = env else {
        anyhow::bail!("only OpenSOC has scripted role players");
    };
    let parse = |v: &str| serde_json::Value::String(v.to_string());
    if role == ATTACKER_ROLE {
        let kind: vigil_env_opensoc::AttackerBaseline = serde_json::from_value(parse(name))
            .with_context(|| format!("unknown scripted attacker `{name}` (stock_templates)"))?;
        return Ok(RolePlayer::Scripted(Box::new(move |seed| {
            vigil_env_opensoc::attacker_policy(kind, seed)
        })));
    }
    anyhow::ensure!(role == DEFENDER_ROLE, "OpenSOC has no role {role}");
    let kind: vigil_env_opensoc::Baseline = serde_json::from_value(parse(name))
        .with_context(|| format!("unknown scripted defender `{name}`"))?;
    anyhow::ensure!(
        kind != vigil_env_opensoc::Baseline::VerifierOracle,
        "verifier_oracle reads ground truth by task id, which a crafted incident does not have"
    );
    let env = e.clone();
    Ok(RolePlayer::Scripted(Box::new(move |seed| {
        vigil_env_opensoc::baseline_policy(env.clone(), kind, seed)
    })))
}

/// Checks `[policy.roles]` and `[trainer.self_play]` against the environment without loading
/// a model.
pub(crate) fn check(config: &ExperimentConfig, env: &BuiltEnv) -> anyhow::Result<()> {
    let sp = config.trainer.as_ref().and_then(|t| t.self_play.as_ref());
    match (&config.policy, sp) {
        (PolicyConfig::Qwen3(q), Some(sp)) => self_play_spec(config, env, q, sp).map(|_| ()),
        (_, Some(_)) => {
            anyhow::bail!("[trainer.self_play] trains a model: it needs [policy] kind = \"qwen3\"")
        }
        (PolicyConfig::Qwen3(q), None) if !q.roles.is_empty() => {
            anyhow::bail!(
                "[policy.roles] only applies to self-play training: add [trainer.self_play]"
            )
        }
        _ => Ok(()),
    }
}
