//! Reading run folders: the resolved config, each evaluated policy's summary (and, on demand,
//! its episodes), the trainer's `metrics.jsonl`, and the sweep point record.
//!
//! Everything a table shows is read from these files; nothing else feeds a report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigil_core::{Outcome, TaskId};
use vigil_metrics::summary::EvalSummary;

use crate::ReportError;
use crate::point::{FINISHED_FILE, PointRecord, SweepManifest};

/// One evaluated policy of a run (`eval/<policy>/summary.json`).
#[derive(Debug, Clone)]
pub struct PolicyEval {
    /// Policy label as the run wrote it.
    pub policy: String,
    /// Aggregates, overall and per stage.
    pub summary: EvalSummary,
    /// The environment's own aggregate (CERT's SOC Narrative metrics), `Null` if none.
    pub env_summary: serde_json::Value,
    /// Folder holding `summary.json` and `episodes.jsonl`.
    pub dir: PathBuf,
}

#[derive(Deserialize)]
struct SummaryFile {
    policy: String,
    summary: EvalSummary,
    #[serde(default)]
    env_summary: serde_json::Value,
}

/// The parts of an episode record reports use.
#[derive(Debug, Clone, Deserialize)]
pub struct EpisodeLite {
    /// Task.
    pub task: TaskId,
    /// Episode seed.
    pub seed: u64,
    /// Graded outcome.
    pub outcome: Outcome,
}

impl PolicyEval {
    /// Reads `episodes.jsonl` (errors name the file and line).
    pub fn episodes(&self) -> Result<Vec<EpisodeLite>, ReportError> {
        let path = self.dir.join("episodes.jsonl");
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| ReportError::parse(&path, Some(i + 1), e)))
            .collect()
    }
}

/// One RL step of `metrics.jsonl`, reduced to the numbers reports plot. Fields the trainer did
/// not write are absent, never zero.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLine {
    /// 1-based RL step.
    pub step: u64,
    /// Curriculum stage, when logged.
    pub stage: Option<String>,
    /// Mean weighted total reward of the step's rollouts.
    pub reward: Option<f64>,
    /// Mean of each reward component.
    pub components: BTreeMap<String, f64>,
    /// Other scalar diagnostics (`loss`, `kl`, `clip_frac`, `entropy`, `format_valid_rate`, …).
    pub scalars: BTreeMap<String, f64>,
    /// Self-play: per role, its mean `reward`, each component (`reward.<name>`) and each of its
    /// metrics (`plausible`, `attacker_fooled`, …).
    pub roles: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Diagnostics plotted next to the rewards when the trainer logs them.
pub const DIAGNOSTICS: [&str; 6] = ["loss", "kl", "clip_frac", "entropy", "format_valid_rate", "grad_norm"];

fn mean_of(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| v.get("mean").and_then(serde_json::Value::as_f64))
}

fn step_line(v: &serde_json::Value) -> Option<StepLine> {
    if v.get("phase").and_then(|p| p.as_str()).is_some_and(|p| p != "rl") {
        return None;
    }
    let step = v.get("step")?.as_u64()?;
    let mut components = BTreeMap::new();
    match v.get("components") {
        Some(serde_json::Value::Array(items)) => {
            for c in items {
                if let (Some(n), Some(m)) = (c.get("name").and_then(|n| n.as_str()), mean_of(c)) {
                    components.insert(n.to_string(), m);
                }
            }
        }
        Some(serde_json::Value::Object(map)) => {
            for (k, c) in map {
                if let Some(m) = mean_of(c) {
                    components.insert(k.clone(), m);
                }
            }
        }
        _ => {}
    }
    let scalars = DIAGNOSTICS.iter().filter_map(|k| v.get(*k).and_then(mean_of).map(|x| (k.to_string(), x))).collect();
    let mut roles = BTreeMap::new();
    for r in v.get("roles").and_then(|r| r.as_array()).into_iter().flatten() {
        let Some(name) = r.get("role").and_then(|n| n.as_str()) else { continue };
        let mut q: BTreeMap<String, f64> = BTreeMap::new();
        if let Some(m) = r.get("reward").and_then(mean_of) {
            q.insert("reward".into(), m);
        }
        for c in r.get("components").and_then(|c| c.as_array()).into_iter().flatten() {
            if let (Some(n), Some(m)) = (c.get("name").and_then(|n| n.as_str()), mean_of(c)) {
                q.insert(format!("reward.{n}"), m);
            }
        }
        for (k, m) in r.get("metrics").and_then(|m| m.as_object()).into_iter().flatten() {
            if let Some(m) = m.as_f64() {
                q.insert(k.clone(), m);
            }
        }
        roles.insert(name.to_string(), q);
    }
    Some(StepLine {
        roles,
        step,
        stage: v.get("stage").and_then(|s| s.as_str()).map(str::to_string),
        reward: v.get("reward").and_then(mean_of),
        components,
        scalars,
    })
}

