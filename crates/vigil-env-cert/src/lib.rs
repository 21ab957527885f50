//! CERT r4.2 insider-threat environment for Vigil.
//!
//! - [`rows`], [`csv`], [`types`]: a streaming loader for the r4.2 layout with typed rows, the
//!   dataset's id and date formats, quoted fields and a bad-row policy;
//!   [`answers`] and [`org`] read the answer key, LDAP snapshots and psychometric scores.
//! - [`synth`]: a generator writing the same files with scenarios 1–3 and their answer key.
//! - [`window`], [`features`], [`labels`], [`record`], [`split`]: streaming user/day windows
//!   (`E001…` ids, event cap, summary features, user history), labels, balanced seeded splits
//!   written as JSONL.
//! - [`prompt`], [`answer`], [`reward`], [`metrics`]: prompt rendering, the verdict parser,
//!   the `label`/`evidence`/`format`/`length` reward components and SOC Narrative's metrics.
//! - [`CertEnv`] implements [`vigil_core::Environment`]; [`baseline_policy`] gives the
//!   scripted baselines and [`probes`] the reward-hacking probes; [`CertConfig`] is the
//!   `[env]` body for `kind = "cert"`.

pub mod answer;
pub mod answers;
mod baseline;
pub mod bench;
mod config;
pub mod csv;
mod env;
mod error;
pub mod features;
pub mod hacking;
pub mod labels;
pub mod metrics;
pub mod org;
mod pipeline;
pub mod probes;
pub mod prompt;
pub mod record;
pub mod reward;
pub mod rows;
pub mod source;
pub mod split;
pub mod synth;
pub mod types;
pub mod window;

pub use baseline::{Baseline, baseline_policy, rule_based};
pub use config::{CertConfig, SourceConfig};
pub use env::{CertEnv, CertEpisode, STAGES, outcome};
pub use error::{CertError, CsvError, ValueError};
pub use metrics::{SocNarrativeMetrics, soc_narrative_metrics};
pub use pipeline::Dataset;
