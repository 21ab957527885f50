//! Streaming user/day window builder.
//!
//! The five activity files are read side by side, one calendar day at a time (each r4.2 file
//! is in date order), so memory holds one day of events for all users (≈65k in r4.2) no
//! matter how large the files are. At the end of a day the events are grouped by user,
//! sorted by time (ties: file order logon, device, file, email, http, then line), summarised
//! into [`Features`] with the user's [`History`], labelled, and handed to a callback as a
//! borrowed [`WindowView`]; only windows the caller keeps are copied ([`WindowView::to_window`]).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::CertError;
use crate::features::{EventRef, Features, History, UserState};
use crate::labels::{Labeler, RiskLabel};
use crate::org::Directory;
use crate::rows::{Activity, BadRowPolicy, Row, SourceReader, SourceStats};
use crate::source::DataSource;
use crate::types::{Day, EventId, PcId, SourceKind, Timestamp, UserId};

/// How a day with more than `max_events` events is cut down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapPolicy {
    /// Evenly spaced events, always keeping the first and the last: both ends of the day are
    /// where after-hours activity lives, and the rule never looks at labels.
    #[default]
    Spread,
    /// The first `max_events` events in time order.
    Head,
}

/// `[env.window]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowConfig {
    /// Most events shown per window (SOC Narrative's `max_events_per_group` = 300).
    pub max_events: usize,
    /// Windows with fewer events are dropped (SOC Narrative used 2; 1 keeps every
    /// answer-key day, some of which have a single event).
    pub min_events: usize,
    /// How long days are cut.
    pub cap: CapPolicy,
    /// After hours = hour < `after_hours[0]` or hour > `after_hours[1]` (SOC Narrative: 7, 20).
    pub after_hours: [u32; 2],
    /// Mail to any other domain is external.
    pub internal_domain: String,
    /// Activity files to read (all five by default).
    pub sources: Vec<SourceKind>,
    /// Bad rows: error (default) or count and skip.
    pub bad_rows: BadRowPolicy,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            max_events: 300,
            min_events: 1,
            cap: CapPolicy::Spread,
            after_hours: [7, 20],
            internal_domain: "dtaa.com".into(),
            sources: SourceKind::ALL.to_vec(),
            bad_rows: BadRowPolicy::Error,
        }
    }
}

impl WindowConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        if !(2..=9999).contains(&self.max_events) {
            return Err(CertError::config("window.max_events", "must be in 2..=9999"));
        }
        if self.min_events == 0 || self.min_events > self.max_events {
            return Err(CertError::config("window.min_events", "must be in 1..=max_events"));
        }
        if self.after_hours[0] > 23 || self.after_hours[1] > 23 || self.after_hours[0] > self.after_hours[1] {
            return Err(CertError::config("window.after_hours", "must be [start, end] hours with start <= end <= 23"));
        }
        if self.sources.is_empty() {
            return Err(CertError::config("window.sources", "must name at least one activity file"));
        }
        Ok(())
    }
}

/// Byte range in a day arena.
#[derive(Debug, Clone, Copy, Default)]
struct Span(u32, u32);

/// One buffered event; text fields live in the day arena.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stored {
    pub(crate) user: UserId,
    pub(crate) time: Timestamp,
    pub(crate) kind: SourceKind,
    pub(crate) line: u64,
    pub(crate) id: EventId,
    pub(crate) pc: PcId,
    pub(crate) activity: Option<Activity>,
    pub(crate) size: u64,
    pub(crate) attachments: u32,
    texts: [Span; 5],
}

/// Text slots: file [filename, content], http [url, content], email [to, cc, bcc, from, content].
fn store(row: &Row<'_>, arena: &mut Vec<u8>) -> Stored {
    let mut texts = [Span::default(); 5];
    let fields: [&str; 5] = match row.kind {
        SourceKind::File => [row.filename(), row.content(), "", "", ""],
        SourceKind::Http => [row.url(), row.content(), "", "", ""],
        SourceKind::Email => [row.to(), row.cc(), row.bcc(), row.from(), row.content()],
        SourceKind::Logon | SourceKind::Device => [""; 5],
    };
    for (slot, f) in texts.iter_mut().zip(fields) {
        let off = arena.len() as u32;
        arena.extend_from_slice(f.as_bytes());
        *slot = Span(off, f.len() as u32);
    }
    Stored {
        user: row.user,
        time: row.time,
        kind: row.kind,
        line: row.line(),
        id: row.id,
        pc: row.pc,
        activity: row.activity,
        size: row.size,
        attachments: row.attachments,
        texts,
    }
}

