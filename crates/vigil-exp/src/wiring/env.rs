//! `[env]`: one variant per environment crate.

use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use vigil_core::{Environment, Policy};
use vigil_env_cert::{CertConfig, CertEnv};
use vigil_env_opensec::{OpenSecConfig, OpenSecEnv};
use vigil_env_opensoc::{OpenSocConfig, OpenSocEnv};

/// The `[env]` section; `kind` picks the environment, the other keys are its own config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum EnvConfig {
    /// OpenSOC two-role incident triage.
    Opensoc(OpenSocConfig),
    /// OpenSec multi-turn incident response.
    Opensec(OpenSecConfig),
    /// CERT r4.2 insider-threat verdicts.
    Cert(CertConfig),
}

impl EnvConfig {
    /// Validates the environment's own options.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        match self {
            EnvConfig::Opensoc(c) => c.validate()?,
            EnvConfig::Opensec(c) => c.validate()?,
            EnvConfig::Cert(c) => c.validate()?,
        }
        Ok(())
    }
}

/// A built environment, keeping its concrete type so scripted baselines can read ground truth.
pub(crate) enum BuiltEnv {
    /// OpenSOC.
    Opensoc(Arc<OpenSocEnv>),
    /// OpenSec.
    Opensec(Arc<OpenSecEnv>),
    /// CERT.
    Cert(Arc<CertEnv>),
}

impl BuiltEnv {
    /// Builds the environment an `[env]` section describes.
    pub(crate) fn new(config: &EnvConfig) -> anyhow::Result<Self> {
        Ok(match config {
            EnvConfig::Opensoc(c) => {
                BuiltEnv::Opensoc(Arc::new(OpenSocEnv::new(c).context("opensoc")?))
            }
            EnvConfig::Opensec(c) => {
                BuiltEnv::Opensec(Arc::new(OpenSecEnv::new(c).context("opensec")?))
            }
            EnvConfig::Cert(c) => BuiltEnv::Cert(Arc::new(CertEnv::new(c).context("cert")?)),
        })
    }

    /// The environment behind the core trait.
    pub(crate) fn as_dyn(&self) -> Arc<dyn Environment> {
        match self {
            BuiltEnv::Opensoc(e) => e.clone(),
            BuiltEnv::Opensec(e) => e.clone(),
            BuiltEnv::Cert(e) => e.clone(),
        }
    }

    /// The names `[policy] kind = "scripted"` accepts for this environment.
    pub(crate) fn baseline_names(&self) -> Vec<String> {
        match self {
            BuiltEnv::Opensoc(_) => names(&vigil_env_opensoc::Baseline::VARIANTS, |b| b.as_str()),
            BuiltEnv::Opensec(_) => names(&vigil_env_opensec::Baseline::VARIANTS, |b| b.as_str()),
            BuiltEnv::Cert(_) => names(&vigil_env_cert::Baseline::VARIANTS, |b| b.name()),
        }
    }

    /// A scripted baseline by name (the environment's `Baseline` enum, snake_case).
    pub(crate) fn baseline(&self, name: &str, seed: u64) -> anyhow::Result<Box<dyn Policy>> {
        let env = self.as_dyn();
        let unknown = || {
            anyhow::anyhow!(
                "{} has no scripted baseline `{name}`; choose one of: {}",
                env.name(),
                self.baseline_names().join(", ")
            )
        };
        Ok(match self {
            BuiltEnv::Opensoc(e) => vigil_env_opensoc::baseline_policy(
                e.clone(),
                vigil_env_opensoc::Baseline::from_name(name).ok_or_else(unknown)?,
                seed,
            ),
            BuiltEnv::Opensec(e) => vigil_env_opensec::baseline_policy(
                e.clone(),
                vigil_env_opensec::Baseline::from_name(name).ok_or_else(unknown)?,
                seed,
            ),
            BuiltEnv::Cert(e) => vigil_env_cert::baseline_policy(
                e.clone(),
                vigil_env_cert::Baseline::from_name(name).ok_or_else(unknown)?,
                seed,
            ),
        })
    }
}

/// The names of an environment's `Baseline` variants, from its own list of them.
fn names<B: Copy>(variants: &[B], name: fn(B) -> &'static str) -> Vec<String> {
    variants.iter().map(|&b| name(b).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    /// Checks an environment's `VARIANTS` against the enum itself: every listed name parses back
    /// to its variant, and serde (which sees every variant) expects exactly the listed names.
    fn check<B: Copy + PartialEq + std::fmt::Debug + DeserializeOwned>(
        variants: &[B],
        name: fn(B) -> &'static str,
    ) {
        for &b in variants {
            assert_eq!(
                serde_json::from_value::<B>(serde_json::Value::String(name(b).into())).unwrap(),
                b
            );
        }
        let err = serde_json::from_value::<B>(serde_json::Value::String("\u{0}".into()))
            .unwrap_err()
            .to_string();
        let expected: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
        let listed: Vec<&str> = variants.iter().map(|&b| name(b)).collect();
        assert_eq!(listed, expected, "{err}");
    }

    #[test]
    fn baseline_lists_match_the_enums() {
        check(&vigil_env_opensoc::Baseline::VARIANTS, |b| b.as_str());
        check(&vigil_env_opensec::Baseline::VARIANTS, |b| b.as_str());
        check(&vigil_env_cert::Baseline::VARIANTS, |b| b.name());
        assert_eq!(
            vigil_env_cert::Baseline::from_name("rule_based"),
            Some(vigil_env_cert::Baseline::RuleBased)
        );
        assert_eq!(
            vigil_env_opensoc::Baseline::from_name("always_dismis"),
            None
        );
    }
}
