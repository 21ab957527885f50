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
    let rewards =
        RewardSet::new(&config.rewards, &env.as_dyn().reward_components()).context("[rewards]")?;
    Ok(Built { env, rewards })
}

/// Checks the names a config uses that only the built environment can resolve (scripted
/// baselines), without loading any model.
pub(crate) fn check_names(config: &ExperimentConfig, built: &Built) -> anyhow::Result<()> {
    if let PolicyConfig::Scripted { baseline } = &config.policy {
        built.env.baseline(baseline, 0).context("[policy]")?;
    }
    for b in &config.eval.baselines {
        built.env.baseline(b, 0).context("[eval] baselines")?;
    }
    roles::check(config, built)
}
