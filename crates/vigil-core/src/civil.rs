//! Proleptic Gregorian calendar arithmetic on seconds since the Unix epoch.
//!
//! The environments store times as integers (so windows and offsets are plain arithmetic) and
//! only meet the calendar when they parse or print a date. This module is that meeting point,
//! once, with no date library: H. Hinnant's `days_from_civil` / `civil_from_days` algorithms.
//! Each environment keeps its own text formats (CERT's `MM/DD/YYYY`, the schema's strict ISO
//! form, OpenSec's lenient ISO form); only the arithmetic is shared.

/// Seconds in a day.
pub const SECS_PER_DAY: i64 = 86_400;

/// Whether `y` is a Gregorian leap year.
pub fn is_leap_year(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1–12) of year `y`; 0 for a month outside 1–12.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => 0,
    }
}

/// Days since 1970-01-01 of the date `y-m-d` (not validated: see [`unix_seconds`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of the day `z` days after 1970-01-01; inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the epoch of a validated civil date and time; `None` when any part is out of
/// range (month 1–12, day within the month, hour 0–23, minute and second 0–59; no leap seconds).
pub fn unix_seconds(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * SECS_PER_DAY + i64::from(h * 3600 + mi * 60 + s))
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_iso_utc(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(SECS_PER_DAY));
    let s = t.rem_euclid(SECS_PER_DAY);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_over_many_days() {
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m), "{z}: {y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn consecutive_days_walk_the_calendar() {
        let (mut y, mut m, mut d) = civil_from_days(-200_000);
        for z in -199_999..200_000 {
            if d < days_in_month(y, m) {
                d += 1;
            } else if m < 12 {
                (m, d) = (m + 1, 1);
            } else {
                (y, m, d) = (y + 1, 1, 1);
            }
            assert_eq!(civil_from_days(z), (y, m, d));
        }
    }

    #[test]
    fn known_dates_and_leap_rules() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(is_leap_year(2000) && is_leap_year(2024) && !is_leap_year(1900) && !is_leap_year(2026));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2026, 13), 0);
        assert_eq!(days_in_month(2026, 0), 0);
    }

    #[test]
    fn unix_seconds_validates_and_formats() {
        assert_eq!(unix_seconds(2026, 4, 25, 10, 0, 0), Some(1_777_111_200));
        assert_eq!(format_iso_utc(1_777_111_200), "2026-04-25T10:00:00Z");
        assert_eq!(format_iso_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(unix_seconds(2024, 2, 29, 23, 59, 59).map(format_iso_utc).as_deref(), Some("2024-02-29T23:59:59Z"));
        for (y, mo, d, h, mi, s) in [
            (2026, 2, 29, 0, 0, 0),
            (2026, 13, 1, 0, 0, 0),
            (2026, 0, 1, 0, 0, 0),
            (2026, 4, 0, 0, 0, 0),
            (2026, 4, 31, 0, 0, 0),
            (2026, 4, 25, 24, 0, 0),
            (2026, 4, 25, 0, 60, 0),
            (2026, 4, 25, 0, 0, 60),
        ] {
            assert_eq!(unix_seconds(y, mo, d, h, mi, s), None, "{y}-{mo}-{d} {h}:{mi}:{s}");
        }
    }
}
