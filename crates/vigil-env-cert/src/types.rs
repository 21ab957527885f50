//! The dataset's own value formats, parsed into small copyable types.
//!
//! CERT ids, users and PCs follow fixed patterns (`{X1D9-S0ES98JV-5357PWMI}`, `NGF0157`,
//! `PC-6056`); packing them into integers/byte arrays keeps the streaming loader allocation-free
//! and makes hashing by (user, day) cheap. Each parser rejects anything outside the documented
//! pattern, so a malformed row surfaces as a typed error instead of a wrong join.

use std::fmt;

use serde::{Deserialize, Serialize};
use vigil_core::civil;

use crate::error::ValueError;

/// Which activity file an event comes from. Event ids are unique only within one file
/// (r4.2 errata), so every join is on `(SourceKind, EventId)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// `logon.csv`.
    Logon,
    /// `device.csv`.
    Device,
    /// `file.csv`.
    File,
    /// `email.csv`.
    Email,
    /// `http.csv`.
    Http,
}

impl SourceKind {
    /// All five activity sources, in the dataset's file order.
    pub const ALL: [SourceKind; 5] =
        [SourceKind::Logon, SourceKind::Device, SourceKind::File, SourceKind::Email, SourceKind::Http];

    /// Lower-case name, as used in answer files and rendered windows.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Logon => "logon",
            SourceKind::Device => "device",
            SourceKind::File => "file",
            SourceKind::Email => "email",
            SourceKind::Http => "http",
        }
    }

    /// The CSV file name inside a release directory.
    pub fn file_name(self) -> &'static str {
        match self {
            SourceKind::Logon => "logon.csv",
            SourceKind::Device => "device.csv",
            SourceKind::File => "file.csv",
            SourceKind::Email => "email.csv",
            SourceKind::Http => "http.csv",
        }
    }

    /// The exact header line of the file.
    pub fn header(self) -> &'static [&'static str] {
        match self {
            SourceKind::Logon | SourceKind::Device => &["id", "date", "user", "pc", "activity"],
            SourceKind::File => &["id", "date", "user", "pc", "filename", "content"],
            SourceKind::Email => {
                &["id", "date", "user", "pc", "to", "cc", "bcc", "from", "size", "attachments", "content"]
            }
            SourceKind::Http => &["id", "date", "user", "pc", "url", "content"],
        }
    }

    /// Parses the answer-file type field.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CERT event id `{XXXX-XXXXXXXX-XXXXXXXX}`, stored as its 20 alphanumeric characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId([u8; 20]);

