//! Time ranges as people type them: each end a UTC day (`YYYY-MM-DD`) or an ISO-8601 time.
//! A day at the start of a range means its first millisecond, at the end its last, so that
//! `--from 2026-12-01 --to 2026-12-01` is the whole of that day.
//!
//! [`Day`], [`Start`], [`End`] and [`TimeRange`] implement `FromStr` with errors that say
//! what was expected, so a command line can parse them as it reads its arguments (clap's
//! `value_parser` uses `FromStr`) and refuse a wrong one as a usage error.

use std::fmt;
use std::str::FromStr;

use crate::timestamp::Timestamp;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRangeError {
    #[error("`{0}` is not a day: give YYYY-MM-DD (e.g. 2026-12-01)")]
    NotADay(String),
    #[error(
        "`{0}` is neither a day (YYYY-MM-DD) nor an ISO-8601 time with a UTC offset \
         (e.g. 2026-12-01T09:00:00Z)"
    )]
    NotATime(String),
    #[error("the end ({to}) is before the start ({from}): give the earlier time first")]
    Backwards { from: String, to: String },
    #[error("`{0}` is not a range: give a day, or FROM..TO (each a day or an ISO-8601 time)")]
    NotARange(String),
}

/// What a message quotes of someone's input: enough to recognise it, never a page of it.
fn quoted(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A UTC calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Timestamp);

impl Day {
    /// The day an instant falls on (UTC).
    pub fn of(at: Timestamp) -> Self {
        Self(Timestamp::from_unix_millis(
            at.unix_millis().div_euclid(DAY_MS) * DAY_MS,
        ))
    }

    pub fn today() -> Self {
        Self::of(Timestamp::now())
    }

    /// Its first millisecond.
    pub fn start(self) -> Timestamp {
        self.0
    }

    /// Its last millisecond.
    pub fn end(self) -> Timestamp {
        self.0.saturating_add_millis(DAY_MS - 1)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.day())
    }
}

impl FromStr for Day {
    type Err = TimeRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        // The round trip refuses days that do not exist, such as 2026-02-30.
        shaped
            .then(|| Timestamp::parse(&format!("{text}T00:00:00Z")).ok())
            .flatten()
            .filter(|t| t.day() == text)
            .map(Self)
            .ok_or_else(|| TimeRangeError::NotADay(quoted(text)))
    }
}

/// Reads `text` as a day or an instant; a day is `day_at(day)`.
fn day_or_instant(text: &str, day_at: fn(Day) -> Timestamp) -> Result<Timestamp, TimeRangeError> {
    if let Ok(day) = text.parse::<Day>() {
        return Ok(day_at(day));
    }
    Timestamp::parse(text).map_err(|_| TimeRangeError::NotATime(quoted(text)))
}

/// A range's start as typed: a day (its first millisecond) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start(pub Timestamp);

impl FromStr for Start {
    type Err = TimeRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        day_or_instant(text, Day::start).map(Self)
    }
}

/// A range's end as typed: a day (its last millisecond) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End(pub Timestamp);

impl FromStr for End {
    type Err = TimeRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        day_or_instant(text, Day::end).map(Self)
    }
}

/// From one instant to another, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl TimeRange {
    /// Refuses a range that ends before it starts (one instant, `from == to`, is a range).
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self, TimeRangeError> {
        if to < from {
            return Err(TimeRangeError::Backwards {
                from: from.to_iso(),
                to: to.to_iso(),
            });
        }
        Ok(Self { from, to })
    }

    /// The whole of one day.
    pub fn day(day: Day) -> Self {
        Self {
            from: day.start(),
            to: day.end(),
        }
    }

    /// `--from` and `--to` as a report takes them: an end not given is `today`'s (so neither
    /// is the whole of today).
    pub fn or_today(
        from: Option<Start>,
        to: Option<End>,
        today: Day,
    ) -> Result<Self, TimeRangeError> {
        Self::new(
            from.map_or(today.start(), |s| s.0),
            to.map_or(today.end(), |e| e.0),
        )
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at <= self.to
    }
}

impl FromStr for TimeRange {
    type Err = TimeRangeError;

