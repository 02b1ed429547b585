//! One authentic event, normalised for the store: who it is about, when it happened, its
//! stable id, and the exact body that was received.

use serde_json::{Map, Value};

use crate::flow::{AuthorizedFlowPost, FlowEvent, FlowPost, FlowPostError};
use crate::ids::{EngagementId, EventId, UserId};
use crate::signature::{FetchedWebhook, VerifiedWebhook};
use crate::timestamp::Timestamp;
use crate::zoom::{Envelope, EnvelopeError, ZoomApiEngagement, ZoomEvent, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Webhook,
    Flow,
    /// Facts fetched from Zoom's REST API by `zcc reconcile` (a backfill).
    ZoomApi,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Flow => "flow",
            Self::ZoomApi => "zoom_api",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "webhook" => Some(Self::Webhook),
            "flow" => Some(Self::Flow),
            "zoom_api" => Some(Self::ZoomApi),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Zoom(ZoomEvent),
    Flow(FlowEvent),
    /// Zoom's REST API facts of a finished engagement ([`ZoomApiEngagement`]).
    ZoomApi,
}

/// The item an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Engagement(EngagementId),
    Agent(UserId),
    /// Authentic but about neither (other products, events without ids): stored raw by day.
    Unrouted,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("the body is not valid JSON")]
    NotJson,
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
    #[error("{0}")]
    Flow(#[from] FlowPostError),
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson => "malformed_json",
            Self::Envelope(EnvelopeError::NotAnObject) => "malformed_body",
            Self::Envelope(EnvelopeError::MissingEvent) => "missing_event",
            Self::Flow(e) => e.code(),
        }
    }
}

/// An event whose origin was proven. Built only from a [`VerifiedWebhook`] or an
/// [`AuthorizedFlowPost`], so unverified bodies cannot reach the store.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticEvent {
    source: Source,
    name: String,
    kind: EventKind,
    subject: Subject,
    account_id: Option<String>,
    occurred_at: Timestamp,
    /// False when the body carried no time and `occurred_at` is when we received it; such
    /// an event's key is not stable across retries, so the state remembers its id.
    timed: bool,
    received_at: Timestamp,
    event_id: EventId,
    body: String,
    fields: Map<String, Value>,
}

/// The name of a [`Source::ZoomApi`] event.
pub const ZOOM_API_EVENT: &str = "zoom_api.engagement";

/// The fields that say when a webhook's event happened, best first.
const CONTENT_TIMES: [&str; 5] = [
    "date_time_ms",
    "date_time",
    "last_modified_time_ms",
    "created_time_ms",
    "recording_end_time_ms",
];

fn parse_json(body: &[u8]) -> Result<(String, Value), EventError> {
    let text = std::str::from_utf8(body).map_err(|_| EventError::NotJson)?;
    let value = serde_json::from_str(text).map_err(|_| EventError::NotJson)?;
    Ok((text.to_owned(), value))
}

impl AuthenticEvent {
    pub fn from_webhook(
        webhook: &VerifiedWebhook,
        received_at: Timestamp,
    ) -> Result<Self, EventError> {
        Self::webhook_body(webhook.body(), received_at)
    }

    /// A webhook body Zoom's API handed back (a failed delivery in the app's webhook logs):
    /// parsed exactly as a live webhook's body is after its signature check, so its event id
    /// is the one the live delivery had, and a body that did arrive is a duplicate.
    pub fn from_fetched_webhook(
        webhook: &FetchedWebhook,
        received_at: Timestamp,
    ) -> Result<Self, EventError> {
        Self::webhook_body(webhook.body(), received_at)
    }

