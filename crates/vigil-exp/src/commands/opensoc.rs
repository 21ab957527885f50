//! `exp data opensoc …`: OpenSOC data tools.
//!
//! - `sft --n 600 --out FILE`: gold SFT examples (chat JSONL: system, user, verifier-oracle
//!   answer) spread over the four stages, labels balanced; deterministic in `--seed`.
//! - `holdout --out FILE`: regenerate the frozen 200-incident hold-out; `--check FILE` compares
//!   a committed file with the generator's output byte for byte.
//! - `validate FILE`: load and re-verify a hold-out file; prints counts per stage and label.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use vigil_core::write_atomic;
use vigil_env_opensoc::holdout::{HOLDOUT_SEED, generate_holdout, load_holdout, to_jsonl};
use vigil_env_opensoc::sft::{SFT_SEED, sft_examples};

/// Most SFT examples one call writes.
const MAX_SFT: usize = 1_000_000;

/// `exp data opensoc …`.
#[derive(Debug, Subcommand)]
pub(crate) enum OpensocCommand {
    /// Write gold SFT examples (prompt → oracle answer) as chat JSONL.
    Sft(SftArgs),
    /// Regenerate the frozen hold-out, or check a committed one against the generator.
    Holdout(HoldoutArgs),
    /// Load and re-verify a hold-out file; print counts per stage and label.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SftArgs {
    /// Number of examples (split evenly over the four stages).
    #[arg(long, default_value_t = 600)]
    pub n: usize,
    /// Output JSONL file.
    #[arg(long)]
    pub out: PathBuf,
    /// Generator seed (the default differs from the hold-out's).
    #[arg(long, default_value_t = SFT_SEED)]
    pub seed: u64,
    /// Leave the rule table out of the system prompt (match `env.runbook = false`).
    #[arg(long)]
    pub no_runbook: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HoldoutArgs {
    /// Write the regenerated hold-out here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare this file with the regenerated hold-out; fails if they differ.
    #[arg(long)]
    pub check: Option<PathBuf>,
    /// Generator seed (the committed file uses the default).
    #[arg(long, default_value_t = HOLDOUT_SEED)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Hold-out JSONL file.
    pub file: PathBuf,
}

pub(crate) fn run(cmd: &OpensocCommand) -> anyhow::Result<()> {
    match cmd {
        OpensocCommand::Sft(a) => sft(a),
        OpensocCommand::Holdout(a) => holdout(a),
        OpensocCommand::Validate(a) => validate(a),
    }
}

#[allow(clippy::print_stdout)]
fn print_json(v: &serde_json::Value) {
    println!("{v}");
}

fn sft(a: &SftArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_SFT).contains(&a.n),
        "--n must be in 1..={MAX_SFT}, got {}",
        a.n
    );
    let examples = sft_examples(a.n, a.seed, !a.no_runbook);
    let mut text = String::new();
    let mut per_stage: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &examples {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
        *per_stage.entry(e.stage.as_str()).or_default() += 1;
    }
    write_atomic(&a.out, text.as_bytes())
        .with_context(|| format!("writing {}", a.out.display()))?;
    print_json(
        &serde_json::json!({ "examples": examples.len(), "per_stage": per_stage, "out": a.out }),
    );
    Ok(())
}

fn holdout(a: &HoldoutArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.out.is_some() || a.check.is_some(),
        "give --out FILE, --check FILE, or both"
    );
    let text = to_jsonl(&generate_holdout(a.seed));
    if let Some(out) = &a.out {
        write_atomic(out, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(path) = &a.check {
        let committed =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if committed != text {
            let line = committed
                .lines()
                .zip(text.lines())
                .position(|(x, y)| x != y)
                .map_or_else(
                    || committed.lines().count().min(text.lines().count()) + 1,
                    |k| k + 1,
                );
            anyhow::bail!(
                "{}:{line}: differs from the generator's hold-out (seed {})",
                path.display(),
                a.seed
            );
        }
    }
    print_json(
        &serde_json::json!({ "incidents": text.lines().count(), "seed": a.seed, "out": a.out, "checked": a.check }),
    );
    Ok(())
}

fn validate(a: &ValidateArgs) -> anyhow::Result<()> {
    let records = load_holdout(&a.file)?;
    let mut counts: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for r in &records {
        *counts
            .entry(r.stage.as_str())
            .or_default()
            .entry(r.gold_action.as_str())
            .or_default() += 1;
    }
    print_json(&serde_json::json!({ "incidents": records.len(), "per_stage": counts }));
    Ok(())
}
