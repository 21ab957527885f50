//! OpenSOC: two-role SOC alert triage with a deterministic verifier.
//!
//! An attacker (an LLM, a scripted policy, or the seeded [`generator`]) proposes an incident as
//! structured events ([`schema`], JSON in [`wire`]); the environment raises an alert and renders
//! the log window ([`render`]); a defender answers `Action:` / `CitedLog:` / `Rationale:`
//! ([`parse`]). Ground truth comes from a transparent rule cascade over the structured events
//! only ([`verifier`]), never from the attacker's narrative or claimed label; a separate
//! [`plausibility`] check gates the attacker's reward ([`attacker`]). The defender's reward is
//! five separate components ([`rubric`]).
//!
//! [`OpenSocEnv`] implements `vigil_core::Environment`: `Split::Train` is generated lazily
//! (`train/<stage>/<index>`), `Split::Eval` is the frozen hold-out (`holdout/NNN`).

pub mod action;
pub mod attacker;
pub mod baselines;
pub mod config;
mod env;
pub mod episode;
mod error;
pub mod generator;
pub mod hacking;
pub mod heuristic;
pub mod holdout;
pub mod net;
pub mod parse;
pub mod plausibility;
pub mod probes;
pub mod render;
pub mod rubric;
pub mod schema;
pub mod sft;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod time;
pub mod verifier;
pub mod wire;

pub use action::TriageAction;
pub use baselines::{AttackerBaseline, Baseline, SelfPlayPolicy, attacker_policy, baseline_policy, scripted_attacker};
pub use config::{LabelMix, Mode, OpenSocConfig, StageMixes};
pub use env::{OpenSocEnv, TaskRef};
pub use episode::{DefenderEpisode, SelfPlayEpisode};
pub use error::{OpenSocError, SchemaError};
pub use generator::{Stage, generate};
pub use schema::{Category, Event, EventKind, EventType, IncidentParams, LogId};
pub use verifier::{Verdict, compute_ground_truth};
