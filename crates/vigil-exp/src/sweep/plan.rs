//! Turning points into run folders: each point's resolved config and its hash, what is already
//! finished, what resumes, and what moved aside because its config changed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use vigil_core::{write_atomic, write_json_atomic};
use vigil_report::point::{FINISHED_FILE, PointRecord, PointStatus, SWEEP_FILE, SweepManifest};

use super::expand::{Point, points};
use crate::config::{self, ExperimentConfig, LoadedConfig};
use crate::wiring;

/// The point config inside each point folder (fully resolved; `exp run` reads it).
pub(crate) const POINT_CONFIG: &str = "point.toml";
/// Where points whose config changed are moved, inside the sweep folder.
pub(crate) const STALE: &str = ".stale";

/// A point ready to run or already done.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// The point.
    pub point: Point,
    /// Its run folder.
    pub dir: PathBuf,
    /// SHA-256 of its resolved config.
    pub hash: String,
    /// Finished before this invocation.
    pub done: bool,
}

/// The base config, its sweep folder and every point.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Sweep name.
    pub name: String,
    /// Points in expansion order.
    pub points: Vec<Planned>,
    /// The loaded base config.
    pub base: LoadedConfig,
}

pub(crate) fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads `path` with `sets`, expands `[sweep]` and resolves every point's config (each must be a
/// valid experiment on its own). Writes nothing.
pub(crate) fn expand(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
) -> anyhow::Result<(Plan, Vec<String>)> {
    let base = config::load(path, sets)?;
    let sweep = base
        .config
        .sweep
        .clone()
        .with_context(|| format!("{}: no [sweep] section", path.display()))?;
    let name = base.name();
    let dir = out.map_or_else(|| base.config.output.dir.join(&name), Path::to_path_buf);
    let mut planned = Vec::new();
    let mut texts = Vec::new();
    let mut envs = Vec::new();
    for p in points(&sweep)? {
        let all: Vec<String> = sets.iter().cloned().chain(p.sets.iter().cloned()).collect();
        let mut loaded =
            config::load(path, &all).with_context(|| format!("sweep point `{}`", p.label))?;
        loaded.config.sweep = None;
        loaded.config.name = Some(p.label.clone());
        let pdir = dir.join(&p.folder);
        let (text, checked) = loaded
            .placed_in(&pdir)
            .with_context(|| format!("sweep point `{}`", p.label))?;
        check_point(&checked, &mut envs).with_context(|| format!("sweep point `{}`", p.label))?;
        let hash = sha256(&text);
        planned.push(Planned {
            point: p,
            dir: pdir,
            hash,
            done: false,
        });
        texts.push(text);
    }
    Ok((
        Plan {
            dir,
            name,
            points: planned,
            base,
        },
        texts,
    ))
}

/// `exp check` of one point (`wiring::validate`), building each distinct `[env]` once.
fn check_point(
    config: &ExperimentConfig,
    envs: &mut Vec<(String, wiring::BuiltEnv)>,
) -> anyhow::Result<()> {
    let key = toml::to_string(&config.env).context("serializing [env]")?;
    let i = match envs.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            let env = wiring::BuiltEnv::new(&config.env).context("building [env]")?;
            envs.push((key, env));
            envs.len() - 1
        }
    };
    wiring::validate_on(config, &envs[i].1)
}

/// Prepares every point folder: a folder holding another config moves to `.stale/`, each
/// unfinished point gets its `point.toml` and a pending record. Returns the plan with `done` set.
pub(crate) fn prepare(mut plan: Plan, texts: &[String]) -> anyhow::Result<Plan> {
    std::fs::create_dir_all(&plan.dir)
        .with_context(|| format!("creating sweep folder {}", plan.dir.display()))?;
    let manifest = SweepManifest {
        name: plan.name.clone(),
        config: plan.base.path.display().to_string(),
        points: plan.points.iter().map(|p| p.point.folder.clone()).collect(),
    };
    write_json_atomic(&plan.dir.join(SWEEP_FILE), &manifest)?;
    for (p, text) in plan.points.iter_mut().zip(texts) {
        let rec = PointRecord::read(&p.dir)?;
        let stale = match &rec {
            Some(r) => r.hash != p.hash,
            None => p.dir.exists() && std::fs::read_dir(&p.dir)?.next().is_some(),
        };
        if stale {
            let old = rec
                .as_ref()
                .map_or("unknown", |r| &r.hash[..12.min(r.hash.len())])
                .to_string();
            let dst = unique(
                &plan
                    .dir
                    .join(STALE)
                    .join(format!("{}.{old}", p.point.folder)),
            );
            std::fs::create_dir_all(plan.dir.join(STALE))?;
            std::fs::rename(&p.dir, &dst)
                .with_context(|| format!("moving {} aside", p.dir.display()))?;
            tracing::warn!(point = %p.point.label, moved_to = %dst.display(), "config changed since the last sweep; old results kept aside");
        }
        let rec = if stale { None } else { rec };
        p.done = p.dir.join(FINISHED_FILE).is_file() && rec.is_some();
        let attempts = rec.as_ref().map_or(0, |r| r.attempts);
        let mut record = rec.unwrap_or(PointRecord {
            sweep: plan.name.clone(),
            label: p.point.label.clone(),
            hash: p.hash.clone(),
            assignments: p.point.assignments.clone(),
            status: PointStatus::Pending,
            attempts,
            exit_code: None,
            error: None,
        });
        if p.done {
            if record.status != PointStatus::Done {
                // The run finished but the sweep died before recording it.
                record.status = PointStatus::Done;
                record.error = None;
                record.write(&p.dir)?;
            }
            continue;
        }
        std::fs::create_dir_all(&p.dir)?;
        let cfg = p.dir.join(POINT_CONFIG);
        if std::fs::read_to_string(&cfg).ok().as_deref() != Some(text.as_str()) {
            write_atomic(&cfg, text.as_bytes())
                .with_context(|| format!("writing {}", cfg.display()))?;
        }
        if record.status == PointStatus::Done {
            record.status = PointStatus::Pending;
        }
        record.write(&p.dir)?;
    }
    Ok(plan)
}

/// `path`, or `path.1`, `path.2`, … whichever does not exist yet.
fn unique(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    (1..)
        .map(|i| PathBuf::from(format!("{}.{i}", path.display())))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Labels (folder names) of a sweep folder's manifest, for `--collect`.
pub(crate) fn manifest_folders(dir: &Path) -> anyhow::Result<Vec<String>> {
    let m = SweepManifest::read(dir)?
        .with_context(|| format!("{} is not a sweep folder (no {SWEEP_FILE})", dir.display()))?;
    Ok(m.points)
}
