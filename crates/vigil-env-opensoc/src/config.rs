//! `[env]` configuration for `kind = "opensoc"`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::action::TriageAction;
use crate::error::OpenSocError;
use crate::generator::Stage;

/// Who plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The environment generates the incident; the policy triages it (one turn).
    #[default]
    DefenderOnly,
    /// The policy first crafts an incident (`craft_incident` JSON), then triages it (two turns).
    /// The hold-out (`Split::Eval`) is always defender-only.
    SelfPlay,
}

fn one() -> f64 {
    1.0
}

/// Relative weights of the five labels in one stage's generated incidents. Labels are assigned
/// by a deterministic round-robin over a 100-slot cycle, so any 100 consecutive training tasks
/// hit the mix exactly (no sampling noise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LabelMix {
    #[serde(default = "one")]
    pub dismiss: f64,
    #[serde(default = "one")]
    pub monitor: f64,
    #[serde(default = "one")]
    pub quarantine_host: f64,
    #[serde(default = "one")]
    pub block_ip: f64,
    #[serde(default = "one")]
    pub escalate: f64,
}

impl Default for LabelMix {
    fn default() -> Self {
        Self { dismiss: 1.0, monitor: 1.0, quarantine_host: 1.0, block_ip: 1.0, escalate: 1.0 }
    }
}

impl LabelMix {
    /// Weights in [`TriageAction::ALL`] order.
    pub fn weights(&self) -> [f64; 5] {
        [self.dismiss, self.monitor, self.quarantine_host, self.block_ip, self.escalate]
    }

    fn validate(&self, field: &str) -> Result<(), OpenSocError> {
        let w = self.weights();
        if let Some((k, x)) = w.iter().enumerate().find(|(_, x)| !x.is_finite() || **x < 0.0) {
            return Err(OpenSocError::Config {
                field: format!("{field}.{}", TriageAction::ALL[k]),
                reason: format!("weights must be finite and >= 0, got {x}"),
            });
        }
        if w.iter().sum::<f64>() <= 0.0 {
            return Err(OpenSocError::Config { field: field.to_owned(), reason: "at least one weight must be > 0".into() });
        }
        Ok(())
    }

    /// The 100-slot label cycle: largest-remainder quotas, interleaved by smooth weighted
    /// round-robin so labels are spread out rather than in blocks.
    pub fn cycle(&self) -> Vec<TriageAction> {
        const SLOTS: usize = 100;
        let w = self.weights();
        let total: f64 = w.iter().sum();
        let exact: Vec<f64> = w.iter().map(|x| x / total * SLOTS as f64).collect();
        let mut quota: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
        let mut order: Vec<usize> = (0..5).collect();
        order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
        let short = SLOTS - quota.iter().sum::<usize>();
        for &k in order.iter().take(short) {
            quota[k] += 1;
        }
        let mut current = [0i64; 5];
        let mut out = Vec::with_capacity(SLOTS);
        for _ in 0..SLOTS {
            for k in 0..5 {
                current[k] += quota[k] as i64;
            }
            let best = (0..5).max_by_key(|&k| (current[k], std::cmp::Reverse(k))).unwrap_or(0);
            current[best] -= SLOTS as i64;
            out.push(TriageAction::ALL[best]);
        }
        out
    }
}

/// One [`LabelMix`] per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct StageMixes {
    pub stage1_basic: LabelMix,
    pub stage2_multi: LabelMix,
    pub stage3_mixed: LabelMix,
    pub stage4_adversarial: LabelMix,
}

impl StageMixes {
    /// The mix of `stage`.
    pub fn get(&self, stage: Stage) -> &LabelMix {
        match stage {
            Stage::Stage1Basic => &self.stage1_basic,
            Stage::Stage2Multi => &self.stage2_multi,
            Stage::Stage3Mixed => &self.stage3_mixed,
            Stage::Stage4Adversarial => &self.stage4_adversarial,
        }
    }
}

/// Most generated training incidents per stage (ids are materialized as a list).
pub const MAX_TRAIN_PER_STAGE: u32 = 10_000_000;

/// The `[env]` table of an OpenSOC experiment (the experiment config adds `kind = "opensoc"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenSocConfig {
    /// `defender_only` or `self_play`.
    pub mode: Mode,
    /// Seed of the training incidents (`Split::Train`); the hold-out is fixed by its file.
    pub seed: u64,
    /// The frozen hold-out (`Split::Eval`), relative to the working directory.
    pub holdout: PathBuf,
    /// Generated training incidents per stage (task ids `train/<stage>/<index>`).
    pub train_per_stage: u32,
    /// Stages that contribute training tasks, easiest first.
    pub stages: Vec<Stage>,
    /// Label mix of each stage's training incidents.
    pub label_mix: StageMixes,
    /// Put the rule table (thresholds, trusted ranges) in the defender's system prompt.
    pub runbook: bool,
}