    /// The facts Zoom's REST API gave of one finished engagement, as an event of the
    /// engagement: its body is the facts' JSON, its id a hash of them (the same facts are the
    /// same event), its time when they were final (the end, else the start, else `received_at`).
    pub fn from_zoom_api(facts: &ZoomApiEngagement, received_at: Timestamp) -> Self {
        let value = serde_json::to_value(facts).expect("plain data serializes");
        let fields = value.as_object().cloned().unwrap_or_default();
        let content_time = facts.at();
        Self {
            source: Source::ZoomApi,
            name: ZOOM_API_EVENT.to_owned(),
            kind: EventKind::ZoomApi,
            subject: match crate::ids::EngagementId::parse(facts.engagement_id.clone()) {
                Ok(id) => Subject::Engagement(id),
                Err(_) => Subject::Unrouted,
            },
            account_id: facts.account_id.clone(),
            occurred_at: content_time.unwrap_or(received_at),
            timed: content_time.is_some(),
            received_at,
            event_id: EventId::of_json(Source::ZoomApi.as_str(), &value),
            body: value.to_string(),
            fields,
        }
    }

    /// The facts of a [`Source::ZoomApi`] event.
    pub fn zoom_api_facts(&self) -> Option<ZoomApiEngagement> {
        (self.kind == EventKind::ZoomApi)
            .then(|| serde_json::from_value(Value::Object(self.fields.clone())).ok())
            .flatten()
    }

    pub fn from_flow(
        post: &AuthorizedFlowPost,
        received_at: Timestamp,
    ) -> Result<Self, EventError> {
        Self::flow_body(post.body(), received_at)
    }

    /// An event read back from its own event item, which the store wrote only after the
    /// event was proven authentic: for rebuilding a state item from its events. Only the
    /// store's rebuild may call this; everything that arrives over HTTP goes through
    /// [`AuthenticEvent::from_webhook`] or [`AuthenticEvent::from_flow`].
    pub fn from_stored(
        source: Source,
        body: &str,
        received_at: Timestamp,
    ) -> Result<Self, EventError> {
        match source {
            Source::Webhook => Self::webhook_body(body.as_bytes(), received_at),
            Source::Flow => Self::flow_body(body.as_bytes(), received_at),
            Source::ZoomApi => {
                let facts: ZoomApiEngagement =
                    serde_json::from_str(body).map_err(|_| EventError::NotJson)?;
                Ok(Self::from_zoom_api(&facts, received_at))
            }
        }
    }

    fn webhook_body(body: &[u8], received_at: Timestamp) -> Result<Self, EventError> {
        let (body, value) = parse_json(body)?;
        let envelope = Envelope::from_value(&value)?;
        let zoom = ZoomEvent::from_name(&envelope.event);
        let engagement =
            text(&envelope.object, "engagement_id").and_then(|id| EngagementId::parse(id).ok());
        let user = text(&envelope.object, "user_id").and_then(|id| UserId::parse(id).ok());
        let subject = match (engagement, user) {
            (_, Some(user)) if zoom.is_agent_presence() => Subject::Agent(user),
            (Some(engagement), _) => Subject::Engagement(engagement),
            _ => Subject::Unrouted,
        };
        // date_time_ms is when it happened (ISO, despite its name); routing events have none,
        // and say when their task or offer last changed (or began); recordings when they
        // ended. event_ts is when Zoom sent it: the last resort.
        let content_time = CONTENT_TIMES
            .iter()
            .filter_map(|f| text(&envelope.object, f))
            .find_map(|t| Timestamp::parse(&t).ok())
            .or(envelope
                .event_ts
                .and_then(Timestamp::checked_from_unix_millis));
        Ok(Self {
            source: Source::Webhook,
            name: envelope.event,
            kind: EventKind::Zoom(zoom),
            subject,
            account_id: envelope.account_id,
            occurred_at: content_time.unwrap_or(received_at),
            timed: content_time.is_some(),
            received_at,
            event_id: EventId::of_json(Source::Webhook.as_str(), &value),
            body,
            fields: envelope.object,
        })
    }

