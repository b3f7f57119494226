//! Wall-clock time as a port, and UTC calendar rendering without a date library.

/// Wall-clock time. Read once per request (see `context::Ctx`), so one request sees one instant.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The UTC calendar date of a day number (days since 1970-01-01), as `yyyy-mm-dd`.
pub fn date_of_day(day: u64) -> String {
    // Howard Hinnant's civil_from_days, for days on or after the epoch.
    let z = day + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-23T04:05:06Z` for epoch seconds.
pub fn rfc3339(secs: u64) -> String {
    let (day, rem) = (secs / 86_400, secs % 86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_of_day(day),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(11_016), "2000-02-29");
        assert_eq!(date_of_day(1_800_000_000 / 86_400), "2027-01-15");
        assert_eq!(date_of_day(20_780), "2026-11-23");
    }

    #[test]
    fn times_render_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_403_742), "2026-11-23T03:15:42Z");
    }
}
