//! Built-in examples for `zcc send --example NAME`: one of each event the model interprets,
//! in the shape Zoom (or our Flow scripts) send it.

use serde_json::{Value, json};
use zcc_domain::samples::{agent_webhook, engagement_webhook, flow_post, url_validation};
use zcc_domain::timestamp::Timestamp;

impl Target {
    /// The function that receives it.
    pub fn function(self) -> &'static str {
        match self {
            Self::Webhook => zoom_webhook::FUNCTION,
            Self::Flow => flow_events::FUNCTION,
        }
    }
}

/// Who receives an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Signed with the webhook secret, for the zoom-webhook (or url-validation) URL.
    Webhook,
    /// With the bearer token, for the flow-events URL.
    Flow,
}

pub struct Example {
    pub name: &'static str,
    pub target: Target,
}

const AGENT: (&str, &str) = ("IGTRVt3gQ2i-WjoUIjeZxw", "Ana Agent");

macro_rules! webhook {
    ($($name:literal),* $(,)?) => { [$(Example { name: $name, target: Target::Webhook }),*] };
}

pub const ENGAGEMENT_EVENTS: [Example; 29] = webhook![
    "engagement_started",
    "engagement_consumer_notified",
    "engagement_consumer_answered",
    "engagement_user_answered",
    "engagement_user_hold",
    "engagement_user_unhold",
    "engagement_user_muted",
    "engagement_user_unmuted",
    "engagement_user_dtmf_sent",
    "engagement_note_added",
    "engagement_transfer_initiated",
    "engagement_transfer_accepted",
    "engagement_transfer_completed",
    "engagement_transfer_canceled",
    "engagement_conference_started",
    "engagement_conference_participant_joined",
    "engagement_conference_ended",
    "engagement_monitor_started",
    "engagement_monitor_ended",
    "engagement_takeover_started",
    "engagement_wrap_up_started",
    "engagement_disposition_added",
    "engagement_wrap_up_ended",
    "engagement_user_ended",
    "engagement_consumer_ended",
    "engagement_ended",
    "engagement_transfer_rejected",
    "engagement_transfer_timeout",
    "engagement_survey_status",
];

pub const AGENT_EVENTS: [Example; 5] = webhook![
    "user_login",
    "user_status_changed",
    "user_opt_in",
    "user_opt_out",
    "user_logout"
];

pub const OTHER: [Example; 3] = [
    Example {
        name: "url_validation",
        target: Target::Webhook,
    },
    Example {
        name: "engagement_accepted",
        target: Target::Flow,
    },
    Example {
        name: "disposition_saved",
        target: Target::Flow,
    },
];

pub fn all() -> impl Iterator<Item = &'static Example> {
    ENGAGEMENT_EVENTS.iter().chain(&AGENT_EVENTS).chain(&OTHER)
}

pub fn find(name: &str) -> Option<&'static Example> {
    let name = name.strip_prefix("contact_center.").unwrap_or(name);
    all().find(|e| e.name == name)
}

/// The body of an example for one engagement (or the example agent), at `at`.
pub fn body(example: &Example, engagement_id: &str, at: Timestamp) -> Value {
    let agent = json!({"user_id": AGENT.0, "user_display_name": AGENT.1,
        "cc_queue_id": "q-sales", "queue_name": "Sales"});
    let extra = match example.name {
        "url_validation" => return url_validation("zcc-send-plain-token", at),
        "engagement_accepted" => {
            return flow_post(
                example.name,
                engagement_id,
                Some(at),
                json!({"variables": {"order_id": "A-1001"}}),
            );
        }
        "disposition_saved" => {
            return flow_post(
                example.name,
                engagement_id,
                Some(at),
                json!({"disposition": "Refund issued"}),
            );
        }
        "user_login" | "user_logout" => return agent_webhook(example.name, AGENT.0, at, json!({})),
        "user_status_changed" => {
            return agent_webhook(
                example.name,
                AGENT.0,
                at,
                json!({
                "previous_status_name": "Ready", "current_status_id": "2", "current_status_name": "Not Ready",
                "current_sub_status_id": "21", "current_sub_status_name": "Break"}),
            );
        }
        "user_opt_in" | "user_opt_out" => {
            return agent_webhook(
                example.name,
                AGENT.0,
                at,
                json!({"cc_queue_id": "q-sales", "queue_name": "Sales"}),
            );
        }
        "engagement_started"
        | "engagement_ended"
        | "engagement_consumer_notified"
        | "engagement_consumer_answered"
        | "engagement_consumer_ended" => json!({}),
        "engagement_user_dtmf_sent" => merge(agent, json!({"dtmf_input": "1"})),
        "engagement_note_added" => merge(
            agent,
            json!({"note_id": "note-1",
            "note": "Customer asked for a refund", "last_modified_time": at.to_iso()}),
        ),
        "engagement_disposition_added" => merge(
            agent,
            json!({"disposition_id": "disp-1",
            "disposition_name": "Refund issued", "status": "active"}),
        ),
        "engagement_transfer_initiated"
        | "engagement_transfer_accepted"
        | "engagement_transfer_completed"
        | "engagement_transfer_canceled"
        | "engagement_transfer_rejected"
        | "engagement_transfer_timeout" => merge(
            agent,
            json!({
            "transfer_type": "warm", "transfer_level": "queue", "transfer_to_queue_id": "q-billing",
            "transfer_to_queue_name": "Billing", "transfer_to_user_id": "pQ2dnD1VTGmLfEhb6HYN2w",
            "transfer_to_user_display_name": "Bo Agent"}),
        ),
        "engagement_conference_participant_joined" => merge(
            agent,
            json!({"participant_user_id": "pQ2dnD1VTGmLfEhb6HYN2w"}),
        ),
        _ => agent,
    };
    engagement_webhook(example.name, engagement_id, at, extra)
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}
