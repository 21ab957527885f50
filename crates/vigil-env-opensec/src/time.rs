//! Row timestamps: the seed's `created_at` plus one minute per step, as ISO-8601 UTC.
//!
//! A dependency-free civil-date conversion (Howard Hinnant's algorithm) is enough here and keeps
//! the crate free of a date library.

/// Seconds since 1970-01-01T00:00:00Z of an ISO-8601 UTC time (`YYYY-MM-DDTHH:MM:SS` followed by
/// `Z` or `+00:00`, optional fractional seconds, which are dropped).
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
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
    if !(1..=12).contains(&mo) || !(1..=days_in_month(y, mo)).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_iso(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
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
