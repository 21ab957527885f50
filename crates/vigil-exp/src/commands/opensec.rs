//! `exp opensec`: OpenSec data tools. `generate` writes Vigil's seed set in the peer's format;
//! `validate` loads a seed set (manifest or JSONL) with every check the environment applies;
//! `audit` measures how far investigation-free rules get on a seed set, next to chance.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use vigil_env_opensec::generator::{GeneratorConfig, generate, write_jsonl, write_set};
use vigil_env_opensec::{OpenSecConfig, OpenSecEnv, ScoringMode};

#[derive(Debug, Subcommand)]
pub(crate) enum OpensecCommand {
    /// Generate Vigil's seed set (manifest.json + *_seed.json / *_ground_truth.json pairs).
    Generate(GenerateArgs),
    /// Load and check a seed set; print the number of seeds per split and tier.
    Validate(ValidateArgs),
    /// Score investigation-free rules (names, order, frequency, only-X, injections) per report
    /// field next to chance; print the table.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// `manifest.json` or `.jsonl`.
    pub seeds: PathBuf,
    /// Rules to audit under: `hardened` (what a trained agent sees) or `compat`.
    #[arg(long, default_value = "hardened", value_parser = ["hardened", "compat"])]
    pub mode: String,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Print the table as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// Exit with an error when a rule is more than this many points above chance.
    #[arg(long)]
    pub max_excess: Option<f64>,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Output folder.
    #[arg(long, default_value = "seeds/opensec")]
    pub out: PathBuf,
    /// Generator settings (JSON: seed, train/eval tier counts, created_at); defaults otherwise.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override the root seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the set in the JSONL row layout to this file.
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// `manifest.json` or `.jsonl`.
    pub seeds: PathBuf,
}

pub(crate) fn run(cmd: &OpensecCommand) -> anyhow::Result<()> {
    match cmd {
        OpensecCommand::Generate(a) => generate_cmd(a),
        OpensecCommand::Validate(a) => validate(a),
        OpensecCommand::Audit(a) => audit_cmd(a),
    }
}

fn audit_cmd(a: &AuditArgs) -> anyhow::Result<()> {
    let scoring = if a.mode == "compat" { ScoringMode::Compat } else { ScoringMode::Hardened };
    let env = OpenSecEnv::new(&OpenSecConfig { seeds: a.seeds.clone(), scoring, ..OpenSecConfig::default() })?;
    let report = vigil_env_opensec::audit::audit(&env);
    if let Some(p) = &a.json {
        let mut bytes = serde_json::to_vec_pretty(&report)?;
        bytes.push(b'\n');
        vigil_core::write_atomic(p, &bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{} ({} mode): {} scenarios; accuracy % (points above chance)",
            a.seeds.display(),
            a.mode,
            report.scenarios
        );
        print!("{}", if a.markdown { report.markdown() } else { report.table() });
    }
    if let (Some(max), Some(w)) = (a.max_excess, report.worst()) {
        anyhow::ensure!(
            w.excess_points() <= max,
            "rule `{}` on `{}` is {:.1} points above chance (limit {max})",
            w.rule,
            w.field.as_str(),
            w.excess_points()
        );
    }
    Ok(())
}

fn generate_cmd(a: &GenerateArgs) -> anyhow::Result<()> {
    let mut cfg = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str::<GeneratorConfig>(&text)
                .with_context(|| format!("{}", p.display()))?
        }
        None => GeneratorConfig::default(),
    };
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    let seeds = generate(&cfg)?;
    write_set(&a.out, &seeds)?;
    if let Some(j) = &a.jsonl {
        write_jsonl(j, &seeds)?;
    }
    #[allow(clippy::print_stdout)]
    {
        println!("wrote {} seeds to {}", seeds.len(), a.out.display());
    }
    Ok(())
}

fn validate(a: &ValidateArgs) -> anyhow::Result<()> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for mode in [ScoringMode::Compat, ScoringMode::Hardened] {
        let env = OpenSecEnv::new(&OpenSecConfig {
            seeds: a.seeds.clone(),
            scoring: mode,
            ..OpenSecConfig::default()
        })?;
        counts.clear();
        for s in env.scenarios() {
            *counts
                .entry(format!("{} {}", s.split(), s.tier().as_str()))
                .or_default() += 1;
        }
    }
    #[allow(clippy::print_stdout)]
    {
        let total: usize = counts.values().sum();
        println!("{}: {total} seeds", a.seeds.display());
        for (k, n) in &counts {
            println!("  {k}: {n}");
        }
    }
    Ok(())
}
