//! Instants as the table stores them: ISO-8601 UTC with milliseconds, so that strings sort
//! in time order.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset, macros::format_description};

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an ISO-8601 date-time with a UTC offset (e.g. 2023-05-01T09:27:15.987Z)")]
pub struct TimestampError(String);

/// The instants that [`Timestamp::to_iso`] writes and [`Timestamp::parse`] reads back: UTC
/// years 0000 to 9999 (0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z).
const EARLIEST_MS: i64 = -62_167_219_200_000;
const LATEST_MS: i64 = 253_402_300_799_999;

impl Timestamp {
    pub fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Unix milliseconds from outside (Zoom's `event_ts`), when they are an instant the
    /// table can hold: years 0000 to 9999 UTC. Others have no ISO text that reads back.
    pub fn checked_from_unix_millis(ms: i64) -> Option<Self> {
        (EARLIEST_MS..=LATEST_MS).contains(&ms).then_some(Self(ms))
    }

    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn unix_millis(self) -> i64 {
        self.0
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Parses RFC 3339 / ISO-8601 with any offset; sub-millisecond digits are dropped. An
    /// offset that moves the instant out of years 0000 to 9999 UTC is refused.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map_err(|_| TimestampError(truncate(text)))?;
        Self::checked_from_unix_millis((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
            .ok_or_else(|| TimestampError(truncate(text)))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width, so lexical order is time order.
    pub fn to_iso(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.datetime()
            .format(&format)
            .unwrap_or_else(|_| self.0.to_string())
    }

    /// The UTC calendar day, `YYYY-MM-DD`.
    pub fn day(self) -> String {
        self.to_iso()[..10].to_owned()
    }

    pub fn saturating_add_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(UtcOffset::UTC)
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fixed_width_with_millis() {
        let t = Timestamp::parse("2023-05-01T09:27:15.987Z").unwrap();
        assert_eq!(t.to_iso(), "2023-05-01T09:27:15.987Z");
        assert_eq!(
            Timestamp::parse("2023-05-01T09:27:15Z").unwrap().to_iso(),
            "2023-05-01T09:27:15.000Z"
        );
        assert_eq!(t.day(), "2023-05-01");
    }

    #[test]
    fn normalises_offsets_to_utc() {
        let t = Timestamp::parse("2023-05-01T11:27:15.987+02:00").unwrap();
        assert_eq!(t.to_iso(), "2023-05-01T09:27:15.987Z");
    }

    #[test]
    fn round_trips_unix_millis() {
        let t = Timestamp::from_unix_millis(1_720_705_455_858);
        assert_eq!(t.to_iso(), "2024-07-11T13:44:15.858Z");
        assert_eq!(Timestamp::parse(&t.to_iso()).unwrap(), t);
        assert_eq!(t.unix_seconds(), 1_720_705_455);
    }

    /// Found by fuzzing: an offset moved an instant to year -1 (or 10000), whose ISO text
    /// (`-0001-12-31T23:00:00.000Z`) does not read back, so the state item holding it could
    /// not be decoded again; Zoom's `event_ts` could be any such instant too.
    #[test]
    fn only_instants_of_years_0000_to_9999_are_read() {
        for text in ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"] {
            assert!(Timestamp::parse(text).is_err(), "{text}");
        }
        for text in ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"] {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(t.to_iso(), text);
            assert_eq!(
                Timestamp::checked_from_unix_millis(t.unix_millis()),
                Some(t)
            );
        }
        for ms in [i64::MIN, EARLIEST_MS - 1, LATEST_MS + 1, i64::MAX] {
            assert_eq!(Timestamp::checked_from_unix_millis(ms), None, "{ms}");
        }
    }

    #[test]
    fn rejects_text_that_is_not_a_date() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2023-05-01").is_err());
    }
}
