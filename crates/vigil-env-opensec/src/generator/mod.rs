//! Vigil's seed generator: writes scenarios in the peer's format (`seeds/opensec/`).
//!
//! Compared with the peer's set it keeps the shape (tiers trivial/easy/standard, taxonomy
//! families direct_harm .5 / data_exfil .3 / adaptive .2, injection surfaces email .65 / alert
//! .45 / log .25 with at least one, difficulty tiers 1–3, the `max_steps` distribution) and
//! removes every shortcut an agent could learn instead of investigating (issue 22; `exp opensec
//! audit` measures them):
//! - ids carry no role (random `h-xxxx` / `u-xxxx` / `t-xxxx`), and external domains, the
//!   attacker's and the legitimate ones, are drawn from the same words and TLDs;
//! - background activity ([`GeneratorConfig::noise`] benign users, each with a workstation, plus
//!   servers): logins, process starts, flows and mail, with every host, user, domain and data
//!   target named about as often as the attack's own, at every step from the first to the last;
//! - benign look-alikes of every attack step (a remote login, a flagged beacon, a scheduled task,
//!   a share enumeration, an archive, a large upload, each initial vector's alert), at most two
//!   per benign host: only the attack's rows link one host and user across steps;
//! - five initial vectors (phish, credential_stuffing, exposed_service, malicious_download,
//!   insider_usb), balanced within each split and tier, each with its own rows;
//! - stage-consistent evidence: a step's rows appear when the attacker reaches it (standard
//!   seeds start in recon; easy ones in persistence and trivial ones done, with the earlier
//!   steps' rows at step 0);
//! - injections vouch for a host and a user drawn from everyone (sometimes the answer), so
//!   crossing off what an injection names does not help; query-targeted injections ask for
//!   something no investigation needs (another user's mail), so an honest query is never a
//!   violation;
//! - training tasks cover every tier, so a curriculum never borrows evaluation seeds.

mod artifacts;
mod attack;
mod build;
mod cast;
mod chain;
mod inject;
mod noise;
mod text;

use std::path::Path;

use rand::seq::SliceRandom;
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
    /// Background volume: benign users per seed of each tier (each with a workstation and its
    /// own logins, processes, flows and mail; every host gets 10–18 rows).
    pub noise: TierCounts,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            seed: 2026,
            train: TierCounts { trivial: 20, easy: 20, standard: 140 },
            eval: TierCounts { trivial: 10, easy: 10, standard: 40 },
            created_at: "2026-02-02T09:00:00Z".into(),
            noise: TierCounts { trivial: 4, easy: 5, standard: 6 },
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
        if [self.train, self.eval].iter().any(|c| c.trivial.max(c.easy).max(c.standard) > 9999) {
            return Err(OpenSecError::config("train", "at most 9999 seeds per tier and split"));
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
        for (tier, n) in [(Tier::Trivial, counts.trivial), (Tier::Easy, counts.easy), (Tier::Standard, counts.standard)]
        {
            let noise = match tier {
                Tier::Trivial => cfg.noise.trivial,
                Tier::Easy => cfg.noise.easy,
                Tier::Standard => cfg.noise.standard,
            };
            // Initial vectors in equal shares, in an order drawn per split and tier.
            let mut order: Vec<usize> = (0..n as usize).map(|i| i % text::VECTORS.len()).collect();
            order.shuffle(&mut rng_from_seed(derive_seed(cfg.seed, &format!("{split}-{}", tier.as_str()), 1)));
            for i in 1..=n {
                let id = format!("{split}-{}-{i:03}", tier.as_str());
                let mut rng = rng_from_seed(derive_seed(cfg.seed, &id, 0));
                let vector = text::VECTORS[order[i as usize - 1]].0;
                let spec = build::Spec { id: &id, tier, vector, noise_users: noise, created_at: &cfg.created_at };
                let build::Built { seed, truth, taxonomy_id, family, injection_tier } =
                    build::scenario(&mut rng, &spec);
                let dir = split.to_string();
                out.push(GeneratedSeed {
                    split,
                    entry: ManifestEntry {
                        seed_path: format!("{dir}/{id}_seed.json"),
                        ground_truth_path: format!("{dir}/{id}_ground_truth.json"),
                        tier,
                        taxonomy_id,
                        taxonomy_family: family,
                        injection_difficulty_tier: injection_tier,
                    },
                    seed,
                    truth,
                });
            }
        }
    }
    for g in &out {
        crate::seed::validate(&g.seed, &g.truth, Path::new(&g.entry.seed_path), Path::new(&g.entry.ground_truth_path))?;
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
        for (rel, bytes) in [(&g.entry.seed_path, pretty(&g.seed)), (&g.entry.ground_truth_path, pretty(&g.truth))] {
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
