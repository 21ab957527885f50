//! Typed rows of the five activity files and a streaming reader with a bad-row policy.
//!
//! A [`Row`] borrows its text fields from the reader's buffer, so reading allocates nothing
//! per row; ids, dates, users and PCs are parsed into the packed types of [`crate::types`].
//! Bad rows either stop the read with an error naming file and line, or (with
//! [`BadRowPolicy::Skip`]) are counted, logged and reported in [`SourceStats`]: never lost
//! silently.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::csv::{CsvReader, ReadError, Record};
use crate::error::{CertError, ValueError};
use crate::types::{EventId, PcId, SourceKind, Timestamp, UserId, lossy};

/// What to do with a row that does not follow the format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadRowPolicy {
    /// Stop with an error naming file and line (default: data problems are never hidden).
    #[default]
    Error,
    /// Skip the row, count it, keep the first examples for the summary, and log a warning.
    Skip,
}

/// How many skipped rows per file are kept verbatim in the summary.
pub const SKIP_EXAMPLES: usize = 10;

/// One skipped row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// 1-based line.
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// Per-file read summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceStats {
    /// The file read.
    pub file: String,
    /// Rows read successfully.
    pub rows: u64,
    /// Rows skipped under [`BadRowPolicy::Skip`].
    pub skipped: u64,
    /// The first [`SKIP_EXAMPLES`] skipped rows.
    pub examples: Vec<SkippedRow>,
    /// Bytes read.
    pub bytes: u64,
}

/// `Logon`/`Logoff` (logon.csv) or `Connect`/`Disconnect` (device.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activity {
    /// A logon or screen unlock.
    Logon,
    /// A logoff.
    Logoff,
    /// A removable device was connected.
    Connect,
    /// A removable device was disconnected.
    Disconnect,
}

impl Activity {
    /// The dataset's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Logon => "Logon",
            Activity::Logoff => "Logoff",
            Activity::Connect => "Connect",
            Activity::Disconnect => "Disconnect",
        }
    }

    fn parse(kind: SourceKind, s: &[u8]) -> Result<Self, ValueError> {
        match (kind, s) {
            (SourceKind::Logon, b"Logon") => Ok(Activity::Logon),
            (SourceKind::Logon, b"Logoff") => Ok(Activity::Logoff),
            (SourceKind::Device, b"Connect") => Ok(Activity::Connect),
            (SourceKind::Device, b"Disconnect") => Ok(Activity::Disconnect),
            _ => Err(ValueError::Activity(lossy(s))),
        }
    }
}

/// One typed activity row; text fields borrow the reader's buffer.
#[derive(Debug)]
pub struct Row<'a> {
    /// Source file.
    pub kind: SourceKind,
    /// CERT event id (unique within `kind`).
    pub id: EventId,
    /// When.
    pub time: Timestamp,
    /// Who.
    pub user: UserId,
    /// Where.
    pub pc: PcId,
    /// Logon/device activity (`None` for file, email, http).
    pub activity: Option<Activity>,
    /// E-mail body size in bytes (0 for other sources).
    pub size: u64,
    /// E-mail attachment count (0 for other sources).
    pub attachments: u32,
    rec: Record<'a>,
}

/// Column indices of the text fields.
const COL_FILENAME: usize = 4;
const COL_URL: usize = 4;
const COL_TO: usize = 4;
const COL_CC: usize = 5;
const COL_BCC: usize = 6;
const COL_FROM: usize = 7;

impl<'a> Row<'a> {
    /// 1-based line of the row.
    pub fn line(&self) -> u64 {
        self.rec.line
    }

    fn text(&self, col: usize) -> &'a str {
        // Validated as UTF-8 in `parse_head`; the empty fallback is unreachable.
        std::str::from_utf8(self.rec.get(col)).unwrap_or("")
    }

    fn text_if(&self, kinds: &[SourceKind], col: usize) -> &'a str {
        if kinds.contains(&self.kind) { self.text(col) } else { "" }
    }

    /// File name copied (file.csv).
    pub fn filename(&self) -> &'a str {
        self.text_if(&[SourceKind::File], COL_FILENAME)
    }
    /// URL visited (http.csv).
    pub fn url(&self) -> &'a str {
        self.text_if(&[SourceKind::Http], COL_URL)
    }
    /// `;`-separated recipients (email.csv).
    pub fn to(&self) -> &'a str {
        self.text_if(&[SourceKind::Email], COL_TO)
    }
    /// `;`-separated cc (email.csv).
    pub fn cc(&self) -> &'a str {
        self.text_if(&[SourceKind::Email], COL_CC)
    }
    /// `;`-separated bcc (email.csv).
    pub fn bcc(&self) -> &'a str {
        self.text_if(&[SourceKind::Email], COL_BCC)
    }
    /// Sender address (email.csv).
    pub fn from(&self) -> &'a str {
        self.text_if(&[SourceKind::Email], COL_FROM)
    }
    /// Keyword content (file, email, http; always the last column).
    pub fn content(&self) -> &'a str {
        match self.kind {
            SourceKind::File | SourceKind::Http => self.text(5),
            SourceKind::Email => self.text(10),
            SourceKind::Logon | SourceKind::Device => "",
        }
    }
}

