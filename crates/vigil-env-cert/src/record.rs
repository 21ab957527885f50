//! The owned, serializable window: one JSONL line of a split file.
//!
//! It keeps what the prompt needs (time-ordered events with `E001…` ids and their fields),
//! what the graders need (label, malicious event ids), provenance (CERT event ids), and the
//! summary features. Loading validates each record (ids unique and consecutive, evidence ids
//! present in the window) and names the file and line of any bad one.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::CertError;
use crate::features::{Features, History};
use crate::labels::RiskLabel;
use crate::rows::Activity;
use crate::types::{Day, EventId, PcId, SourceKind, UserId};
use crate::window::{CapPolicy, WindowView};

/// Source-specific fields of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
pub enum Detail {
    /// logon.csv.
    Logon {
        /// Logon or Logoff.
        activity: Activity,
    },
    /// device.csv.
    Device {
        /// Connect or Disconnect.
        activity: Activity,
    },
    /// file.csv.
    File {
        /// File name.
        filename: String,
        /// Header magic and keywords.
        content: String,
    },
    /// email.csv.
    Email {
        /// Recipients.
        to: String,
        /// Cc.
        cc: String,
        /// Bcc.
        bcc: String,
        /// Sender.
        from: String,
        /// Body bytes.
        size: u64,
        /// Attachment count.
        attachments: u32,
        /// Keywords.
        content: String,
    },
    /// http.csv.
    Http {
        /// URL.
        url: String,
        /// Keywords.
        content: String,
    },
}

impl Detail {
    /// The source file.
    pub fn source(&self) -> SourceKind {
        match self {
            Detail::Logon { .. } => SourceKind::Logon,
            Detail::Device { .. } => SourceKind::Device,
            Detail::File { .. } => SourceKind::File,
            Detail::Email { .. } => SourceKind::Email,
            Detail::Http { .. } => SourceKind::Http,
        }
    }
}

/// One event of a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowEvent {
    /// Window-local id `E001`, `E002`, … in time order.
    pub eid: String,
    /// `HH:MM:SS`.
    pub time: String,
    /// The CERT id (provenance; never shown to the model).
    pub cert_id: EventId,
    /// The PC.
    pub pc: PcId,
    /// Source fields.
    pub detail: Detail,
}

/// One user/day window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `USER@YYYY-MM-DD` (the task id).
    pub id: String,
    /// The user.
    pub user: UserId,
    /// The day.
    pub date: Day,
    /// LDAP role, when known.
    pub role: Option<String>,
    /// Gold label.
    pub label: RiskLabel,
    /// The user's insider scenario (ground truth; for per-scenario reports only).
    pub scenario: Option<u8>,
    /// Events in the whole day (before the cap).
    pub total_events: u32,
    /// Shown events, time-ordered.
    pub events: Vec<WindowEvent>,
    /// Ids of shown events that are malicious evidence.
    pub malicious_eids: Vec<String>,
    /// Malicious events in the whole day (some may be cut by the cap).
    pub malicious_total: u32,
    /// Summary features of the whole day.
    pub features: Features,
    /// The user's history before the day.
    pub history: History,
}

/// `E001`-style id for position `i` (0-based) in a window of `n` events.
pub fn eid(i: usize, n: usize) -> String {
    let width = n.to_string().len().max(3);
    format!("E{:0width$}", i + 1)
}

/// Indices kept by the cap.
pub fn cap_indices(n: usize, max: usize, policy: CapPolicy) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    match policy {
        CapPolicy::Head => (0..max).collect(),
        CapPolicy::Spread => (0..max).map(|k| (k * (n - 1) + (max - 1) / 2) / (max - 1)).collect(),
    }
}

