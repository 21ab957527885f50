//! Checkpoints: everything a killed run needs to continue exactly.
//!
//! ```text
//! <run>/checkpoints/
//!   rl-000040/          weights/ (PEFT adapter or HF model), optimizer.safetensors, state.json
//!   latest              name of the newest complete checkpoint
//!   sft/                the warm-started policy (kept: it is the KL reference and the
//!                       "before" of the report)
//! ```
//!
//! A checkpoint is written into a hidden temp folder, fsynced file by file, renamed into place,
//! and only then named in `latest` (itself written atomically). A crash at any point leaves the
//! previous checkpoint intact and `latest` pointing at a complete one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TrainerError;

/// The `state.json` format this version writes. 2: full fine-tuning's optimizer moments follow
/// the model's `[in, out]` projection layout (format 1 had them `[out, in]`; its LoRA moments,
/// in PEFT's layout, are unchanged).
pub const FORMAT: u32 = 2;

/// File naming the newest checkpoint.
pub const LATEST: &str = "latest";
/// The optimizer moments.
pub const OPTIMIZER: &str = "optimizer.safetensors";
/// The progress record.
pub const STATE: &str = "state.json";
/// The policy weights inside a checkpoint.
pub const WEIGHTS: &str = "weights";

/// Which phase a run is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Supervised warm-start.
    Sft,
    /// Reinforcement learning.
    Rl,
    /// Finished.
    Done,
}

/// `state.json`: the position of the run. Randomness in Vigil is counter-based (every seed is
/// derived from the run seed, a purpose and an index), so the RNG state *is* these counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// Format version.
    pub format: u32,
    /// Root seed of the run.
    pub seed: u64,
    /// Current phase.
    pub phase: Phase,
    /// SFT steps completed.
    pub sft_step: u64,
    /// RL steps completed.
    pub rl_step: u64,
    /// Training prompts drawn so far, per stage (the task-order RNG position).
    pub drawn: BTreeMap<String, u64>,
    /// Optimizer updates of the current phase (AdamW bias correction).
    pub opt_steps: u64,
    /// Lines of `metrics.jsonl` this checkpoint covers.
    pub metrics_lines: u64,
    /// Whether an SFT policy was saved in `checkpoints/sft` (the RL reference).
    pub has_sft: bool,
    /// The `[trainer]` section the run was started with (a resume must match it).
    pub trainer: serde_json::Value,
    /// What training grew inside the environment (OpenSOC's novelty archive); `null` if none.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub env_state: serde_json::Value,
}

impl Progress {
    /// A fresh run.
    pub fn new(seed: u64, trainer: serde_json::Value, sft: bool) -> Self {
        Self {
            format: FORMAT,
            seed,
            phase: if sft { Phase::Sft } else { Phase::Rl },
            sft_step: 0,
            rl_step: 0,
            drawn: BTreeMap::new(),
            opt_steps: 0,
            metrics_lines: 0,
            has_sft: false,
            trainer,
            env_state: serde_json::Value::Null,
        }
    }
}

/// The `checkpoints/` folder of a run.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    /// `<run>/checkpoints`.
    pub dir: PathBuf,
    /// How many to keep.
    pub keep: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainerError + '_ {
    move |e| TrainerError::io(path, e)
}

impl Checkpoints {
    /// The folder for `run`.
    pub fn new(run: &Path, keep: usize) -> Self {
        Self { dir: run.join("checkpoints"), keep: keep.max(1) }
    }

    /// The newest complete checkpoint, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, TrainerError> {
        let p = self.dir.join(LATEST);
        match std::fs::read_to_string(&p) {
            Ok(name) => {
                let dir = self.dir.join(name.trim());
                if !dir.join(STATE).is_file() {
                    return Err(TrainerError::checkpoint(&dir, format!("named by {} but has no {STATE}", p.display())));
                }
                Ok(Some(dir))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(TrainerError::io(&p, e)),
        }
    }