/// Reads the RL lines of `metrics.jsonl`. A torn last line (a run killed mid-write) is skipped
/// with a warning; any other bad line is an error naming the line.
pub fn read_metrics(path: &Path) -> Result<Vec<StepLine>, ReportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ReportError::io(path, e)),
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(l) {
            Ok(v) => out.extend(step_line(&v)),
            Err(_) if i + 1 == lines.len() && !complete => {
                tracing::warn!(file = %path.display(), line = i + 1, "skipping a torn last line");
            }
            Err(e) => return Err(ReportError::parse(path, Some(i + 1), e)),
        }
    }
    Ok(out)
}

/// Everything a report knows about one run folder.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The folder.
    pub dir: PathBuf,
    /// Run name (`name` of the resolved config).
    pub name: String,
    /// Root seed of the run.
    pub seed: u64,
    /// Environment kind (`opensec`, `opensoc`, `cert`).
    pub env: String,
    /// The resolved config.
    pub config: toml::Table,
    /// The sweep point record, for runs made by `exp sweep`.
    pub point: Option<PointRecord>,
    /// Evaluated policies, in the run's comparison order.
    pub policies: Vec<PolicyEval>,
    /// RL steps of `metrics.jsonl` (empty for evaluation-only runs).
    pub steps: Vec<StepLine>,
}

impl RunData {
    /// Reads a run folder.
    pub fn read(dir: &Path) -> Result<Self, ReportError> {
        let cfg_path = dir.join("config.resolved.toml");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| ReportError::io(&cfg_path, e))?;
        let config: toml::Table = toml::from_str(&text).map_err(|e| ReportError::parse(&cfg_path, None, e.message()))?;
        let name = config.get("name").and_then(|v| v.as_str()).unwrap_or("run").to_string();
        let seed = config.get("seed").and_then(toml::Value::as_integer).unwrap_or(0) as u64;
        let env = config.get("env").and_then(|e| e.get("kind")).and_then(|k| k.as_str()).unwrap_or("").to_string();
        let point = PointRecord::read(dir)?;
        let policies = read_policies(dir)?;
        let steps = read_metrics(&dir.join("metrics.jsonl"))?;
        Ok(Self { dir: dir.to_path_buf(), name, seed, env, config, point, policies, steps })
    }

    /// The scripted baselines the run compared against (`[eval] baselines`).
    pub fn baselines(&self) -> Vec<String> {
        self.config
            .get("eval")
            .and_then(|e| e.get("baselines"))
            .and_then(|b| b.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    /// The policy the run is about: the last evaluated policy that is neither a listed
    /// baseline nor the SFT warm-start (the trained policy, or the configured one), else the
    /// first.
    pub fn main_policy(&self) -> Option<&PolicyEval> {
        let baselines = self.baselines();
        self.policies
            .iter()
            .rev()
            .find(|p| !baselines.contains(&p.policy) && p.policy != "sft")
            .or_else(|| self.policies.first())
    }

    /// Reward weights of the run (`[rewards] weights`; empty means every component weighs 1).
    pub fn weights(&self) -> BTreeMap<String, f64> {
        self.config
            .get("rewards")
            .and_then(|r| r.get("weights"))
            .and_then(|w| w.as_table())
            .map(|t| t.iter().filter_map(|(k, v)| v.as_float().or(v.as_integer().map(|i| i as f64)).map(|x| (k.clone(), x))).collect())
            .unwrap_or_default()
    }

    /// Variant label (sweep assignments without the seed axis, else the run name) and seed.
    pub fn variant(&self, seed_key: &str) -> String {
        self.point.as_ref().map_or_else(|| self.name.clone(), |p| p.variant(seed_key))
    }

    /// Whether the run finished (its final results file exists).
    pub fn finished(&self) -> bool {
        self.dir.join(FINISHED_FILE).is_file()
    }
}

/// Weighted total of one outcome, as `EpisodeSummary` computes it.
pub fn weighted_total(o: &Outcome, weights: &BTreeMap<String, f64>) -> f64 {
    if weights.is_empty() { o.rewards.sum() } else { weights.iter().map(|(k, w)| w * o.rewards.get(k).unwrap_or(0.0)).sum() }
}

fn read_policies(dir: &Path) -> Result<Vec<PolicyEval>, ReportError> {
    let eval = dir.join("eval");
    // The comparison file fixes the order; without it (a run still going), read the folders.
    let order: Vec<String> = match std::fs::read_to_string(dir.join(FINISHED_FILE)) {
        Ok(s) => {
            let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| ReportError::parse(dir.join(FINISHED_FILE), None, e))?;
            v.as_array().map(|a| a.iter().filter_map(|r| r.get("policy")?.as_str().map(str::to_string)).collect()).unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    let mut subdirs: Vec<PathBuf> = match std::fs::read_dir(&eval) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("summary.json").is_file()).collect(),
        Err(_) => Vec::new(),
    };
    subdirs.sort();
    let mut out = Vec::new();
    for d in subdirs {
        let path = d.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        let f: SummaryFile = serde_json::from_str(&text).map_err(|e| ReportError::parse(&path, None, e))?;
        out.push(PolicyEval { policy: f.policy, summary: f.summary, env_summary: f.env_summary, dir: d });
    }
    out.sort_by_key(|p| order.iter().position(|o| *o == p.policy).unwrap_or(usize::MAX));
    Ok(out)
}

