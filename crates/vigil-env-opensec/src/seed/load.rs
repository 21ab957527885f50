//! Loading seeds: a `manifest.json` with seed/ground-truth file pairs, or the 220-row JSONL
//! layout of the peer's dataset. Every error names the file (or `file:line`) and field path.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use vigil_core::Split;

use super::schema::{ArtifactType, GroundTruthFile, LogTable, SeedFile};
use crate::OpenSecError;

/// Difficulty tier of a seed, easiest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// One host, one user, attribution spelled out in one verified alert.
    Trivial,
    /// One host, one user, an auth log plus an exfil alert.
    Easy,
    /// Several hosts and users, decoys, injections.
    Standard,
}

impl Tier {
    /// All tiers, easiest first.
    pub const ALL: [Tier; 3] = [Tier::Trivial, Tier::Easy, Tier::Standard];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Trivial => "trivial",
            Tier::Easy => "easy",
            Tier::Standard => "standard",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One row of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Seed file, relative to the manifest's folder (see [`resolve_manifest_path`]).
    pub seed_path: String,
    /// Ground-truth file, same rule.
    pub ground_truth_path: String,
    /// Difficulty tier.
    pub tier: Tier,
    /// Taxonomy pattern id.
    pub taxonomy_id: String,
    /// Taxonomy family.
    pub taxonomy_family: String,
    /// Hardest injection tier in the seed (absent without injections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_difficulty_tier: Option<u8>,
}

/// `manifest.json`: the split lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Training seeds.
    pub train: Vec<ManifestEntry>,
    /// Frozen evaluation seeds.
    pub eval: Vec<ManifestEntry>,
}

/// One row of the JSONL layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlRow {
    /// Scenario id.
    pub seed_id: String,
    /// `train` or `eval`.
    pub split: Split,
    /// Difficulty tier.
    pub tier: Tier,
    /// Taxonomy family.
    pub taxonomy_family: String,
    /// Taxonomy pattern id.
    pub taxonomy_id: String,
    /// Hardest injection tier.
    #[serde(default)]
    pub injection_difficulty_tier: Option<u8>,
    /// The seed file, as a JSON string.
    pub seed_json: String,
    /// The ground-truth file, as a JSON string.
    pub ground_truth_json: String,
}

/// A validated seed with its ground truth and manifest labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSeed {
    /// Where the seed came from (file, or `file:line` for JSONL).
    pub origin: PathBuf,
    /// Split.
    pub split: Split,
    /// Tier.
    pub tier: Tier,
    /// Taxonomy pattern id.
    pub taxonomy_id: String,
    /// Taxonomy family.
    pub taxonomy_family: String,
    /// The seed.
    pub seed: SeedFile,
    /// Its ground truth.
    pub truth: GroundTruthFile,
}

/// Parses JSON into `T`, reporting the field path of the first mismatch.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, origin: &Path) -> Result<T, OpenSecError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        OpenSecError::Json { path: origin.to_path_buf(), field, message: e.into_inner().to_string() }
    })
}

fn read(path: &Path) -> Result<String, OpenSecError> {
    fs::read_to_string(path).map_err(|e| OpenSecError::io(path, e))
}

/// Resolves a manifest path. Paths are relative to the manifest's folder; leading components
/// that do not exist there are dropped, because the peer writes repo-root paths
/// (`data/seeds/train/x_seed.json` next to a manifest in `data/seeds/`).
pub fn resolve_manifest_path(dir: &Path, rel: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    (0..parts.len()).map(|skip| dir.join(parts[skip..].join("/"))).find(|p| p.is_file())
}

/// Loads every seed a manifest lists, in manifest order (train first).
pub fn load_manifest(manifest: &Path) -> Result<Vec<LoadedSeed>, OpenSecError> {
    let m: Manifest = parse_json(&read(manifest)?, manifest)?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut out = Vec::with_capacity(m.train.len() + m.eval.len());
    for (split, list) in [(Split::Train, &m.train), (Split::Eval, &m.eval)] {
        for (i, e) in list.iter().enumerate() {
            let find = |rel: &str, key: &str| {
                resolve_manifest_path(dir, rel).ok_or_else(|| {
                    OpenSecError::seed(manifest, format!("{split}[{i}].{key}"), format!("file `{rel}` not found"))
                })
            };
            let sp = find(&e.seed_path, "seed_path")?;
            let gp = find(&e.ground_truth_path, "ground_truth_path")?;
            let seed: SeedFile = parse_json(&read(&sp)?, &sp)?;
            let truth: GroundTruthFile = parse_json(&read(&gp)?, &gp)?;
            validate(&seed, &truth, &sp, &gp)?;
            out.push(LoadedSeed {
                origin: sp,
                split,
                tier: e.tier,
                taxonomy_id: e.taxonomy_id.clone(),
                taxonomy_family: e.taxonomy_family.clone(),
                seed,
                truth,
            });
        }
    }
    check_unique_ids(&out, manifest)?;
    Ok(out)
}

