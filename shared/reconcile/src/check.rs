//! The cross-check: our figures beside Zoom's, for an engagement both sides have. A
//! difference is a finding, not a failure: Zoom's durations are whole seconds, and Zoom
//! defines neither `waiting_duration` nor `handling_duration` (ZOOM-API.md §7), so a figure
//! may differ for reasons neither side got wrong.

use serde::Serialize;
use serde_json::{Value, json};
use zcc_domain::engagement::EngagementState;
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::ZoomApiEngagement;

/// Figures within this of each other match: Zoom's are whole seconds, ours milliseconds.
pub const TOLERANCE_MS: i64 = 1_000;

/// One figure that differs. Durations are in seconds (ours with milliseconds), times ISO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub engagement_id: String,
    /// `talk_s`, `wrap_up_s`, `queue_wait_s`, `handle_s`, `transfer_count`, `final_agent`,
    /// `final_queue`, `start`, `end`.
    pub figure: String,
    pub ours: Value,
    pub zoom: Value,
}

fn seconds(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| json!(ms as f64 / 1000.0))
}

fn iso(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |t| json!(t.to_iso()))
}

/// Every figure of `ours` that differs from Zoom's `theirs`; empty when all match.
pub fn compare(ours: &EngagementState, theirs: &ZoomApiEngagement) -> Vec<Mismatch> {
    let id = &ours.engagement_id;
    let mut out = Vec::new();
    let mut differs = |figure: &str, ours: Value, zoom: Value| {
        out.push(Mismatch {
            engagement_id: id.clone(),
            figure: figure.to_owned(),
            ours,
            zoom,
        });
    };
    // Durations: Zoom answers 0 where we have none (no wrap-up, never answered), so absent
    // and zero are the same figure.
    let durations = [
        ("talk_s", ours.talk_ms, theirs.talk_s),
        ("wrap_up_s", ours.wrap_up_ms, theirs.wrap_up_s),
        ("queue_wait_s", ours.queue_wait_ms, theirs.waiting_s),
        ("handle_s", ours.handle_ms, theirs.handling_s),
    ];
    for (figure, ours_ms, zoom_s) in durations {
        let Some(zoom_s) = zoom_s else { continue };
        let zoom_ms = zoom_s * 1000;
        if (ours_ms.unwrap_or(0) - zoom_ms).abs() > TOLERANCE_MS {
            differs(figure, seconds(ours_ms), json!(zoom_s));
        }
    }
    if let Some(count) = theirs.transfer_count
        && count != ours.transfer_count
    {
        differs("transfer_count", json!(ours.transfer_count), json!(count));
    }
    let texts = [
        ("final_agent", &ours.agent_user_id, &theirs.agent_user_id),
        ("final_queue", &ours.queue_id, &theirs.queue_id),
    ];
    for (figure, ours_text, zoom_text) in texts {
        if zoom_text.is_some() && ours_text != zoom_text {
            differs(figure, json!(ours_text), json!(zoom_text));
        }
    }
    let times = [
        ("start", ours.started_at, theirs.start_time),
        ("end", ours.ended_at, theirs.end_time),
    ];
    for (figure, ours_at, zoom_at) in times {
        let Some(zoom_at) = zoom_at else { continue };
        let close = ours_at.is_some_and(|o| {
            // Zoom's times are whole seconds: truncated or rounded, ours is within a second.
            (o.unix_millis() - zoom_at.unix_millis()).abs() <= TOLERANCE_MS
        });
        if !close {
            differs(figure, iso(ours_at), iso(Some(zoom_at)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(iso: &str) -> Timestamp {
        Timestamp::parse(iso).unwrap()
    }

    #[test]
    fn within_a_second_matches_and_every_difference_is_named() {
        let mut ours = EngagementState::new("e1");
        ours.started_at = Some(t("2026-12-01T09:00:00.700Z"));
        ours.ended_at = Some(t("2026-12-01T09:05:00.400Z"));
        ours.talk_ms = Some(120_600);
        ours.agent_user_id = Some("u-ana".into());
        ours.queue_id = Some("q-sales".into());
        let theirs = ZoomApiEngagement {
            engagement_id: "e1".into(),
            start_time: Some(t("2026-12-01T09:00:00Z")),
            end_time: Some(t("2026-12-01T09:05:00Z")),
            talk_s: Some(121),
            wrap_up_s: Some(0),
            transfer_count: Some(0),
            agent_user_id: Some("u-ana".into()),
            queue_id: Some("q-sales".into()),
            ..Default::default()
        };
        assert_eq!(compare(&ours, &theirs), []);
        let theirs = ZoomApiEngagement {
            talk_s: Some(130),
            transfer_count: Some(1),
            agent_user_id: Some("u-bo".into()),
            end_time: Some(t("2026-12-01T09:05:02Z")),
            ..theirs
        };
        let found: Vec<_> = compare(&ours, &theirs)
            .into_iter()
            .map(|m| m.figure)
            .collect();
        assert_eq!(found, ["talk_s", "transfer_count", "final_agent", "end"]);
    }
}
