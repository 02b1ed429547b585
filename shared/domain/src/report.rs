//! The figures a contact center runs on, with one definition each (docs, "Reporting"):
//! computed here for `zcc report`, and by the Athena named queries in template.yaml with the
//! same definitions over the same rows (what `zcc export` and Firehose write).
//!
//! - The population is the **ended** engagements whose first event falls in the range (a
//!   record still open has no final figures yet).
//! - An engagement counts once, in its **final** queue and with its **final** agent: a
//!   transfer does not split it between queues (its transfers are counted instead).
//! - **offered**: every engagement in the population; **answered**: those with an agent answer
//!   (`answered_at`); **abandoned**: those that ended with no answer (`abandoned`); the
//!   **abandon rate** is abandoned ÷ offered.
//! - **service level**: answered within the threshold (`time_to_answer_ms` ≤ threshold) ÷
//!   offered.
//! - **average speed of answer**: the mean `time_to_answer_ms` of the answered.
//! - **handle time**: `handle_ms` of the answered (talk + hold + wrap-up): its mean and its
//!   90th percentile (nearest rank: the smallest value with at least 90 % of values at or
//!   below it); talk, hold and wrap-up are means over the answered too.
//! - **transfers** and **holds**: sums of `transfer_count` and `hold_count`.
//!
//! Means are rounded to whole milliseconds, rates to four decimals, both half away from zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engagement::{EngagementState, EngagementStatus};
use crate::timestamp::Timestamp;

/// One engagement as reports read it: the line `zcc export` writes and Firehose delivers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Row {
    pub engagement_id: String,
    /// `YYYY-MM-DD` (UTC) of the first event: the partition.
    pub day: String,
    /// `00`..`23`, the UTC hour of the first event.
    pub hour: String,
    pub first_event_at: Option<Timestamp>,
    pub version: u64,
    pub ended: bool,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_user_id: Option<String>,
    pub agent_display_name: Option<String>,
    pub started_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub abandoned: Option<bool>,
    pub time_to_answer_ms: Option<i64>,
    pub queue_wait_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub total_hold_ms: i64,
    pub hold_count: u32,
    pub wrap_up_ms: Option<i64>,
    pub handle_ms: Option<i64>,
    pub transfer_count: u32,
    pub disposition_name: Option<String>,
}

impl Row {
    /// The state's fields [`Row::of`] reads: all a report needs of a state item, so that a
    /// month's report reads these and not the whole record (its merge bookkeeping, its
    /// transfers and offers). A test checks that a state cut down to them makes the same row.
    pub const STATE_FIELDS: &[&str] = &[
        "engagement_id",
        "day",
        "first_event_at",
        "status",
        "channel",
        "direction",
        "queue_id",
        "queue_name",
        "agent_user_id",
        "agent_display_name",
        "started_at",
        "answered_at",
        "ended_at",
        "abandoned",
        "time_to_answer_ms",
        "queue_wait_ms",
        "talk_ms",
        "total_hold_ms",
        "hold_count",
        "wrap_up_ms",
        "handle_ms",
        "transfer_count",
        "disposition_name",
    ];

    pub fn of(s: &EngagementState, version: u64) -> Self {
        Self {
            engagement_id: s.engagement_id.clone(),
            day: s.day.clone().unwrap_or_default(),
            hour: s
                .first_event_at
                .map(|t| t.to_iso()[11..13].to_owned())
                .unwrap_or_default(),
            first_event_at: s.first_event_at,
            version,
            ended: s.status == EngagementStatus::Ended,
            channel: s.channel.clone(),
            direction: s.direction.clone(),
            queue_id: s.queue_id.clone(),
            queue_name: s.queue_name.clone(),
            agent_user_id: s.agent_user_id.clone(),
            agent_display_name: s.agent_display_name.clone(),
            started_at: s.started_at,
            answered_at: s.answered_at,
            ended_at: s.ended_at,
            abandoned: s.abandoned,
            time_to_answer_ms: s.time_to_answer_ms,
            queue_wait_ms: s.queue_wait_ms,
            talk_ms: s.talk_ms,
            total_hold_ms: s.total_hold_ms,
            hold_count: s.hold_count,
            wrap_up_ms: s.wrap_up_ms,
            handle_ms: s.handle_ms,
            transfer_count: s.transfer_count,
            disposition_name: s.disposition_name.clone(),
        }
    }
}

