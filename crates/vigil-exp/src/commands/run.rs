//! `exp run`: the main job. Trains when the config has a `[trainer]` section, then evaluates;
//! without one it evaluates the configured policy against the baselines.

use std::path::PathBuf;

use clap::Args;

use crate::cli::ConfigArgs;
use crate::commands::eval;
use crate::config;
use crate::rundir;
use crate::wiring;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Run folder (default: `<output.dir>/<name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub(crate) fn run(args: &RunArgs) -> anyhow::Result<()> {
    let loaded = config::load(&args.cfg.config, &args.cfg.set)?;
    let built = wiring::build(&loaded.config)?;
    if loaded.config.trainer.is_some() {
        anyhow::bail!("{}: [trainer] is set, but training is not available in this build yet", loaded.path.display());
    }
    let dir = rundir::prepare(&loaded, args.out.as_deref())?;
    let results = eval::eval_all(&loaded, &built)?;
    eval::report(&dir.join("eval"), &results)
}
