//! The answer key: `answers/insiders.csv` plus one ragged, header-less file per insider.
//!
//! Event-level labels come from an exact join on `(source, event id)`; day-level labels from
//! the dates of answer rows **recorded under the insider's own user id**. Scenario 3 answer
//! files also hold rows recorded under the supervisor's account (impersonation); those rows
//! credit the insider, so by default they do not make the supervisor's day malicious
//! (research note §1.4). The answer key is small (7k rows in r4.2), so it is loaded whole.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::csv::CsvReader;
use crate::error::{CertError, ValueError};
use crate::rows::{check_header, read_error};
use crate::source::DataSource;
use crate::types::{Day, EventId, SourceKind, Timestamp, UserId};

/// One row of `answers/insiders.csv` for the selected release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insider {
    /// The insider.
    pub user: UserId,
    /// Scenario number (1–3 in r4.2).
    pub scenario: u8,
    /// Per-insider answer file name.
    pub details: String,
    /// First malicious activity.
    pub start: Timestamp,
    /// Last malicious activity.
    pub end: Timestamp,
}

/// One row of a per-insider answer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerRow {
    /// Source file of the event.
    pub kind: SourceKind,
    /// The event id in that file.
    pub id: EventId,
    /// Timestamp of the event.
    pub time: Timestamp,
    /// The user the event is recorded under.
    pub user: UserId,
    /// The insider whose file lists it.
    pub insider: UserId,
}

/// The loaded answer key for one release.
#[derive(Debug, Clone, Default)]
pub struct AnswerKey {
    insiders: Vec<Insider>,
    rows: Vec<AnswerRow>,
    events: HashMap<(SourceKind, EventId), UserId>,
    by_user: HashMap<UserId, usize>,
}

/// Header of `answers/insiders.csv`.
pub const INSIDERS_HEADER: [&str; 6] = ["dataset", "scenario", "details", "user", "start", "end"];

fn release_matches(field: &str, release: &str) -> bool {
    let (a, b) = (field.trim(), release.trim());
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if (x - y).abs() < 1e-6)
}

/// Number of fields (type first) of an answer row for each source.
fn answer_width(kind: SourceKind) -> usize {
    1 + kind.header().len()
}

impl AnswerKey {
    /// Loads `answers/insiders.csv` rows of `release` (e.g. `"4.2"`) and their detail files
    /// from `answers/r<release>-<scenario>/`.
    pub fn load(src: &dyn DataSource, release: &str) -> Result<Self, CertError> {
        let rel = "answers/insiders.csv";
        let path = src.display_path(rel);
        if !src.exists(rel) {
            return Err(CertError::Missing { path, what: "the answer key index" });
        }
        let mut csv = CsvReader::new(src.open(rel)?);
        if !csv.advance().map_err(|e| read_error(&path, e))? {
            return Err(CertError::Header { path, expected: INSIDERS_HEADER.join(","), found: String::new() });
        }
        check_header(&path, &csv.current(), &INSIDERS_HEADER)?;
        let mut key = AnswerKey::default();
        while csv.advance().map_err(|e| read_error(&path, e))? {
            let rec = csv.current();
            let bad = |reason| CertError::BadRow { path: path.clone(), line: rec.line, reason };
            if rec.len() != 6 {
                return Err(bad(ValueError::FieldCount { expected: 6, found: rec.len() }));
            }
            let text = |i| String::from_utf8_lossy(rec.get(i)).trim().to_string();
            if !release_matches(&text(0), release) {
                continue;
            }
            let scenario = text(1)
                .parse::<u8>()
                .map_err(|_| bad(ValueError::Number { field: "scenario", value: text(1) }))?;
            let user = UserId::parse(text(3).as_bytes()).map_err(bad)?;
            let start = Timestamp::parse_loose(&text(4)).map_err(bad)?;
            let end = Timestamp::parse_loose(&text(5)).map_err(bad)?;
            key.by_user.insert(user, key.insiders.len());
            key.insiders.push(Insider { user, scenario, details: text(2), start, end });
        }
        for i in 0..key.insiders.len() {
            let ins = key.insiders[i].clone();
            let rel = format!("answers/r{release}-{}/{}", ins.scenario, ins.details);
            if !src.exists(&rel) {
                return Err(CertError::Missing { path: src.display_path(&rel), what: "an insider's answer file" });
            }
            key.load_detail(src, &rel, ins.user)?;
        }
        Ok(key)
    }

    fn load_detail(&mut self, src: &dyn DataSource, rel: &str, insider: UserId) -> Result<(), CertError> {
        let path = src.display_path(rel);
        let mut csv = CsvReader::new(src.open(rel)?);
        while csv.advance().map_err(|e| read_error(&path, e))? {
            let rec = csv.current();
            let bad = |reason| CertError::BadRow { path: path.clone(), line: rec.line, reason };
            let kind_text = String::from_utf8_lossy(rec.get(0)).into_owned();
            let kind = SourceKind::parse(&kind_text).ok_or_else(|| bad(ValueError::SourceType(kind_text)))?;
            if rec.len() != answer_width(kind) {
                return Err(bad(ValueError::FieldCount { expected: answer_width(kind), found: rec.len() }));
            }
            let id = EventId::parse(rec.get(1)).map_err(bad)?;
            let time = Timestamp::parse(rec.get(2))
                .or_else(|_| Timestamp::parse_loose(&String::from_utf8_lossy(rec.get(2))))
                .map_err(bad)?;
            let user = UserId::parse(rec.get(3)).map_err(bad)?;
            self.events.insert((kind, id), insider);
            self.rows.push(AnswerRow { kind, id, time, user, insider });
        }
        Ok(())
    }

