//! Row timestamps: the seed's `created_at` plus one minute per step, as ISO-8601 UTC.
//!
//! The calendar arithmetic is `vigil_core::civil`'s; this module only owns OpenSec's lenient text
//! form (fractional seconds and a `+00:00` offset are accepted on input).

use vigil_core::civil;

/// Seconds since 1970-01-01T00:00:00Z of an ISO-8601 UTC time (`YYYY-MM-DDTHH:MM:SS` followed by
/// `Z` or `+00:00`, optional fractional seconds, which are dropped).
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let y = s.get(0..4)?.parse::<i64>().ok()?;
    let (mo, d) = (num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &r[digits..];
    }
    if !matches!(rest, "Z" | "+00:00") {
        return None;
    }
    civil::unix_seconds(y, mo, d, h, mi, se)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_iso(t: i64) -> String {
    civil::format_iso_utc(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_adds_minutes() {
        let t = parse_iso("2026-01-20T00:00:00Z").unwrap();
        assert_eq!(format_iso(t), "2026-01-20T00:00:00Z");
        assert_eq!(format_iso(t + 61 * 60), "2026-01-20T01:01:00Z");
        let leap = parse_iso("2024-02-28T23:59:00+00:00").unwrap();
        assert_eq!(format_iso(leap + 60), "2024-02-29T00:00:00Z");
        assert_eq!(parse_iso("1970-01-01T00:00:00.5Z"), Some(0));
        for bad in ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-20 00:00:00Z", "2026-01-20T00:00:00", ""] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }
}
