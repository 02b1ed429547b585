//! `zcc get`, `zcc list` and `zcc agent`: read the table as the customer's systems do.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value, json};
use zcc_shared::store::attributes::from_item;
use zcc_shared::store::table::{
    AGENT_INDEX, DAY_INDEX, INDEX_SORT, QUEUE_INDEX, agent_pk, engagement_pk,
};

use super::{CliError, is_loopback, table};

/// A client for `endpoint` (the local stack needs no credentials) or for AWS by the
/// standard chain.
pub async fn client(endpoint: Option<&str>) -> Client {
    match endpoint {
        Some(e) if is_loopback(e) => zcc_shared::local::client_for(e),
        Some(e) => {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(e)
                .load()
                .await;
            Client::new(&config)
        }
        None => zcc_shared::dynamodb_client().await,
    }
}

fn dynamo<E: std::fmt::Debug + aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    err: aws_sdk_dynamodb::error::SdkError<E>,
) -> CliError {
    let detail = match &err {
        aws_sdk_dynamodb::error::SdkError::ServiceError(s) => format!(
            "{}: {}",
            s.err().code().unwrap_or("error"),
            s.err().message().unwrap_or("")
        ),
        aws_sdk_dynamodb::error::SdkError::DispatchFailure(_) => {
            "could not connect (is `zcc local` running, or are AWS credentials set?)".into()
        }
        other => format!("{other:?}").chars().take(300).collect(),
    };
    CliError::Dynamo(detail)
}

async fn state(
    client: &Client,
    table_name: &str,
    pk: String,
) -> Result<Option<Map<String, Value>>, CliError> {
    let output = client
        .get_item()
        .table_name(table_name)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .map_err(dynamo)?;
    Ok(output.item.as_ref().map(from_item))
}

/// The engagement's state and its timeline of raw events (bodies left out).
pub async fn engagement(client: &Client, table_name: &str, id: &str) -> Result<Value, CliError> {
    let state = state(client, table_name, engagement_pk(id))
        .await?
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no engagement `{id}` in table {table_name} (if its events are stored but its \
                 state item is gone, `zcc rebuild {id}` derives it again)"
            ))
        })?;
    let mut timeline = Vec::new();
    let mut pages = client
        .query()
        .table_name(table_name)
        .key_condition_expression("pk = :pk AND begins_with(sk, :events)")
        .expression_attribute_values(":pk", AttributeValue::S(engagement_pk(id)))
        .expression_attribute_values(":events", AttributeValue::S("EVENT#".into()))
        .projection_expression("occurred_at, received_at, #e, #s, event_id, merge_error")
        .expression_attribute_names("#e", "event")
        .expression_attribute_names("#s", "source")
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        timeline.push(Value::Object(from_item(&item.map_err(dynamo)?)));
    }
    Ok(json!({"state": state, "timeline": timeline}))
}

pub async fn agent(client: &Client, table_name: &str, id: &str) -> Result<Value, CliError> {
    let state = state(client, table_name, agent_pk(id))
        .await?
        .ok_or_else(|| CliError::Usage(format!("no agent `{id}` in table {table_name}")))?;
    Ok(Value::Object(state))
}

/// Which index question to ask.
pub enum Listing {
    Agent(String),
    Queue(String),
    Day(String),
}

