//! Built-in examples for `zcc send --example NAME`: one of each event the model interprets,
//! in the shape Zoom (or our Flow scripts) send it.

use serde_json::{Value, json};
use zcc_domain::published;
use zcc_domain::samples::{engagement_webhook, flow_post, url_validation};
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

#[derive(Debug)]
pub struct Example {
    pub name: &'static str,
    pub target: Target,
}

macro_rules! webhook {
    ($($name:literal),* $(,)?) => { [$(Example { name: $name, target: Target::Webhook }),*] };
}

pub const ENGAGEMENT_EVENTS: [Example; 27] = webhook![
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
    "engagement_conference_participant_joined",
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

/// The agent and queue of the presence examples.
const EXAMPLE_AGENT: [(&str, &str); 5] = [
    ("user_id", "IGTRVt3gQ2i-WjoUIjeZxw"),
    ("display_name", "Ana Agent"),
    ("user_email", "ana@example.com"),
    ("cc_queue_id", "q-sales"),
    ("queue_name", "Sales"),
];

/// The body of an example for one engagement (or the example agent), at `at`: the field set
/// Zoom publishes for the event, where there is one.
pub fn body(example: &Example, engagement_id: &str, at: Timestamp) -> Value {
    if example.target == Target::Webhook
        && let Some(mut body) = published::body(example.name, engagement_id, at)
    {
        // Presence examples are all about one agent, in one queue, so that `zcc agent` shows
        // what they did; only values change, never the field set.
        if let Some(object) = body
            .pointer_mut("/payload/object")
            .and_then(Value::as_object_mut)
            .filter(|_| example.name.starts_with("user_"))
        {
            for (field, value) in EXAMPLE_AGENT {
                if let Some(slot) = object.get_mut(field) {
                    *slot = Value::from(value);
                }
            }
        }
        return body;
    }
    guessed_body(example, engagement_id, at)
}

/// Bodies for the examples that have no published shape: the challenge and the Flow POSTs,
/// which are ours.
fn guessed_body(example: &Example, engagement_id: &str, at: Timestamp) -> Value {
    match example.name {
        "url_validation" => url_validation("zcc-send-plain-token", at),
        "engagement_accepted" => flow_post(
            example.name,
            engagement_id,
            Some(at),
            json!({"variables": {"order_id": "A-1001"}}),
        ),
        "disposition_saved" => flow_post(
            example.name,
            engagement_id,
            Some(at),
            json!({"disposition": "Refund issued"}),
        ),
        // Every webhook example has a published shape (a test says so): this is unreachable
        // unless one is added without its fixture.
        other => engagement_webhook(other, engagement_id, at, json!({})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_webhook_example_is_a_published_shape() {
        for example in all().filter(|e| e.target == Target::Webhook) {
            if example.name == "url_validation" {
                continue;
            }
            assert!(
                published::find(example.name).is_some(),
                "{} has no fixture in shared/fixtures/zoom",
                example.name
            );
        }
    }
}
