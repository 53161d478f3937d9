//! Candle intervals and their buckets in the market time zone.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::local_instant;

/// A candle's length. On the wire and in storage: `H1`, `H4`, `D1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Interval {
    H1,
    H4,
    D1,
}

impl Interval {
    pub const ALL: [Interval; 3] = [Interval::H1, Interval::H4, Interval::D1];

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::H1 => "H1",
            Interval::H4 => "H4",
            Interval::D1 => "D1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Start of the bucket holding `t`: local hour, local 4-hour block, or local day.
    pub fn bucket_start(self, t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = t.with_timezone(&tz);
        let hour = match self {
            Interval::H1 => local.hour(),
            Interval::H4 => local.hour() - local.hour() % 4,
            Interval::D1 => 0,
        };
        let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
        local_instant(tz, local.date_naive(), time)
    }

    /// End of the bucket that starts at `start` (the next bucket's start): from then on its
    /// candle no longer changes. Found by stepping an hour at a time, so buckets that
    /// daylight-saving time makes 23 or 25 hours long (or an hourly bucket it doubles) end
    /// where the market time zone says.
    pub fn bucket_end(self, start: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let mut t = start;
        for _ in 0..26 {
            t += Duration::hours(1);
            if self.bucket_start(t, tz) > start {
                return self.bucket_start(t, tz);
            }
        }
        t
    }

    /// A little more than the longest bucket, to bound queries.
    pub fn max_len(self) -> Duration {
        match self {
            Interval::H1 => Duration::hours(2),
            Interval::H4 => Duration::hours(5),
            Interval::D1 => Duration::hours(25),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn buckets_end_where_the_next_one_starts() {
        let tz = New_York;
        let hour = at("2026-03-02T15:00:00Z");
        assert_eq!(
            Interval::H1.bucket_end(hour, tz),
            at("2026-03-02T16:00:00Z")
        );
        // 08:00 local (13:00Z in winter) to 12:00 local.
        let block = Interval::H4.bucket_start(at("2026-03-02T14:30:00Z"), tz);
        assert_eq!(block, at("2026-03-02T13:00:00Z"));
        assert_eq!(
            Interval::H4.bucket_end(block, tz),
            at("2026-03-02T17:00:00Z")
        );
        let day = Interval::D1.bucket_start(at("2026-03-02T15:00:00Z"), tz);
        assert_eq!(Interval::D1.bucket_end(day, tz), at("2026-03-03T05:00:00Z"));
        // The day clocks go forward (8 March 2026) lasts 23 hours.
        let short = Interval::D1.bucket_start(at("2026-03-08T15:00:00Z"), tz);
        let end = Interval::D1.bucket_end(short, tz);
        assert_eq!(end - short, Duration::hours(23));
        assert_eq!(end, at("2026-03-09T04:00:00Z"));
        // The day clocks go back (1 November 2026) lasts 25 hours.
        let long = Interval::D1.bucket_start(at("2026-11-01T15:00:00Z"), tz);
        assert_eq!(
            Interval::D1.bucket_end(long, tz) - long,
            Duration::hours(25)
        );
    }
}
