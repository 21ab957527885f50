//! Measurement helpers for `exp bench cert` and the criterion bench: single-threaded ingest
//! (read and type every row of the activity files) and window building, plus peak RSS.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::CertError;
use crate::rows::{BadRowPolicy, SourceReader};
use crate::source::DataSource;
use crate::types::SourceKind;

/// Result of one ingest pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestStats {
    /// Rows parsed into typed rows.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// CPU time of the reading thread in seconds (Linux), the honest figure for "one core" on a
    /// shared machine where wall time also counts other processes.
    pub cpu_seconds: Option<f64>,
    /// A checksum over ids, times, users and text lengths (keeps the work observable).
    pub checksum: u64,
}

impl IngestStats {
    /// Events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
    /// Events per CPU-second of the reading thread.
    pub fn events_per_cpu_sec(&self) -> Option<f64> {
        self.cpu_seconds.map(|c| self.events as f64 / c.max(1e-9))
    }
    /// Megabytes (10^6) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }
}

/// Streams every row of the given activity files through the typed loader on this thread.
pub fn ingest(src: &dyn DataSource, sources: &[SourceKind]) -> Result<IngestStats, CertError> {
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    let mut st = IngestStats::default();
    for &kind in sources {
        let rel = kind.file_name();
        let mut r = SourceReader::new(kind, &src.display_path(rel), src.open(rel)?, BadRowPolicy::Error);
        while let Some(row) = r.next_row()? {
            st.events += 1;
            let text = row.content().len() + row.url().len() + row.to().len() + row.filename().len();
            let id = row.id.as_bytes();
            let id = u64::from_le_bytes([id[0], id[1], id[2], id[3], id[12], id[13], id[18], id[19]]);
            st.checksum = st.checksum.rotate_left(5).wrapping_add(
                row.time.day().0 as u64 ^ u64::from(row.user.raw()) ^ text as u64 ^ id ^ u64::from(row.pc.number()),
            );
        }
        st.bytes += r.stats().bytes;
    }
    st.seconds = start.elapsed().as_secs_f64();
    st.cpu_seconds = thread_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    Ok(st)
}

/// CPU time (user + system) of the calling thread in seconds, from
/// `/proc/thread-self/schedstat` (Linux); `None` elsewhere.
pub fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if available.
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
