//! The frozen 200-incident hold-out (`seeds/opensoc/holdout.jsonl`).
//!
//! 50 incidents per stage, exactly 10 per label per stage, made by the generator from a fixed
//! seed. Each line stores the incident and the verifier's answer at freezing time; loading
//! re-checks schema, plausibility and the verifier, so a rule change that would silently move
//! hold-out labels is caught with the line number.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_core::{derive_seed, rng_from_seed};

use crate::action::TriageAction;
use crate::error::OpenSocError;
use crate::generator::{Stage, generate};
use crate::plausibility::check_plausibility;
use crate::schema::{IncidentParams, LogId};
use crate::verifier::{RuleId, compute_ground_truth};

/// Seed the committed hold-out was generated from.
pub const HOLDOUT_SEED: u64 = 20_260_425;
/// Incidents per stage.
pub const HOLDOUT_PER_STAGE: usize = 50;

/// One hold-out line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldoutRecord {
    /// Task id, `holdout/NNN`.
    pub id: String,
    /// Curriculum stage.
    pub stage: Stage,
    /// Generator template that built it.
    pub template: String,
    /// Verifier action when frozen.
    pub gold_action: TriageAction,
    /// Verifier rule when frozen.
    pub gold_rule: RuleId,
    /// Accepted citations when frozen.
    pub gold_triggers: Vec<LogId>,
    /// The incident.
    pub incident: IncidentParams,
}

/// The id of hold-out item `n`.
pub fn holdout_id(n: usize) -> String {
    format!("holdout/{n:03}")
}

/// Generates the hold-out from `seed` (the committed file uses [`HOLDOUT_SEED`]).
pub fn generate_holdout(seed: u64) -> Vec<HoldoutRecord> {
    let mut out = Vec::with_capacity(HOLDOUT_PER_STAGE * Stage::ALL.len());
    for (s, stage) in Stage::ALL.into_iter().enumerate() {
        for k in 0..HOLDOUT_PER_STAGE {
            let label = TriageAction::ALL[k % TriageAction::ALL.len()];
            let mut rng = rng_from_seed(derive_seed(seed, stage.as_str(), k as u64));
            let g = generate(stage, label, &mut rng);
            let v = compute_ground_truth(&g.params);
            out.push(HoldoutRecord {
                id: holdout_id(s * HOLDOUT_PER_STAGE + k),
                stage,
                template: g.template.to_owned(),
                gold_action: v.action,
                gold_rule: v.rule,
                gold_triggers: v.triggers,
                incident: g.params,
            });
        }
    }
    out
}

/// One JSON object per line, newline-terminated.
pub fn to_jsonl(records: &[HoldoutRecord]) -> String {
    let mut s = String::new();
    for r in records {
        // Serializing plain data to a String cannot fail.
        let _ = writeln!(s, "{}", serde_json::to_string(r).unwrap_or_default());
    }
    s
}

/// Parses and re-verifies hold-out JSONL text; `path` is only used in error messages.
pub fn parse_holdout(text: &str, path: &Path) -> Result<Vec<HoldoutRecord>, OpenSocError> {
    let bad = |line: usize, reason: String| OpenSocError::DataLine { path: path.to_owned(), line, reason };
    let mut out: Vec<HoldoutRecord> = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let r: HoldoutRecord = serde_json::from_str(raw).map_err(|e| bad(line, e.to_string()))?;
        if out.iter().any(|x| x.id == r.id) {
            return Err(bad(line, format!("duplicate id `{}`", r.id)));
        }
        check_plausibility(&r.incident).map_err(|e| bad(line, e.to_string()))?;
        let v = compute_ground_truth(&r.incident);
        if v.action != r.gold_action || v.rule != r.gold_rule || v.triggers != r.gold_triggers {
            return Err(bad(
                line,
                format!(
                    "stored gold ({}, {}, {:?}) disagrees with the verifier ({}, {}, {:?}); the rules changed or the line was edited",
                    r.gold_action, r.gold_rule.as_str(), r.gold_triggers, v.action, v.rule.as_str(), v.triggers
                ),
            ));
        }
        out.push(r);
    }
    if out.is_empty() {
        return Err(bad(0, "the hold-out has no incidents".into()));
    }
    Ok(out)
}

/// Reads and re-verifies a hold-out file.
pub fn load_holdout(path: &Path) -> Result<Vec<HoldoutRecord>, OpenSocError> {
    let text = std::fs::read_to_string(path).map_err(|source| OpenSocError::Io { path: path.to_owned(), source })?;
    parse_holdout(&text, path)
}
