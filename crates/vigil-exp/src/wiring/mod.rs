//! Where configs become objects: the only place that names concrete environments, policies
//! and estimators. Each function is one exhaustive `match`, so adding a variant is a compile
//! error until it is wired everywhere.

mod env;
mod policy;
mod roles;

pub(crate) use env::{BuiltEnv, EnvConfig};
pub(crate) use policy::PolicyConfig;
pub(crate) use roles::self_play_spec;

use anyhow::Context;
use vigil_rewards::RewardSet;

use crate::config::ExperimentConfig;

/// An experiment's environment with its reward set bound and checked.
pub(crate) struct Built {
    /// The environment.
    pub env: BuiltEnv,
    /// The `[rewards]` section bound to the environment's components.
    pub rewards: RewardSet,
}

/// Builds the environment and checks `[rewards]` against the components it provides.
pub(crate) fn build(config: &ExperimentConfig) -> anyhow::Result<Built> {
    let env = BuiltEnv::new(&config.env).context("building [env]")?;
    let rewards = bind_rewards(config, &env)?;
    Ok(Built { env, rewards })
}

fn bind_rewards(config: &ExperimentConfig, env: &BuiltEnv) -> anyhow::Result<RewardSet> {
    RewardSet::new(&config.rewards, &env.as_dyn().reward_components()).context("[rewards]")
}

/// Every check `exp check` makes, without loading any model: builds the environment, binds
/// `[rewards]` to its components and resolves the scripted baselines the config names (the
/// config-only checks, `[trainer]` with a policy it can train included, ran when it loaded).
/// `exp check`, `exp run` (with or without `--dry-run`), `exp eval` and `exp sweep` (every
/// point, before the first runs) all go through here, so they accept and reject the same
/// configs with the same messages.
pub(crate) fn validate(config: &ExperimentConfig) -> anyhow::Result<Built> {
    let built = build(config)?;
    check_names(config, &built.env)?;
    Ok(built)
}

/// [`validate`] against an environment already built from the same `[env]` (sweep points
/// that differ only outside `[env]` share one).
pub(crate) fn validate_on(config: &ExperimentConfig, env: &BuiltEnv) -> anyhow::Result<()> {
    bind_rewards(config, env)?;
    check_names(config, env)
}

/// Checks the names a config uses that only the built environment can resolve (scripted
/// baselines).
fn check_names(config: &ExperimentConfig, env: &BuiltEnv) -> anyhow::Result<()> {
    if let PolicyConfig::Scripted { baseline } = &config.policy {
        env.baseline(baseline, 0).context("[policy]")?;
    }
    for b in &config.eval.baselines {
        env.baseline(b, 0).context("[eval] baselines")?;
    }
    if let Some(name) = config.trainer.as_ref().and_then(|t| t.sft.as_ref()).and_then(|s| s.teacher.as_ref()) {
        env.baseline(name, 0).context("[trainer.sft] teacher")?;
    }
    roles::check(config, env)
}