impl Default for OpenSocConfig {
    fn default() -> Self {
        Self {
            mode: Mode::DefenderOnly,
            seed: 0,
            holdout: PathBuf::from("seeds/opensoc/holdout.jsonl"),
            train_per_stage: 5_000,
            stages: Stage::ALL.to_vec(),
            label_mix: StageMixes::default(),
            runbook: true,
        }
    }
}

impl OpenSocConfig {
    /// Checks what serde cannot: counts, duplicates, weights.
    pub fn validate(&self) -> Result<(), OpenSocError> {
        let err = |field: &str, reason: String| Err(OpenSocError::Config { field: field.to_owned(), reason });
        if self.train_per_stage == 0 || self.train_per_stage > MAX_TRAIN_PER_STAGE {
            return err("train_per_stage", format!("must be in 1..={MAX_TRAIN_PER_STAGE}, got {}", self.train_per_stage));
        }
        if self.stages.is_empty() {
            return err("stages", "list at least one stage".into());
        }
        if let Some((k, s)) = self.stages.iter().enumerate().find(|(k, s)| self.stages[..*k].contains(s)) {
            return err(&format!("stages[{k}]"), format!("`{}` is listed twice", s.as_str()));
        }
        if self.holdout.as_os_str().is_empty() {
            return err("holdout", "must name the hold-out JSONL file".into());
        }
        for s in Stage::ALL {
            self.label_mix.get(s).validate(&format!("label_mix.{}", s.as_str()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_rejects_unknown_keys_and_bad_values() {
        let c: OpenSocConfig = toml::from_str(
            "mode = \"self_play\"\nseed = 7\nstages = [\"stage3_mixed\"]\n[label_mix.stage3_mixed]\ndismiss = 3.0\n",
        )
        .unwrap();
        assert_eq!(c.mode, Mode::SelfPlay);
        assert_eq!(c.label_mix.stage3_mixed.dismiss, 3.0);
        assert_eq!(c.label_mix.stage3_mixed.escalate, 1.0);
        c.validate().unwrap();
        let e = toml::from_str::<OpenSocConfig>("mood = \"self_play\"").unwrap_err();
        assert!(e.to_string().contains("unknown field `mood`"), "{e}");
        let e = toml::from_str::<OpenSocConfig>("[label_mix.stage3_mixed]\ndismis = 1.0").unwrap_err();
        assert!(e.to_string().contains("unknown field `dismis`"), "{e}");
        let e = toml::from_str::<OpenSocConfig>("stages = [\"stage5\"]").unwrap_err();
        assert!(e.to_string().contains("stage5"), "{e}");
        let mut c = OpenSocConfig::default();
        c.label_mix.stage2_multi.block_ip = -1.0;
        assert!(c.validate().unwrap_err().to_string().contains("env.label_mix.stage2_multi.block_ip"));
        let c = OpenSocConfig { stages: vec![Stage::Stage1Basic, Stage::Stage1Basic], ..Default::default() };
        assert!(c.validate().unwrap_err().to_string().contains("env.stages[1]"));
        let c = OpenSocConfig { train_per_stage: 0, ..Default::default() };
        assert!(c.validate().unwrap_err().to_string().contains("env.train_per_stage"));
    }

    #[test]
    fn label_cycle_hits_the_mix_exactly_and_interleaves() {
        let cycle = LabelMix::default().cycle();
        assert_eq!(cycle.len(), 100);
        for a in TriageAction::ALL {
            assert_eq!(cycle.iter().filter(|x| **x == a).count(), 20);
        }
        assert_eq!(&cycle[..5], &TriageAction::ALL);
        let skew = LabelMix { dismiss: 2.0, monitor: 1.0, quarantine_host: 1.0, block_ip: 0.0, escalate: 1.0 };
        let cycle = skew.cycle();
        assert_eq!(cycle.iter().filter(|x| **x == TriageAction::Dismiss).count(), 40);
        assert_eq!(cycle.iter().filter(|x| **x == TriageAction::BlockIp).count(), 0);
        let third = LabelMix { dismiss: 1.0, monitor: 1.0, quarantine_host: 1.0, block_ip: 0.0, escalate: 0.0 };
        let counts: Vec<usize> = TriageAction::ALL.iter().map(|a| third.cycle().iter().filter(|x| *x == a).count()).collect();
        assert_eq!(counts, [34, 33, 33, 0, 0]);
    }
}
