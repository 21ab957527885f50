//! `exp opensec`: OpenSec data tools. `generate` writes Vigil's seed set in the peer's format;
//! `validate` loads a seed set (manifest or JSONL) with every check the environment applies.

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
    }
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
