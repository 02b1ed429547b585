//! What Zoom's Marketplace webhooks send (Zoom's published webhook reference): the envelope and the contact-center
//! event names. Unknown events and unknown fields are kept, never refused.

use serde_json::{Map, Value};

pub const CONTACT_CENTER_PREFIX: &str = "contact_center.";

/// The contact-center events the state model understands. Everything else is `Other` and is
/// still stored raw and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoomEvent {
    EngagementStarted,
    EngagementEnded,
    ConsumerNotified,
    ConsumerAnswered,
    ConsumerEnded,
    UserAnswered,
    UserEnded,
    UserHold,
    UserUnhold,
    UserMuted,
    UserUnmuted,
    UserDtmfSent,
    WrapUpStarted,
    WrapUpEnded,
    NoteAdded,
    DispositionAdded,
    TransferInitiated,
    TransferQueued,
    TransferReserved,
    TransferAccepted,
    TransferRejected,
    TransferTimeout,
    TransferCanceled,
    TransferCompleted,
    MonitorStarted,
    MonitorEnded,
    TakeoverStarted,
    TaskEnteredQueue,
    TaskExitedQueue,
    ReservationCreated,
    ReservationAccepted,
    ReservationRejected,
    ReservationTimeout,
    ReservationCanceled,
    ReservationCompleted,
    UserSentMessage,
    ConsumerSentMessage,
    UserSentFile,
    ConsumerSentFile,
    UpgradeInitiated,
    UpgradeCompleted,
    UpgradeExpired,
    SurveyStatus,
    RecordingStarted,
    RecordingPaused,
    RecordingResumed,
    RecordingStopped,
    RecordingCompleted,
    /// A transcript is ready: of a recording, a messaging or email engagement, a voicemail.
    TranscriptCompleted,
    EndDataReady,
    UserLogin,
    UserLogout,
    UserStatusChanged,
    UserOptIn,
    UserOptOut,
    UserUpdated,
    QueueAgentAssigned,
    QueueAgentUnassigned,
    Other,
}

impl ZoomEvent {
    /// Maps `contact_center.<name>`; anything else (other products, misspellings) is `Other`.
    pub fn from_name(event: &str) -> Self {
        let Some(name) = event.strip_prefix(CONTACT_CENTER_PREFIX) else {
            return Self::Other;
        };
        match name {
            "engagement_started" => Self::EngagementStarted,
            "engagement_ended" => Self::EngagementEnded,
            "engagement_consumer_notified" => Self::ConsumerNotified,
            "engagement_consumer_answered" => Self::ConsumerAnswered,
            "engagement_consumer_ended" => Self::ConsumerEnded,
            "engagement_user_answered" => Self::UserAnswered,
            "engagement_user_ended" => Self::UserEnded,
            "engagement_user_hold" => Self::UserHold,
            "engagement_user_unhold" => Self::UserUnhold,
            "engagement_user_muted" => Self::UserMuted,
            "engagement_user_unmuted" => Self::UserUnmuted,
            "engagement_user_dtmf_sent" => Self::UserDtmfSent,
            "engagement_wrap_up_started" => Self::WrapUpStarted,
            "engagement_wrap_up_ended" => Self::WrapUpEnded,
            "engagement_note_added" => Self::NoteAdded,
            "engagement_disposition_added" => Self::DispositionAdded,
            "engagement_transfer_initiated" => Self::TransferInitiated,
            "engagement_transfer_queued" => Self::TransferQueued,
            "engagement_transfer_reserved" => Self::TransferReserved,
            "engagement_transfer_accepted" => Self::TransferAccepted,
            "engagement_transfer_rejected" => Self::TransferRejected,
            "engagement_transfer_timeout" => Self::TransferTimeout,
            "engagement_transfer_canceled" => Self::TransferCanceled,
            "engagement_transfer_completed" => Self::TransferCompleted,
            // Conference events are stored and counted, but none of their fields is read
            // until the record needs them: they are `Other`.
            "engagement_monitor_started" => Self::MonitorStarted,
            "engagement_monitor_ended" => Self::MonitorEnded,
            "engagement_takeover_started" => Self::TakeoverStarted,
            "task_entered_queue" => Self::TaskEnteredQueue,
            "task_exited_queue" => Self::TaskExitedQueue,
            "task_reservation_created" => Self::ReservationCreated,
            "task_reservation_accepted" => Self::ReservationAccepted,
            "task_reservation_rejected" => Self::ReservationRejected,
            "task_reservation_timeout" => Self::ReservationTimeout,
            "task_reservation_canceled" => Self::ReservationCanceled,
            "task_reservation_completed" => Self::ReservationCompleted,
            "engagement_user_sent_message" => Self::UserSentMessage,
            "engagement_consumer_sent_message" => Self::ConsumerSentMessage,
            "engagement_user_sent_file" => Self::UserSentFile,
            "engagement_consumer_sent_file" => Self::ConsumerSentFile,
            "engagement_upgrade_initiated" => Self::UpgradeInitiated,
            "engagement_upgrade_completed" => Self::UpgradeCompleted,
            "engagement_upgrade_expired" => Self::UpgradeExpired,
            "engagement_survey_status" => Self::SurveyStatus,
            "recording_started" => Self::RecordingStarted,
            "recording_paused" => Self::RecordingPaused,
            "recording_resumed" => Self::RecordingResumed,
            "recording_stopped" => Self::RecordingStopped,
            "recording_completed" => Self::RecordingCompleted,
            "recording_transcript_completed"
            | "engagement_messaging_transcript_completed"
            | "engagement_email_transcript_completed"
            | "voicemail_transcript_completed" => Self::TranscriptCompleted,
            "cx_engagement_end_data_ready" => Self::EndDataReady,
            "user_login" => Self::UserLogin,
            "user_logout" => Self::UserLogout,
            "user_status_changed" => Self::UserStatusChanged,
            "user_opt_in" => Self::UserOptIn,
            "user_opt_out" => Self::UserOptOut,
            "user_updated" => Self::UserUpdated,
            "queue_agent_assigned" => Self::QueueAgentAssigned,
            "queue_agent_unassigned" => Self::QueueAgentUnassigned,
            _ => Self::Other,
        }
    }

