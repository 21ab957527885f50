//! Shared helpers: where the peer's seeds and our seeds are, and running a baseline.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use vigil_core::{DriverLimits, Environment, EpisodeRecord, Split, run_episodes};
use vigil_env_opensec::{Baseline, OpenSecConfig, OpenSecEnv, ScoringMode, baseline_policy};

pub use vigil_testkit::peer::opensec_dir_or_skip as peer_dir_or_skip;

/// The committed generated seed set.
pub fn our_manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensec/manifest.json")
}

/// The peer's 220 seeds, or `None` after [`peer_dir_or_skip`]'s note.
pub fn peer_env(mode: ScoringMode, test: &str) -> Option<Arc<OpenSecEnv>> {
    let dir = peer_dir_or_skip(test)?;
    let cfg = OpenSecConfig { seeds: dir.join("seeds/manifest.json"), scoring: mode, ..OpenSecConfig::default() };
    Some(Arc::new(OpenSecEnv::new(&cfg).expect("peer seeds load")))
}

pub fn our_env(mode: ScoringMode) -> Arc<OpenSecEnv> {
    let cfg = OpenSecConfig { seeds: our_manifest(), scoring: mode, ..OpenSecConfig::default() };
    Arc::new(OpenSecEnv::new(&cfg).expect("our seeds load"))
}

/// Runs `baseline` over every task of both splits.
pub fn run_all(env: &Arc<OpenSecEnv>, baseline: Baseline) -> Vec<EpisodeRecord> {
    let mut policy = baseline_policy(Arc::clone(env), baseline, 7);
    let mut jobs = Vec::new();
    for split in [Split::Train, Split::Eval] {
        jobs.extend(env.tasks(split, None).unwrap().into_iter().map(|t| (t, 11)));
    }
    run_episodes(env.as_ref(), policy.as_mut(), &jobs, DriverLimits::default(), |_| {}).expect("episodes run")
}
