//! What the fuzz targets share: scenarios of events for one or a few records, built from
//! Zoom's published bodies (`zcc_domain::published::PUBLISHED`) and from Flow bodies, with
//! fields, names and times changed by the fuzzer's input, and the checks made on the records
//! merged from them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::event::{AuthenticEvent, Source, Subject};
use zcc_domain::merge::State;
use zcc_domain::published::{PUBLISHED, Published};
use zcc_domain::samples::flow_post;
use zcc_domain::timestamp::Timestamp;
use zcc_domain::zoom::ZoomEvent;

/// 2026-11-30T12:00:00Z, two hours before the fixtures' own times.
pub const START_MS: i64 = 1_796_040_000_000;
/// At most this many events per scenario: enough for a long engagement, few enough to stay fast.
pub const MAX_EVENTS: usize = 40;

/// Few ids, so that events of one scenario meet on the same records.
pub const ENGAGEMENTS: [&str; 3] = ["e1", "e2", "Qk9PTGVhbmdhZ2VtZW50MQ"];
pub const USERS: [&str; 3] = [
    "IGTRVt3gQ2i-WjoUIjeZxw",
    "u2Bo5xTransferTarget1",
    "supV1sorUserId000001",
];

/// The fields the envelope, the merge rules and the records read, and a few they don't.
pub const FIELDS: &[&str] = &[
    "engagement_id",
    "user_id",
    "date_time_ms",
    "date_time",
    "last_modified_time_ms",
    "created_time_ms",
    "recording_end_time_ms",
    "channel",
    "channel_source",
    "engagement_direction",
    "flow_id",
    "flow_name",
    "flow_number",
    "consumer_number",
    "consumer_id",
    "consumer_display_name",
    "cc_queue_id",
    "queue_name",
    "user_display_name",
    "display_name",
    "user_email",
    "disposition_id",
    "disposition_name",
    "task_reservation_id",
    "assigned_user_id",
    "files",
    "file_id",
    "file_name",
    "file_type",
    "file_size",
    "upgrade_to_channel",
    "upgrade_to_channel_source",
    "survey_status",
    "survey_id",
    "survey_trigger_from",
    "recording_id",
    "transcript_url",
    "monitoring_user_id",
    "monitoring_user_display_name",
    "action_type",
    "takeover_user_id",
    "takeover_user_display_name",
    "transfer_to_cc_queue_id",
    "transfer_to_queue_name",
    "transfer_to_user_id",
    "transfer_to_user_display_name",
    "task_id",
    "transfer_to_task_id",
    "transfer_type",
    "transfer_level",
    "note_id",
    "note",
    "last_modified_time",
    "current_status_name",
    "current_status_id",
    "current_sub_status_name",
    "current_sub_status_id",
    "updates",
    "status_name",
    "status_id",
    "sub_status_name",
    "sub_status_id",
    "event",
    "occurred_at",
    "caller_number",
    "agent_email",
    "disposition",
    "variables",
    "message_text",
    "",
];