    /// Builds a key directly (the generator's path and tests).
    pub fn from_parts(insiders: Vec<Insider>, rows: Vec<AnswerRow>) -> Self {
        let events = rows.iter().map(|r| ((r.kind, r.id), r.insider)).collect();
        let by_user = insiders.iter().enumerate().map(|(i, x)| (x.user, i)).collect();
        Self { insiders, rows, events, by_user }
    }

    /// Insiders of the release, in file order.
    pub fn insiders(&self) -> &[Insider] {
        &self.insiders
    }

    /// All answer rows, in file order.
    pub fn rows(&self) -> &[AnswerRow] {
        &self.rows
    }

    /// The insider an event is credited to, if it is in the answer key.
    pub fn event_insider(&self, kind: SourceKind, id: EventId) -> Option<UserId> {
        self.events.get(&(kind, id)).copied()
    }

    /// The insider record of `user`, if `user` is an insider.
    pub fn insider(&self, user: UserId) -> Option<&Insider> {
        self.by_user.get(&user).map(|&i| &self.insiders[i])
    }

    /// `(insider, day)` of every answer row recorded under the insider's own user id:
    /// the "malicious user-days" of the answer key.
    pub fn malicious_days(&self) -> BTreeSet<(UserId, Day)> {
        self.rows.iter().filter(|r| r.user == r.insider).map(|r| (r.insider, r.time.day())).collect()
    }
}

/// Writes `answers/insiders.csv` content for `insiders` (generator).
pub fn write_insiders_csv(release: &str, insiders: &[Insider]) -> Vec<u8> {
    let mut out = INSIDERS_HEADER.join(",").into_bytes();
    out.extend_from_slice(b"\r\n");
    for i in insiders {
        let line = format!(
            "{release},{},{},{},{},{}\r\n",
            i.scenario,
            i.details,
            i.user,
            i.start.cert_string(),
            i.end.cert_string()
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// Path of an insider's answer file relative to the dataset root.
pub fn detail_path(release: &str, scenario: u8, user: UserId) -> String {
    format!("answers/r{release}-{scenario}/{}", detail_name(release, scenario, user))
}

/// File name of an insider's answer file.
pub fn detail_name(release: &str, scenario: u8, user: UserId) -> String {
    format!("r{release}-{scenario}-{user}.csv")
}

/// Days covered by an insider's `[start, end]` range.
pub fn insider_range(i: &Insider) -> (Day, Day) {
    (i.start.day(), i.end.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn loads_release_rows_and_joins_events() {
        let mut m = MemSource::new();
        m.insert(
            "answers/insiders.csv",
            b"dataset,scenario,details,user,start,end\n4.2,1,r4.2-1-AAM0658.csv,AAM0658,3/6/2010 1:41:56,03/07/2010 02:00:00\n\
              5.2,1,r5.2-1-XYZ0001.csv,XYZ0001,1/1/2010 0:00:00,1/1/2010 0:00:00\n"
                .to_vec(),
        );
        m.insert(
            "answers/r4.2-1/r4.2-1-AAM0658.csv",
            b"logon,{A1B2-C3D4E5F6-G7H8I9J0},03/06/2010 01:41:56,AAM0658,PC-0001,Logon\n\
              http,{A1B2-C3D4E5F6-G7H8I9J1},03/06/2010 01:50:00,AAM0658,PC-0001,http://wikileaks.org/x,\"leak, spy\"\n\
              email,{A1B2-C3D4E5F6-G7H8I9J2},03/07/2010 02:00:00,BOS0001,PC-0002,a@b.com,,,c@d.com,10,0,kw\n"
                .to_vec(),
        );
        let key = AnswerKey::load(&m, "4.2").unwrap();
        assert_eq!(key.insiders().len(), 1);
        assert_eq!(key.rows().len(), 3);
        let id = EventId::parse(b"{A1B2-C3D4E5F6-G7H8I9J1}").unwrap();
        assert_eq!(key.event_insider(SourceKind::Http, id).unwrap().to_string(), "AAM0658");
        assert!(key.event_insider(SourceKind::Logon, id).is_none(), "joins are per source file");
        let days: Vec<String> = key.malicious_days().iter().map(|(u, d)| format!("{u}@{}", d.iso())).collect();
        assert_eq!(days, ["AAM0658@2010-03-06"], "the supervisor-account row does not add a day");
    }

    #[test]
    fn bad_answer_rows_name_file_and_line() {
        let mut m = MemSource::new();
        m.insert(
            "answers/insiders.csv",
            b"dataset,scenario,details,user,start,end\n4.2,2,f.csv,AAM0658,1/1/2010 0:00:00,1/2/2010 0:00:00\n".to_vec(),
        );
        m.insert("answers/r4.2-2/f.csv", b"logon,{A1B2-C3D4E5F6-G7H8I9J0},01/01/2010 00:00:00,AAM0658,PC-0001,Logon\nusb,x\n".to_vec());
        let e = AnswerKey::load(&m, "4.2").unwrap_err().to_string();
        assert!(e.contains("answers/r4.2-2/f.csv:2: unknown source type `usb`"), "{e}");
        m.insert("answers/insiders.csv", b"dataset,scenario,details,user,start\n".to_vec());
        let e = AnswerKey::load(&m, "4.2").unwrap_err().to_string();
        assert!(e.contains("insiders.csv:1: expected header"), "{e}");
    }
}
