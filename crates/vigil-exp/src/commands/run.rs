//! `exp run`: the main job. With a `[trainer]` section it trains (SFT warm-start, then RL over
//! the curriculum), evaluates the warm-started and final policies against the scripted
//! baselines, and prints the before/after table; without one it evaluates the configured policy.
//! `--resume runs/<name>` continues a killed run exactly; `--dry-run` checks everything and
//! prints parameter counts and a memory estimate without loading weights.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use vigil_schema::files;

use crate::commands::eval;
use crate::config::{self, LoadedConfig};
use crate::rundir;
use crate::training;
use crate::wiring;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Experiment config (TOML); not needed with `--resume`.
    #[arg(required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// Override a config key, e.g. `--set trainer.lr=1e-5` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run folder (default: `<output.dir>/<name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the training run in this folder (its `config.resolved.toml` is the config).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "out"])]
    pub resume: Option<PathBuf>,
    /// Validate the config, check model files, print parameter counts and a GPU memory
    /// estimate; load and train nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub(crate) fn run(args: &RunArgs) -> anyhow::Result<()> {
    let (loaded, out) = match (&args.resume, &args.config) {
        (Some(dir), _) => (resume_config(dir, &args.set)?, Some(dir.clone())),
        (None, Some(path)) => (config::load(path, &args.set)?, args.out.clone()),
        (None, None) => anyhow::bail!("give a config file or --resume RUN_DIR"),
    };
    let built = wiring::validate(&loaded.config)?;
    if args.dry_run {
        return training::dry_run(&loaded, &built);
    }
    let dir = match &out {
        Some(d) => d.clone(),
        None => loaded.config.output.dir.join(loaded.name()),
    };
    // A sweep config run on its own: its `{point_dir}` is this run's folder.
    let (loaded, built) = if loaded.resolved_toml()?.contains(config::POINT_DIR) {
        let config = loaded.placed_in(&dir)?.1;
        let built = wiring::validate(&config)?;
        (LoadedConfig { path: loaded.path, config }, built)
    } else {
        (loaded, built)
    };
    if loaded.config.trainer.is_none() {
        let dir = rundir::prepare(&loaded, &built, Some(&dir))?;
        let results = eval::eval_all(&loaded, &built)?;
        return crate::evaluate::report(&dir.join(files::EVAL_DIR), &results);
    }
    let started = dir.join("checkpoints").join("latest").is_file();
    if started && args.resume.is_none() {
        anyhow::bail!(
            "{} already holds a training run; continue it with `exp run --resume {}` or choose another --out",
            dir.display(),
            dir.display()
        );
    }
    let dir = rundir::prepare(&loaded, &built, Some(&dir))?;
    training::train_and_report(&loaded, &built, &dir)
}

/// The resolved config of an existing run folder, with `--set` overrides on top.
fn resume_config(dir: &Path, sets: &[String]) -> anyhow::Result<LoadedConfig> {
    let path = dir.join(rundir::RESOLVED);
    anyhow::ensure!(
        path.is_file(),
        "{} is not a run folder (no {})",
        dir.display(),
        rundir::RESOLVED
    );
    config::load(&path, sets).with_context(|| format!("resuming {}", dir.display()))
}