impl Stored {
    pub(crate) fn text<'a>(&self, arena: &'a [u8], slot: usize) -> &'a str {
        let Span(o, l) = self.texts[slot];
        // Arena bytes were copied from validated UTF-8 fields.
        std::str::from_utf8(&arena[o as usize..(o + l) as usize]).unwrap_or("")
    }

    pub(crate) fn as_ref<'a>(&self, arena: &'a [u8]) -> EventRef<'a> {
        let t = |i| self.text(arena, i);
        let (filename, url, recipients, content) = match self.kind {
            SourceKind::File => (t(0), "", ["", "", ""], t(1)),
            SourceKind::Http => ("", t(0), ["", "", ""], t(1)),
            SourceKind::Email => ("", "", [t(0), t(1), t(2)], t(4)),
            SourceKind::Logon | SourceKind::Device => ("", "", ["", "", ""], ""),
        };
        EventRef {
            kind: self.kind,
            time: self.time,
            pc: self.pc,
            activity: self.activity,
            filename,
            url,
            recipients,
            attachments: self.attachments,
            content,
        }
    }
}

/// A window as the builder hands it out: borrowed, valid during the callback only.
#[derive(Debug)]
pub struct WindowView<'a> {
    /// The user.
    pub user: UserId,
    /// The calendar day.
    pub day: Day,
    /// Label under the configured rule.
    pub label: RiskLabel,
    /// Summary features of the whole day.
    pub features: &'a Features,
    /// The user's history before this day.
    pub history: &'a History,
    pub(crate) events: &'a [Stored],
    pub(crate) arena: &'a [u8],
    pub(crate) labeler: &'a Labeler,
    pub(crate) cfg: &'a WindowConfig,
    pub(crate) role: Option<&'a str>,
}

impl WindowView<'_> {
    /// Events in the day (before the cap).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when the day has no event (never handed out).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether event `i` is malicious evidence for this window's user.
    pub fn is_malicious(&self, i: usize) -> bool {
        let e = &self.events[i];
        self.labeler.event_is_malicious(self.user, e.kind, e.id)
    }
}

/// Counts of one build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildSummary {
    /// Per activity file.
    pub sources: Vec<SourceStats>,
    /// Events read.
    pub events: u64,
    /// Calendar days seen.
    pub days: u32,
    /// Windows handed out.
    pub windows: u64,
    /// Windows dropped for having fewer than `min_events` events.
    pub dropped_small: u64,
    /// Windows per label.
    pub labels: BTreeMap<String, u64>,
    /// Malicious user-days under the label rule.
    pub malicious_days_expected: u64,
    /// Of those, days that became a (malicious) window.
    pub malicious_days_found: u64,
    /// Up to 20 malicious days without a window (`USER@YYYY-MM-DD`).
    pub malicious_days_missing: Vec<String>,
    /// Rows skipped for going back in date (only under `bad_rows = "skip"`).
    pub out_of_order_skipped: u64,
}

struct Stream {
    reader: SourceReader<Box<dyn Read + Send>>,
    pending: Option<(Stored, Vec<u8>)>,
    done: bool,
}

