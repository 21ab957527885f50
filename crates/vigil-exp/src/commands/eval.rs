//! `exp eval`: run the configured policy and the `[eval] baselines` over the hold-out, write
//! per-episode JSONL and summaries into `<run>/eval/`, and print a comparison table.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use vigil_core::SeedStream;
use vigil_schema::{PolicyRole, files};

use crate::cli::ConfigArgs;
use crate::config::{self, LoadedConfig};
use crate::evaluate::{self, EvalResult};
use crate::rundir;
use crate::wiring::{self, Built};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Run folder (default: `<output.dir>/<name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub(crate) fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let loaded = config::load(&args.cfg.config, &args.cfg.set)?;
    let built = wiring::validate(&loaded.config)?;
    let dir = rundir::prepare(&loaded, &built, args.out.as_deref())?;
    let results = eval_all(&loaded, &built)?;
    evaluate::report(&dir.join(files::EVAL_DIR), &results)
}

/// Evaluates the configured policy, then each baseline, on the same jobs.
pub(crate) fn eval_all(loaded: &LoadedConfig, built: &Built) -> anyhow::Result<Vec<EvalResult>> {
    let cfg = &loaded.config;
    let seeds = SeedStream::new(cfg.seed);
    let jobs = evaluate::jobs(built, &cfg.eval, seeds.seed("eval"))?;
    let mut results = Vec::new();
    let mut policy = cfg
        .policy
        .for_eval(cfg.eval.temperature)
        .build(&built.env, seeds.seed("policy"))
        .context("building [policy]")?;
    results.push(evaluate::evaluate(
        built,
        policy.as_mut(),
        (&cfg.policy.label(), PolicyRole::Configured),
        &jobs,
        &cfg.eval,
    )?);
    for b in &cfg.eval.baselines {
        if results.iter().any(|r| &r.policy == b) {
            continue;
        }
        let mut p = built
            .env
            .baseline(b, seeds.seed("policy"))
            .context("[eval] baselines")?;
        results.push(evaluate::evaluate(
            built,
            p.as_mut(),
            (b, PolicyRole::Baseline),
            &jobs,
            &cfg.eval,
        )?);
    }
    Ok(results)
}
