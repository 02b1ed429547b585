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

/// A realistic call of a dozen events, in the order they happen: eleven webhooks and the
/// Flow "Engagement Accepted" POST (`(false, body)`). For the capacity example and the benchmark.
pub fn realistic_call(engagement_id: &str, start: Timestamp) -> Vec<(bool, Value)> {
    let at = |s: i64| start.saturating_add_millis(s * 1000);
    let agent = json!({"user_id": "IGTRVt3gQ2i-WjoUIjeZxw", "user_display_name": "Ana Agent",
        "cc_queue_id": "q-sales", "queue_name": "Sales"});
    let mut events: Vec<(bool, Value)> = [
        ("engagement_started", 0, json!({})),
        ("engagement_user_answered", 8, agent.clone()),
        ("engagement_user_hold", 60, agent.clone()),
        ("engagement_user_unhold", 95, agent.clone()),
        ("engagement_user_muted", 120, agent.clone()),
        ("engagement_user_unmuted", 130, agent.clone()),
        (
            "engagement_note_added",
            200,
            json!({"note_id": "n1", "note": "Wants a refund for order A-1001"}),
        ),
        ("engagement_wrap_up_started", 300, agent.clone()),
        (
            "engagement_disposition_added",
            310,
            json!({"disposition_id": "d1", "disposition_name": "Refund issued"}),
        ),
        ("engagement_wrap_up_ended", 330, agent),
        ("engagement_ended", 331, json!({})),
    ]
    .into_iter()
    .map(|(event, s, extra)| (true, engagement_webhook(event, engagement_id, at(s), extra)))
    .collect();
    let accepted = flow_post(
        "engagement_accepted",
        engagement_id,
        Some(at(9)),
        json!({"variables": {"order_id": "A-1001"}}),
    );
    events.insert(2, (false, accepted));
    events
}
