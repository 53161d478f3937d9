//! The trading calendar: weekly hours in the market time zone, holidays, and the instants the
//! market opens and closes. Pure: no I/O, time passed in.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Hours of one weekday, in local time. `open < close`; sessions never cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub closed: bool,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    /// Monday = 0 … Sunday = 6.
    pub week: [DayHours; 7],
    pub holidays: BTreeSet<NaiveDate>,
}

/// How far ahead to look for the next session (a year of holidays can't hide one longer).
const HORIZON_DAYS: i64 = 400;

impl Calendar {
    /// The session (open, close) of a local date, if the market trades that day.
    pub fn session(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let day = self.week[date.weekday().num_days_from_monday() as usize];
        if day.closed || self.holidays.contains(&date) {
            return None;
        }
        let open = local_instant(self.tz, date, day.open);
        let close = local_instant(self.tz, date, day.close);
        (open < close).then_some((open, close))
    }

    /// The local trading date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Whether the schedule has the market open at `t` (open inclusive, close exclusive).
    pub fn is_open_at(&self, t: DateTime<Utc>) -> bool {
        self.session(self.local_date(t))
            .is_some_and(|(open, close)| open <= t && t < close)
    }

    /// The first opening strictly after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.sessions_from(t)
            .map(|(open, _)| open)
            .find(|open| *open > t)
    }

    /// The first closing strictly after `t`.
    pub fn next_close(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.sessions_from(t)
            .map(|(_, close)| close)
            .find(|close| *close > t)
    }

    /// The next instant the scheduled state changes after `t`, and whether it opens.
    pub fn next_transition(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, bool)> {
        if self.is_open_at(t) {
            self.next_close(t).map(|c| (c, false))
        } else {
            self.next_open(t).map(|o| (o, true))
        }
    }

    /// Trading days (local dates) in `[from, to]`.
    pub fn trading_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter(|d| self.session(*d).is_some())
            .collect()
    }

    fn sessions_from(
        &self,
        t: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        // Start a day early: a session's local date can differ from `t`'s UTC date.
        let start = self.local_date(t) - Duration::days(1);
        start
            .iter_days()
            .take(HORIZON_DAYS as usize)
            .filter_map(|d| self.session(d))
    }
}

/// The UTC instant of a local wall-clock time. In a spring-forward gap the time does not
/// exist: take the first instant after the gap. In a fall-back overlap take the earlier one.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are at most an hour or two; step forward a minute at a time.
            (1..=180)
                .find_map(|m| {
                    tz.from_local_datetime(&(naive + Duration::minutes(m)))
                        .earliest()
                })
                .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    pub fn nyse() -> Calendar {
        let day = DayHours {
            open: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            close: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
            closed: false,
        };
        let mut week = [day; 7];
        week[5].closed = true;
        week[6].closed = true;
        Calendar {
            tz: New_York,
            week,
            holidays: [NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()].into(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn opens_and_closes_at_local_times() {
        let cal = nyse();
        // Wednesday 2026-11-25, EST (UTC-5): 09:30 local = 14:30 UTC.
        assert!(!cal.is_open_at(utc("2026-11-25T14:29:59Z")));
        assert!(cal.is_open_at(utc("2026-11-25T14:30:00Z")));
        assert!(cal.is_open_at(utc("2026-11-25T20:59:59Z")));
        assert!(!cal.is_open_at(utc("2026-11-25T21:00:00Z")));
        assert_eq!(
            cal.next_transition(utc("2026-11-25T12:00:00Z")),
            Some((utc("2026-11-25T14:30:00Z"), true))
        );
        assert_eq!(
            cal.next_transition(utc("2026-11-25T15:00:00Z")),
            Some((utc("2026-11-25T21:00:00Z"), false))
        );
    }

    #[test]
    fn weekends_and_holidays_stay_closed() {
        let cal = nyse();
        // Friday 2026-11-27 close → Monday 2026-11-30 open.
        assert_eq!(
            cal.next_open(utc("2026-11-27T21:00:00Z")),
            Some(utc("2026-11-30T14:30:00Z"))
        );
        assert!(!cal.is_open_at(utc("2026-11-28T15:00:00Z")));
        // Christmas (Friday) is skipped: Thursday 24th close → Monday 28th open.
        assert!(!cal.is_open_at(utc("2026-12-25T15:00:00Z")));
        assert_eq!(
            cal.next_open(utc("2026-12-24T21:00:00Z")),
            Some(utc("2026-12-28T14:30:00Z"))
        );
    }

    #[test]
    fn daylight_saving_changes_move_the_utc_times() {
        let cal = nyse();
        // US DST 2026: starts Sunday March 8, ends Sunday November 1.
        // Friday March 6 (EST, UTC-5) opens 14:30Z; Monday March 9 (EDT, UTC-4) opens 13:30Z.
        assert_eq!(
            cal.next_open(utc("2026-03-06T12:00:00Z")),
            Some(utc("2026-03-06T14:30:00Z"))
        );
        assert_eq!(
            cal.next_open(utc("2026-03-06T21:00:00Z")),
            Some(utc("2026-03-09T13:30:00Z"))
        );
        assert_eq!(
            cal.next_close(utc("2026-03-09T13:30:00Z")),
            Some(utc("2026-03-09T20:00:00Z"))
        );
        // Friday October 30 (EDT) closes 20:00Z; Monday November 2 (EST) closes 21:00Z.
        assert_eq!(
            cal.next_close(utc("2026-10-30T15:00:00Z")),
            Some(utc("2026-10-30T20:00:00Z"))
        );
        assert_eq!(
            cal.next_open(utc("2026-10-30T20:00:00Z")),
            Some(utc("2026-11-02T14:30:00Z"))
        );
        assert_eq!(
            cal.next_close(utc("2026-11-02T15:00:00Z")),
            Some(utc("2026-11-02T21:00:00Z"))
        );
    }

    #[test]
    fn local_times_in_dst_gaps_and_overlaps_resolve() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        // 02:30 does not exist on March 8: it becomes 03:00 EDT = 07:00Z.
        let t = local_instant(New_York, d, NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(t, utc("2026-03-08T07:00:00Z"));
        // 01:30 happens twice on November 1: the first (EDT) is 05:30Z.
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let t = local_instant(New_York, d, NaiveTime::from_hms_opt(1, 30, 0).unwrap());
        assert_eq!(t, utc("2026-11-01T05:30:00Z"));
    }

    #[test]
    fn a_closed_week_has_no_transitions() {
        let mut cal = nyse();
        for day in &mut cal.week {
            day.closed = true;
        }
        assert_eq!(cal.next_transition(utc("2026-11-25T12:00:00Z")), None);
    }
}