    /// Presence events describe an agent, not an engagement.
    pub fn is_agent_presence(self) -> bool {
        matches!(
            self,
            Self::UserLogin
                | Self::UserLogout
                | Self::UserStatusChanged
                | Self::UserOptIn
                | Self::UserOptOut
                | Self::UserUpdated
                | Self::QueueAgentAssigned
                | Self::QueueAgentUnassigned
        )
    }
}

/// The parts of Zoom's envelope `{"event", "event_ts", "payload": {"account_id", "object"}}`
/// that routing needs; the whole body is kept raw beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub event: String,
    pub event_ts: Option<i64>,
    pub account_id: Option<String>,
    pub object: Map<String, Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the body has no `event` string")]
    MissingEvent,
}

impl Envelope {
    pub fn from_value(value: &Value) -> Result<Self, EnvelopeError> {
        let root = value.as_object().ok_or(EnvelopeError::NotAnObject)?;
        let event = root
            .get("event")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .ok_or(EnvelopeError::MissingEvent)?
            .to_owned();
        let payload = root.get("payload").and_then(Value::as_object);
        Ok(Self {
            event,
            event_ts: root.get("event_ts").and_then(Value::as_i64),
            account_id: payload.and_then(|p| text(p, "account_id")),
            object: payload
                .and_then(|p| p.get("object"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// A field as text, whether Zoom sent it as a string or a number; blanks count as absent.
pub fn text(object: &Map<String, Value>, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What Zoom's REST API says of one finished engagement (`GET /contact_center/engagements`
/// and `GET /contact_center/engagements/{engagementId}`, Zoom's Contact Center spec), in the
/// record's terms: the facts a backfill writes for an engagement no webhook told us of, and
/// the figures a cross-check compares ours with. Times are whole seconds, durations seconds.
///
/// It is authentic by provenance: `zcc reconcile` fetched it from Zoom over TLS with the
/// account's own OAuth token. Its event id is a hash of these fields, so fetching the same
/// facts again is the same event (see [`crate::event::AuthenticEvent::from_zoom_api`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ZoomApiEngagement {
    pub engagement_id: String,
    /// The account whose credentials fetched it (the API's answer does not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<crate::timestamp::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<crate::timestamp::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_name: Option<String>,
    /// The last of `queues[]` (assumed to be in the order the engagement went through them:
    /// the spec does not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// The last of `agents[]` (the same assumption), and every agent listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_display_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handling_s: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrap_up_s: Option<i64>,
    /// Only the list carries it, not the detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_id: Option<String>,
}

impl ZoomApiEngagement {
    /// When the facts were final: the end, else the start.
    pub fn at(&self) -> Option<crate::timestamp::Timestamp> {
        self.end_time.or(self.start_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_and_guesses_do_not() {
        assert_eq!(
            ZoomEvent::from_name("contact_center.engagement_user_hold"),
            ZoomEvent::UserHold
        );
        assert_eq!(
            ZoomEvent::from_name("contact_center.user_opt_out"),
            ZoomEvent::UserOptOut
        );
        // Names seen as guesses in public code, which Zoom's event list does not have.
        for guess in [
            "contact_center.engagement_answered",
            "contact_center.engagement.ended",
            "engagement_started",
        ] {
            assert_eq!(ZoomEvent::from_name(guess), ZoomEvent::Other, "{guess}");
        }
    }

    #[test]
    fn envelope_keeps_object_and_tolerates_missing_parts() {
        let v: Value = serde_json::from_str(
            r#"{"payload":{"object":{"engagement_id":"e1","extra":{"x":1}},"account_id":"acc"},"event":"contact_center.engagement_started","event_ts":1}"#,
        )
        .unwrap();
        let e = Envelope::from_value(&v).unwrap();
        assert_eq!(e.event, "contact_center.engagement_started");
        assert_eq!(e.account_id.as_deref(), Some("acc"));
        assert_eq!(e.object["extra"]["x"], 1);
        let bare = Envelope::from_value(&serde_json::json!({"event":"x"})).unwrap();
        assert!(bare.object.is_empty());
        assert_eq!(
            Envelope::from_value(&serde_json::json!([1])),
            Err(EnvelopeError::NotAnObject)
        );
        assert_eq!(
            Envelope::from_value(&serde_json::json!({"event":""})),
            Err(EnvelopeError::MissingEvent)
        );
    }
}