impl EventId {
    /// Parses the braced 4-8-8 form.
    pub fn parse(s: &[u8]) -> Result<Self, ValueError> {
        let bad = || ValueError::EventId(lossy(s));
        if s.len() != 24 || s[0] != b'{' || s[5] != b'-' || s[14] != b'-' || s[23] != b'}' {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        let groups = [&s[1..5], &s[6..14], &s[15..23]];
        let mut k = 0;
        for g in groups {
            for &b in g {
                if !b.is_ascii_alphanumeric() {
                    return Err(bad());
                }
                out[k] = b;
                k += 1;
            }
        }
        Ok(Self(out))
    }

    /// The 20 id characters without braces and dashes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Builds an id from 20 alphanumeric bytes (the generator's path).
    pub fn from_chars(chars: [u8; 20]) -> Self {
        Self(chars)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |r: std::ops::Range<usize>| std::str::from_utf8(&self.0[r]).unwrap_or("?");
        write!(f, "{{{}-{}-{}}}", s(0..4), s(4..12), s(12..20))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A user id: three upper-case letters and four digits (`NGF0157`), packed into a `u32`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(u32);

impl UserId {
    /// Parses `AAA0000`.
    pub fn parse(s: &[u8]) -> Result<Self, ValueError> {
        let bad = || ValueError::User(lossy(s));
        if s.len() != 7 {
            return Err(bad());
        }
        let mut v: u32 = 0;
        for &b in &s[..3] {
            if !b.is_ascii_uppercase() {
                return Err(bad());
            }
            v = v * 26 + u32::from(b - b'A');
        }
        for &b in &s[3..] {
            if !b.is_ascii_digit() {
                return Err(bad());
            }
            v = v * 10 + u32::from(b - b'0');
        }
        Ok(Self(v))
    }

    /// Builds `letters` + `number` (number < 10,000; letters upper-case).
    pub fn new(letters: [u8; 3], number: u16) -> Self {
        let mut v = 0u32;
        for b in letters {
            v = v * 26 + u32::from(b.to_ascii_uppercase().saturating_sub(b'A') % 26);
        }
        Self(v * 10_000 + u32::from(number % 10_000))
    }

    /// The packed value (stable; used in seeded hashes).
    pub fn raw(self) -> u32 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = self.0 % 10_000;
        let l = self.0 / 10_000;
        let c = |x: u32| char::from(b'A' + (x % 26) as u8);
        let (a, b, d) = (c(l / 676), c(l / 26), c(l));
        write!(f, "{a}{b}{d}{num:04}")
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A PC name `PC-0000`, stored as its number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PcId(u16);

impl PcId {
    /// Parses `PC-` followed by four digits.
    pub fn parse(s: &[u8]) -> Result<Self, ValueError> {
        let bad = || ValueError::Pc(lossy(s));
        if s.len() != 7 || &s[..3] != b"PC-" {
            return Err(bad());
        }
        let mut v: u16 = 0;
        for &b in &s[3..] {
            if !b.is_ascii_digit() {
                return Err(bad());
            }
            v = v * 10 + u16::from(b - b'0');
        }
        Ok(Self(v))
    }

    /// The PC number.
    pub fn number(self) -> u16 {
        self.0
    }

    /// PC number `n` (< 10,000).
    pub fn new(n: u16) -> Self {
        Self(n % 10_000)
    }
}

impl fmt::Display for PcId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PC-{:04}", self.0)
    }
}

impl fmt::Debug for PcId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Seconds since 1970-01-01 00:00:00 in the dataset's local time (CERT has no time zone).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Timestamp(i64);

/// A calendar day as days since 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Day(pub i32);

impl Timestamp {
    /// From a day and seconds within it.
    pub fn from_day_secs(day: Day, secs: u32) -> Self {
        Self(i64::from(day.0) * 86_400 + i64::from(secs))
    }

    /// Parses the strict `MM/DD/YYYY HH:MM:SS` format of the activity files.
    pub fn parse(s: &[u8]) -> Result<Self, ValueError> {
        let bad = || ValueError::Date(lossy(s));
        if s.len() != 19 || s[2] != b'/' || s[5] != b'/' || s[10] != b' ' || s[13] != b':' || s[16] != b':' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s[r].iter().try_fold(0u32, |a, &b| b.is_ascii_digit().then(|| a * 10 + u32::from(b - b'0')))
        };
        let parts = (num(0..2), num(3..5), num(6..10), num(11..13), num(14..16), num(17..19));
        match parts {
            (Some(mo), Some(d), Some(y), Some(h), Some(mi), Some(sec)) => {
                Self::from_parts(y, mo, d, h, mi, sec).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    /// Parses `M/D/YYYY H:MM:SS` with or without zero padding (answers/insiders.csv mixes both).
    pub fn parse_loose(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Date(s.to_string());
        let (date, time) = s.trim().split_once(' ').ok_or_else(bad)?;
        let nums = |t: &str, sep: char, n: usize| -> Option<Vec<u32>> {
            let v: Vec<u32> = t
                .split(sep)
                .map(|p| {
                    (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| p.parse().ok())
                        .flatten()
                })
                .collect::<Option<_>>()?;
            (v.len() == n).then_some(v)
        };
        let d = nums(date, '/', 3).ok_or_else(bad)?;
        let t = nums(time.trim(), ':', 3).ok_or_else(bad)?;
        if d[2] < 1000 {
            return Err(bad());
        }
        Self::from_parts(d[2], d[0], d[1], t[0], t[1], t[2]).ok_or_else(bad)
    }

    /// Validated civil date and time; `None` when any field is out of range.
    pub fn from_parts(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        civil::unix_seconds(i64::from(y), mo, d, h, mi, s).map(Self)
    }

    /// The calendar day.
    pub fn day(self) -> Day {
        Day(self.0.div_euclid(86_400) as i32)
    }

    /// Seconds since midnight.
    pub fn secs_of_day(self) -> u32 {
        self.0.rem_euclid(86_400) as u32
    }

    /// Hour of day, 0–23.
    pub fn hour(self) -> u32 {
        self.secs_of_day() / 3600
    }

    /// `HH:MM:SS`.
    pub fn time_string(self) -> String {
        let s = self.secs_of_day();
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// The dataset's own `MM/DD/YYYY HH:MM:SS` form.
    pub fn cert_string(self) -> String {
        let (y, m, d) = self.day().civil();
        format!("{m:02}/{d:02}/{y:04} {}", self.time_string())
    }
}

impl Day {
    /// `(year, month, day)`.
    pub fn civil(self) -> (i64, u32, u32) {
        civil::civil_from_days(i64::from(self.0))
    }

    /// ISO `YYYY-MM-DD`, used in window ids and JSONL.
    pub fn iso(self) -> String {
        let (y, m, d) = self.civil();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Parses ISO `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Date(s.to_string());
        let mut it = s.split('-');
        let mut next = || it.next().and_then(|p| p.parse::<u32>().ok());
        let (y, m, d) = (next().ok_or_else(bad)?, next().ok_or_else(bad)?, next().ok_or_else(bad)?);
        if s.len() != 10 {
            return Err(bad());
        }
        Timestamp::from_parts(y, m, d, 0, 0, 0).map(Timestamp::day).ok_or_else(bad)
    }

    /// Day of week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (i64::from(self.0) + 3).rem_euclid(7) as u32
    }
}

/// Serde as the dataset's own text form (so JSONL and manifests stay human-readable).
macro_rules! serde_as_text {
    ($t:ty, $parse:expr) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(EventId, |s: &str| EventId::parse(s.as_bytes()));
serde_as_text!(UserId, |s: &str| UserId::parse(s.as_bytes()));
serde_as_text!(PcId, |s: &str| PcId::parse(s.as_bytes()));
serde_as_text!(Timestamp, |s: &str| Timestamp::parse(s.as_bytes()));
serde_as_text!(Day, Day::parse_iso);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cert_string())
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

pub(crate) fn lossy(s: &[u8]) -> String {
    let mut t = String::from_utf8_lossy(s).into_owned();
    if t.len() > 80 {
        let mut cut = 80;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = EventId::parse(b"{X1D9-S0ES98JV-5357PWMI}").unwrap();
        assert_eq!(id.to_string(), "{X1D9-S0ES98JV-5357PWMI}");
        assert!(EventId::parse(b"{X1D9-S0ES98JV-5357PWM}").is_err());
        assert!(EventId::parse(b"{X1D9_S0ES98JV-5357PWMI}").is_err());
        let u = UserId::parse(b"NGF0157").unwrap();
        assert_eq!(u.to_string(), "NGF0157");
        assert_eq!(UserId::new(*b"NGF", 157), u);
        assert!(UserId::parse(b"ngf0157").is_err());
        assert!(UserId::parse(b"NGF015").is_err());
        assert_eq!(PcId::parse(b"PC-6056").unwrap().to_string(), "PC-6056");
        assert!(PcId::parse(b"PC-60a6").is_err());
    }

    #[test]
    fn dates_parse_strict_and_loose() {
        let t = Timestamp::parse(b"01/02/2010 06:49:00").unwrap();
        assert_eq!(t.cert_string(), "01/02/2010 06:49:00");
        assert_eq!(t.day().iso(), "2010-01-02");
        assert_eq!(t.hour(), 6);
        assert_eq!(t.day().weekday(), 5, "2010-01-02 was a Saturday");
        assert_eq!(Timestamp::parse_loose("3/6/2010 1:41:56").unwrap().cert_string(), "03/06/2010 01:41:56");
        assert_eq!(Timestamp::parse_loose("07/01/2010 01:24:58").unwrap().cert_string(), "07/01/2010 01:24:58");
        for bad in ["02/30/2010 00:00:00", "13/01/2010 00:00:00", "01/02/2010 24:00:00", "1/2/2010 06:49:00"] {
            assert!(Timestamp::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(Timestamp::parse(b"02/29/2012 23:59:59").unwrap().day().iso(), "2012-02-29");
        assert!(Timestamp::parse_loose("2/29/2011 1:00:00").is_err());
        assert_eq!(Day::parse_iso("2010-08-31").unwrap().iso(), "2010-08-31");
    }
}
