//! OpenSec incident-response environment: seeds, tools, prompt injections, decomposed scoring.
//!
//! An agent investigates a phishing-to-exfiltration incident with tools (a structured log query,
//! email and alert fetches), contains entities (isolate a host, block a domain, reset a user),
//! resists prompt injections planted in the evidence, and submits a report. The reward has four
//! separate components — attribution, containment, injection safety, efficiency — for GDPO.
//!
//! - [`seed`]: the peer's seed format (`*_seed.json`, `*_ground_truth.json`, `manifest.json`,
//!   and the JSONL row layout), loaded with field-path errors.
//! - [`OpenSecEnv`] / [`OpenSecEpisode`]: the episode state machine with the peer's
//!   deterministic graph-driven attacker, in `compat` or `hardened` mode ([`ScoringMode`]).
//! - [`score`]: the reward components over a [`GradedEpisode`]; [`metrics`]: episode metrics.
//! - [`parse_action`]: the lenient tool-call parser; [`Observation`]: typed observations.
//! - [`Baseline`] / [`baseline_policy`]: scripted policies; [`generator`]: our own seed set;
//!   [`audit`]: how far investigation-free rules get on a seed set.
//!
//! Everything is in memory (no SQLite): an episode step is a few microseconds.

mod action;
mod attacker;
pub mod audit;
mod baselines;
mod config;
mod env;
mod episode;
mod error;
mod evidence;
pub mod generator;
pub mod hacking;
pub mod metrics;
mod observation;
mod query;
mod rename;
mod scenario;
pub mod score;
pub mod seed;
#[cfg(feature = "testkit")]
pub mod testkit;
mod time;

pub use action::{Action, Parsed, Report, parse_action};
pub use attacker::{Advance, AttackerAction, AttackerContext, Contained};
pub use baselines::{Baseline, baseline_policy, probes};
pub use config::OpenSecConfig;
pub use env::OpenSecEnv;
pub use episode::OpenSecEpisode;
pub use error::OpenSecError;
pub use evidence::{Cell, Column, Row, Table, text_kv};
pub use metrics::{CalibrationLevel, calibration_level};
pub use observation::{INITIAL_VECTORS, Observation, ObservationFormat, ToolResult, system_prompt};
pub use query::{DEFAULT_LIMIT, Filter, FilterValue, MAX_LIMIT, Op, Query, QuerySig};
pub use scenario::Scenario;
pub use score::{Executed, GradedEpisode, ScoringMode, Violation};
pub use seed::{Tier, ToolName};