    fn flow_body(body: &[u8], received_at: Timestamp) -> Result<Self, EventError> {
        let (body, value) = parse_json(body)?;
        let flow = FlowPost::from_value(&value)?;
        let content_time = flow
            .occurred_at
            .as_deref()
            .and_then(|t| Timestamp::parse(t).ok());
        Ok(Self {
            source: Source::Flow,
            kind: EventKind::Flow(FlowEvent::from_name(&flow.event)),
            name: flow.event,
            subject: Subject::Engagement(flow.engagement_id),
            account_id: None,
            occurred_at: content_time.unwrap_or(received_at),
            timed: content_time.is_some(),
            received_at,
            event_id: EventId::of_json(Source::Flow.as_str(), &value),
            body,
            fields: flow.fields,
        })
    }

    pub fn source(&self) -> Source {
        self.source
    }
    /// The event name as sent, e.g. `contact_center.engagement_started` or `engagement_accepted`.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn kind(&self) -> EventKind {
        self.kind
    }
    pub fn subject(&self) -> &Subject {
        &self.subject
    }
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }
    pub fn occurred_at(&self) -> Timestamp {
        self.occurred_at
    }
    pub fn is_timed(&self) -> bool {
        self.timed
    }
    pub fn received_at(&self) -> Timestamp {
        self.received_at
    }
    pub fn event_id(&self) -> &EventId {
        &self.event_id
    }
    /// The exact body received.
    pub fn body(&self) -> &str {
        &self.body
    }
    /// `payload.object` of a webhook, the whole body of a Flow POST.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }
    pub fn field(&self, name: &str) -> Option<String> {
        text(&self.fields, name)
    }

    /// A total order over events: time first, then id, so ties break the same everywhere.
    /// 48 bits of the id are plenty to order the events of one millisecond, and keep the
    /// state item (which holds a stamp per last-writer-wins field) small.
    pub fn stamp(&self) -> String {
        format!("{}#{}", self.occurred_at.to_iso(), self.event_id.short())
    }
}