pub async fn list(
    client: &Client,
    table_name: &str,
    listing: &Listing,
    from: Option<&str>,
    to: Option<&str>,
    limit: usize,
) -> Result<Vec<Value>, CliError> {
    let (index, attribute, value) = match listing {
        Listing::Agent(v) => (AGENT_INDEX, "agent_user_id", v),
        Listing::Queue(v) => (QUEUE_INDEX, "queue_id", v),
        Listing::Day(v) => (DAY_INDEX, "day", v),
    };
    let mut condition = "#k = :k".to_owned();
    let mut query = client
        .query()
        .table_name(table_name)
        .index_name(index)
        .expression_attribute_names("#k", attribute)
        .expression_attribute_values(":k", AttributeValue::S(value.clone()));
    match (from, to) {
        (Some(f), Some(t)) => {
            condition.push_str(&format!(" AND {INDEX_SORT} BETWEEN :from AND :to"));
            query = query
                .expression_attribute_values(":from", AttributeValue::S(f.into()))
                .expression_attribute_values(":to", AttributeValue::S(t.into()));
        }
        (Some(f), None) => {
            condition.push_str(&format!(" AND {INDEX_SORT} >= :from"));
            query = query.expression_attribute_values(":from", AttributeValue::S(f.into()));
        }
        (None, Some(t)) => {
            condition.push_str(&format!(" AND {INDEX_SORT} <= :to"));
            query = query.expression_attribute_values(":to", AttributeValue::S(t.into()));
        }
        (None, None) => {}
    }
    let mut pages = query
        .key_condition_expression(condition)
        .into_paginator()
        .items()
        .send();
    let mut out = Vec::new();
    while let Some(item) = pages.next().await {
        out.push(Value::Object(from_item(&item.map_err(dynamo)?)));
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

fn text(v: &Value, field: &str) -> String {
    match v.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

fn seconds(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_f64)
        .map(|ms| format!("{:.1} s", ms / 1000.0))
        .unwrap_or_else(|| "-".into())
}

/// The engagement as a person reads it.
pub fn render_engagement(found: &Value) -> String {
    let s = &found["state"];
    let who = |id: &str, name: &str| match (text(s, name).as_str(), text(s, id).as_str()) {
        ("-", "-") => "-".to_owned(),
        ("-", id) => id.to_owned(),
        (name, id) => format!("{name} ({id})"),
    };
    let rows = vec![
        vec!["engagement".into(), text(s, "engagement_id")],
        vec!["status".into(), text(s, "status")],
        vec![
            "channel".into(),
            format!("{} {}", text(s, "channel"), text(s, "direction")),
        ],
        vec!["queue".into(), who("queue_id", "queue_name")],
        vec![
            "agent".into(),
            format!(
                "{} {}",
                who("agent_user_id", "agent_display_name"),
                text(s, "agent_email")
            ),
        ],
        vec!["consumer".into(), text(s, "consumer_number")],
        vec!["started".into(), text(s, "started_at")],
        vec!["answered".into(), text(s, "answered_at")],
        vec!["ended".into(), text(s, "ended_at")],
        vec!["time to answer".into(), seconds(s, "time_to_answer_ms")],
        vec!["talk".into(), seconds(s, "talk_ms")],
        vec![
            "holds".into(),
            format!(
                "{} ({})",
                text(s, "hold_count"),
                seconds(s, "total_hold_ms")
            ),
        ],
        vec!["mutes".into(), text(s, "mute_count")],
        vec!["transfers".into(), text(s, "transfer_count")],
        vec!["disposition".into(), text(s, "disposition_name")],
        vec![
            "sources".into(),
            s.get("sources").map(|v| v.to_string()).unwrap_or_default(),
        ],
        vec!["events".into(), text(s, "event_count")],
    ];
    let mut out = table(&["FIELD", "VALUE"], &rows);
    if let Some(notes) = s.get("notes").and_then(Value::as_object) {
        out.push_str("\nnotes\n");
        for (id, note) in notes {
            out.push_str(&format!("  {id}: {}\n", text(note, "note")));
        }
    }
    let timeline: Vec<Vec<String>> = found["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut event = text(e, "event");
            if e.get("merge_error").is_some() {
                event.push_str("  (kept raw, not merged: merge_error)");
            }
            vec![text(e, "occurred_at"), text(e, "source"), event]
        })
        .collect();
    out.push_str("\ntimeline\n");
    out.push_str(&table(&["OCCURRED_AT", "SOURCE", "EVENT"], &timeline));
    if found["timeline"]
        .as_array()
        .is_some_and(|t| t.iter().any(|e| e.get("merge_error").is_some()))
    {
        out.push_str(
            "\nSome events are not in the state: once their cause is dealt with, \
             `zcc rebuild <engagement id>` merges them.\n",
        );
    }
    out
}

pub fn render_list(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                text(i, "first_event_at"),
                text(i, "engagement_id"),
                text(i, "status"),
                text(i, "channel"),
                text(i, "queue_name"),
                text(i, "agent_display_name"),
                text(i, "disposition_name"),
            ]
        })
        .collect();
    table(
        &[
            "FIRST_EVENT_AT",
            "ENGAGEMENT",
            "STATUS",
            "CHANNEL",
            "QUEUE",
            "AGENT",
            "DISPOSITION",
        ],
        &rows,
    )
}

pub fn render_agent(a: &Value) -> String {
    let queues = a
        .get("queues")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "[]".into());
    let rows = vec![
        vec![
            "agent".into(),
            format!("{} ({})", text(a, "display_name"), text(a, "user_id")),
        ],
        vec!["email".into(), text(a, "email")],
        vec![
            "logged in".into(),
            format!(
                "{} since {}",
                text(a, "logged_in"),
                text(a, "logged_in_since")
            ),
        ],
        vec![
            "status".into(),
            format!(
                "{} / {} since {}",
                text(a, "status"),
                text(a, "sub_status"),
                text(a, "status_since")
            ),
        ],
        vec!["queues".into(), queues],
        vec![
            "last event".into(),
            format!("{} at {}", text(a, "last_event"), text(a, "last_event_at")),
        ],
    ];
    table(&["FIELD", "VALUE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_kept_raw_are_marked_with_what_to_do() {
        let found = json!({
            "state": {"engagement_id": "e1", "status": "started", "event_count": 1},
            "timeline": [
                {"occurred_at": "2026-12-01T09:00:00.000Z", "source": "webhook",
                 "event": "contact_center.engagement_started"},
                {"occurred_at": "2026-12-01T09:00:09.000Z", "source": "flow",
                 "event": "engagement_accepted", "merge_error": "Item size has exceeded the maximum allowed size"},
            ],
        });
        let shown = render_engagement(&found);
        assert!(shown.contains("engagement_accepted  (kept raw, not merged: merge_error)"));
        assert!(!shown.contains("engagement_started  (kept raw"));
        assert!(shown.contains("zcc rebuild"));
        let clean = json!({"state": found["state"], "timeline": [found["timeline"][0]]});
        assert!(!render_engagement(&clean).contains("zcc rebuild"));
    }
}