impl WindowView<'_> {
    /// The task id of this window.
    pub fn id(&self) -> String {
        format!("{}@{}", self.user, self.day.iso())
    }

    /// Copies the window out, applying the event cap and numbering events `E001…`.
    pub fn to_window(&self) -> Window {
        let keep = cap_indices(self.events.len(), self.cfg.max_events, self.cfg.cap);
        let mut events = Vec::with_capacity(keep.len());
        let mut malicious_eids = Vec::new();
        for (k, &i) in keep.iter().enumerate() {
            let e = &self.events[i];
            let t = |slot| e.text(self.arena, slot).to_string();
            let detail = match e.kind {
                SourceKind::Logon => Detail::Logon { activity: e.activity.unwrap_or(Activity::Logon) },
                SourceKind::Device => Detail::Device { activity: e.activity.unwrap_or(Activity::Connect) },
                SourceKind::File => Detail::File { filename: t(0), content: t(1) },
                SourceKind::Http => Detail::Http { url: t(0), content: t(1) },
                SourceKind::Email => Detail::Email {
                    to: t(0),
                    cc: t(1),
                    bcc: t(2),
                    from: t(3),
                    size: e.size,
                    attachments: e.attachments,
                    content: t(4),
                },
            };
            let id = eid(k, keep.len());
            if self.is_malicious(i) {
                malicious_eids.push(id.clone());
            }
            events.push(WindowEvent { eid: id, time: e.time.time_string(), cert_id: e.id, pc: e.pc, detail });
        }
        Window {
            id: self.id(),
            user: self.user,
            date: self.day,
            role: self.role.map(str::to_string),
            label: self.label,
            scenario: self.labeler.scenario(self.user),
            total_events: self.events.len() as u32,
            events,
            malicious_eids,
            malicious_total: (0..self.events.len()).filter(|&i| self.is_malicious(i)).count() as u32,
            features: self.features.clone(),
            history: self.history.clone(),
        }
    }
}

impl Window {
    /// Checks internal consistency (what a hand-edited or truncated JSONL line can break).
    pub fn check(&self) -> Result<(), String> {
        if self.id != format!("{}@{}", self.user, self.date.iso()) {
            return Err(format!("id `{}` does not match user and date", self.id));
        }
        if self.events.is_empty() {
            return Err("window has no events".into());
        }
        for (i, e) in self.events.iter().enumerate() {
            let want = eid(i, self.events.len());
            if e.eid != want {
                return Err(format!("event {} has id `{}`, expected `{want}`", i + 1, e.eid));
            }
        }
        for m in &self.malicious_eids {
            if !self.events.iter().any(|e| &e.eid == m) {
                return Err(format!("malicious id `{m}` is not an event of the window"));
            }
        }
        Ok(())
    }
}

/// Writes windows as JSONL atomically.
pub fn write_jsonl(path: &Path, windows: &[Window]) -> Result<(), CertError> {
    let mut out = Vec::new();
    for w in windows {
        serde_json::to_writer(&mut out, w).map_err(|e| CertError::Json { path: path.into(), line: 0, source: e })?;
        out.write_all(b"\n").map_err(|e| CertError::io(path, e))?;
    }
    vigil_core::write_atomic(path, &out).map_err(|e| CertError::io(path, e))
}

/// Reads and checks a JSONL split file; ids must be unique.
pub fn read_jsonl(path: &Path) -> Result<Vec<Window>, CertError> {
    let f = std::fs::File::open(path).map_err(|e| CertError::io(path, e))?;
    let mut out: Vec<Window> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| CertError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let w: Window =
            serde_json::from_str(&line).map_err(|e| CertError::Json { path: path.into(), line: line_no, source: e })?;
        let bad = |reason: String| CertError::BadWindow { path: path.into(), line: line_no, reason };
        w.check().map_err(bad)?;
        if !seen.insert(w.id.clone()) {
            return Err(bad(format!("duplicate window `{}`", w.id)));
        }
        out.push(w);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_both_ends_and_is_increasing() {
        let k = cap_indices(1000, 300, CapPolicy::Spread);
        assert_eq!(k.len(), 300);
        assert_eq!((k[0], k[299]), (0, 999));
        assert!(k.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(cap_indices(5, 300, CapPolicy::Spread), [0, 1, 2, 3, 4]);
        assert_eq!(cap_indices(10, 3, CapPolicy::Head), [0, 1, 2]);
        assert_eq!(eid(0, 5), "E001");
        assert_eq!(eid(999, 1200), "E1000");
    }
}
