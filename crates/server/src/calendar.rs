//! UTC days and weeks, as the daily bookkeeping and the weekly digest count them
//! (engine.md, "Daily bookkeeping").

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The UTC day `t` falls in.
pub fn day_of(t: Timestamp) -> Date {
    t.to_zoned_datetime(TimeZone::UTC).date()
}

/// 00:00 UTC of `day`.
pub fn start_of(day: Date) -> Timestamp {
    day.to_zoned_datetime(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The Monday of the week `day` is in.
pub fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    day.checked_sub(back.days()).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mondays_and_midnights() {
        assert_eq!(
            monday_of("2026-11-29".parse().unwrap()).to_string(),
            "2026-11-23"
        );
        assert_eq!(
            monday_of("2026-11-30".parse().unwrap()).to_string(),
            "2026-11-30"
        );
        assert_eq!(
            start_of("2026-11-30".parse().unwrap()),
            "2026-11-30T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            day_of("2026-11-30T23:59:59Z".parse().unwrap()).to_string(),
            "2026-11-30"
        );
    }
}
