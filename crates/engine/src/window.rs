//! Where an objective's window lies at a given instant.
//!
//! Rolling windows are the last `windowDays` days. Calendar windows (week, month, quarter) are
//! the current period in the objective's time zone; their budget is sized on the whole period,
//! so a breach means the same in every kind of window: more downtime than the period allows.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::intervals::Span;
use crate::model::WindowKind;
use crate::EngineError;

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// An objective's window at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The whole period: `[now - windowDays, now]` for rolling windows, the calendar period
    /// otherwise.
    pub period: Span,
    /// The part of the period up to now, over which downtime is counted.
    pub observed: Span,
    /// The period's length in calendar days (7 for a week, 28 to 31 for a month, 90 to 92 for
    /// a quarter), whatever its real length in a time zone with DST.
    pub days: u32,
}

impl Window {
    /// The period's length in milliseconds: the `W` of the budget formulas.
    pub fn length_ms(&self) -> i64 {
        self.period.len()
    }
}

/// Resolves an IANA time zone name (`None`: UTC).
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, EngineError> {
    match name {
        None => Ok(TimeZone::UTC),
        Some(name) => {
            TimeZone::get(name).map_err(|_| EngineError::UnknownTimeZone(name.to_owned()))
        }
    }
}

/// The window of kind `kind` (with `window_days` for rolling windows; calendar kinds take
/// theirs from the calendar) containing `now`.
pub fn window_at(
    kind: WindowKind,
    window_days: Option<u32>,
    zone: Option<&str>,
    now: Timestamp,
) -> Result<Window, EngineError> {
    let now_ms = now.as_millisecond();
    if kind == WindowKind::Rolling {
        let days = window_days.unwrap_or(1);
        let period = Span::new(now_ms - i64::from(days) * DAY_MS, now_ms);
        return Ok(Window {
            period,
            observed: period,
            days,
        });
    }
    let tz = time_zone(zone)?;
    let today = now.to_zoned_datetime(tz.clone()).date();
    let (first, next) = match kind {
        WindowKind::Week => {
            let first = today - i64::from(today.weekday().to_monday_zero_offset()).days();
            (first, first + 1.week())
        }
        WindowKind::Month => {
            let first = today.first_of_month();
            (first, first + 1.month())
        }
        WindowKind::Quarter => {
            let month = (today.month() - 1) / 3 * 3 + 1;
            let first = Date::new(today.year(), month, 1).map_err(EngineError::calendar)?;
            (first, first + 3.months())
        }
        WindowKind::Rolling => unreachable!("handled above"),
    };
    let start_of = |date: Date| -> Result<i64, EngineError> {
        Ok(date
            .to_zoned_datetime(tz.clone())
            .map_err(EngineError::calendar)?
            .timestamp()
            .as_millisecond())
    };
    let period = Span::new(start_of(first)?, start_of(next)?);
    let days = first
        .until((jiff::Unit::Day, next))
        .map_err(EngineError::calendar)?
        .get_days() as u32;
    Ok(Window {
        period,
        observed: Span::new(period.start, now_ms.min(period.end)),
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ms(s: &str) -> i64 {
        ts(s).as_millisecond()
    }

    #[test]
    fn rolling_window_ends_now() {
        let w = window_at(
            WindowKind::Rolling,
            Some(30),
            None,
            ts("2026-06-30T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            w.period,
            Span::new(ms("2026-05-31T12:00:00Z"), ms("2026-06-30T12:00:00Z"))
        );
        assert_eq!(w.length_ms(), 30 * DAY_MS);
    }

    #[test]
    fn calendar_windows_in_utc() {
        let now = ts("2026-05-14T10:00:00Z"); // a Thursday
        let week = window_at(WindowKind::Week, None, None, now).unwrap();
        assert_eq!(
            week.period,
            Span::new(ms("2026-05-11T00:00:00Z"), ms("2026-05-18T00:00:00Z"))
        );
        assert_eq!(week.observed.end, now.as_millisecond());
        let month = window_at(WindowKind::Month, None, None, now).unwrap();
        assert_eq!(
            month.period,
            Span::new(ms("2026-05-01T00:00:00Z"), ms("2026-06-01T00:00:00Z"))
        );
        assert_eq!(month.length_ms(), 31 * DAY_MS);
        let quarter = window_at(WindowKind::Quarter, None, None, now).unwrap();
        assert_eq!(
            quarter.period,
            Span::new(ms("2026-04-01T00:00:00Z"), ms("2026-07-01T00:00:00Z"))
        );
    }

    #[test]
    fn calendar_windows_follow_the_time_zone_and_its_dst() {
        // 23:30 UTC on March 31 is already April 1 in Berlin; April starts at 22:00 UTC (CEST).
        let now = ts("2026-03-31T23:30:00Z");
        let month = window_at(WindowKind::Month, None, Some("Europe/Berlin"), now).unwrap();
        assert_eq!(month.period.start, ms("2026-03-31T22:00:00Z"));
        // March in Berlin is 31 days minus the hour lost to DST.
        let march = window_at(
            WindowKind::Month,
            None,
            Some("Europe/Berlin"),
            ts("2026-03-15T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(march.length_ms(), 31 * DAY_MS - 3_600_000);
        assert!(matches!(
            window_at(WindowKind::Month, None, Some("Mars/Olympus"), now),
            Err(EngineError::UnknownTimeZone(_))
        ));
    }
}
