//! The New York Stock Exchange's holidays and early closes, computed for any year from the
//! rules of NYSE Rule 7.2 as the exchange applies them, rather than listed. Pure.
//!
//! Holidays: New Year's Day, Martin Luther King Jr. Day (third Monday of January), Washington's
//! Birthday (third Monday of February), Good Friday (two days before Easter Sunday), Memorial
//! Day (last Monday of May), Juneteenth (June 19, from 2022), Independence Day, Labor Day
//! (first Monday of September), Thanksgiving Day (fourth Thursday of November) and Christmas
//! Day. A holiday on a Sunday is observed the Monday after; one on a Saturday the Friday
//! before, except New Year's Day: the exchange stays open on December 31 (the end of the
//! yearly accounting period), so a Saturday New Year's Day is not observed at all.
//!
//! Early closes (13:00 local): the day after Thanksgiving; Christmas Eve when it falls Monday
//! to Thursday (on a Friday it is the observed Christmas when Christmas is a Saturday); and
//! July 3 when it falls Monday to Thursday, that is when Independence Day is a Tuesday to
//! Friday (a Friday July 3 is the observed holiday itself).
//!
//! Not computed: closings the exchange decides case by case (national days of mourning,
//! storms), and the rules of the years before 2022 for the days that changed (Juneteenth only
//! exists from 2022; the other rules hold as written since 1998).

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

/// Local time of an early close.
pub const EARLY_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(13, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// First year the exchange closed for Juneteenth.
const JUNETEENTH_FROM: i32 = 2022;

/// What the exchange's rules make of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Closed all day.
    Holiday,
    /// Opens as usual and closes at [`EARLY_CLOSE`].
    EarlyClose,
}

/// A day the rules single out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDay {
    pub date: NaiveDate,
    pub rule: Rule,
    pub name: &'static str,
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian computus of
/// Meeus, Jones and Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Every holiday and early close of `year`, in date order. All of them fall within the year.
pub fn days(year: i32) -> Vec<RuleDay> {
    let mut out = Vec::with_capacity(14);
    let mut holiday = |date: Option<NaiveDate>, name| {
        if let Some(date) = date {
            out.push(RuleDay {
                date,
                rule: Rule::Holiday,
                name,
            });
        }
    };
    holiday(new_years_day(year), "New Year's Day");
    holiday(
        nth_weekday(year, 1, Weekday::Mon, 3),
        "Martin Luther King Jr. Day",
    );
    holiday(
        nth_weekday(year, 2, Weekday::Mon, 3),
        "Washington's Birthday",
    );
    holiday(
        easter_sunday(year).map(|e| e - Duration::days(2)),
        "Good Friday",
    );
    holiday(last_weekday(year, 5, Weekday::Mon), "Memorial Day");
    if year >= JUNETEENTH_FROM {
        holiday(observed(NaiveDate::from_ymd_opt(year, 6, 19)), "Juneteenth");
    }
    holiday(
        observed(NaiveDate::from_ymd_opt(year, 7, 4)),
        "Independence Day",
    );
    holiday(nth_weekday(year, 9, Weekday::Mon, 1), "Labor Day");
    let thanksgiving = nth_weekday(year, 11, Weekday::Thu, 4);
    holiday(thanksgiving, "Thanksgiving Day");
    holiday(
        observed(NaiveDate::from_ymd_opt(year, 12, 25)),
        "Christmas Day",
    );

    let mut early = |date: Option<NaiveDate>, name| {
        if let Some(date) = date {
            out.push(RuleDay {
                date,
                rule: Rule::EarlyClose,
                name,
            });
        }
    };
    early(
        NaiveDate::from_ymd_opt(year, 7, 3).filter(|d| monday_to_thursday(*d)),
        "Day before Independence Day",
    );
    early(
        thanksgiving.map(|t| t + Duration::days(1)),
        "Day after Thanksgiving",
    );
    early(
        NaiveDate::from_ymd_opt(year, 12, 24).filter(|d| monday_to_thursday(*d)),
        "Christmas Eve",
    );
    out.sort_by_key(|d| d.date);
    out
}

/// What the rules make of `date`, if anything.
pub fn day(date: NaiveDate) -> Option<RuleDay> {
    days(date.year()).into_iter().find(|d| d.date == date)
}

