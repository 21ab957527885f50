//! `CertConfig`: the body of an experiment's `[env]` table for `kind = "cert"`.
//!
//! ```toml
//! [env]
//! kind = "cert"
//! [env.source]            # where windows come from (default: a small synthetic dataset)
//! kind = "synthetic"      # or "dataset" (r4.2 layout) or "splits" (prebuilt JSONL)
//! users = 60
//! [env.window]            # max_events, min_events, cap, after_hours, sources, bad_rows
//! [env.labels]            # malicious, suspicious_in_range, heuristic_min_flags, foreign_rows
//! [env.split]             # seed, classes, train_per_class, eval_per_class, allow_short
//! [env.prompt]            # show_history, show_features, content_words, max_field_chars
//! [env.reward]            # suspicious_malicious, normal_suspicious, hallucination_penalty, ...
//! ```
//! Relative paths are taken from the working directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::CertError;
use crate::labels::LabelConfig;
use crate::prompt::PromptConfig;
use crate::reward::RewardConfig;
use crate::split::SplitConfig;
use crate::synth::SynthConfig;
use crate::window::WindowConfig;

fn default_release() -> String {
    "4.2".into()
}

/// `[env.source]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// Generate a dataset in memory from a seed (runs anywhere; the default).
    Synthetic(SynthConfig),
    /// A directory in the r4.2 layout (the real dataset, or `exp data cert synth` output).
    Dataset {
        /// The release directory (holding `logon.csv`, ..., `LDAP/`).
        dir: PathBuf,
        /// Where `insiders.csv` and `r<release>-<n>/` live (default `<dir>/answers`).
        #[serde(default)]
        answers_dir: Option<PathBuf>,
        /// Release whose insiders to use (`insiders.csv` covers all releases).
        #[serde(default = "default_release")]
        release: String,
    },
    /// Prebuilt split files (`exp data cert windows` output).
    Splits {
        /// `train_balanced_*.jsonl`.
        train: PathBuf,
        /// `dev_balanced_*.jsonl`.
        eval: PathBuf,
    },
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig::Synthetic(SynthConfig::default())
    }
}

/// The CERT environment's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertConfig {
    /// Data source.
    #[serde(default)]
    pub source: SourceConfig,
    /// Window building.
    #[serde(default)]
    pub window: WindowConfig,
    /// Label rule.
    #[serde(default)]
    pub labels: LabelConfig,
    /// Split selection (ignored for `source.kind = "splits"`).
    #[serde(default)]
    pub split: SplitConfig,
    /// Prompt rendering.
    #[serde(default)]
    pub prompt: PromptConfig,
    /// Reward components.
    #[serde(default)]
    pub reward: RewardConfig,
}

impl CertConfig {
    /// Checks every section.
    pub fn validate(&self) -> Result<(), CertError> {
        match &self.source {
            SourceConfig::Synthetic(s) => s.validate()?,
            SourceConfig::Dataset { release, dir, .. } => {
                if release.is_empty() {
                    return Err(CertError::config("source.release", "must not be empty"));
                }
                if dir.as_os_str().is_empty() {
                    return Err(CertError::config("source.dir", "must not be empty"));
                }
            }
            SourceConfig::Splits { train, eval } => {
                if train == eval {
                    return Err(CertError::config("source.eval", "must differ from source.train"));
                }
            }
        }
        self.window.validate()?;
        self.labels.validate()?;
        self.split.validate()?;
        self.prompt.validate()?;
        self.reward.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lead's `[env]` enum is internally tagged by `kind`; the body must still reject
    /// unknown keys at every level.
    #[derive(Debug, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum EnvConfig {
        Cert(CertConfig),
    }

    #[test]
    fn toml_round_trip_defaults_and_unknown_keys() {
        let c: EnvConfig = toml::from_str("kind = \"cert\"\n[source]\nkind = \"synthetic\"\nusers = 30\n").unwrap();
        let EnvConfig::Cert(c) = c;
        let SourceConfig::Synthetic(s) = &c.source else { panic!("synthetic") };
        assert_eq!(s.users, 30);
        assert_eq!(c.window, WindowConfig::default());
        c.validate().unwrap();
        let back: CertConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        for bad in [
            "kind = \"cert\"\nwindw = {}\n",
            "kind = \"cert\"\n[window]\nmax_event = 3\n",
            "kind = \"cert\"\n[source]\nkind = \"synthetic\"\nuser = 3\n",
            "kind = \"cert\"\n[source]\nkind = \"splits\"\ntrain = \"a\"\neval = \"b\"\nextra = 1\n",
        ] {
            assert!(toml::from_str::<EnvConfig>(bad).is_err(), "{bad}");
        }
        let c: CertConfig = toml::from_str("[reward]\nmax_words = 10\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("reward.max_words"));
    }
}
