//! `metrics.jsonl`: appending lines (their types live in `vigil_schema::metrics`, shared with
//! every reader), and cutting the file back to a checkpoint on resume.

use std::io::Write;
use std::path::{Path, PathBuf};

pub use vigil_schema::metrics::{
    ComponentCorr, ComponentStat, HackingRate, MetricsLine, RlLine, RoleLine, SftLine, Stat, Timing, component_corr,
};

use crate::error::TrainerError;

/// Appends lines to `metrics.jsonl`; on resume, first cuts it back to what the checkpoint covers.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    /// Lines written so far (recorded in checkpoints).
    pub lines: u64,
}

impl MetricsLog {
    /// Opens `path`, keeping its first `keep` complete lines (0 for a fresh run).
    pub fn open(path: &Path, keep: u64) -> Result<Self, TrainerError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(TrainerError::io(path, e)),
        };
        let kept: Vec<&str> = text.split_inclusive('\n').filter(|l| l.ends_with('\n')).take(keep as usize).collect();
        if (kept.len() as u64) < keep {
            return Err(TrainerError::checkpoint(path, format!("has {} complete lines, the checkpoint expects {keep}", kept.len())));
        }
        vigil_core::write_atomic(path, kept.concat().as_bytes()).map_err(|e| TrainerError::io(path, e))?;
        Ok(Self { path: path.to_path_buf(), lines: keep })
    }

    /// Appends one line (flushed to disk).
    pub fn append(&mut self, line: &MetricsLine) -> Result<(), TrainerError> {
        let mut s = serde_json::to_string(line).map_err(|e| TrainerError::io(&self.path, std::io::Error::other(e)))?;
        s.push('\n');
        let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&self.path).map_err(|e| TrainerError::io(&self.path, e))?;
        f.write_all(s.as_bytes()).and_then(|()| f.sync_data()).map_err(|e| TrainerError::io(&self.path, e))?;
        self.lines += 1;
        Ok(())
    }
}

/// Every line of a `metrics.jsonl`, parsed; a line that does not parse is an error naming it.
pub fn read_lines(path: &Path) -> Result<Vec<MetricsLine>, TrainerError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainerError::io(path, e))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| TrainerError::checkpoint(path, format!("line {}: {e}", i + 1))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_log_truncation() {
        let s = Stat::of(&[1.0, 3.0]);
        assert_eq!((s.mean, s.std, s.min, s.max), (2.0, 1.0, 1.0, 3.0));
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("metrics.jsonl");
        let line = MetricsLine::Sft(SftLine { step: 1, epoch: 0, lr: 0.1, loss: 2.0, grad_norm: 1.0, tokens: 5, timing: Timing::default() });
        let mut log = MetricsLog::open(&p, 0).unwrap();
        log.append(&line).unwrap();
        log.append(&line).unwrap();
        // A torn last line (killed mid-write) is dropped on resume.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"{\"phase\":").unwrap();
        let log = MetricsLog::open(&p, 1).unwrap();
        assert_eq!(log.lines, 1);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 1);
        let back: MetricsLine = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(back, line);
        assert!(MetricsLog::open(&p, 5).is_err());
    }
}
