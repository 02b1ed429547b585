//! Which stretch of time a scheduled run reconciles, from the invocation's input.
//!
//! EventBridge Scheduler passes the input set in the template: `{"window": "hourly"}` or
//! `{"window": "yesterday"}`. By hand (`aws lambda invoke`), `{"from": …, "to": …}` names any
//! range, each end a day (`YYYY-MM-DD`) or an ISO-8601 time, as `zcc report` takes them.

use serde::Deserialize;
use zcc_domain::timestamp::Timestamp;
use zcc_reconcile::Window;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How many whole hours back the hourly window starts. Zoom retries a delivery for about 85
/// minutes after the event (3 retries, at about +5, +20 and +60 min); from an hour that
/// ended two hours ago, every retry is over and anything still missing is lost for good.
const HOURLY_STARTS_HOURS_AGO: i64 = 3;

/// The invocation's input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// `hourly` or `yesterday`.
    pub window: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Says what it would do and writes nothing (for a run by hand).
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "the input is not {{\"window\": \"hourly\"}}, {{\"window\": \"yesterday\"}} or {{\"from\": \"YYYY-MM-DD or ISO time\", \"to\": …}}: {0}"
    )]
    Input(String),
    #[error("unknown window `{0}`: give \"hourly\" or \"yesterday\", or \"from\" and \"to\"")]
    UnknownWindow(String),
    #[error("give either \"window\" or \"from\" and \"to\", not both")]
    Both,
    #[error("\"{0}\" is missing: give \"from\" and \"to\" together")]
    Half(&'static str),
    /// The range's own error (`zcc reconcile`'s words for `--from` and `--to`).
    #[error("\"from\" and \"to\": {0}")]
    Range(String),
}

impl Input {
    pub fn parse(payload: serde_json::Value) -> Result<Self, WindowError> {
        // A scheduled or test invocation with no input at all arrives as `null` or `{}`.
        if payload.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(payload).map_err(|e| WindowError::Input(e.to_string()))
    }

    /// The window this input names, at `now`. No input at all is the hourly window.
    pub fn window(&self, now: Timestamp) -> Result<Window, WindowError> {
        match (&self.window, &self.from, &self.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(WindowError::Both),
            (Some(name), None, None) => match name.as_str() {
                "hourly" => Ok(hourly(now)),
                "yesterday" => Ok(yesterday(now)),
                other => Err(WindowError::UnknownWindow(other.chars().take(40).collect())),
            },
            (None, Some(from), Some(to)) => explicit(from, to),
            (None, Some(_), None) => Err(WindowError::Half("to")),
            (None, None, Some(_)) => Err(WindowError::Half("from")),
            (None, None, None) => Ok(hourly(now)),
        }
    }
}

/// The whole hour that began [`HOURLY_STARTS_HOURS_AGO`] hours before the hour of `now`: at
/// 10:17 UTC, 07:00:00.000 to 07:59:59.999 (a [`Window`] includes both ends, so consecutive
/// hours do not overlap).
pub fn hourly(now: Timestamp) -> Window {
    let hour = now.unix_millis().div_euclid(HOUR_MS) * HOUR_MS;
    let from = hour - HOURLY_STARTS_HOURS_AGO * HOUR_MS;
    Window {
        from: Timestamp::from_unix_millis(from),
        to: Timestamp::from_unix_millis(from + HOUR_MS - 1),
    }
}

/// The UTC day before the day of `now`: 00:00:00.000 to 23:59:59.999.
pub fn yesterday(now: Timestamp) -> Window {
    let today = now.unix_millis().div_euclid(DAY_MS) * DAY_MS;
    Window {
        from: Timestamp::from_unix_millis(today - DAY_MS),
        to: Timestamp::from_unix_millis(today - 1),
    }
}

