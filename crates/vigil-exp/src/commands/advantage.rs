//! `exp advantage`: advantages of grouped reward vectors, JSON in and out.
//!
//! Input: `{"advantage": {"kind": "gdpo", ...}, "weights": [..], "groups": [[[..], ..], ..]}`
//! where the `advantage` object has exactly the fields of the config's `[advantage]` section.
//! A component value may be `null` (missing: an error unless `missing = "skip"`), and an
//! optional `"lengths": [[..], ..]` shaped like `groups` gives each rollout's response length in
//! tokens (required by token-weighted whitening, e.g. `compat = "verl"` with `gdpo`).
//! Output: `{"advantages": [[..], ..]}`, one number per rollout, nested like `groups`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use vigil_advantage::{AdvantageConfig, AdvantageEstimator, RewardBatch};

#[derive(Debug, Args)]
pub(crate) struct AdvantageArgs {
    /// JSON input file, or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    advantage: AdvantageConfig,
    weights: Vec<f64>,
    groups: Vec<Vec<Vec<Option<f64>>>>,
    #[serde(default)]
    lengths: Option<Vec<Vec<u64>>>,
}

pub(crate) fn run(args: &AdvantageArgs) -> anyhow::Result<()> {
    let (name, text) = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        ("<stdin>".to_string(), s)
    } else {
        let s = std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?;
        (args.input.display().to_string(), s)
    };
    let input: Input = serde_json::from_str(&text).with_context(|| {
        let hint = if ["NaN", "Infinity"].iter().any(|w| text.contains(w)) {
            " (NaN and Infinity are not JSON numbers; rewards must be finite)"
        } else {
            ""
        };
        format!("{name}: invalid input{hint}")
    })?;
    input.advantage.validate()?;
    let mut batch = RewardBatch::from_optional(&input.groups)
        .with_context(|| format!("{name}: invalid groups"))?;
    if let Some(lengths) = &input.lengths {
        batch = batch
            .with_lengths(lengths)
            .with_context(|| format!("{name}: invalid lengths"))?;
    }
    let flat = input
        .advantage
        .estimate(&batch, &input.weights)
        .with_context(|| format!("{name}: cannot compute advantages"))?;
    let out = serde_json::json!({ "advantages": batch.nest(&flat) });
    #[allow(clippy::print_stdout)]
    {
        println!("{out}");
    }
    Ok(())
}
