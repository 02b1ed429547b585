//! Realistic bodies of what Zoom and our Flow scripts send (field names from Zoom's published webhook reference), for
//! `zcc send --example`, the tests and the README.

use serde_json::{Map, Value, json};

use crate::timestamp::Timestamp;

pub const ACCOUNT_ID: &str = "D8cJuqWVQ623CI4Q8yQK0Q";

/// A `contact_center.<event>` webhook body for one engagement. `extra` fields are added to
/// (or replace those of) `payload.object`.
pub fn engagement_webhook(event: &str, engagement_id: &str, at: Timestamp, extra: Value) -> Value {
    let mut object = json!({
        "engagement_id": engagement_id,
        "engagement_direction": "inbound",
        "channel": "voice",
        "date_time_ms": at.to_iso(),
        "flow_id": "FkGXpgpWQIi0qkCvxLvw5Q",
        "flow_name": "Main line",
        "flow_number": "+18005550100",
        "consumer_number": "+14155550123",
        "consumer_display_name": "Jo Caller",
    });
    merge_into(&mut object, extra);
    envelope(event, at, object)
}

/// A `contact_center.<event>` presence webhook body for one agent.
pub fn agent_webhook(event: &str, user_id: &str, at: Timestamp, extra: Value) -> Value {
    let mut object = json!({
        "user_id": user_id,
        "display_name": "Ana Agent",
        "user_email": "ana@example.com",
        "date_time_ms": at.to_iso(),
    });
    merge_into(&mut object, extra);
    envelope(event, at, object)
}

fn envelope(event: &str, at: Timestamp, object: Value) -> Value {
    json!({
        "event": format!("contact_center.{event}"),
        // Zoom sends a little after the fact: event_ts is its own clock, in milliseconds.
        "event_ts": at.unix_millis() + 137,
        "payload": {"account_id": ACCOUNT_ID, "object": object},
    })
}

/// A body as our example Flow scripts POST it.
pub fn flow_post(event: &str, engagement_id: &str, at: Option<Timestamp>, extra: Value) -> Value {
    let mut body = json!({
        "event": event,
        "engagement_id": engagement_id,
        "caller_number": "+14155550123",
        "agent_email": "ana@example.com",
        "queue_name": "Sales",
    });
    if let Some(at) = at {
        body["occurred_at"] = Value::String(at.to_iso());
    }
    merge_into(&mut body, extra);
    body
}

/// The challenge Zoom sends when the admin clicks Validate, and every 72 hours.
pub fn url_validation(plain_token: &str, at: Timestamp) -> Value {
    json!({
        "event": "endpoint.url_validation",
        "event_ts": at.unix_millis(),
        "payload": {"plainToken": plain_token},
    })
}

fn merge_into(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        let extra: Map<String, Value> = extra;
        target.extend(extra);
    }
}

/// A realistic call of sixteen events, in the order they happen, each in the field set Zoom
/// publishes for it: fifteen webhooks (queued, offered, answered, recorded, held, noted,
/// wrapped up, dispositioned, ended) and the Flow "Engagement Accepted" POST (`(false, body)`).
/// For the capacity and hot-path benchmarks and the load test.
pub fn realistic_call(engagement_id: &str, start: Timestamp) -> Vec<(bool, Value)> {
    let at = |s: i64| start.saturating_add_millis(s * 1000);
    let agent_id = "IGTRVt3gQ2i-WjoUIjeZxw";
    let values = |extra: Value| {
        let mut v = json!({"channel": "voice", "channel_source": "voice",
            "engagement_direction": "inbound", "cc_queue_id": "q-sales", "queue_name": "Sales",
            "user_id": agent_id, "user_display_name": "Ana Agent", "assigned_user_id": agent_id,
            "task_id": format!("{engagement_id}-task"),
            "task_reservation_id": format!("{engagement_id}-offer"),
            "consumer_number": "+14155550123"});
        merge_into(&mut v, extra);
        v
    };
    let mut events: Vec<(bool, Value)> = [
        ("engagement_started", 0, json!({})),
        ("task_entered_queue", 1, json!({})),
        ("task_reservation_created", 4, json!({})),
        ("task_reservation_accepted", 8, json!({})),
        ("engagement_user_answered", 8, json!({})),
        (
            "recording_started",
            10,
            json!({"recording_id": format!("{engagement_id}-rec")}),
        ),
        ("engagement_user_hold", 60, json!({})),
        ("engagement_user_unhold", 95, json!({})),
        (
            "engagement_note_added",
            200,
            json!({"note_id": "n1",
            "note": "Wants a refund for order A-1001"}),
        ),
        ("engagement_wrap_up_started", 300, json!({})),
        ("engagement_ended", 301, json!({})),
        (
            "engagement_disposition_added",
            310,
            json!({"disposition_id": "d1",
            "disposition_name": "Refund issued"}),
        ),
        ("engagement_wrap_up_ended", 330, json!({})),
        (
            "recording_completed",
            332,
            json!({"recording_id": format!("{engagement_id}-rec"),
            "recording_start_time_ms": at(10).to_iso(),
            "recording_end_time_ms": at(301).to_iso(), "recording_duration": 291}),
        ),
        (
            "cx_engagement_end_data_ready",
            350,
            json!({"start_time": start.to_iso()}),
        ),
    ]
    .into_iter()
    .map(|(event, s, extra)| {
        let body = crate::published::shaped(event, engagement_id, at(s), values(extra));
        (true, body)
    })
    .collect();
    let accepted = flow_post(
        "engagement_accepted",
        engagement_id,
        Some(at(9)),
        json!({"variables": {"order_id": "A-1001"}}),
    );
    events.insert(5, (false, accepted));
    events
}
