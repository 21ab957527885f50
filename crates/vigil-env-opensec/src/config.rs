//! `[env]` table of an experiment config for `kind = "opensec"`.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use vigil_core::Split;

use crate::{ObservationFormat, OpenSecError, ScoringMode, Tier};

/// Where the seeds are, which of them to use, and which rules apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenSecConfig {
    /// `manifest.json` (seed/ground-truth file pairs) or a `.jsonl` file in the peer's row
    /// layout. Relative paths are taken from the working directory.
    pub seeds: PathBuf,
    /// `hardened` (default) or `compat` (the peer's rules, leaks included).
    pub scoring: ScoringMode,
    /// Manifest split that serves as the environment's training split.
    pub train_split: Split,
    /// Manifest split that serves as the frozen evaluation split.
    pub eval_split: Split,
    /// Only these tiers (empty: all).
    pub tiers: Vec<Tier>,
    /// Only these taxonomy families (empty: all).
    pub families: Vec<String>,
    /// Only these scenario ids (empty: all).
    pub tasks: Vec<String>,
    /// Step budget of seeds without `metadata.max_steps`.
    pub default_max_steps: u32,
    /// Upper bound on every seed's step budget (CPU-sized studies with tiny models, which
    /// rarely submit early); `None` keeps each seed's own budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_steps_cap: Option<u32>,
    /// Drop every injection payload (violations become impossible; the injected text stays in
    /// the evidence), as the peer's `mask_injections` curriculum phase.
    pub mask_injections: bool,
    /// Seed for the neutral host/user ids of hardened mode.
    pub rename_seed: u64,
    /// `full` (default) or `compact` observations ([`ObservationFormat`]).
    pub observation: ObservationFormat,
}

impl Default for OpenSecConfig {
    fn default() -> Self {
        Self {
            seeds: PathBuf::from("seeds/opensec/manifest.json"),
            scoring: ScoringMode::Hardened,
            train_split: Split::Train,
            eval_split: Split::Eval,
            tiers: Vec::new(),
            families: Vec::new(),
            tasks: Vec::new(),
            default_max_steps: 15,
            max_steps_cap: None,
            mask_injections: false,
            rename_seed: 0,
            observation: ObservationFormat::Full,
        }
    }
}

impl OpenSecConfig {
    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), OpenSecError> {
        let ext = self.seeds.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "json" | "jsonl") {
            return Err(OpenSecError::config(
                "seeds",
                format!("`{}` must be a manifest .json or a .jsonl file", self.seeds.display()),
            ));
        }
        if !(1..=1000).contains(&self.default_max_steps) {
            return Err(OpenSecError::config(
                "default_max_steps",
                format!("{} is outside 1..=1000", self.default_max_steps),
            ));
        }
        if let Some(c) = self.max_steps_cap {
            if !(1..=1000).contains(&c) {
                return Err(OpenSecError::config("max_steps_cap", format!("{c} is outside 1..=1000")));
            }
        }
        fn no_dups<T: std::hash::Hash + Eq + std::fmt::Debug>(field: &str, v: &[T]) -> Result<(), OpenSecError> {
            let mut seen = HashSet::new();
            match v.iter().enumerate().find(|(_, x)| !seen.insert(*x)) {
                Some((i, x)) => Err(OpenSecError::config(format!("{field}[{i}]"), format!("{x:?} is listed twice"))),
                None => Ok(()),
            }
        }
        no_dups("tiers", &self.tiers)?;
        no_dups("families", &self.families)?;
        no_dups("tasks", &self.tasks)?;
        if self.train_split == self.eval_split {
            tracing::warn!(split = %self.train_split, "opensec: train_split and eval_split are the same manifest split");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_keys_are_rejected() {
        OpenSecConfig::default().validate().unwrap();
        let c: OpenSecConfig = serde_json::from_str(r#"{"scoring": "compat", "tiers": ["trivial"]}"#).unwrap();
        assert_eq!((c.scoring, c.tiers.as_slice()), (ScoringMode::Compat, &[Tier::Trivial][..]));
        assert!(serde_json::from_str::<OpenSecConfig>(r#"{"scorng": "compat"}"#).is_err());
        let bad = OpenSecConfig { tiers: vec![Tier::Easy, Tier::Easy], ..OpenSecConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("tiers[1]"));
        let bad = OpenSecConfig { seeds: "x.csv".into(), ..OpenSecConfig::default() };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn works_as_the_body_of_a_kind_tagged_env_table() {
        #[derive(Debug, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum EnvConfig {
            Opensec(OpenSecConfig),
        }
        let EnvConfig::Opensec(c) = serde_json::from_str(r#"{"kind": "opensec", "scoring": "compat"}"#).unwrap();
        assert_eq!(c.scoring, ScoringMode::Compat);
        assert!(serde_json::from_str::<EnvConfig>(r#"{"kind": "opensec", "scorng": "compat"}"#).is_err());
    }
}
