//! A warm-start shared between runs (`[trainer.sft] cache`): the points of a sweep that differ
//! only in what comes after SFT (the estimator, RL settings) train it once, and every estimator
//! starts from the very same weights.
//!
//! An entry is a folder named by a key the caller derives from everything the warm-start
//! depends on. It holds the learner's weights (the checkpoint layout), the SFT metric lines and
//! the key's text. It is written to a temporary folder and renamed, so an entry that exists is
//! complete. Two runs that miss at once both train; the later rename finds the entry taken and
//! drops its copy, which is identical (the warm-start is deterministic).

use std::path::{Path, PathBuf};

use vigil_schema::metrics::MetricsLine;

use crate::error::TrainerError;

/// SFT metric lines of the entry, one JSON object per line.
pub const LINES: &str = "sft.jsonl";
/// What the entry's name hashes, for people.
pub const KEY: &str = "key.toml";
pub use crate::checkpoint::WEIGHTS;

/// Where a run's warm-start is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftCache {
    /// The entry folder (`<cache>/<key hash>`).
    pub entry: PathBuf,
    /// The text the key hashes.
    pub key: String,
}

impl SftCache {
    /// The entry's SFT lines, or `None` when there is no entry yet.
    pub fn lookup(&self) -> Result<Option<Vec<MetricsLine>>, TrainerError> {
        let path = self.entry.join(LINES);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| TrainerError::io(&path, e))?;
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str::<MetricsLine>(l)
                    .map_err(|e| TrainerError::checkpoint(&path, format!("line {}: {e}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if lines.iter().any(|l| !matches!(l, MetricsLine::Sft(_))) {
            return Err(TrainerError::checkpoint(&path, "holds a line that is not an SFT step"));
        }
        Ok(Some(lines))
    }

    /// Stores an entry: `save` writes the weights into the folder it is given.
    pub fn store(
        &self,
        lines: &[MetricsLine],
        save: impl FnOnce(&Path) -> Result<(), TrainerError>,
    ) -> Result<(), TrainerError> {
        let name = self.entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = self.entry.with_file_name(format!(".tmp-{name}-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))?;
        save(&tmp.join(WEIGHTS))?;
        let mut text = String::new();
        for l in lines {
            text.push_str(&serde_json::to_string(l).map_err(|e| TrainerError::checkpoint(&tmp, e.to_string()))?);
            text.push('\n');
        }
        let write = |p: PathBuf, t: &str| std::fs::write(&p, t).map_err(|e| TrainerError::io(&p, e));
        write(tmp.join(KEY), &self.key)?;
        write(tmp.join(LINES), &text)?;
        match std::fs::rename(&tmp, &self.entry) {
            Ok(()) => Ok(()),
            Err(_) if self.entry.join(LINES).is_file() => {
                std::fs::remove_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))
            }
            Err(e) => Err(TrainerError::io(&self.entry, e)),
        }
    }
}
