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
            BuiltEnv::Opensoc(_) => variant_names::<vigil_env_opensoc::Baseline>(),
            BuiltEnv::Opensec(_) => variant_names::<vigil_env_opensec::Baseline>(),
            BuiltEnv::Cert(_) => variant_names::<vigil_env_cert::Baseline>(),
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
                parse_name(name).ok_or_else(unknown)?,
                seed,
            ),
            BuiltEnv::Opensec(e) => vigil_env_opensec::baseline_policy(
                e.clone(),
                parse_name(name).ok_or_else(unknown)?,
                seed,
            ),
            BuiltEnv::Cert(e) => vigil_env_cert::baseline_policy(
                e.clone(),
                parse_name(name).ok_or_else(unknown)?,
                seed,
            ),
        })
    }
}

/// Parses a snake_case variant name into a `Baseline` enum.
fn parse_name<B: serde::de::DeserializeOwned>(name: &str) -> Option<B> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// The variant names of a unit-variant enum, read from serde's own "expected one of" message so
/// the list can never drift from the enum.
fn variant_names<B: serde::de::DeserializeOwned>() -> Vec<String> {
    let Err(e) = serde_json::from_value::<B>(serde_json::Value::String("\u{0}".into())) else {
        return Vec::new();
    };
    let msg = e.to_string();
    msg.split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect()
}