/// Builds every window of the dataset in `src`, calling `on_window` for each, in day order.
pub fn build_windows(
    src: &dyn DataSource,
    cfg: &WindowConfig,
    labeler: &Labeler,
    directory: Option<&Directory>,
    mut on_window: impl FnMut(&WindowView<'_>) -> Result<(), CertError>,
) -> Result<BuildSummary, CertError> {
    cfg.validate()?;
    let mut streams = Vec::new();
    for &kind in &cfg.sources {
        let rel = kind.file_name();
        if !src.exists(rel) {
            return Err(CertError::Missing { path: src.display_path(rel), what: "an activity file" });
        }
        let reader = SourceReader::new(kind, &src.display_path(rel), src.open(rel)?, cfg.bad_rows);
        streams.push(Stream { reader, pending: None, done: false });
    }
    let mut summary = BuildSummary::default();
    let mut states: HashMap<UserId, UserState> = HashMap::new();
    let mut events: Vec<Stored> = Vec::new();
    let mut arena: Vec<u8> = Vec::new();
    let mut found = std::collections::HashSet::new();
    loop {
        for s in streams.iter_mut().filter(|s| s.pending.is_none() && !s.done) {
            match s.reader.next_row()? {
                Some(row) => {
                    let mut buf = Vec::new();
                    s.pending = Some((store(&row, &mut buf), buf));
                }
                None => s.done = true,
            }
        }
        let Some(day) = streams.iter().filter_map(|s| s.pending.as_ref().map(|p| p.0.time.day())).min() else {
            break;
        };
        for s in &mut streams {
            match s.pending.take() {
                Some((st, buf)) if st.time.day() == day => {
                    let base = arena.len() as u32;
                    arena.extend_from_slice(&buf);
                    let mut st = st;
                    for t in &mut st.texts {
                        t.0 += base;
                    }
                    events.push(st);
                }
                other => {
                    s.pending = other;
                    continue;
                }
            }
            while !s.done {
                let Some(row) = s.reader.next_row()? else {
                    s.done = true;
                    break;
                };
                let d = row.time.day();
                if d == day {
                    events.push(store(&row, &mut arena));
                } else if d > day {
                    let mut buf = Vec::new();
                    s.pending = Some((store(&row, &mut buf), buf));
                    break;
                } else if cfg.bad_rows == BadRowPolicy::Skip {
                    let line = row.line();
                    tracing::warn!(file = %s.reader.path().display(), line, "skipping out-of-order row");
                    summary.out_of_order_skipped += 1;
                } else {
                    let line = row.line();
                    return Err(CertError::OutOfOrder {
                        path: s.reader.path().to_path_buf(),
                        line,
                        day: d.iso(),
                        current: day.iso(),
                    });
                }
            }
        }
        summary.days += 1;
        summary.events += events.len() as u64;
        events.sort_unstable_by_key(|e| (e.user, e.time, e.kind, e.line));
        for group in events.chunk_by(|a, b| a.user == b.user) {
            let user = group[0].user;
            let state = states.entry(user).or_default();
            let features = Features::compute(
                group.iter().map(|e| e.as_ref(&arena)),
                (cfg.after_hours[0], cfg.after_hours[1]),
                &cfg.internal_domain,
                state.usual_pc(),
            );
            let history = state.summary();
            let label = labeler.label(user, day, &features);
            if group.len() >= cfg.min_events {
                let view = WindowView {
                    user,
                    day,
                    label,
                    features: &features,
                    history: &history,
                    events: group,
                    arena: &arena,
                    labeler,
                    cfg,
                    role: directory.and_then(|d| d.user(user)).map(|r| r.role.as_str()),
                };
                on_window(&view)?;
                summary.windows += 1;
                *summary.labels.entry(label.to_string()).or_default() += 1;
                if label == RiskLabel::Malicious {
                    found.insert((user, day));
                }
            } else {
                summary.dropped_small += 1;
            }
            let logons = group.iter().filter(|e| e.activity == Some(Activity::Logon)).map(|e| e.pc);
            state.update(&features, logons);
        }
        events.clear();
        arena.clear();
    }
    summary.sources = streams.iter().map(|s| s.reader.stats()).collect();
    let expected = labeler.malicious_days();
    summary.malicious_days_expected = expected.len() as u64;
    summary.malicious_days_found = expected.iter().filter(|k| found.contains(*k)).count() as u64;
    summary.malicious_days_missing =
        expected.iter().filter(|k| !found.contains(*k)).take(20).map(|(u, d)| format!("{u}@{}", d.iso())).collect();
    Ok(summary)
}
