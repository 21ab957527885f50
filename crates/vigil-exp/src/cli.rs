//! The command-line surface: one variant per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Vigil: train and evaluate LLM security agents with multi-objective RL.
#[derive(Debug, Parser)]
#[command(name = "exp", version, about, long_about = None)]
pub(crate) struct Cli {
    /// More logging (-v info, -vv debug); `VIGIL_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// A config file plus `--set key=value` overrides.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConfigArgs {
    /// Experiment config (TOML).
    pub config: PathBuf,
    /// Override a config key, e.g. `--set trainer.lr=1e-5` (repeatable; value parsed as TOML,
    /// falling back to a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an experiment: train when the config has a [trainer] section, then evaluate.
    Run(crate::commands::run::RunArgs),
    /// Validate a config and print what it resolves to.
    Check(crate::commands::check::CheckArgs),
    /// Run every point of a config's [sweep] (local workers or a Slurm job array); results table at the end.
    Sweep(crate::commands::sweep::SweepArgs),
    /// Tables and plots (training curves, comparisons, calibration, environment tables) from run and sweep folders.
    Report(crate::commands::report::ReportArgs),
    /// Evaluate the configured policy (and baselines) on the environment's hold-out.
    Eval(crate::commands::eval::EvalArgs),
    /// Compute advantages from a JSON document of grouped reward vectors.
    Advantage(crate::commands::advantage::AdvantageArgs),
    /// Distinct advantage vectors per estimator over every group of K binary rewards and G rollouts (why GDPO).
    Resolution(crate::commands::resolution::ResolutionArgs),
    /// Serve an environment over the OpenEnv-style HTTP API (sessions, /demo page).
    ServeEnv(crate::commands::serve_env::ServeEnvArgs),
    /// Serve a Qwen3 (and LoRA adapters) over an OpenAI-compatible chat-completions API.
    Serve(crate::commands::serve::ServeArgs),
    /// Encode text with a tokenizer folder: `{"ids": [...]}`.
    Tokenize(crate::commands::tokenize::TokenizeArgs),
    /// Render a chat with the folder's template (Qwen3): `{"text": "...", "ids": [...]}`.
    ChatTemplate(crate::commands::tokenize::ChatTemplateArgs),
    /// Tokenizer tools (`build`: a tiny Qwen-style tokenizer from a corpus).
    #[command(subcommand)]
    Tokenizer(crate::commands::tokenize::TokenizerCommand),
    /// The burn Qwen3: logits, log-probs, generation, LoRA gradients, random checkpoints.
    #[command(subcommand)]
    Model(crate::commands::model::ModelCommand),
    /// Benchmarks (`model`: the burn Qwen3's prefill/decode/train throughput as JSON).
    #[command(subcommand)]
    Bench(crate::commands::bench::BenchCommand),
    /// OpenSec data tools (`generate`: Vigil's seed set; `validate`: check a seed set; `audit`:
    /// investigation-free rules vs chance).
    #[command(subcommand)]
    Opensec(crate::commands::opensec::OpensecCommand),
    /// Dataset tools per environment (`exp data opensoc sft --n 600 --out FILE`, ...).
    #[command(subcommand)]
    Data(crate::commands::data::DataCommand),
}
