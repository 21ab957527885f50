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

use crate::error::TrainerError;
use crate::metrics::{MetricsLine, MetricsLog, read_lines};

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
        let lines = read_lines(&path)?;
        if lines.iter().any(|l| !matches!(l, MetricsLine::Sft(_))) {
            return Err(TrainerError::checkpoint(&path, "holds a line that is not an SFT step"));
        }
        Ok(Some(lines))
    }

    /// The entry's weights (what `save` wrote in [`SftCache::store`]).
    pub fn weights(&self) -> PathBuf {
        self.entry.join(WEIGHTS)
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
        let key = tmp.join(KEY);
        std::fs::write(&key, &self.key).map_err(|e| TrainerError::io(&key, e))?;
        let mut log = MetricsLog::open(&tmp.join(LINES), 0)?;
        for l in lines {
            log.append(l)?;
        }
        match std::fs::rename(&tmp, &self.entry) {
            Ok(()) => Ok(()),
            Err(_) if self.entry.join(LINES).is_file() => {
                std::fs::remove_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))
            }
            Err(e) => Err(TrainerError::io(&self.entry, e)),
        }
    }
}