    /// A day (the whole of it), or `FROM..TO`, each a day or an ISO-8601 time.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once("..") {
            Some((from, to)) => Self::new(from.parse::<Start>()?.0, to.parse::<End>()?.0),
            None => text
                .parse::<Day>()
                .map(Self::day)
                .map_err(|_| TimeRangeError::NotARange(quoted(text))),
        }
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(iso: &str) -> Timestamp {
        Timestamp::parse(iso).unwrap()
    }

    #[test]
    fn a_day_starts_a_range_at_its_first_millisecond_and_ends_it_at_its_last() {
        let start: Start = "2026-12-01".parse().unwrap();
        let end: End = "2026-12-01".parse().unwrap();
        assert_eq!(start.0, at("2026-12-01T00:00:00.000Z"));
        assert_eq!(end.0, at("2026-12-01T23:59:59.999Z"));
        let range = TimeRange::new(start.0, end.0).unwrap();
        assert!(range.contains(at("2026-12-01T12:00:00Z")));
        assert!(!range.contains(at("2026-12-02T00:00:00Z")));
        assert!(!range.contains(at("2026-11-30T23:59:59.999Z")));
    }

    #[test]
    fn an_iso_time_is_taken_as_it_is_with_any_offset() {
        let start: Start = "2026-12-01T10:30:00+01:00".parse().unwrap();
        assert_eq!(start.0, at("2026-12-01T09:30:00.000Z"));
        let end: End = "2026-12-01T09:30:00.123Z".parse().unwrap();
        assert_eq!(end.0.to_iso(), "2026-12-01T09:30:00.123Z");
    }

    #[test]
    fn what_is_neither_a_day_nor_a_time_is_refused_with_what_to_give() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-12-1",
            "12/01/2026",
            "",
        ] {
            let err = bad.parse::<Start>().unwrap_err();
            assert_eq!(err, TimeRangeError::NotATime(bad.into()), "{bad}");
            assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
        }
        let err = "2026-12-01T09:00:00".parse::<End>().unwrap_err();
        assert!(err.to_string().contains("with a UTC offset"), "{err}");
        let long = "x".repeat(500);
        assert!(long.parse::<Start>().unwrap_err().to_string().len() < 200);
    }

    #[test]
    fn a_day_is_only_a_day_that_exists() {
        let day: Day = "2024-02-29".parse().unwrap();
        assert_eq!(day.to_string(), "2024-02-29");
        assert_eq!(day.end(), at("2024-02-29T23:59:59.999Z"));
        for bad in [
            "2026-02-29",
            "2026-12-01T00:00:00Z",
            "+026-12-01",
            "2026-1-011",
        ] {
            assert_eq!(
                bad.parse::<Day>(),
                Err(TimeRangeError::NotADay(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            Day::of(at("2026-12-01T23:59:59.999Z")).to_string(),
            "2026-12-01"
        );
        assert_eq!(
            Day::of(at("1969-12-31T12:00:00Z")).to_string(),
            "1969-12-31"
        );
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let err =
            TimeRange::new(at("2026-12-02T00:00:00Z"), at("2026-12-01T00:00:00Z")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the end (2026-12-01T00:00:00.000Z) is before the start (2026-12-02T00:00:00.000Z): \
             give the earlier time first"
        );
        let instant = at("2026-12-01T00:00:00Z");
        assert!(TimeRange::new(instant, instant).is_ok());
    }

    #[test]
    fn ends_not_given_are_today() {
        let today: Day = "2026-12-06".parse().unwrap();
        assert_eq!(
            TimeRange::or_today(None, None, today).unwrap(),
            TimeRange::day(today)
        );
        let from = Some("2026-12-01".parse::<Start>().unwrap());
        let range = TimeRange::or_today(from, None, today).unwrap();
        assert_eq!(range.to.to_iso(), "2026-12-06T23:59:59.999Z");
        let later = Some("2026-12-07".parse::<Start>().unwrap());
        assert!(TimeRange::or_today(later, None, today).is_err());
    }

    #[test]
    fn a_range_parses_from_one_argument() {
        let day: TimeRange = "2026-12-01".parse().unwrap();
        assert_eq!(
            day.to_string(),
            "2026-12-01T00:00:00.000Z..2026-12-01T23:59:59.999Z"
        );
        let span: TimeRange = "2026-12-01..2026-12-02T06:00:00Z".parse().unwrap();
        assert_eq!(span.from, at("2026-12-01T00:00:00Z"));
        assert_eq!(span.to, at("2026-12-02T06:00:00Z"));
        assert_eq!(span.to_string().parse::<TimeRange>(), Ok(span));
        assert!(matches!(
            "2026-12-02..2026-12-01".parse::<TimeRange>(),
            Err(TimeRangeError::Backwards { .. })
        ));
        assert!(matches!(
            "today".parse::<TimeRange>(),
            Err(TimeRangeError::NotARange(_))
        ));
    }
}