/// Loads and validates one seed/ground-truth file pair.
pub fn load_pair(seed_path: &Path, truth_path: &Path) -> Result<(SeedFile, GroundTruthFile), OpenSecError> {
    let seed: SeedFile = parse_json(&read(seed_path)?, seed_path)?;
    let truth: GroundTruthFile = parse_json(&read(truth_path)?, truth_path)?;
    validate(&seed, &truth, seed_path, truth_path)?;
    Ok((seed, truth))
}

/// Loads the JSONL layout (one seed per line, seed and ground truth as JSON strings).
pub fn load_jsonl(path: &Path) -> Result<Vec<LoadedSeed>, OpenSecError> {
    let text = read(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = PathBuf::from(format!("{}:{}", path.display(), n + 1));
        let row: JsonlRow = parse_json(line, &origin)?;
        let seed: SeedFile = parse_json(&row.seed_json, &origin.with_extension_field("seed_json"))?;
        let truth: GroundTruthFile =
            parse_json(&row.ground_truth_json, &origin.with_extension_field("ground_truth_json"))?;
        validate(&seed, &truth, &origin, &origin)?;
        if row.seed_id != seed.scenario_id {
            return Err(OpenSecError::seed(
                &origin,
                "seed_id",
                format!("`{}` but the seed says `{}`", row.seed_id, seed.scenario_id),
            ));
        }
        out.push(LoadedSeed {
            origin,
            split: row.split,
            tier: row.tier,
            taxonomy_id: row.taxonomy_id,
            taxonomy_family: row.taxonomy_family,
            seed,
            truth,
        });
    }
    check_unique_ids(&out, path)?;
    Ok(out)
}

trait OriginField {
    fn with_extension_field(&self, field: &str) -> PathBuf;
}

impl OriginField for PathBuf {
    /// `file:line` becomes `file:line#field`, so JSON errors inside an embedded string say which.
    fn with_extension_field(&self, field: &str) -> PathBuf {
        PathBuf::from(format!("{}#{field}", self.display()))
    }
}

fn check_unique_ids(seeds: &[LoadedSeed], source: &Path) -> Result<(), OpenSecError> {
    let mut seen = HashSet::new();
    for s in seeds {
        if !seen.insert(s.seed.scenario_id.as_str()) {
            return Err(OpenSecError::seed(source, "scenario_id", format!("`{}` is listed twice", s.seed.scenario_id)));
        }
    }
    Ok(())
}

fn dup<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<(usize, &'a str)> {
    let mut seen = HashSet::new();
    ids.into_iter().enumerate().find(|(_, id)| !seen.insert(*id))
}

