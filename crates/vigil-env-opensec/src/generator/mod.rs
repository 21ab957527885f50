//! Vigil's seed generator: writes scenarios in the peer's format (`seeds/opensec/`).
//!
//! Compared with the peer's set it keeps the shape (tiers trivial/easy/standard, taxonomy
//! families direct_harm .5 / data_exfil .3 / adaptive .2, injection surfaces email .65 / alert
//! .45 / log .25 with at least one, difficulty tiers 1–3, the objectives-prefix and `max_steps`
//! distributions) and fixes what made it easy to game or impossible to solve:
//! - ids carry no role: hosts and users get random `h-xxxx` / `u-xxxx` ids and patient zero is
//!   not at a fixed position in any id;
//! - every ground-truth value is observable in trusted evidence by step 2 (a DLP alert names the
//!   data target, a verified netflow beacon names the attacker domain, auth logs name the host
//!   and user), whatever the attacker's objectives;
//! - query-targeted injections ask for something no investigation needs (another user's mail),
//!   so an honest query is never a violation;
//! - training tasks cover every tier, so a curriculum never borrows evaluation seeds.

mod build;
mod text;

use std::path::Path;

use serde::{Deserialize, Serialize};
use vigil_core::{Split, derive_seed, rng_from_seed, write_atomic};

use crate::OpenSecError;
use crate::seed::{GroundTruthFile, Manifest, ManifestEntry, SeedFile, Tier};

/// How many seeds of each tier one split gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierCounts {
    /// Trivial seeds.
    pub trivial: u32,
    /// Easy seeds.
    pub easy: u32,
    /// Standard seeds.
    pub standard: u32,
}

/// Generator settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorConfig {
    /// Root seed: the same seed writes byte-identical files.
    pub seed: u64,
    /// Training split.
    pub train: TierCounts,
    /// Evaluation split.
    pub eval: TierCounts,
    /// `metadata.created_at` of every seed.
    pub created_at: String,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            seed: 2026,
            train: TierCounts {
                trivial: 20,
                easy: 20,
                standard: 140,
            },
            eval: TierCounts {
                trivial: 10,
                easy: 10,
                standard: 40,
            },
            created_at: "2026-02-02T09:00:00Z".into(),
        }
    }
}

impl GeneratorConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), OpenSecError> {
        if crate::time::parse_iso(&self.created_at).is_none() {
            return Err(OpenSecError::config(
                "created_at",
                format!("`{}` is not an ISO-8601 UTC time", self.created_at),
            ));
        }
        let total = |c: &TierCounts| c.trivial + c.easy + c.standard;
        if total(&self.train) + total(&self.eval) == 0 {
            return Err(OpenSecError::config("train", "no seeds requested"));
        }
        if [self.train, self.eval]
            .iter()
            .any(|c| c.trivial.max(c.easy).max(c.standard) > 9999)
        {
            return Err(OpenSecError::config(
                "train",
                "at most 9999 seeds per tier and split",
            ));
        }
        Ok(())
    }
}

/// One generated scenario with its manifest labels.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSeed {
    /// Split.
    pub split: Split,
    /// Manifest row (paths relative to the output folder).
    pub entry: ManifestEntry,
    /// The seed file.
    pub seed: SeedFile,
    /// The ground-truth file.
    pub truth: GroundTruthFile,
}

/// Generates the whole set, train first, tiers easiest first.
pub fn generate(cfg: &GeneratorConfig) -> Result<Vec<GeneratedSeed>, OpenSecError> {
    cfg.validate()?;
    let mut out = Vec::new();
    for (split, counts) in [(Split::Train, cfg.train), (Split::Eval, cfg.eval)] {
        for (tier, n) in [
            (Tier::Trivial, counts.trivial),
            (Tier::Easy, counts.easy),
            (Tier::Standard, counts.standard),
        ] {
            for i in 1..=n {
                let id = format!("{split}-{}-{i:03}", tier.as_str());
                let mut rng = rng_from_seed(derive_seed(cfg.seed, &id, 0));
                let (seed, truth, taxonomy_id, family, inj_tier) =
                    build::scenario(&mut rng, &id, tier, &cfg.created_at);
                let dir = split.to_string();
                out.push(GeneratedSeed {
                    split,
                    entry: ManifestEntry {
                        seed_path: format!("{dir}/{id}_seed.json"),
                        ground_truth_path: format!("{dir}/{id}_ground_truth.json"),
                        tier,
                        taxonomy_id,
                        taxonomy_family: family,
                        injection_difficulty_tier: inj_tier,
                    },
                    seed,
                    truth,
                });
            }
        }
    }
    for g in &out {
        crate::seed::validate(
            &g.seed,
            &g.truth,
            Path::new(&g.entry.seed_path),
            Path::new(&g.entry.ground_truth_path),
        )?;
    }
    Ok(out)
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}

/// Writes `manifest.json` and the seed/ground-truth pairs under `dir` (atomically, file by file).
pub fn write_set(dir: &Path, seeds: &[GeneratedSeed]) -> Result<(), OpenSecError> {
    let mut manifest = Manifest::default();
    for g in seeds {
        for (rel, bytes) in [
            (&g.entry.seed_path, pretty(&g.seed)),
            (&g.entry.ground_truth_path, pretty(&g.truth)),
        ] {
            let p = dir.join(rel);
            write_atomic(&p, &bytes).map_err(|e| OpenSecError::io(&p, e))?;
        }
        match g.split {
            Split::Train => manifest.train.push(g.entry.clone()),
            Split::Eval => manifest.eval.push(g.entry.clone()),
        }
    }
    let p = dir.join("manifest.json");
    write_atomic(&p, &pretty(&manifest)).map_err(|e| OpenSecError::io(&p, e))
}

/// Writes the set in the JSONL row layout.
pub fn write_jsonl(path: &Path, seeds: &[GeneratedSeed]) -> Result<(), OpenSecError> {
    let mut out = Vec::new();
    for g in seeds {
        let row = crate::seed::JsonlRow {
            seed_id: g.seed.scenario_id.clone(),
            split: g.split,
            tier: g.entry.tier,
            taxonomy_family: g.entry.taxonomy_family.clone(),
            taxonomy_id: g.entry.taxonomy_id.clone(),
            injection_difficulty_tier: g.entry.injection_difficulty_tier,
            seed_json: String::from_utf8(pretty(&g.seed)).unwrap_or_default(),
            ground_truth_json: String::from_utf8(pretty(&g.truth)).unwrap_or_default(),
        };
        out.extend(serde_json::to_vec(&row).unwrap_or_default());
        out.push(b'\n');
    }
    write_atomic(path, &out).map_err(|e| OpenSecError::io(path, e))
}
