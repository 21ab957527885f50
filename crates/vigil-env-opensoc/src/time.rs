//! UTC timestamps in the one format the schema accepts: `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! Stored as seconds since the Unix epoch so the verifier's time windows are integer
//! arithmetic and the generator never formats strings until a prompt is rendered.

use std::fmt;

use vigil_core::civil;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from calendar parts; `None` if any part is out of range.
    pub fn from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Timestamp> {
        civil::unix_seconds(y, mo, d, h, mi, s).map(Timestamp)
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` (four-digit year, UTC, no fractions, no offsets).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
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
        civil::civil_from_days(self.0.div_euclid(civil::SECS_PER_DAY)).0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&civil::format_iso_utc(self.0))
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
        for bad in [
            "2026-02-29T00:00:00Z",
            "2026-04-25 10:00:00Z",
            "2026-04-25T10:00:00",
            "2026-13-01T00:00:00Z",
            "2026-04-25T24:00:00Z",
            "2026-04-25T10:00:00+01:00",
            "２026-04-25T10:00:00Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        for secs in [-86_401i64, 0, 951_782_400, 4_102_444_799, 1_777_111_234] {
            let t = Timestamp(secs);
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
        assert_eq!(t.year(), 2026);
    }
}