/// January 1, or Monday January 2 when it is a Sunday; none when it is a Saturday.
fn new_years_day(year: i32) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(year, 1, 1)?;
    match date.weekday() {
        Weekday::Sat => None,
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// A fixed-date holiday as observed: Saturday → the Friday before, Sunday → the Monday after.
fn observed(date: Option<NaiveDate>) -> Option<NaiveDate> {
    let date = date?;
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// The `n`th (1-based) `weekday` of `month`.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The last `weekday` of `month`.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let next_month = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    let last = next_month.pred_opt()?;
    let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    Some(last - Duration::days(i64::from(back)))
}

fn monday_to_thursday(date: NaiveDate) -> bool {
    date.weekday().num_days_from_monday() <= Weekday::Thu.num_days_from_monday()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn holidays(year: i32) -> Vec<(String, &'static str)> {
        days(year)
            .into_iter()
            .filter(|d| d.rule == Rule::Holiday)
            .map(|d| (d.date.to_string(), d.name))
            .collect()
    }

    fn early_closes(year: i32) -> Vec<String> {
        days(year)
            .into_iter()
            .filter(|d| d.rule == Rule::EarlyClose)
            .map(|d| d.date.to_string())
            .collect()
    }

    #[test]
    fn easter_follows_the_gregorian_computus() {
        // Published Easter Sundays, including the earliest (March 22) and latest (April 25)
        // possible dates and the years the simple rule of thumb gets wrong (1954, 1981).
        for (year, easter) in [
            (1818, "1818-03-22"),
            (1943, "1943-04-25"),
            (1954, "1954-04-18"),
            (1981, "1981-04-19"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(year), Some(date(easter)), "{year}");
        }
    }

    /// The exchange's published holiday calendars.
    #[test]
    fn holidays_match_the_published_nyse_calendars() {
        let published: [(i32, [&str; 10]); 4] = [
            (
                2025,
                [
                    "2025-01-01",
                    "2025-01-20",
                    "2025-02-17",
                    "2025-04-18",
                    "2025-05-26",
                    "2025-06-19",
                    "2025-07-04",
                    "2025-09-01",
                    "2025-11-27",
                    "2025-12-25",
                ],
            ),
            (
                2026,
                [
                    "2026-01-01",
                    "2026-01-19",
                    "2026-02-16",
                    "2026-04-03",
                    "2026-05-25",
                    "2026-06-19",
                    "2026-07-03",
                    "2026-09-07",
                    "2026-11-26",
                    "2026-12-25",
                ],
            ),
            (
                2027,
                [
                    "2027-01-01",
                    "2027-01-18",
                    "2027-02-15",
                    "2027-03-26",
                    "2027-05-31",
                    "2027-06-18",
                    "2027-07-05",
                    "2027-09-06",
                    "2027-11-25",
                    "2027-12-24",
                ],
            ),
            (
                2029,
                [
                    "2029-01-01",
                    "2029-01-15",
                    "2029-02-19",
                    "2029-03-30",
                    "2029-05-28",
                    "2029-06-19",
                    "2029-07-04",
                    "2029-09-03",
                    "2029-11-22",
                    "2029-12-25",
                ],
            ),
        ];
        for (year, dates) in published {
            let computed: Vec<String> = holidays(year).into_iter().map(|(d, _)| d).collect();
            assert_eq!(computed, dates, "{year}");
        }
        // 2028 begins on a Saturday: no New Year's Day is observed (not Friday, December 31,
        // 2027), so the year has nine.
        let h2028: Vec<String> = holidays(2028).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            h2028,
            [
                "2028-01-17",
                "2028-02-21",
                "2028-04-14",
                "2028-05-29",
                "2028-06-19",
                "2028-07-04",
                "2028-09-04",
                "2028-11-23",
                "2028-12-25",
            ]
        );
        assert_eq!(day(date("2027-12-31")), None);
    }

    #[test]
    fn each_holiday_carries_its_name() {
        let names: Vec<&str> = holidays(2026).into_iter().map(|(_, n)| n).collect();
        assert_eq!(
            names,
            [
                "New Year's Day",
                "Martin Luther King Jr. Day",
                "Washington's Birthday",
                "Good Friday",
                "Memorial Day",
                "Juneteenth",
                "Independence Day",
                "Labor Day",
                "Thanksgiving Day",
                "Christmas Day",
            ]
        );
    }

    #[test]
    fn weekend_holidays_move_to_the_nearest_weekday_but_new_years_day_never_backwards() {
        // Sunday → Monday.
        assert_eq!(
            day(date("2023-01-02")).map(|d| d.name),
            Some("New Year's Day")
        );
        assert_eq!(day(date("2022-06-20")).map(|d| d.name), Some("Juneteenth"));
        assert_eq!(
            day(date("2022-12-26")).map(|d| d.name),
            Some("Christmas Day")
        );
        assert_eq!(
            day(date("2021-07-05")).map(|d| d.name),
            Some("Independence Day")
        );
        // Saturday → Friday.
        assert_eq!(
            day(date("2026-07-03")).map(|d| (d.name, d.rule)),
            Some(("Independence Day", Rule::Holiday))
        );
        assert_eq!(
            day(date("2021-12-24")).map(|d| d.name),
            Some("Christmas Day")
        );
        assert_eq!(day(date("2027-06-18")).map(|d| d.name), Some("Juneteenth"));
        // Saturday New Year's Day: the exchange trades on December 31.
        assert_eq!(day(date("2021-12-31")), None);
        assert_eq!(day(date("2022-01-01")), None);
        assert!(holidays(2022).iter().all(|(_, n)| *n != "New Year's Day"));
    }

    #[test]
    fn juneteenth_starts_in_2022() {
        assert!(holidays(2021).iter().all(|(_, n)| *n != "Juneteenth"));
        assert_eq!(day(date("2021-06-18")), None);
        assert_eq!(day(date("2022-06-20")).map(|d| d.name), Some("Juneteenth"));
    }

    #[test]
    fn monday_holidays_fall_on_the_right_monday() {
        // MLK: 3rd Monday of January, even when the month starts on a Monday (the 15th) or a
        // Tuesday (the 21st).
        assert_eq!(
            day(date("2029-01-15")).map(|d| d.name),
            Some("Martin Luther King Jr. Day")
        );
        assert_eq!(
            day(date("2030-01-21")).map(|d| d.name),
            Some("Martin Luther King Jr. Day")
        );
        // Memorial Day: the last Monday, on the 31st and on the 25th.
        assert_eq!(
            day(date("2027-05-31")).map(|d| d.name),
            Some("Memorial Day")
        );
        assert_eq!(
            day(date("2026-05-25")).map(|d| d.name),
            Some("Memorial Day")
        );
        // Labor Day: 1st Monday of September, on the 1st and on the 7th.
        assert_eq!(day(date("2025-09-01")).map(|d| d.name), Some("Labor Day"));
        assert_eq!(day(date("2026-09-07")).map(|d| d.name), Some("Labor Day"));
        // Thanksgiving: the 4th Thursday, from the 22nd to the 28th.
        assert_eq!(
            day(date("2029-11-22")).map(|d| d.name),
            Some("Thanksgiving Day")
        );
        assert_eq!(
            day(date("2024-11-28")).map(|d| d.name),
            Some("Thanksgiving Day")
        );
        assert_eq!(
            last_weekday(2026, 12, Weekday::Thu),
            Some(date("2026-12-31"))
        );
    }

    /// Early closes as published for 2025–2028 (and 2029 from the same rules).
    #[test]
    fn early_closes_match_the_published_nyse_calendars() {
        assert_eq!(
            early_closes(2025),
            ["2025-07-03", "2025-11-28", "2025-12-24"]
        );
        // July 4 is a Saturday (July 3 is the holiday); Christmas Eve a Thursday.
        assert_eq!(early_closes(2026), ["2026-11-27", "2026-12-24"]);
        // July 4 is a Sunday, Christmas a Saturday (observed on the 24th).
        assert_eq!(early_closes(2027), ["2027-11-26"]);
        // July 4 is a Tuesday; Christmas Eve a Sunday.
        assert_eq!(early_closes(2028), ["2028-07-03", "2028-11-24"]);
        assert_eq!(
            early_closes(2029),
            ["2029-07-03", "2029-11-23", "2029-12-24"]
        );
        // A Monday July 4 leaves July 3 on a Sunday: no early close.
        assert!(early_closes(2022).iter().all(|d| !d.starts_with("2022-07")));
        let eve = day(date("2026-12-24"));
        assert_eq!(
            eve.map(|d| (d.rule, d.name)),
            Some((Rule::EarlyClose, "Christmas Eve"))
        );
        assert_eq!(EARLY_CLOSE, NaiveTime::from_hms_opt(13, 0, 0).unwrap());
    }

    #[test]
    fn every_computed_day_is_a_weekday_of_its_year_in_order() {
        for year in 1998..=2100 {
            let all = days(year);
            assert!(all.windows(2).all(|w| w[0].date < w[1].date), "{year}");
            for d in &all {
                assert_eq!(d.date.year(), year);
                assert!(
                    !matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun),
                    "{d:?}"
                );
                assert_eq!(day(d.date), Some(*d));
            }
        }
    }
}