/// Values, again few, so that they repeat across events.
pub const WORDS: &[&str] = &[
    "q-sales",
    "q-billing",
    "IGTRVt3gQ2i-WjoUIjeZxw",
    "u2Bo5xTransferTarget1",
    "task-1",
    "task-2",
    "n1",
    "r1",
    "voice",
    "video",
    "messaging",
    "completed",
    "warm",
    "barge",
    "rec-1",
    "Sales",
    "e1",
    "",
    " ",
    "a#b",
    "2026-11-30T14:00:09.000Z",
    "2026-11-30T14:00:09Z",
    "0000-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

/// An instant, as a time field or Zoom's `event_ts` would carry it.
#[derive(Arbitrary, Debug, Clone)]
pub enum When {
    /// Seconds and milliseconds after the scenario's start: a small range, so that events
    /// often share an instant.
    After { secs: u8, ms: u8 },
    /// Any millisecond at all (`event_ts` is any JSON integer).
    Millis(i64),
    /// Any day of years 0000 to 9999, and a time of it.
    Days { days: i32, millis: u32 },
    /// An ISO date-time with any UTC offset.
    Offset { secs: u16, minutes: i16 },
    /// Any text.
    Text(String),
}

impl When {
    pub fn millis(&self) -> Option<i64> {
        match self {
            Self::After { secs, ms } => Some(START_MS + i64::from(*secs) * 1000 + i64::from(*ms)),
            Self::Millis(ms) => Some(*ms),
            Self::Days { days, millis } => Some(
                START_MS
                    + i64::from(*days % 2_932_897) * 86_400_000
                    + i64::from(*millis % 86_400_000),
            ),
            _ => None,
        }
    }

    /// As an ISO text field.
    pub fn text(&self) -> Value {
        match self {
            Self::After { .. } => {
                Value::from(Timestamp::from_unix_millis(self.millis().unwrap_or(0)).to_iso())
            }
            Self::Millis(_) | Self::Days { .. } => {
                Value::from(Timestamp::from_unix_millis(self.millis().unwrap_or(0)).to_iso())
            }
            Self::Offset { secs, minutes } => {
                // Within a day of the start, with an offset of up to ±23:59.
                let local = Timestamp::from_unix_millis(START_MS + i64::from(*secs) * 1000);
                let minutes = i64::from(*minutes) % (24 * 60);
                let shifted = local.saturating_add_millis(minutes * 60_000).to_iso();
                let sign = if minutes < 0 { '-' } else { '+' };
                let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
                Value::from(format!(
                    "{}{sign}{h:02}:{m:02}",
                    &shifted[..shifted.len() - 1]
                ))
            }
            Self::Text(text) => Value::from(text.as_str()),
        }
    }

    /// As Zoom's `event_ts`.
    pub fn number(&self) -> Value {
        match self.millis() {
            Some(ms) => Value::from(ms),
            None => self.text(),
        }
    }
}

/// A field name.
#[derive(Arbitrary, Debug, Clone)]
pub enum Field {
    Known(u8),
    /// One the body already has (by position).
    Existing(u8),
    Free(String),
}

impl Field {
    fn name(&self, object: &Map<String, Value>) -> String {
        match self {
            Self::Known(i) => pick(FIELDS, *i).to_owned(),
            Self::Existing(i) if !object.is_empty() => object
                .keys()
                .nth(usize::from(*i) % object.len())
                .cloned()
                .unwrap_or_default(),
            Self::Existing(i) => pick(FIELDS, *i).to_owned(),
            Self::Free(name) => name.clone(),
        }
    }
}

/// A value without nesting.
#[derive(Arbitrary, Debug, Clone)]
pub enum Leaf {
    Null,
    Word(u8),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(When),
    /// A small object of known fields and words (a file, `updates`).
    Object(Vec<(u8, u8)>),
}

impl Leaf {
    fn value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Word(i) => Value::from(pick(WORDS, *i)),
            Self::Text(text) => Value::from(text.as_str()),
            Self::Int(n) => Value::from(*n),
            // NaN and the infinities have no JSON: from_f64 refuses them.
            Self::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Self::Bool(b) => Value::from(*b),
            Self::Time(when) => when.text(),
            Self::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .take(8)
                    .map(|(f, w)| (pick(FIELDS, *f).to_owned(), Value::from(pick(WORDS, *w))))
                    .collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Val {
    /// The field is taken out.
    Remove,
    Leaf(Leaf),
    List(Vec<Leaf>),
    Object(Vec<(Field, Leaf)>),
    /// Any JSON text (a string when it does not parse).
    Json(String),
}

impl Val {
    fn value(&self) -> Option<Value> {
        Some(match self {
            Self::Remove => return None,
            Self::Leaf(leaf) => leaf.value(),
            Self::List(items) => Value::Array(items.iter().take(8).map(Leaf::value).collect()),
            Self::Object(pairs) => {
                let mut object = Map::new();
                for (field, leaf) in pairs.iter().take(8) {
                    object.insert(field.name(&Map::new()), leaf.value());
                }
                Value::Object(object)
            }
            Self::Json(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::from(text.as_str()))
            }
        })
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Edit {
    pub field: Field,
    pub value: Val,
}

fn edit(object: &mut Map<String, Value>, edits: &[Edit]) {
    for e in edits.iter().take(8) {
        let name = e.field.name(object);
        match e.value.value() {
            Some(value) => object.insert(name, value),
            None => object.remove(&name),
        };
    }
}

/// One event of a scenario.
#[derive(Arbitrary, Debug, Clone)]
pub enum EventSpec {
    /// A published Zoom body, readdressed and retimed, with some fields changed.
    Zoom {
        /// Below 128: one of the events the records read; else any published one.
        which: u8,
        /// Engagement (and user) it is about.
        subject: u8,
        at: When,
        /// `event_ts`, by default a little after `at`.
        event_ts: Option<When>,
        /// Leaves the body without its content time (`date_time_ms` and the like).
        untimed: bool,
        /// Sent under the name of another published event (or any name), with its own fields.
        rename: Option<Field>,
        edits: Vec<Edit>,
        /// Seconds after the start when it was received: what an untimed event's time is.
        received: u8,
    },
    /// A Flow POST as our scripts send it.
    Flow {
        /// `engagement_accepted`, `disposition_saved`, or another name.
        event: u8,
        subject: u8,
        at: Option<When>,
        edits: Vec<Edit>,
        variables: Option<Vec<Edit>>,
        received: u8,
    },
    /// Another event like an earlier one of the scenario (the same kind, the same record), at
    /// another time and with other values: what rules for one kind of event meet.
    Again {
        of: u8,
        at: When,
        edits: Vec<Edit>,
        received: u8,
    },
    /// Any body at all.
    Raw {
        webhook: bool,
        body: String,
        received: u8,
    },
}

const CONTENT_TIMES: [&str; 5] = [
    "date_time_ms",
    "date_time",
    "last_modified_time_ms",
    "created_time_ms",
    "recording_end_time_ms",
];

/// The published events that the records read (not `ZoomEvent::Other`).
fn modelled() -> &'static [&'static Published] {
    static MODELLED: OnceLock<Vec<&'static Published>> = OnceLock::new();
    MODELLED.get_or_init(|| {
        PUBLISHED
            .iter()
            .filter(|p| {
                ZoomEvent::from_name(&format!("contact_center.{}", p.name)) != ZoomEvent::Other
            })
            .collect()
    })
}

fn published(which: u8) -> &'static Published {
    let modelled = modelled();
    if which < 128 && !modelled.is_empty() {
        modelled[usize::from(which) % modelled.len()]
    } else {
        &PUBLISHED[usize::from(which) % PUBLISHED.len()]
    }
}

/// Sets a webhook body's content times (those it has) and `event_ts` to `at`.
fn retime_webhook(body: &mut Value, at: &When) {
    if let Some(object) = body
        .pointer_mut("/payload/object")
        .and_then(Value::as_object_mut)
    {
        for field in CONTENT_TIMES {
            if object.contains_key(field) {
                object.insert(field.into(), at.text());
            }
        }
    }
    if let Some(ms) = at.millis() {
        body["event_ts"] = Value::from(ms.wrapping_add(137));
    }
}

fn received(secs: u8) -> Timestamp {
    Timestamp::from_unix_millis(START_MS + i64::from(secs) * 1000)
}

/// A body of a scenario, before it is sent.
enum Body {
    Json(Source, Value),
    Text(Source, String),
}

impl EventSpec {
    /// The body, given the bodies of the events before it, and when it was received.
    fn body(&self, earlier: &[(Source, Value)]) -> Option<(Body, Timestamp)> {
        Some(match self {
            Self::Zoom {
                which,
                subject,
                at,
                event_ts,
                untimed,
                rename,
                edits,
                received: r,
            } => {
                let mut body: Value =
                    serde_json::from_str(published(*which).body).expect("a published body parses");
                retime_webhook(&mut body, at);
                let object = body
                    .pointer_mut("/payload/object")
                    .and_then(Value::as_object_mut)?;
                let i = usize::from(*subject);
                if object.contains_key("engagement_id") {
                    object.insert("engagement_id".into(), ENGAGEMENTS[i % 3].into());
                }
                if object.contains_key("user_id") {
                    object.insert("user_id".into(), USERS[(i / 3) % 3].into());
                }
                if *untimed {
                    for field in CONTENT_TIMES {
                        object.remove(field);
                    }
                }
                edit(object, edits);
                match event_ts {
                    Some(when) => body["event_ts"] = when.number(),
                    None if *untimed => body["event_ts"] = Value::Null,
                    None => {}
                }
                if let Some(rename) = rename {
                    let name = match rename {
                        Field::Known(i) | Field::Existing(i) => {
                            format!("contact_center.{}", published(*i).name)
                        }
                        Field::Free(name) => name.clone(),
                    };
                    body["event"] = name.into();
                }
                (Body::Json(Source::Webhook, body), received(*r))
            }
            Self::Flow {
                event,
                subject,
                at,
                edits,
                variables,
                received: r,
            } => {
                let name = match event % 4 {
                    0 | 1 => "engagement_accepted",
                    2 => "disposition_saved",
                    _ => pick(WORDS, *event / 4),
                };
                let mut body = flow_post(
                    name,
                    ENGAGEMENTS[usize::from(*subject) % 3],
                    None,
                    json!({"disposition": pick(WORDS, *subject)}),
                );
                let object = body.as_object_mut()?;
                if let Some(at) = at {
                    object.insert("occurred_at".into(), at.text());
                }
                edit(object, edits);
                if let Some(variables) = variables {
                    let mut vars = Map::new();
                    edit(&mut vars, variables);
                    object.insert("variables".into(), Value::Object(vars));
                }
                (Body::Json(Source::Flow, body), received(*r))
            }
            Self::Again {
                of,
                at,
                edits,
                received: r,
            } => {
                let (source, body) = earlier.get(usize::from(*of) % earlier.len().max(1))?;
                let mut body = body.clone();
                let object = match source {
                    Source::Webhook => {
                        retime_webhook(&mut body, at);
                        body.pointer_mut("/payload/object")
                    }
                    Source::Flow => {
                        if let Some(object) = body.as_object_mut() {
                            object.insert("occurred_at".into(), at.text());
                        }
                        Some(&mut body)
                    }
                    // The plans make no bodies of Zoom's API facts (reconcile's): none to edit.
                    Source::ZoomApi => None,
                };
                if let Some(object) = object.and_then(Value::as_object_mut) {
                    edit(object, edits);
                }
                (Body::Json(*source, body), received(*r))
            }
            Self::Raw {
                webhook,
                body,
                received: r,
            } => {
                let source = if *webhook {
                    Source::Webhook
                } else {
                    Source::Flow
                };
                (Body::Text(source, body.clone()), received(*r))
            }
        })
    }
}

/// A few events about a few records, delivered in the order given and in `order`.
#[derive(Arbitrary, Debug, Clone)]
pub struct Scenario {
    pub events: Vec<EventSpec>,
    /// Swaps that make a second order of delivery.
    pub order: Vec<u8>,
}

impl Scenario {
    /// The distinct authentic events (the store merges each once: a duplicate, same id, is
    /// dropped; the first is kept, so that an untimed one keeps one receipt time).
    pub fn events(&self) -> Vec<AuthenticEvent> {
        let mut seen = BTreeSet::new();
        let mut earlier = Vec::new();
        let mut events = Vec::new();
        for spec in self.events.iter().take(MAX_EVENTS) {
            let Some((body, received)) = spec.body(&earlier) else {
                continue;
            };
            let (source, text) = match body {
                Body::Json(source, value) => {
                    let text = value.to_string();
                    earlier.push((source, value));
                    (source, text)
                }
                Body::Text(source, text) => (source, text),
            };
            if let Ok(event) = AuthenticEvent::from_stored(source, &text, received)
                && seen.insert(event.event_id().clone())
            {
                events.push(event);
            }
        }
        events
    }

    /// The events in a second order: Fisher-Yates driven by `order`.
    pub fn shuffled(&self, events: &[AuthenticEvent]) -> Vec<AuthenticEvent> {
        let mut out = events.to_vec();
        if self.order.is_empty() {
            return out;
        }
        for i in (1..out.len()).rev() {
            let j = usize::from(self.order[i % self.order.len()]) % (i + 1);
            out.swap(i, j);
        }
        out
    }
}

/// The records merged from `events` in the order given, by record.
#[derive(Debug, Default)]
pub struct Records {
    pub engagements: BTreeMap<String, EngagementState>,
    pub agents: BTreeMap<String, AgentState>,
}

impl Records {
    pub fn merge(events: &[AuthenticEvent]) -> Self {
        let mut records = Self::default();
        for event in events {
            match event.subject() {
                Subject::Engagement(id) => apply(&mut records.engagements, id.as_str(), event),
                Subject::Agent(id) => apply(&mut records.agents, id.as_str(), event),
                Subject::Unrouted => {}
            }
        }
        records
    }

    /// Every record as JSON, as the store writes it.
    pub fn to_value(&self) -> Value {
        json!({
            "engagements": self.engagements.iter()
                .map(|(id, s)| (id.clone(), serde_json::to_value(s).expect("a record serializes")))
                .collect::<Map<_, _>>(),
            "agents": self.agents.iter()
                .map(|(id, s)| (id.clone(), serde_json::to_value(s).expect("a record serializes")))
                .collect::<Map<_, _>>(),
        })
    }
}

/// Order dependences found by fuzzing and reported, left out of the comparison until the
/// merge rules are mended, so that fuzzing goes on finding others. Both found so far are
/// mended (a queue's name by its latest event; times before 1970 in `recent`), so nothing is
/// left out; `ZCC_FUZZ_STRICT=1` stays the way to compare everything once an entry returns.
pub fn without_known_issues(records: Value, _events: &[AuthenticEvent]) -> Value {
    records
}

fn apply<T: State>(records: &mut BTreeMap<String, T>, id: &str, event: &AuthenticEvent) {
    let state = records.entry(id.to_owned()).or_insert_with(|| T::fresh(id));
    // Distinct events: none of them has been merged already.
    assert!(
        !state.has_seen(event),
        "a distinct event seen before: {}",
        event.body()
    );
    state.apply(event);
}

/// The bodies of `events`, for a failure's message.
pub fn bodies(events: &[AuthenticEvent]) -> String {
    events
        .iter()
        .map(|e| format!("  {} {}\n", e.source().as_str(), e.body()))
        .collect()
}

/// What holds of every authentic event, whichever endpoint it came from: `value` is its body
/// parsed, `fields` what it should keep of it.
pub fn check_event(event: &AuthenticEvent, body: &str, value: &Value, received_at: Timestamp) {
    use zcc_domain::ids::EventId;
    assert_eq!(event.body(), body, "the body is kept exactly");
    assert!(!event.name().is_empty());
    // The id: a hash of the parsed content, in the namespace of its endpoint, well-formed.
    let id = event.event_id();
    assert_eq!(id, &EventId::of_json(event.source().as_str(), value));
    assert_eq!(EventId::parse(id.as_str()).as_ref(), Ok(id));
    assert!(id.as_str().starts_with(id.short()) && id.short().len() == 12);
    let other = match event.source() {
        Source::Webhook => Source::Flow,
        Source::Flow => Source::Webhook,
        // Not an endpoint: reconcile builds these from Zoom's API facts, never from bytes.
        Source::ZoomApi => Source::Webhook,
    };
    assert_ne!(id, &EventId::of_json(other.as_str(), value));
    // Routing: the subject is what the fields name.
    let text = |name: &str| zcc_domain::zoom::text(event.fields(), name);
    match event.subject() {
        Subject::Engagement(e) => assert_eq!(text("engagement_id").as_deref(), Some(e.as_str())),
        Subject::Agent(u) => assert_eq!(text("user_id").as_deref(), Some(u.as_str())),
        Subject::Unrouted => assert_eq!(event.source(), Source::Webhook),
    }
    // An untimed event happened when it was received.
    if !event.is_timed() {
        assert_eq!(event.occurred_at(), received_at);
    }
    // The stamp orders events by time as text: its time must read back as the same instant.
    let stamp = event.stamp();
    let (iso, short) = stamp.split_once('#').expect("a stamp is <time>#<id>");
    assert_eq!(short, id.short());
    assert_eq!(
        Timestamp::parse(iso).ok(),
        Some(event.occurred_at()),
        "the stamp's time `{iso}` does not read back as the event's time ({} ms)",
        event.occurred_at().unix_millis()
    );
}

/// The same content re-serialized (other key order, whitespace, escapes) is the same event.
pub fn check_reserialized(event: &AuthenticEvent, value: &Value) {
    for text in [
        value.to_string(),
        serde_json::to_string_pretty(value).expect("serializes"),
    ] {
        let again = AuthenticEvent::from_stored(event.source(), &text, event.received_at())
            .unwrap_or_else(|e| panic!("re-serialized body refused: {e}\n{text}"));
        assert_eq!(again.event_id(), event.event_id(), "re-serialized: {text}");
        assert_eq!(again.subject(), event.subject());
        assert_eq!(again.name(), event.name());
        assert_eq!(again.occurred_at(), event.occurred_at());
        assert_eq!(again.is_timed(), event.is_timed());
        assert_eq!(again.fields(), event.fields());
        assert_eq!(again.account_id(), event.account_id());
    }
}
