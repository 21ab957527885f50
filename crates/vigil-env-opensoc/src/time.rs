//! UTC timestamps in the one format the schema accepts: `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! Stored as seconds since the Unix epoch so the verifier's time windows are integer
//! arithmetic and the generator never formats strings until a prompt is rendered.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Days since the epoch of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    /// Builds a timestamp from calendar parts; `None` if any part is out of range.
    pub fn from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Timestamp> {
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        Some(Timestamp(days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s)))
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` (four-digit year, UTC, no fractions, no offsets).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
        };
        Timestamp::from_parts(i64::from(num(0..4)?), num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?)
    }

    /// Seconds since the epoch.
    pub const fn secs(self) -> i64 {
        self.0
    }

    /// Calendar year (for the plausible-range check).
    pub fn year(self) -> i64 {
        civil_from_days(self.0.div_euclid(86_400)).0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        let s = self.0.rem_euclid(86_400);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, (s / 60) % 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formats_and_round_trips() {
        let t = Timestamp::parse("2026-04-25T10:00:00Z").unwrap();
        assert_eq!(t.0, 1_777_111_200);
        assert_eq!(t.to_string(), "2026-04-25T10:00:00Z");
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(Timestamp::parse("2024-02-29T23:59:59Z").unwrap().to_string(), "2024-02-29T23:59:59Z");
        for bad in ["2026-02-29T00:00:00Z", "2026-04-25 10:00:00Z", "2026-04-25T10:00:00", "2026-13-01T00:00:00Z",
            "2026-04-25T24:00:00Z", "2026-04-25T10:00:00+01:00", "２026-04-25T10:00:00Z", ""] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        for secs in [-86_401i64, 0, 951_782_400, 4_102_444_799, 1_777_111_234] {
            let t = Timestamp(secs);
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
        assert_eq!(t.year(), 2026);
    }
}
