//! The experiment config: one TOML file, every section typed, unknown keys rejected.
//!
//! ```toml
//! name = "opensoc-gdpo"        # run folder name (default: the file's stem)
//! seed = 7                     # every random choice derives from it
//! [env]       kind = "opensoc" # environment and its options
//! [policy]    kind = "qwen3"   # or "scripted", "openai"
//! [rewards]   weights = { correctness = 1.0, format = 0.5 }
//! [advantage] kind = "gdpo"
//! [trainer]   ...              # absent: `exp run` only evaluates
//! [eval]      baselines = ["always_dismiss", "verifier_oracle"]
//! [sweep]     grid = { "advantage.kind" = ["gdpo", "grpo"], seed = [1, 2, 3] }
//! [output]    dir = "runs"
//! ```

mod load;
mod sections;

pub(crate) use load::{LoadedConfig, POINT_DIR, load};
pub(crate) use sections::{EvalConfig, ExperimentConfig};