    /// Writes a checkpoint named `name`: `write(tmp)` fills the folder's weights and optimizer;
    /// then `progress` is written, the folder renamed into place, `latest` updated and old
    /// checkpoints pruned.
    pub fn save(
        &self,
        name: &str,
        progress: &Progress,
        write: impl FnOnce(&Path) -> Result<(), TrainerError>,
    ) -> Result<PathBuf, TrainerError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let tmp = self.dir.join(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        write(&tmp)?;
        vigil_core::write_json_atomic(&tmp.join(STATE), progress).map_err(io(&tmp))?;
        let dst = self.dir.join(name);
        if dst.exists() {
            std::fs::remove_dir_all(&dst).map_err(io(&dst))?;
        }
        std::fs::rename(&tmp, &dst).map_err(io(&dst))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        let latest = self.dir.join(LATEST);
        vigil_core::write_atomic(&latest, name.as_bytes()).map_err(io(&latest))?;
        self.prune(name)?;
        Ok(dst)
    }

    /// Deletes step checkpoints beyond the newest `keep` (and stale temp folders).
    fn prune(&self, newest: &str) -> Result<(), TrainerError> {
        let mut steps: Vec<(String, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let e = e.map_err(io(&self.dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            } else if (name.starts_with("sft-") || name.starts_with("rl-")) && e.path().is_dir() {
                steps.push((name, e.path()));
            }
        }
        // Order by creation: SFT before RL, then by step number (zero-padded names).
        steps.sort_by_key(|(n, _)| (n.starts_with("rl-"), n.clone()));
        let keep_from = steps.len().saturating_sub(self.keep);
        for (n, p) in &steps[..keep_from] {
            if n != newest {
                std::fs::remove_dir_all(p).map_err(io(p))?;
            }
        }
        Ok(())
    }

    /// Reads `state.json` of a checkpoint.
    pub fn progress(dir: &Path) -> Result<Progress, TrainerError> {
        let p = dir.join(STATE);
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        serde_json::from_str(&text).map_err(|e| TrainerError::checkpoint(&p, format!("unreadable: {e}")))
    }
}

/// Writes optimizer moments as a safetensors file (f32) with the step count in the metadata.
pub fn write_optimizer(path: &Path, steps: u64, tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>) -> Result<(), TrainerError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(k, (shape, v))| (k.clone(), shape.clone(), v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(k, shape, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b).map(|v| (k.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrainerError::checkpoint(path, e.to_string()))?;
    let meta = std::collections::HashMap::from([("steps".to_string(), steps.to_string())]);
    let data = safetensors::serialize(views, Some(meta)).map_err(|e| TrainerError::checkpoint(path, e.to_string()))?;
    vigil_core::write_atomic(path, &data).map_err(io(path))
}

/// Reads what [`write_optimizer`] wrote.
pub fn read_optimizer(path: &Path) -> Result<(u64, BTreeMap<String, (Vec<usize>, Vec<f32>)>), TrainerError> {
    let data = std::fs::read(path).map_err(io(path))?;
    let bad = |m: String| TrainerError::checkpoint(path, m);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&data).map_err(|e| bad(e.to_string()))?;
    let steps = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("steps"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no `steps` in the metadata".into()))?;
    let st = safetensors::SafeTensors::deserialize(&data).map_err(|e| bad(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(format!("tensor `{name}` is {:?}, expected F32", view.dtype())));
        }
        let v: Vec<f32> = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(name, (view.shape().to_vec(), v));
    }
    Ok((steps, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_prune_and_latest() {
        let d = tempfile::tempdir().unwrap();
        let c = Checkpoints::new(d.path(), 2);
        assert!(c.latest().unwrap().is_none());
        let p = Progress::new(7, serde_json::json!({}), true);
        for name in ["sft-000002", "rl-000001", "rl-000002", "rl-000010"] {
            c.save(name, &p, |dir| std::fs::write(dir.join("w"), name).map_err(|e| TrainerError::io(dir, e))).unwrap();
        }
        let latest = c.latest().unwrap().unwrap();
        assert!(latest.ends_with("rl-000010"));
        assert_eq!(Checkpoints::progress(&latest).unwrap(), p);
        let mut names: Vec<String> =
            std::fs::read_dir(&c.dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["latest", "rl-000002", "rl-000010"]);
    }

    #[test]
    fn optimizer_roundtrip_and_torn_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(OPTIMIZER);
        let t = BTreeMap::from([("p00000.m".to_string(), (vec![2, 2], vec![1.0, -2.5, 3.0, f32::MIN_POSITIVE]))]);
        write_optimizer(&p, 9, &t).unwrap();
        assert_eq!(read_optimizer(&p).unwrap(), (9, t));
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read_optimizer(&p).unwrap_err().to_string().contains("optimizer.safetensors"));
    }
}