/// The copyable part of a row, parsed and validated from a record.
#[derive(Debug, Clone, Copy)]
struct Head {
    id: EventId,
    time: Timestamp,
    user: UserId,
    pc: PcId,
    activity: Option<Activity>,
    size: u64,
    attachments: u32,
}

fn number<T: std::str::FromStr>(field: &'static str, s: &[u8]) -> Result<T, ValueError> {
    std::str::from_utf8(s)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ValueError::Number { field, value: lossy(s) })
}

fn parse_head(kind: SourceKind, rec: &Record<'_>) -> Result<Head, ValueError> {
    let header = kind.header();
    if rec.len() != header.len() {
        return Err(ValueError::FieldCount { expected: header.len(), found: rec.len() });
    }
    let mut head = Head {
        id: EventId::parse(rec.get(0))?,
        time: Timestamp::parse(rec.get(1))?,
        user: UserId::parse(rec.get(2))?,
        pc: PcId::parse(rec.get(3))?,
        activity: None,
        size: 0,
        attachments: 0,
    };
    match kind {
        SourceKind::Logon | SourceKind::Device => head.activity = Some(Activity::parse(kind, rec.get(4))?),
        SourceKind::Email => {
            head.size = number("size", rec.get(8))?;
            head.attachments = number("attachments", rec.get(9))?;
        }
        SourceKind::File | SourceKind::Http => {}
    }
    for (i, name) in header.iter().enumerate().skip(4) {
        if std::str::from_utf8(rec.get(i)).is_err() {
            return Err(ValueError::NotUtf8(name));
        }
    }
    Ok(head)
}

/// Checks a header record against the documented columns (case-insensitive, trimmed).
pub(crate) fn check_header(path: &Path, rec: &Record<'_>, expected: &[&str]) -> Result<(), CertError> {
    let found: Vec<String> = rec.iter().map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase()).collect();
    if found.len() != expected.len() || found.iter().zip(expected).any(|(a, b)| a != b) {
        return Err(CertError::Header {
            path: path.to_path_buf(),
            expected: expected.join(","),
            found: lossy(found.join(",").as_bytes()),
        });
    }
    Ok(())
}

pub(crate) fn read_error(path: &Path, e: ReadError) -> CertError {
    match e {
        ReadError::Io(e) => CertError::io(path, e),
        ReadError::Csv { line, error } => CertError::Csv { path: path.to_path_buf(), line, reason: error },
    }
}

/// Streams typed rows of one activity file.
#[derive(Debug)]
pub struct SourceReader<R> {
    kind: SourceKind,
    path: PathBuf,
    csv: CsvReader<R>,
    policy: BadRowPolicy,
    stats: SourceStats,
    header_done: bool,
    head: Option<Head>,
}

impl SourceReader<std::fs::File> {
    /// Opens `path` as a `kind` file.
    pub fn open(kind: SourceKind, path: &Path, policy: BadRowPolicy) -> Result<Self, CertError> {
        let f = std::fs::File::open(path).map_err(|e| CertError::io(path, e))?;
        Ok(Self::new(kind, path, f, policy))
    }
}

impl<R: Read> SourceReader<R> {
    /// Reads `src`; `path` is only used in messages.
    pub fn new(kind: SourceKind, path: &Path, src: R, policy: BadRowPolicy) -> Self {
        Self {
            kind,
            path: path.to_path_buf(),
            csv: CsvReader::new(src),
            policy,
            stats: SourceStats { file: path.display().to_string(), ..SourceStats::default() },
            header_done: false,
            head: None,
        }
    }

    /// Which activity file this is.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The file path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counts so far.
    pub fn stats(&self) -> SourceStats {
        SourceStats { bytes: self.csv.bytes_read(), ..self.stats.clone() }
    }

    /// The next valid row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, CertError> {
        if !self.header_done {
            if !self.csv.advance().map_err(|e| read_error(&self.path, e))? {
                return Err(CertError::Header {
                    path: self.path.clone(),
                    expected: self.kind.header().join(","),
                    found: String::new(),
                });
            }
            check_header(&self.path, &self.csv.current(), self.kind.header())?;
            self.header_done = true;
        }
        loop {
            if !self.csv.advance().map_err(|e| read_error(&self.path, e))? {
                return Ok(None);
            }
            let rec = self.csv.current();
            match parse_head(self.kind, &rec) {
                Ok(h) => {
                    self.head = Some(h);
                    break;
                }
                Err(reason) => {
                    let line = rec.line;
                    match self.policy {
                        BadRowPolicy::Error => {
                            return Err(CertError::BadRow { path: self.path.clone(), line, reason });
                        }
                        BadRowPolicy::Skip => {
                            tracing::warn!(file = %self.path.display(), line, %reason, "skipping bad row");
                            self.stats.skipped += 1;
                            if self.stats.examples.len() < SKIP_EXAMPLES {
                                self.stats.examples.push(SkippedRow { line, reason: reason.to_string() });
                            }
                        }
                    }
                }
            }
        }
        self.stats.rows += 1;
        let Some(h) = self.head else { return Ok(None) };
        Ok(Some(Row {
            kind: self.kind,
            id: h.id,
            time: h.time,
            user: h.user,
            pc: h.pc,
            activity: h.activity,
            size: h.size,
            attachments: h.attachments,
            rec: self.csv.current(),
        }))
    }
}
