//! `exp report RUN_OR_SWEEP_DIR… --out DIR [--paper paper/]`: tables (Markdown, CSV, JSON) and
//! figures (PNG, SVG) from run folders; see `vigil_report`.

use std::path::PathBuf;

use clap::Args;
use vigil_report::{ReportOptions, write_report};

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run folders and/or sweep folders.
    #[arg(required = true, value_name = "RUN_OR_SWEEP_DIR")]
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Also copy the tables and figures into this write-up folder and refresh its include blocks.
    #[arg(long)]
    pub paper: Option<PathBuf>,
    /// Report name (folder under --paper; default: the first input's folder name).
    #[arg(long)]
    pub name: Option<String>,
    /// Seed of the bootstrap and permutation draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 10_000)]
    pub resamples: usize,
    /// Calibration bins.
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Sweep axis whose values are replicates of one variant.
    #[arg(long, default_value = "seed")]
    pub seed_key: String,
    /// Reference variant of the paired tests (default: the first).
    #[arg(long)]
    pub reference: Option<String>,
}

pub(crate) fn run(a: &ReportArgs) -> anyhow::Result<()> {
    let mut o = ReportOptions::new(a.out.clone());
    o.paper = a.paper.clone();
    o.name = a.name.clone();
    o.seed = a.seed;
    o.resamples = a.resamples;
    o.bins = a.bins;
    o.seed_key = a.seed_key.clone();
    o.reference = a.reference.clone();
    let out = write_report(&a.inputs, &o)?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "report `{}`: {} tables, {} files in {}",
            out.name,
            out.tables.len(),
            out.files.len(),
            a.out.display()
        );
        if let Some(p) = &a.paper {
            println!("paper folder refreshed: {}", p.join(&out.name).display());
        }
    }
    Ok(())
}