/// Checks the cross-references the schema cannot express. `sp`/`gp` name the files in errors.
pub fn validate(seed: &SeedFile, truth: &GroundTruthFile, sp: &Path, gp: &Path) -> Result<(), OpenSecError> {
    let err = |field: String, msg: String| -> Result<(), OpenSecError> { Err(OpenSecError::seed(sp, field, msg)) };
    if truth.scenario_id != seed.scenario_id {
        return Err(OpenSecError::seed(
            gp,
            "scenario_id",
            format!("`{}` but the seed is `{}`", truth.scenario_id, seed.scenario_id),
        ));
    }
    let a = &truth.attribution;
    for (k, v) in [
        ("patient_zero_host", &a.patient_zero_host),
        ("compromised_user", &a.compromised_user),
        ("attacker_domain", &a.attacker_domain),
        ("data_target", &a.data_target),
        ("initial_vector", &a.initial_vector),
    ] {
        if v.trim().is_empty() {
            return Err(OpenSecError::seed(gp, format!("attribution.{k}"), "must not be empty"));
        }
    }
    if crate::time::parse_iso(&seed.metadata.created_at).is_none() {
        return err(
            "metadata.created_at".into(),
            format!("`{}` is not an ISO-8601 UTC time", seed.metadata.created_at),
        );
    }
    if let Some(ms) = seed.metadata.max_steps
        && !(1..=1000).contains(&ms)
    {
        return err("metadata.max_steps".into(), format!("{ms} is outside 1..=1000"));
    }
    let e = &seed.entities;
    let lists: [(&str, Vec<&str>); 4] = [
        ("entities.users", e.users.iter().map(|u| u.user_id.as_str()).collect()),
        ("entities.hosts", e.hosts.iter().map(|h| h.host_id.as_str()).collect()),
        ("entities.domains", e.domains.iter().map(|d| d.domain.as_str()).collect()),
        ("entities.data_targets", e.data_targets.iter().map(|t| t.target_id.as_str()).collect()),
    ];
    for (name, ids) in &lists {
        if ids.is_empty() {
            return err(name.to_string(), "must not be empty".into());
        }
        if let Some((i, id)) = dup(ids.iter().copied()) {
            return err(format!("{name}[{i}]"), format!("duplicate id `{id}`"));
        }
    }
    let emails = &seed.seed_artifacts.emails;
    let templates = &seed.seed_artifacts.log_templates;
    if let Some((i, id)) = dup(emails.iter().map(|m| m.email_id.as_str())) {
        return err(format!("seed_artifacts.emails[{i}].email_id"), format!("duplicate id `{id}`"));
    }
    if let Some((i, id)) = dup(templates.iter().map(|t| t.template_id.as_str())) {
        return err(format!("seed_artifacts.log_templates[{i}].template_id"), format!("duplicate id `{id}`"));
    }
    let payloads = &seed.prompt_injection_payloads;
    if let Some((i, id)) = dup(payloads.iter().map(|p| p.injection_id.as_str())) {
        return err(format!("prompt_injection_payloads[{i}].injection_id"), format!("duplicate id `{id}`"));
    }
    for (i, t) in templates.iter().enumerate() {
        if t.table == LogTable::EmailLogs && !emails.iter().any(|m| m.email_id == t.template_id) {
            return err(
                format!("seed_artifacts.log_templates[{i}].table"),
                "`email_logs` templates must name an email id".into(),
            );
        }
    }
    let known_inj = |id: &Option<String>| id.as_ref().is_none_or(|id| payloads.iter().any(|p| &p.injection_id == id));
    for (i, m) in emails.iter().enumerate() {
        if !known_inj(&m.injection_id) {
            return err(
                format!("seed_artifacts.emails[{i}].injection_id"),
                "names no prompt_injection_payloads entry".into(),
            );
        }
    }
    for (i, t) in templates.iter().enumerate() {
        if !known_inj(&t.injection_id) {
            return err(
                format!("seed_artifacts.log_templates[{i}].injection_id"),
                "names no prompt_injection_payloads entry".into(),
            );
        }
    }
    let check_ref = |field: String, kind: ArtifactType, id: &str| -> Result<(), OpenSecError> {
        let ok = match kind {
            ArtifactType::Email => emails.iter().any(|m| m.email_id == id),
            ArtifactType::LogTemplate => templates.iter().any(|t| t.template_id == id),
            ArtifactType::Alert => templates.iter().any(|t| t.template_id == id && t.table == LogTable::Alerts),
        };
        if ok { Ok(()) } else { Err(OpenSecError::seed(sp, field, format!("no {kind:?} artifact with id `{id}`"))) }
    };
    for (i, item) in seed.attack_plan.timeline.iter().enumerate() {
        for (j, a) in item.artifacts.iter().enumerate() {
            check_ref(
                format!("attack_plan.timeline[{i}].artifacts[{j}].artifact_id"),
                a.artifact_type,
                &a.artifact_id,
            )?;
        }
    }
    if let Some(g) = &seed.attack_graph {
        if !g.states.contains_key(&g.start_state) {
            return err("attack_graph.start_state".into(), format!("`{}` is not a state", g.start_state));
        }
        for (i, o) in g.objectives.iter().flatten().enumerate() {
            if !g.states.contains_key(o) {
                return err(format!("attack_graph.objectives[{i}]"), format!("`{o}` is not a state"));
            }
        }
        for (i, a) in g.initial_artifacts.iter().enumerate() {
            check_ref(format!("attack_graph.initial_artifacts[{i}].artifact_id"), a.artifact_type, &a.artifact_id)?;
        }
        for (name, node) in &g.states {
            for (i, act) in node.actions.iter().enumerate() {
                let at = format!("attack_graph.states.{name}.actions[{i}]");
                if let Some(n) = &act.next_state
                    && !g.states.contains_key(n)
                {
                    return err(format!("{at}.next_state"), format!("`{n}` is not a state"));
                }
                for (j, a) in act.artifacts.iter().enumerate() {
                    check_ref(format!("{at}.artifacts[{j}].artifact_id"), a.artifact_type, &a.artifact_id)?;
                }
            }
        }
    }
    for (i, p) in payloads.iter().enumerate() {
        if p.evidence_ids.is_empty() {
            return err(
                format!("prompt_injection_payloads[{i}].evidence_ids"),
                "must name at least one evidence id".into(),
            );
        }
        if let Some(t) = p.difficulty_tier
            && !(1..=3).contains(&t)
        {
            return err(format!("prompt_injection_payloads[{i}].difficulty_tier"), format!("{t} is outside 1..=3"));
        }
    }
    Ok(())
}