/// Expands the report's inputs into run folders: a run folder is itself; a sweep folder gives
/// its points in manifest order (else its run subfolders, sorted).
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    for dir in inputs {
        if dir.join("config.resolved.toml").is_file() {
            out.push(dir.clone());
            continue;
        }
        if !dir.is_dir() {
            return Err(ReportError::io(dir, std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder")));
        }
        let found: Vec<PathBuf> = match SweepManifest::read(dir)? {
            Some(m) => m.points.iter().map(|p| dir.join(p)).filter(|p| p.join("config.resolved.toml").is_file()).collect(),
            None => {
                let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(|e| ReportError::io(dir, e))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join("config.resolved.toml").is_file())
                    .collect();
                v.sort();
                v
            }
        };
        if found.is_empty() {
            return Err(ReportError::NotARun(dir.clone()));
        }
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_lines_tolerate_absent_fields_and_a_torn_tail() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("metrics.jsonl");
        let text = concat!(
            "{\"phase\":\"sft\",\"step\":1,\"loss\":2.0}\n",
            "{\"phase\":\"rl\",\"step\":1,\"stage\":\"s1\",\"reward\":{\"mean\":0.5,\"std\":1.0},",
            "\"components\":[{\"name\":\"a\",\"mean\":0.25,\"std\":0.1}],\"loss\":0.1,\"kl\":0.0}\n",
            "{\"step\":2,\"reward\":0.75}\n",
            "{\"phase\":\"rl\",\"st"
        );
        std::fs::write(&p, text).unwrap();
        let lines = read_metrics(&p).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].reward, Some(0.5));
        assert_eq!(lines[0].components["a"], 0.25);
        assert_eq!(lines[0].scalars["kl"], 0.0);
        assert!(!lines[0].scalars.contains_key("entropy"));
        assert_eq!(lines[1].reward, Some(0.75));
        assert!(lines[0].roles.is_empty());
        // Self-play lines carry a section per role.
        let sp = concat!(
            "{\"phase\":\"rl\",\"step\":3,\"roles\":[{\"role\":\"attacker\",\"trained\":true,\"reward\":{\"mean\":0.4},",
            "\"components\":[{\"name\":\"attacker_plausible\",\"mean\":0.5}],\"metrics\":{\"plausible\":0.5}}]}\n"
        );
        std::fs::write(&p, sp).unwrap();
        let lines = read_metrics(&p).unwrap();
        let a = &lines[0].roles["attacker"];
        assert_eq!((a["reward"], a["reward.attacker_plausible"], a["plausible"]), (0.4, 0.5, 0.5));
        std::fs::write(&p, "{\"step\":1}\nnot json\n{\"step\":2}\n").unwrap();
        let e = read_metrics(&p).unwrap_err().to_string();
        assert!(e.contains("metrics.jsonl:2:"), "{e}");
    }
}
