//! `exp sweep CONFIG`: run every point of the config's `[sweep]` section — locally with N
//! parallel `exp run` subprocesses, or as a Slurm job array — then write the results table
//! (`results.{md,csv,json}` in the sweep folder).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use vigil_report::point::{PointRecord, PointStatus};
use vigil_report::sweep_table;

use crate::sweep::plan::{self, Planned};
use crate::sweep::{runner, slurm};

/// Where the points run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// Subprocesses on this machine.
    Local,
    /// One `sbatch` job array.
    Slurm,
}

#[derive(Debug, Args)]
pub(crate) struct SweepArgs {
    /// Experiment config with a `[sweep]` section.
    #[arg(required_unless_present = "run_point")]
    pub config: Option<PathBuf>,
    /// Override a key of the base config (repeatable), before the sweep's own axes.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Sweep folder (default: `<output.dir>/<name>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Parallel local workers (default: `[sweep] workers`, else the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Where the points run.
    #[arg(long, value_enum, default_value = "local")]
    pub backend: Backend,
    /// Gather results (statuses and the results table) without running anything.
    #[arg(long)]
    pub collect: bool,
    /// With `--backend slurm`: write the script and configs but do not call sbatch.
    #[arg(long)]
    pub no_submit: bool,
    /// List the points, their hashes and what would run; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run one prepared point folder (what each Slurm array task does).
    #[arg(long, value_name = "POINT_DIR", conflicts_with_all = ["config", "collect", "dry_run"])]
    pub run_point: Option<PathBuf>,
}

pub(crate) fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let exp = std::env::current_exe().context("locating the exp binary")?;
    if let Some(dir) = &args.run_point {
        let ok = runner::run_point(&exp, dir)?;
        anyhow::ensure!(
            ok,
            "point {} failed; see {}",
            dir.display(),
            dir.join(runner::LOG).display()
        );
        return Ok(());
    }
    let config = args.config.as_deref().context("give a sweep config")?;
    let (plan, texts) = plan::expand(config, &args.set, args.out.as_deref())?;
    if args.dry_run {
        return dry_run(&plan.points);
    }
    if args.collect {
        return collect(&plan.dir);
    }
    let _lock = runner::SweepLock::take({
        std::fs::create_dir_all(&plan.dir)
            .with_context(|| format!("creating {}", plan.dir.display()))?;
        &plan.dir
    })?;
    let plan = plan::prepare(plan, &texts)?;
    let todo: Vec<&Planned> = plan.points.iter().filter(|p| !p.done).collect();
    let skipped = plan.points.len() - todo.len();
    let sweep = plan.base.config.sweep.clone().unwrap_or_default();
    match args.backend {
        Backend::Local => {
            let workers = args
                .workers
                .or(sweep.workers)
                .unwrap_or_else(runner::default_workers);
            anyhow::ensure!(workers >= 1, "--workers must be at least 1");
            tracing::info!(
                points = plan.points.len(),
                skipped,
                workers,
                "sweep {}",
                plan.name
            );
            let tally = runner::run_local(&exp, &todo, workers);
            let table = write_results(&plan.dir, &plan.points)?;
            #[allow(clippy::print_stdout)]
            {
                print!("{}", table.markdown());
                println!(
                    "\n{} points: {} already finished, {} finished now, {} failed; results in {}",
                    plan.points.len(),
                    skipped,
                    tally.done,
                    tally.failed,
                    plan.dir.join("results.md").display()
                );
            }
            anyhow::ensure!(
                tally.failed == 0,
                "{} of {} points failed (see the error column of {})",
                tally.failed,
                plan.points.len(),
                plan.dir.join("results.md").display()
            );
            Ok(())
        }
        Backend::Slurm => {
            if todo.is_empty() {
                let table = write_results(&plan.dir, &plan.points)?;
                #[allow(clippy::print_stdout)]
                {
                    print!("{}", table.markdown());
                    println!(
                        "\nall {} points are finished; nothing to submit",
                        plan.points.len()
                    );
                }
                return Ok(());
            }
            let cfg = sweep.slurm.clone().unwrap_or_default();
            let (script, job) = slurm::write_and_submit(
                &plan.name,
                &plan.dir,
                &todo,
                &cfg,
                &exp,
                config,
                !args.no_submit,
            )?;
            for p in &todo {
                if let Some(mut r) = PointRecord::read(&p.dir)? {
                    if job.is_some() && r.status != PointStatus::Running {
                        r.status = PointStatus::Running;
                        r.write(&p.dir)?;
                    }
                }
            }
            #[allow(clippy::print_stdout)]
            match job {
                Some(j) => println!(
                    "submitted job array {j}: {} points ({skipped} already finished); gather with `exp sweep {} --collect`",
                    todo.len(),
                    config.display()
                ),
                None => println!(
                    "wrote {} for {} points ({skipped} already finished); {}submit it with `sbatch {}`, then `exp sweep {} --collect`",
                    script.display(),
                    todo.len(),
                    if args.no_submit {
                        ""
                    } else {
                        "sbatch is not on PATH: "
                    },
                    script.display(),
                    config.display()
                ),
            }
            Ok(())
        }
    }
}

fn write_results(dir: &Path, points: &[Planned]) -> anyhow::Result<vigil_report::table::Table> {
    let folders: Vec<String> = points.iter().map(|p| p.point.folder.clone()).collect();
    let table = sweep_table::results(dir, &folders)?;
    table.write(dir)?;
    Ok(table)
}

fn collect(dir: &Path) -> anyhow::Result<()> {
    let folders = plan::manifest_folders(dir)?;
    let table = sweep_table::results(dir, &folders)?;
    table.write(dir)?;
    let mut counts = std::collections::BTreeMap::new();
    for f in &folders {
        let s = PointRecord::read(&dir.join(f))?.map_or(PointStatus::Pending, |r| r.status);
        *counts
            .entry(format!("{s:?}").to_lowercase())
            .or_insert(0usize) += 1;
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{}", table.markdown());
        let c: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!(
            "\n{} points: {}; results in {}",
            folders.len(),
            c.join(", "),
            dir.join("results.md").display()
        );
    }
    Ok(())
}

fn dry_run(points: &[Planned]) -> anyhow::Result<()> {
    #[allow(clippy::print_stdout)]
    for p in points {
        let status = PointRecord::read(&p.dir)?
            .filter(|r| r.hash == p.hash)
            .map_or("new".to_string(), |r| {
                format!("{:?}", r.status).to_lowercase()
            });
        println!(
            "{}  {}  {}  {}",
            &p.hash[..12],
            status,
            p.point.label,
            p.point.sets.join(" ")
        );
    }
    Ok(())
}
