//! Shared helpers.

use vigil_core::{derive_seed, rng_from_seed};
use vigil_env_opensoc::generator::Generated;
use vigil_env_opensoc::{Stage, TriageAction, generate};

/// Proptest case count: small by default, `PROPTEST_CASES` for long runs.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A generated incident for (stage, label, seed).
pub(crate) fn incident(stage: Stage, label: TriageAction, seed: u64) -> Generated {
    let mut rng = rng_from_seed(derive_seed(seed, stage.as_str(), label as u64));
    generate(stage, label, &mut rng)
}

/// Path of the committed hold-out.
pub(crate) fn holdout_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensoc/holdout.jsonl")
}