/// `from` and `to` exactly as `zcc reconcile --from --to` takes them (the same parser): a day
/// for `from` is its start, a day for `to` its end, so `{"from": "2026-12-01", "to":
/// "2026-12-01"}` is that whole day.
pub fn explicit(from: &str, to: &str) -> Result<Window, WindowError> {
    Window::parse(from.trim(), to.trim()).map_err(|e| WindowError::Range(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn iso(window: &Window) -> (String, String) {
        (window.from.to_iso(), window.to.to_iso())
    }

    fn pair(from: &str, to: &str) -> (String, String) {
        (from.to_owned(), to.to_owned())
    }

    #[test]
    fn the_hourly_window_is_the_hour_that_began_three_hours_before() {
        let cases = [
            (
                "2026-12-06T10:17:42.123Z",
                "2026-12-06T07:00:00.000Z",
                "2026-12-06T07:59:59.999Z",
            ),
            // The schedule fires at :15; a late or retried invocation still names the same hour.
            (
                "2026-12-06T10:15:00.000Z",
                "2026-12-06T07:00:00.000Z",
                "2026-12-06T07:59:59.999Z",
            ),
            (
                "2026-12-06T10:59:59.999Z",
                "2026-12-06T07:00:00.000Z",
                "2026-12-06T07:59:59.999Z",
            ),
            (
                "2026-12-06T11:00:00.000Z",
                "2026-12-06T08:00:00.000Z",
                "2026-12-06T08:59:59.999Z",
            ),
            // Across midnight, and across a year.
            (
                "2026-12-06T01:15:00.000Z",
                "2026-12-05T22:00:00.000Z",
                "2026-12-05T22:59:59.999Z",
            ),
            (
                "2027-01-01T02:15:00.000Z",
                "2026-12-31T23:00:00.000Z",
                "2026-12-31T23:59:59.999Z",
            ),
        ];
        for (now, from, to) in cases {
            assert_eq!(iso(&hourly(at(now))), pair(from, to), "at {now}");
        }
    }

    #[test]
    fn consecutive_hourly_windows_neither_overlap_nor_leave_a_gap() {
        let first = hourly(at("2026-12-06T10:15:00.000Z"));
        let next = hourly(at("2026-12-06T11:15:00.000Z"));
        assert_eq!(first.to.saturating_add_millis(1), next.from);
    }

    #[test]
    fn the_hourly_window_starts_after_zooms_last_retry() {
        // An event at the window's last millisecond is retried until about 85 minutes later;
        // the run (at :15, three hours after the window's start) comes after that.
        let now = at("2026-12-06T10:15:00.000Z");
        let window = hourly(now);
        let last_retry = window.to.saturating_add_millis(85 * 60_000);
        assert!(last_retry < now, "{last_retry} is not before {now}");
    }

    #[test]
    fn yesterday_is_the_previous_utc_day() {
        let cases = [
            (
                "2026-12-06T00:30:00.000Z",
                "2026-12-05T00:00:00.000Z",
                "2026-12-05T23:59:59.999Z",
            ),
            (
                "2026-12-06T01:30:00.000Z",
                "2026-12-05T00:00:00.000Z",
                "2026-12-05T23:59:59.999Z",
            ),
            (
                "2026-12-06T00:00:00.000Z",
                "2026-12-05T00:00:00.000Z",
                "2026-12-05T23:59:59.999Z",
            ),
            (
                "2026-12-06T23:59:59.999Z",
                "2026-12-05T00:00:00.000Z",
                "2026-12-05T23:59:59.999Z",
            ),
            (
                "2028-03-01T01:30:00.000Z",
                "2028-02-29T00:00:00.000Z",
                "2028-02-29T23:59:59.999Z",
            ),
            (
                "2027-01-01T01:30:00.000Z",
                "2026-12-31T00:00:00.000Z",
                "2026-12-31T23:59:59.999Z",
            ),
        ];
        for (now, from, to) in cases {
            assert_eq!(iso(&yesterday(at(now))), pair(from, to), "at {now}");
        }
    }

    #[test]
    fn the_scheduler_inputs_name_their_windows() {
        let now = at("2026-12-06T10:17:00.000Z");
        let window = |v| iso(&Input::parse(v).unwrap().window(now).unwrap());
        assert_eq!(window(json!({"window": "hourly"})), iso(&hourly(now)));
        assert_eq!(window(json!({"window": "yesterday"})), iso(&yesterday(now)));
        assert_eq!(window(json!(null)), iso(&hourly(now)));
        assert_eq!(window(json!({})), iso(&hourly(now)));
        let input = Input::parse(json!({"window": "yesterday", "dry_run": true})).unwrap();
        assert!(input.dry_run);
        assert!(!Input::parse(json!({"window": "hourly"})).unwrap().dry_run);
    }

    #[test]
    fn an_explicit_range_takes_days_and_times_as_zcc_reconcile_does() {
        let now = at("2026-12-06T10:17:00.000Z");
        let window = |v| iso(&Input::parse(v).unwrap().window(now).unwrap());
        assert_eq!(
            window(json!({"from": "2026-12-01", "to": "2026-12-01"})),
            pair("2026-12-01T00:00:00.000Z", "2026-12-01T23:59:59.999Z")
        );
        assert_eq!(
            window(json!({"from": "2026-11-30T22:00:00Z", "to": "2026-12-02"})),
            pair("2026-11-30T22:00:00.000Z", "2026-12-02T23:59:59.999Z")
        );
        assert_eq!(
            window(json!({"from": "2026-12-01T10:00:00+02:00", "to": "2026-12-01T09:30:00Z"})),
            pair("2026-12-01T08:00:00.000Z", "2026-12-01T09:30:00.000Z")
        );
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let now = at("2026-12-06T10:17:00.000Z");
        let error = |v| {
            Input::parse(v)
                .and_then(|input| input.window(now))
                .unwrap_err()
        };
        assert_eq!(
            error(json!({"window": "weekly"})),
            WindowError::UnknownWindow("weekly".into())
        );
        assert_eq!(
            error(json!({"window": "hourly", "from": "2026-12-01"})),
            WindowError::Both
        );
        assert_eq!(
            error(json!({"from": "2026-12-01"})),
            WindowError::Half("to")
        );
        assert_eq!(
            error(json!({"to": "2026-12-01"})),
            WindowError::Half("from")
        );
        let bad_day = error(json!({"from": "yesterday", "to": "2026-12-01"}));
        assert!(
            matches!(&bad_day, WindowError::Range(e) if e.contains("`yesterday`")),
            "{bad_day}"
        );
        let backwards = error(json!({"from": "2026-12-02", "to": "2026-12-01"}));
        assert!(
            matches!(&backwards, WindowError::Range(e) if e.contains("before")),
            "{backwards}"
        );
        let typo = error(json!({"windw": "hourly"}));
        assert!(
            matches!(&typo, WindowError::Input(e) if e.contains("windw")),
            "{typo}"
        );
        assert!(matches!(error(json!("hourly")), WindowError::Input(_)));
        assert!(matches!(error(json!({"window": 1})), WindowError::Input(_)));
        // What the operator reads names what to give.
        assert!(
            error(json!({"window": "weekly"}))
                .to_string()
                .contains("\"yesterday\"")
        );
    }
}
