//! File and folder names inside a run folder (and a sweep folder).

/// The resolved config (every default spelled out), for people and for `exp run --resume`.
pub const RESOLVED_CONFIG: &str = "config.resolved.toml";
/// The run record readers use ([`crate::RunInfo`]).
pub const RUN_INFO: &str = "run.json";
/// One JSON line per optimizer step ([`crate::metrics::MetricsLine`]).
pub const METRICS: &str = "metrics.jsonl";
/// TensorBoard event files.
pub const TB_DIR: &str = "tb";
/// Evaluations: one folder per policy.
pub const EVAL_DIR: &str = "eval";
/// Evaluations made during training, inside [`EVAL_DIR`].
pub const DURING_DIR: &str = "during";
/// A policy's aggregate ([`crate::PolicySummary`]), inside `eval/<policy>/`.
pub const SUMMARY: &str = "summary.json";
/// A policy's episode records, one JSON line each, inside `eval/<policy>/`.
pub const EPISODES: &str = "episodes.jsonl";
/// Every policy's summary in comparison order, inside [`EVAL_DIR`]: written last, so its
/// existence marks a finished run ([`FINISHED`]).
pub const COMPARISON: &str = "comparison.json";
/// The comparison as a Markdown table, inside [`EVAL_DIR`].
pub const COMPARISON_MD: &str = "comparison.md";
/// Self-play runs: the game played by each checkpoint ([`crate::SelfPlayEval`]), inside
/// [`EVAL_DIR`].
pub const SELF_PLAY: &str = "self-play.json";
/// The same as a Markdown table, inside [`EVAL_DIR`].
pub const SELF_PLAY_MD: &str = "self-play.md";
/// The file whose existence marks a finished run, relative to the run folder.
pub const FINISHED: &str = "eval/comparison.json";
/// A sweep point's record inside its run folder.
pub const SWEEP_POINT: &str = "sweep-point.json";
/// A sweep's manifest inside the sweep folder.
pub const SWEEP: &str = "sweep.json";
