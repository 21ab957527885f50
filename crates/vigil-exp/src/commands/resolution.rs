//! `exp resolution`: the table behind "why GDPO": how many distinct advantage vectors each
//! estimator gives one group of `G` rollouts scored by `K` binary components, counted by running
//! the estimators on every possible group (`vigil_advantage::resolution`).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vigil_advantage::resolution::{distinct_advantages, groups_in};
use vigil_advantage::{AdvantageConfig, AdvantageEstimator};

#[derive(Debug, Args)]
pub(crate) struct ResolutionArgs {
    /// Numbers of binary reward components (K), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,3,4")]
    pub components: Vec<usize>,
    /// Group sizes (G), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "4,8,16")]
    pub group: Vec<usize>,
    /// Refuse a cell with more groups than this (K = 4, G = 16 has 300,540,195: a few minutes
    /// and about 2.5 GB per estimator).
    #[arg(long, default_value_t = 400_000_000)]
    pub limit: u128,
    /// A report folder: the table goes to `DIR/tables/resolution.md` (and `.json`), written
    /// atomically, as well as to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also copy the report into `PAPER/why-gdpo/` and refresh the include blocks of
    /// `PAPER/*.md` that name it (as `exp report --paper` does); needs `--out`.
    #[arg(long, value_name = "PAPER", requires = "out")]
    pub paper: Option<PathBuf>,
}

/// The folder name of this table under `paper/`.
const PAPER_NAME: &str = "why-gdpo";

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    components: usize,
    group: usize,
    groups: u64,
    /// `(estimator, distinct advantage vectors)`, in the table's column order.
    distinct: Vec<(&'static str, u64)>,
}

/// The estimators compared, at their defaults (made group-level by the library).
fn estimators() -> anyhow::Result<Vec<AdvantageConfig>> {
    ["grpo", "dr_grpo", "rloo", "gdpo"]
        .iter()
        .map(|kind| {
            toml::from_str(&format!("kind = \"{kind}\""))
                .with_context(|| format!("default config of {kind}"))
        })
        .collect()
}

pub(crate) fn run(args: &ResolutionArgs) -> anyhow::Result<()> {
    let estimators = estimators()?;
    let cells: Vec<(usize, usize)> = args
        .components
        .iter()
        .flat_map(|&k| args.group.iter().map(move |&g| (k, g)))
        .collect();
    // Every cell is checked before the long ones run.
    let mut work = 0u128;
    for &(k, g) in &cells {
        work += groups_in(k, g, args.limit).with_context(|| format!("K = {k}, G = {g}"))?;
    }
    let work = work * estimators.len() as u128;
    let bar = ProgressBar::new(u64::try_from(work).unwrap_or(u64::MAX)).with_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {percent}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix("resolution");
    let mut rows = Vec::with_capacity(cells.len());
    for &(k, g) in &cells {
        let mut distinct = Vec::with_capacity(estimators.len());
        let mut groups = 0;
        for e in &estimators {
            bar.set_message(format!("K={k} G={g} {}", e.name()));
            let r = distinct_advantages(e, k, g, args.limit)
                .with_context(|| format!("K = {k}, G = {g}, {}", e.name()))?;
            bar.inc(r.groups);
            groups = r.groups;
            distinct.push((e.name(), r.distinct));
        }
        rows.push(Row { components: k, group: g, groups, distinct });
    }
    bar.finish_and_clear();
    let table = markdown(&rows);
    #[allow(clippy::print_stdout)]
    {
        print!("{table}");
    }
    if let Some(dir) = &args.out {
        let out = dir.join("tables").join("resolution.md");
        vigil_core::write_atomic(&out, table.as_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
        let json = out.with_extension("json");
        let body = serde_json::to_vec_pretty(&rows).context("serializing the table")?;
        vigil_core::write_atomic(&json, &body)
            .with_context(|| format!("writing {}", json.display()))?;
        if let Some(paper) = &args.paper {
            let files = vigil_report::paper::refresh(paper, PAPER_NAME, dir)
                .with_context(|| format!("refreshing {}", paper.display()))?;
            tracing::info!(files = files.len(), "paper refreshed");
        }
    }
    Ok(())
}

fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| K components | G rollouts | groups enumerated |",
    );
    let names: Vec<&str> = rows
        .first()
        .map(|r| r.distinct.iter().map(|(n, _)| *n).collect())
        .unwrap_or_default();
    for n in &names {
        let _ = write!(s, " {n} |");
    }
    s.push_str("\n|---|---|---|");
    s.push_str(&"---|".repeat(names.len()));
    s.push('\n');
    for r in rows {
        let _ = write!(s, "| {} | {} | {} |", r.components, r.group, r.groups);
        for (_, d) in &r.distinct {
            let _ = write!(s, " {d} |");
        }
        s.push('\n');
    }
    s
}
