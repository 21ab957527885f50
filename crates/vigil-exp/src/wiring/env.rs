//! `[env]`: one variant per environment crate.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigil_core::{Environment, Policy};

/// The `[env]` section; `kind` picks the environment, the other keys are its own config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum EnvConfig {}

impl EnvConfig {
    /// Validates the environment's own options.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        match *self {}
    }
}

/// A built environment, keeping its concrete type so scripted baselines can read ground truth.
pub(crate) enum BuiltEnv {}

impl BuiltEnv {
    /// Builds the environment an `[env]` section describes.
    pub(crate) fn new(config: &EnvConfig) -> anyhow::Result<Self> {
        match *config {}
    }

    /// The environment behind the core trait.
    pub(crate) fn as_dyn(&self) -> Arc<dyn Environment> {
        match *self {}
    }

    /// The names `[policy] kind = "scripted"` accepts for this environment.
    pub(crate) fn baseline_names(&self) -> Vec<String> {
        match *self {}
    }

    /// A scripted baseline by name (the environment's `Baseline` enum, snake_case).
    pub(crate) fn baseline(&self, name: &str, seed: u64) -> anyhow::Result<Box<dyn Policy>> {
        let _ = (name, seed);
        match *self {}
    }
}

/// Parses a baseline name into an environment's `Baseline` enum, listing the valid names on error.
#[allow(dead_code)]
pub(crate) fn parse_baseline<B: serde::de::DeserializeOwned>(env: &str, name: &str) -> anyhow::Result<B> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|e| anyhow::anyhow!("{env} has no scripted baseline `{name}` ({e})"))
}