/// What a report is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Queue,
    Agent,
    Hour,
    Day,
    Channel,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queue" => Self::Queue,
            "agent" => Self::Agent,
            "hour" => Self::Hour,
            "day" => Self::Day,
            "channel" => Self::Channel,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Agent => "agent",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Channel => "channel",
        }
    }

    /// The group a row belongs to; `-` when the row has no value for it.
    pub fn key(self, row: &Row) -> String {
        let value = match self {
            Self::Queue => row.queue_id.clone(),
            Self::Agent => row.agent_user_id.clone(),
            Self::Hour => Some(row.hour.clone()),
            Self::Day => Some(row.day.clone()),
            Self::Channel => row.channel.clone(),
        };
        value
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "-".into())
    }
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub group: String,
    /// The queue's or agent's name, where the rows carry one.
    pub name: Option<String>,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub abandon_rate: f64,
    pub answered_within_sla: u64,
    pub service_level: f64,
    pub average_speed_of_answer_ms: Option<i64>,
    pub average_handle_ms: Option<i64>,
    pub p90_handle_ms: Option<i64>,
    pub average_talk_ms: Option<i64>,
    pub average_hold_ms: Option<i64>,
    pub average_wrap_up_ms: Option<i64>,
    pub transfers: u64,
    pub holds: u64,
}

fn mean(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    let n = values.len() as i128;
    // Half away from zero, as SQL's ROUND does.
    let rounded = if sum >= 0 {
        (2 * sum + n) / (2 * n)
    } else {
        -((-2 * sum + n) / (2 * n))
    };
    Some(rounded as i64)
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

/// Nearest rank: the smallest value with at least `p` of the values at or below it.
fn percentile(mut values: Vec<i64>, p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank - 1).copied()
}

/// The latest row of each engagement: a record reported more than once (ended, then
/// updated) counts by its highest version.
pub fn latest(rows: impl IntoIterator<Item = Row>) -> Vec<Row> {
    let mut by_id: BTreeMap<String, Row> = BTreeMap::new();
    for row in rows {
        match by_id.get(&row.engagement_id) {
            Some(known) if known.version >= row.version => {}
            _ => {
                by_id.insert(row.engagement_id.clone(), row);
            }
        }
    }
    by_id.into_values().collect()
}

/// The figures of `rows` grouped `by`, groups in order of their key. Only ended engagements
/// count; callers pass the rows of the range.
pub fn figures(rows: &[Row], by: GroupBy, sla_ms: i64) -> Vec<Figures> {
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.ended) {
        groups.entry(by.key(row)).or_default().push(row);
    }
    groups
        .into_iter()
        .map(|(group, rows)| of_group(group, &rows, Some(by), sla_ms))
        .collect()
}

/// The figures of all ended `rows` together, as group `all`.
pub fn total(rows: &[Row], sla_ms: i64) -> Figures {
    let ended: Vec<&Row> = rows.iter().filter(|r| r.ended).collect();
    of_group("all".into(), &ended, None, sla_ms)
}

fn of_group(group: String, rows: &[&Row], by: Option<GroupBy>, sla_ms: i64) -> Figures {
    let answered: Vec<&&Row> = rows.iter().filter(|r| r.answered_at.is_some()).collect();
    let of =
        |f: fn(&Row) -> Option<i64>| -> Vec<i64> { answered.iter().filter_map(|r| f(r)).collect() };
    let offered = rows.len() as u64;
    let within = answered
        .iter()
        .filter(|r| r.time_to_answer_ms.is_some_and(|t| t <= sla_ms))
        .count() as u64;
    let abandoned = rows.iter().filter(|r| r.abandoned == Some(true)).count() as u64;
    let name = rows
        .iter()
        .filter_map(|r| match by {
            Some(GroupBy::Queue) => r.queue_name.clone(),
            Some(GroupBy::Agent) => r.agent_display_name.clone(),
            _ => None,
        })
        .max();
    Figures {
        group,
        name,
        offered,
        answered: answered.len() as u64,
        abandoned,
        abandon_rate: rate(abandoned, offered),
        answered_within_sla: within,
        service_level: rate(within, offered),
        average_speed_of_answer_ms: mean(&of(|r| r.time_to_answer_ms)),
        average_handle_ms: mean(&of(|r| r.handle_ms)),
        p90_handle_ms: percentile(of(|r| r.handle_ms), 0.9),
        average_talk_ms: mean(&of(|r| r.talk_ms)),
        average_hold_ms: mean(&of(|r| Some(r.total_hold_ms))),
        average_wrap_up_ms: mean(&of(|r| r.wrap_up_ms)),
        transfers: rows.iter().map(|r| u64::from(r.transfer_count)).sum(),
        holds: rows.iter().map(|r| u64::from(r.hold_count)).sum(),
    }
}

