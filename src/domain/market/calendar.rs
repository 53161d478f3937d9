//! The trading calendar: weekly hours in the market time zone, the days that differ from them
//! (the exchange's holidays and early closes, computed, and the days admins list), and the
//! instants the market opens and closes. Pure: no I/O, time passed in.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::nyse;
pub use crate::config::MarketCalendar;

/// Hours of one weekday, in local time. `open < close`; sessions never cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub closed: bool,
}

/// What a calendar day does to its weekday's hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Closed all day.
    Holiday,
    /// Opens as usual and closes at this local time (or at the regular close, if earlier).
    EarlyClose(NaiveTime),
    /// The weekday's regular hours, whatever the exchange rules say of the date: how an admin
    /// lifts a computed holiday or early close.
    Open,
}

impl DayKind {
    /// The local close of a day whose weekday closes at `regular`; None when it is closed.
    fn close(self, regular: NaiveTime) -> Option<NaiveTime> {
        match self {
            DayKind::Holiday => None,
            DayKind::EarlyClose(at) => Some(regular.min(at)),
            DayKind::Open => Some(regular),
        }
    }
}

impl From<nyse::Rule> for DayKind {
    fn from(rule: nyse::Rule) -> Self {
        match rule {
            nyse::Rule::Holiday => DayKind::Holiday,
            nyse::Rule::EarlyClose => DayKind::EarlyClose(nyse::EARLY_CLOSE),
        }
    }
}

/// A day that differs from its weekday's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// E.g. `"Christmas Eve"`.
    pub name: String,
    /// The admin listing's row id; None for a day the exchange rules compute.
    pub listed: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    /// Monday = 0 … Sunday = 6.
    pub week: [DayHours; 7],
    /// Which exchange's holidays and early closes are computed.
    pub rules: MarketCalendar,
    /// Days admins listed, by date: each replaces whatever the rules say of its date.
    pub listed: BTreeMap<NaiveDate, SpecialDay>,
}

/// How far ahead to look for the next session (a year of holidays can't hide one longer).
const HORIZON_DAYS: i64 = 400;

impl Calendar {
    /// The session (open, close) of a local date, if the market trades that day.
    pub fn session(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let day = self.hours(date);
        if day.closed {
            return None;
        }
        let close = match self.kind_of(date) {
            Some(kind) => kind.close(day.close)?,
            None => day.close,
        };
        let open = local_instant(self.tz, date, day.open);
        let close = local_instant(self.tz, date, close);
        (open < close).then_some((open, close))
    }