/// Authentic events for tests and benchmarks, made the only way there is: the body is signed
/// (or given a bearer token) with a fixed test secret, then verified. Not in shipped builds:
/// only the `testing` feature, which no binary enables, compiles it outside unit tests.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use super::*;
    use crate::flow::FlowAuthorizer;
    use crate::signature::{SecretToken, SecretTokens, SignatureVerifier, sign};

    /// The secret the builders sign with.
    pub const SECRET: &str = "zcc-test-secret";

    /// A webhook body as received now.
    pub fn webhook(body: &str) -> AuthenticEvent {
        let now = Timestamp::now();
        let token = SecretToken::new(SECRET).expect("non-empty");
        let verified =
            SignatureVerifier::new(SecretTokens::from_list(SECRET).expect("one token"), 300)
                .verify(
                    Some(&now.unix_seconds().to_string()),
                    Some(&sign(&token, now.unix_seconds(), body.as_bytes())),
                    body.as_bytes(),
                    now,
                )
                .expect("signed just now");
        AuthenticEvent::from_webhook(&verified, now).expect("a webhook envelope")
    }

    /// A Flow body as received now.
    pub fn flow(body: &str) -> AuthenticEvent {
        let post = FlowAuthorizer::new(&SecretTokens::from_list(SECRET).expect("one token"))
            .authorize(Some(&format!("Bearer {SECRET}")), body.as_bytes())
            .expect("the right token");
        AuthenticEvent::from_flow(&post, Timestamp::now()).expect("a Flow body")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn webhook_routes_by_engagement_and_keeps_body() {
        let body = r#"{"event":"contact_center.engagement_started","event_ts":1683000000000,"payload":{"account_id":"acc","object":{"engagement_id":"e1","date_time_ms":"2023-05-01T09:27:15.987Z","channel":"voice"}}}"#;
        let e = webhook(body);
        assert_eq!(
            e.subject(),
            &Subject::Engagement(EngagementId::parse("e1").unwrap())
        );
        assert_eq!(e.occurred_at().to_iso(), "2023-05-01T09:27:15.987Z");
        assert!(e.is_timed());
        assert_eq!(e.body(), body);
        assert_eq!(e.account_id(), Some("acc"));
        assert_eq!(e.kind(), EventKind::Zoom(ZoomEvent::EngagementStarted));
    }

    #[test]
    fn presence_routes_to_the_agent_and_strangers_are_unrouted() {
        let e = webhook(
            r#"{"event":"contact_center.user_login","event_ts":1,"payload":{"object":{"user_id":"u1","date_time":"2023-05-01T09:00:00Z"}}}"#,
        );
        assert_eq!(e.subject(), &Subject::Agent(UserId::parse("u1").unwrap()));
        let other = webhook(r#"{"event":"meeting.started","event_ts":1700000000123,"payload":{}}"#);
        assert_eq!(other.subject(), &Subject::Unrouted);
        assert_eq!(other.occurred_at().unix_millis(), 1700000000123);
    }

    #[test]
    fn the_same_event_reserialised_has_the_same_id() {
        let a = webhook(
            r#"{"event":"contact_center.engagement_ended","event_ts":5,"payload":{"object":{"engagement_id":"e1"}}}"#,
        );
        let b = webhook(
            "{\"payload\": {\"object\": {\"engagement_id\": \"e1\"}},\n  \"event_ts\": 5, \"event\": \"contact_center.engagement_ended\"}",
        );
        assert_eq!(a.event_id(), b.event_id());
        assert_ne!(a.body(), b.body());
    }

    /// Found by fuzzing: an `event_ts` outside years 0000 to 9999 became the event's time,
    /// which the record then held as ISO text that does not read back (`-6948-06-21T...`), or
    /// as 1970 (year 10000 and later): the record could no longer be decoded, or was wrong.
    #[test]
    fn an_event_ts_no_iso_text_can_hold_is_no_time() {
        for ms in [
            -219_273_955_614_101_i64,
            253_402_300_800_000,
            i64::MIN,
            i64::MAX,
        ] {
            let e = webhook(&format!(
                r#"{{"event":"contact_center.engagement_started","event_ts":{ms},"payload":{{"object":{{"engagement_id":"e1"}}}}}}"#
            ));
            assert!(!e.is_timed(), "{ms}");
            assert_eq!(e.occurred_at(), e.received_at());
            let mut state = crate::engagement::EngagementState::new("e1");
            state.apply(&e);
            let json = serde_json::to_value(&state).unwrap();
            let back: crate::engagement::EngagementState =
                serde_json::from_value(json).expect("the record reads back");
            assert_eq!(back, state);
        }
        let at_the_edge = webhook(
            r#"{"event":"contact_center.engagement_started","event_ts":253402300799999,"payload":{}}"#,
        );
        assert_eq!(
            at_the_edge.occurred_at().to_iso(),
            "9999-12-31T23:59:59.999Z"
        );
    }

    /// Found by fuzzing: without serde_json's `float_roundtrip`, a number such as
    /// 115501550000000179108 parsed 1 ULP off, printed, and parsed to another value: the same
    /// content re-serialized got another id (and would be merged twice).
    #[test]
    fn the_same_event_with_long_numbers_reserialised_has_the_same_id() {
        for number in ["115501550000000179108", "4.444444444444445e+85"] {
            let a = webhook(&format!(
                r#"{{"event":"contact_center.engagement_ended","event_ts":5,"payload":{{"object":{{"engagement_id":"e1","n":{number}}}}}}}"#
            ));
            let value: Value = serde_json::from_str(a.body()).unwrap();
            let b = webhook(&value.to_string());
            assert_eq!(a.event_id(), b.event_id(), "{number}");
        }
    }

    #[test]
    fn flow_without_a_time_is_untimed() {
        let e = flow(r#"{"event":"engagement_accepted","engagement_id":"e1"}"#);
        assert!(!e.is_timed());
        assert_eq!(e.occurred_at(), e.received_at());
        let timed = flow(
            r#"{"event":"disposition_saved","engagement_id":"e1","occurred_at":"2023-05-01T09:30:00Z"}"#,
        );
        assert!(timed.is_timed());
        assert_eq!(timed.kind(), EventKind::Flow(FlowEvent::DispositionSaved));
    }
}
