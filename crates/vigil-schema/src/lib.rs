//! The run folder as a typed contract between what writes it (`exp`, the trainer) and what
//! reads it (`exp report`, `exp sweep`): its file names ([`files`]), the run record `run.json`
//! ([`RunInfo`]: the resolved-config subset readers need, with the environment's reward
//! components and metric declarations), the lines of `metrics.jsonl` ([`metrics`]) and each
//! evaluated policy's `summary.json` ([`PolicySummary`]).
//!
//! Writers build these types and readers deserialize them, so renaming a field is a compile
//! error on both sides, and an unknown field in a file is an error rather than a default.
//! The crate is serde types only: no I/O, no environment.

pub mod files;
pub mod metrics;
mod run;
mod selfplay;

pub use run::{PolicyRole, PolicySummary, RunEnv, RunInfo};
pub use selfplay::{
    RolePlayer, SelfPlayCross, SelfPlayEval, SelfPlayMetric, SelfPlayPolicy, SelfPlayRole,
};