/// What status an agent event puts the agent in, as reports name it: `<status>` or
/// `<status> / <sub status>`, `Logged out` after a logout. Other events change nothing.
pub fn status_after(event: &crate::event::AuthenticEvent) -> Option<String> {
    use crate::event::EventKind;
    use crate::zoom::{ZoomEvent, text};
    let label = |status: Option<String>, sub: Option<String>| match (status, sub) {
        (Some(status), Some(sub)) => Some(format!("{status} / {sub}")),
        (Some(status), None) => Some(status),
        _ => None,
    };
    match event.kind() {
        EventKind::Zoom(ZoomEvent::UserStatusChanged) => label(
            event.field("current_status_name"),
            event.field("current_sub_status_name"),
        ),
        EventKind::Zoom(ZoomEvent::UserUpdated) => {
            let updates = event.fields().get("updates")?.as_object()?;
            label(
                text(updates, "status_name"),
                text(updates, "sub_status_name"),
            )
        }
        EventKind::Zoom(ZoomEvent::UserLogout) => Some("Logged out".into()),
        _ => None,
    }
}

/// Milliseconds in each status within `[from, to]`: each change lasts until the next one or
/// the end of the range; the status at `from` is the latest change before it. Time before
/// the first known change is not counted.
pub fn time_in_status(
    changes: &[(Timestamp, String)],
    from: Timestamp,
    to: Timestamp,
) -> BTreeMap<String, i64> {
    let mut sorted = changes.to_vec();
    sorted.sort();
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for (i, (at, status)) in sorted.iter().enumerate() {
        let until = sorted.get(i + 1).map_or(to, |(next, _)| (*next).min(to));
        let since = (*at).max(from);
        if until > since {
            *out.entry(status.clone()).or_default() += until.unix_millis() - since.unix_millis();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, queue: &str, answer_ms: Option<i64>, handle: Option<i64>) -> Row {
        Row {
            engagement_id: id.into(),
            day: "2026-12-01".into(),
            hour: "09".into(),
            version: 1,
            ended: true,
            queue_id: Some(queue.into()),
            answered_at: answer_ms.map(|_| Timestamp::from_unix_millis(1)),
            abandoned: Some(answer_ms.is_none()),
            time_to_answer_ms: answer_ms,
            handle_ms: handle,
            talk_ms: handle,
            ..Row::default()
        }
    }

    #[test]
    fn figures_follow_their_definitions() {
        let rows = vec![
            row("a", "q1", Some(5_000), Some(100_000)),
            row("b", "q1", Some(30_000), Some(200_000)),
            row("c", "q1", None, None),
            row("d", "q2", Some(20_000), Some(50_000)),
            Row {
                ended: false,
                ..row("e", "q1", Some(1), Some(1))
            },
        ];
        let f = figures(&rows, GroupBy::Queue, 20_000);
        assert_eq!(f.len(), 2);
        let q1 = &f[0];
        assert_eq!((q1.offered, q1.answered, q1.abandoned), (3, 2, 1));
        assert_eq!(q1.abandon_rate, 0.3333);
        assert_eq!(q1.answered_within_sla, 1);
        assert_eq!(q1.service_level, 0.3333);
        assert_eq!(q1.average_speed_of_answer_ms, Some(17_500));
        assert_eq!(q1.average_handle_ms, Some(150_000));
        assert_eq!(q1.p90_handle_ms, Some(200_000));
        let q2 = &f[1];
        assert_eq!(q2.service_level, 1.0, "at the threshold counts as within");
        let all = total(&rows, 20_000);
        assert_eq!(
            (all.group.as_str(), all.offered, all.answered),
            ("all", 4, 3)
        );
    }

    /// Every field a row is made of is in `Row::STATE_FIELDS`: a state cut down to them gives
    /// the same row as the whole state whose every field a row reads is set (each `Option`
    /// `Some`, each count non-zero), and whose other fields are set too.
    #[test]
    fn a_row_needs_only_the_state_fields() {
        let mut other = EngagementState::new("Eng2");
        other.flow_name = Some("Main line".into());
        other.mute_count = 3;
        other.agent_email = Some("ana@example.com".into());
        let at = Some(Timestamp::parse("2026-12-01T09:00:00Z").unwrap());
        let full = EngagementState {
            engagement_id: "Eng2".into(),
            day: Some("2026-12-01".into()),
            first_event_at: at,
            status: crate::engagement::EngagementStatus::Ended,
            channel: Some("voice".into()),
            direction: Some("inbound".into()),
            queue_id: Some("q".into()),
            queue_name: Some("Queue".into()),
            agent_user_id: Some("u".into()),
            agent_display_name: Some("Ana".into()),
            started_at: at,
            answered_at: at,
            ended_at: at,
            abandoned: Some(false),
            time_to_answer_ms: Some(1),
            queue_wait_ms: Some(2),
            talk_ms: Some(3),
            total_hold_ms: 4,
            hold_count: 5,
            wrap_up_ms: Some(6),
            handle_ms: Some(7),
            transfer_count: 8,
            disposition_name: Some("Done".into()),
            ..other
        };
        let empty = Row::of(&EngagementState::default(), 9);
        assert!(
            serde_json::to_value(Row::of(&full, 9))
                .unwrap()
                .as_object()
                .unwrap()
                .iter()
                .all(|(name, value)| name == "version"
                    || *value != serde_json::to_value(&empty).unwrap()[name]),
            "the state sets every field of its row"
        );
        let serde_json::Value::Object(mut fields) = serde_json::to_value(&full).unwrap() else {
            panic!("a state is an object")
        };
        fields.retain(|name, _| Row::STATE_FIELDS.contains(&name.as_str()));
        let cut: EngagementState =
            serde_json::from_value(serde_json::Value::Object(fields)).unwrap();
        assert_eq!(Row::of(&cut, 9), Row::of(&full, 9));
    }

    #[test]
    fn nearest_rank_and_rounding() {
        assert_eq!(percentile((1..=10).collect(), 0.9), Some(9));
        assert_eq!(percentile((1..=11).collect(), 0.9), Some(10));
        assert_eq!(percentile(vec![7], 0.9), Some(7));
        assert_eq!(mean(&[1, 2]), Some(2), "half away from zero");
        assert_eq!(mean(&[1, 1, 2]), Some(1));
    }

    #[test]
    fn the_latest_version_of_a_record_counts() {
        let old = Row {
            version: 3,
            disposition_name: None,
            ..row("a", "q1", Some(1), Some(1))
        };
        let new = Row {
            version: 5,
            disposition_name: Some("Resolved".into()),
            ..old.clone()
        };
        let kept = latest([new.clone(), old.clone()]);
        assert_eq!(kept, vec![new.clone()]);
        assert_eq!(latest([old, new.clone()]), vec![new]);
    }

    #[test]
    fn time_in_status_is_clipped_to_the_range() {
        let t = |h: i64| Timestamp::from_unix_millis(h * 3_600_000);
        let changes = vec![
            (t(12), "Not Ready / Break".to_owned()),
            (t(7), "Ready".to_owned()),
            (t(13), "Ready".to_owned()),
            (t(18), "Logged out".to_owned()),
        ];
        let spent = time_in_status(&changes, t(8), t(20));
        assert_eq!(spent["Ready"], 9 * 3_600_000, "08-12 and 13-18");
        assert_eq!(spent["Not Ready / Break"], 3_600_000);
        assert_eq!(spent["Logged out"], 2 * 3_600_000);
    }
}