    /// The regular hours of `date`'s weekday.
    pub fn hours(&self, date: NaiveDate) -> DayHours {
        self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// What makes `date` differ from its weekday, if anything: the admins' listing for it,
    /// else the exchange's rule.
    pub fn special_day(&self, date: NaiveDate) -> Option<SpecialDay> {
        if let Some(listed) = self.listed.get(&date) {
            return Some(listed.clone());
        }
        self.rule(date).map(|d| SpecialDay {
            date,
            kind: d.rule.into(),
            name: d.name.to_owned(),
            listed: None,
        })
    }

    /// The days in `[from, to]` that differ from their weekday (listed ones replacing
    /// computed ones), in date order.
    pub fn special_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<SpecialDay> {
        if from > to {
            return Vec::new();
        }
        let mut days: BTreeMap<NaiveDate, SpecialDay> = BTreeMap::new();
        if self.rules == MarketCalendar::Nyse {
            for year in from.year()..=to.year() {
                for d in nyse::days(year) {
                    if (from..=to).contains(&d.date) {
                        days.insert(
                            d.date,
                            SpecialDay {
                                date: d.date,
                                kind: d.rule.into(),
                                name: d.name.to_owned(),
                                listed: None,
                            },
                        );
                    }
                }
            }
        }
        for (date, listed) in self.listed.range(from..=to) {
            days.insert(*date, listed.clone());
        }
        days.into_values().collect()
    }

    /// [`Calendar::special_day`]'s kind, without building its name.
    fn kind_of(&self, date: NaiveDate) -> Option<DayKind> {
        match self.listed.get(&date) {
            Some(listed) => Some(listed.kind),
            None => self.rule(date).map(|d| d.rule.into()),
        }
    }

    fn rule(&self, date: NaiveDate) -> Option<nyse::RuleDay> {
        match self.rules {
            MarketCalendar::Nyse => nyse::day(date),
            MarketCalendar::ListedOnly => None,
        }
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

    /// The last scheduled closing at or before `t` (within the horizon).
    pub fn last_close(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = self.local_date(t);
        (0..HORIZON_DAYS)
            .filter_map(|back| today.checked_sub_signed(chrono::Duration::days(back)))
            .filter_map(|date| self.session(date))
            .map(|(_, close)| close)
            .find(|close| *close <= t)
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
            rules: MarketCalendar::Nyse,
            listed: BTreeMap::new(),
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// `cal` with an admin's listing for `day`.
    fn listing(mut cal: Calendar, day: &str, kind: DayKind) -> Calendar {
        let date = date(day);
        cal.listed.insert(
            date,
            SpecialDay {
                date,
                kind,
                name: "Listed".into(),
                listed: Some(1),
            },
        );
        cal
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
    fn computed_holidays_close_the_market_and_early_closes_end_at_13_00() {
        let cal = nyse();
        // Wednesday before Thanksgiving: a full day, then Thanksgiving is skipped, and the
        // day after opens as usual but closes at 13:00 EST (18:00Z).
        assert_eq!(
            cal.next_open(utc("2026-11-25T21:00:00Z")),
            Some(utc("2026-11-27T14:30:00Z"))
        );
        assert!(!cal.is_open_at(utc("2026-11-26T15:00:00Z")));
        assert_eq!(
            cal.next_close(utc("2026-11-27T14:30:00Z")),
            Some(utc("2026-11-27T18:00:00Z"))
        );
        assert!(cal.is_open_at(utc("2026-11-27T17:59:59Z")));
        assert!(!cal.is_open_at(utc("2026-11-27T18:00:00Z")));
        assert_eq!(
            cal.next_transition(utc("2026-11-27T18:00:00Z")),
            Some((utc("2026-11-30T14:30:00Z"), true))
        );
        // July 3, 2028 (a Monday) closes at 13:00 EDT (17:00Z); July 4 is closed.
        assert_eq!(
            cal.session(date("2028-07-03")),
            Some((utc("2028-07-03T13:30:00Z"), utc("2028-07-03T17:00:00Z")))
        );
        assert_eq!(cal.session(date("2028-07-04")), None);
        // Good Friday and a Monday holiday.
        assert_eq!(cal.session(date("2026-04-03")), None);
        assert_eq!(cal.session(date("2026-01-19")), None);
        assert_eq!(
            cal.next_open(utc("2026-01-16T21:00:00Z")),
            Some(utc("2026-01-20T14:30:00Z"))
        );
    }

    #[test]
    fn listed_days_replace_the_computed_ones() {
        // An OPEN listing lifts Good Friday and the early close of Christmas Eve.
        let cal = listing(nyse(), "2026-04-03", DayKind::Open);
        let cal = listing(cal, "2026-12-24", DayKind::Open);
        assert_eq!(
            cal.session(date("2026-04-03")),
            Some((utc("2026-04-03T13:30:00Z"), utc("2026-04-03T20:00:00Z")))
        );
        assert_eq!(
            cal.next_close(utc("2026-12-24T15:00:00Z")),
            Some(utc("2026-12-24T21:00:00Z"))
        );
        // A listed holiday closes a regular day; a listed early close shortens one, and turns
        // the day after Thanksgiving's 13:00 into 12:00.
        let cal = listing(nyse(), "2026-11-24", DayKind::Holiday);
        assert_eq!(cal.session(date("2026-11-24")), None);
        let cal = listing(cal, "2026-11-27", DayKind::EarlyClose(time(12, 0)));
        assert_eq!(
            cal.next_close(utc("2026-11-27T15:00:00Z")),
            Some(utc("2026-11-27T17:00:00Z"))
        );
        // OPEN on a weekend keeps the weekday's rule: closed.
        let cal = listing(cal, "2026-11-28", DayKind::Open);
        assert_eq!(cal.session(date("2026-11-28")), None);
    }

    #[test]
    fn an_early_close_never_lengthens_a_day_and_may_leave_no_session() {
        let cal = listing(nyse(), "2026-11-25", DayKind::EarlyClose(time(17, 0)));
        assert_eq!(
            cal.next_close(utc("2026-11-25T15:00:00Z")),
            Some(utc("2026-11-25T21:00:00Z")),
            "the regular 16:00 close stands"
        );
        let cal = listing(nyse(), "2026-11-25", DayKind::EarlyClose(time(9, 30)));
        assert_eq!(cal.session(date("2026-11-25")), None);
    }

    #[test]
    fn without_exchange_rules_only_listed_days_count() {
        let mut cal = nyse();
        cal.rules = MarketCalendar::ListedOnly;
        assert!(cal.is_open_at(utc("2026-12-25T15:00:00Z")));
        assert_eq!(cal.special_day(date("2026-12-25")), None);
        assert!(
            cal.special_days(date("2026-01-01"), date("2026-12-31"))
                .is_empty()
        );
        let cal = listing(cal, "2026-12-25", DayKind::Holiday);
        assert!(!cal.is_open_at(utc("2026-12-25T15:00:00Z")));
    }

    #[test]
    fn special_days_merge_listed_and_computed_in_date_order() {
        let cal = listing(nyse(), "2026-12-24", DayKind::Open);
        let cal = listing(cal, "2026-12-01", DayKind::Holiday);
        let days = cal.special_days(date("2026-11-26"), date("2027-01-01"));
        let seen: Vec<(String, DayKind, &str, Option<i64>)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.kind, d.name.as_str(), d.listed))
            .collect();
        let early = DayKind::EarlyClose(time(13, 0));
        assert_eq!(
            seen,
            [
                (
                    "2026-11-26".into(),
                    DayKind::Holiday,
                    "Thanksgiving Day",
                    None
                ),
                ("2026-11-27".into(), early, "Day after Thanksgiving", None),
                ("2026-12-01".into(), DayKind::Holiday, "Listed", Some(1)),
                ("2026-12-24".into(), DayKind::Open, "Listed", Some(1)),
                ("2026-12-25".into(), DayKind::Holiday, "Christmas Day", None),
                (
                    "2027-01-01".into(),
                    DayKind::Holiday,
                    "New Year's Day",
                    None
                ),
            ]
        );
        assert!(
            cal.special_days(date("2027-01-02"), date("2026-01-01"))
                .is_empty()
        );
        assert_eq!(
            cal.special_day(date("2026-11-27")).map(|d| d.kind),
            Some(early)
        );
    }

    #[test]
    fn the_last_close_is_the_latest_session_end_at_or_before_an_instant() {
        let cal = nyse();
        // Friday 2026-11-27 closes early (13:00 New York, 18:00 UTC): on the Saturday and
        // the Monday before the bell it is the last close; at the close itself too.
        for at in [
            "2026-11-28T12:00:00Z",
            "2026-11-30T14:00:00Z",
            "2026-11-27T18:00:00Z",
        ] {
            assert_eq!(
                cal.last_close(utc(at)),
                Some(utc("2026-11-27T18:00:00Z")),
                "{at}"
            );
        }
        // Thursday 2026-11-26 is Thanksgiving: Friday morning's last close is Wednesday's.
        assert_eq!(
            cal.last_close(utc("2026-11-27T15:00:00Z")),
            Some(utc("2026-11-25T21:00:00Z"))
        );
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
