//! The engagement state item: what screen pops, CRM logging and reports read. It is a pure
//! merge of the distinct events that arrived, so any order of them gives the same item.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{AuthenticEvent, EventKind};
use crate::flow::FlowEvent;
use crate::merge::{Stamps, State, earliest, insert_sorted, latest, set_latest, set_stable};
use crate::timestamp::Timestamp;
use crate::zoom::ZoomEvent;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementStatus {
    #[default]
    Started,
    Answered,
    Held,
    WrapUp,
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub note: String,
    pub at: Timestamp,
    /// Orders edits of one note: the latest edit replaces the text.
    pub stamp: String,
}

/// One step of the engagement's path through queues and agents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Leg {
    pub at: Timestamp,
    /// Breaks ties between legs at the same instant the same way everywhere (48 bits of the
    /// event id).
    pub event_id: String,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub user_id: Option<String>,
    pub user_display_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngagementState {
    pub engagement_id: String,
    pub account_id: Option<String>,
    pub status: EngagementStatus,
    pub channel: Option<String>,
    pub channel_source: Option<String>,
    pub direction: Option<String>,
    pub flow_id: Option<String>,
    pub flow_name: Option<String>,
    pub flow_number: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub agent_user_id: Option<String>,
    pub agent_display_name: Option<String>,
    pub agent_email: Option<String>,
    pub consumer_number: Option<String>,
    pub consumer_id: Option<String>,
    pub consumer_display_name: Option<String>,

    pub started_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    /// When the Flow's "Engagement Accepted" script ran (the agent accepted).
    pub accepted_at: Option<Timestamp>,
    pub consumer_notified_at: Option<Timestamp>,
    pub consumer_answered_at: Option<Timestamp>,
    pub consumer_ended_at: Option<Timestamp>,
    /// When the (last) agent left the engagement.
    pub agent_ended_at: Option<Timestamp>,
    pub wrap_up_started_at: Option<Timestamp>,
    pub wrap_up_ended_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// The earliest event of any kind: the index sort key, present from the first event on.
    pub first_event_at: Option<Timestamp>,
    /// `YYYY-MM-DD` of `first_event_at` (UTC): the day index's partition.
    pub day: Option<String>,

    pub hold_count: u32,
    pub total_hold_ms: i64,
    pub mute_count: u32,
    pub unmute_count: u32,
    pub dtmf_count: u32,
    /// Transfers that completed; `transfer_attempts` counts every one initiated.
    pub transfer_count: u32,
    pub transfer_attempts: u32,
    pub conference_count: u32,
    pub conference_participants: BTreeSet<String>,
    pub monitor_count: u32,
    pub monitors: BTreeSet<String>,
    pub takeover_count: u32,
    /// The queues the engagement passed through, in time order (consecutive repeats merged).
    pub queue_chain: Vec<String>,
    /// The agents who handled it, in time order (consecutive repeats merged).
    pub agent_chain: Vec<String>,
    /// Events stored and counted that the state model does not interpret.
    pub unmodelled_event_count: u32,
    pub time_to_answer_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub wrap_up_ms: Option<i64>,

    pub disposition_id: Option<String>,
    pub disposition_name: Option<String>,
    pub notes: BTreeMap<String, Note>,
    pub flow_variables: BTreeMap<String, Value>,

    pub event_count: u32,
    pub last_event: Option<String>,
    pub last_event_at: Option<Timestamp>,
    pub sources: BTreeSet<String>,

    // Merge bookkeeping: kept in the item so every writer merges the same way.
    pub hold_times: Vec<Timestamp>,
    pub unhold_times: Vec<Timestamp>,
    pub legs: Vec<Leg>,
    pub stamps: Stamps,
    pub untimed_event_ids: BTreeSet<String>,
}

impl State for EngagementState {
    const ENTITY: &'static str = "engagement";
    fn fresh(id: &str) -> Self {
        Self::new(id)
    }
    fn has_seen(&self, event: &AuthenticEvent) -> bool {
        EngagementState::has_seen(self, event)
    }
    fn apply(&mut self, event: &AuthenticEvent) {
        EngagementState::apply(self, event)
    }
    fn usually_first(event: &AuthenticEvent) -> bool {
        event.kind() == EventKind::Zoom(ZoomEvent::EngagementStarted)
    }
}

/// Flow body fields that are not flow variables.
const FLOW_ENVELOPE: &[&str] = &[
    "event",
    "engagement_id",
    "occurred_at",
    "caller_number",
    "agent_email",
    "queue_name",
    "disposition",
    "variables",
];

impl EngagementState {
    pub fn new(engagement_id: &str) -> Self {
        Self {
            engagement_id: engagement_id.to_owned(),
            ..Self::default()
        }
    }

    /// Whether this exact event has been merged already, for events whose key is not
    /// stable (no time in the body). Timed events are deduplicated by their event item.
    pub fn has_seen(&self, event: &AuthenticEvent) -> bool {
        !event.is_timed() && self.untimed_event_ids.contains(event.event_id().as_str())
    }

    /// Merges one distinct event. The store guarantees each event is merged once.
    pub fn apply(&mut self, event: &AuthenticEvent) {
        let stamp = event.stamp();
        let at = event.occurred_at();
        let s = &mut self.stamps;

        self.event_count += 1;
        self.sources.insert(event.source().as_str().to_owned());
        if !event.is_timed() {
            self.untimed_event_ids.insert(event.event_id().to_string());
        }
        earliest(&mut self.first_event_at, at);
        if crate::merge::newer(s, "last_event", &stamp) {
            self.last_event = Some(event.name().to_owned());
            self.last_event_at = Some(at);
        }
        set_stable(&mut self.account_id, event.account_id().map(str::to_owned));

        match event.kind() {
            EventKind::Zoom(zoom) => self.apply_zoom(zoom, event, &stamp, at),
            EventKind::Flow(flow) => self.apply_flow(flow, event, &stamp, at),
        }
        self.derive();
    }

    fn apply_zoom(&mut self, zoom: ZoomEvent, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let s = &mut self.stamps;
        set_stable(&mut self.channel, e.field("channel"));
        set_stable(&mut self.channel_source, e.field("channel_source"));
        set_stable(&mut self.direction, e.field("engagement_direction"));
        set_stable(&mut self.flow_id, e.field("flow_id"));
        set_stable(&mut self.flow_name, e.field("flow_name"));
        set_stable(&mut self.flow_number, e.field("flow_number"));
        set_stable(&mut self.consumer_number, e.field("consumer_number"));
        set_stable(&mut self.consumer_id, e.field("consumer_id"));
        set_stable(
            &mut self.consumer_display_name,
            e.field("consumer_display_name"),
        );
        // The queue moves on transfer: the latest event that names one is the final queue.
        set_latest(
            s,
            "queue_id",
            stamp,
            &mut self.queue_id,
            e.field("cc_queue_id"),
        );
        set_latest(
            s,
            "queue_name",
            stamp,
            &mut self.queue_name,
            e.field("queue_name"),
        );

        match zoom {
            ZoomEvent::EngagementStarted => earliest(&mut self.started_at, at),
            ZoomEvent::EngagementEnded => latest(&mut self.ended_at, at),
            ZoomEvent::ConsumerNotified => earliest(&mut self.consumer_notified_at, at),
            ZoomEvent::ConsumerAnswered => earliest(&mut self.consumer_answered_at, at),
            ZoomEvent::ConsumerEnded => latest(&mut self.consumer_ended_at, at),
            ZoomEvent::UserAnswered => {
                earliest(&mut self.answered_at, at);
                self.agent_from(e, stamp, "user_id", "user_display_name");
                self.leg(
                    e,
                    at,
                    e.field("cc_queue_id"),
                    e.field("queue_name"),
                    "user_id",
                    "user_display_name",
                );
            }
            ZoomEvent::UserEnded => latest(&mut self.agent_ended_at, at),
            ZoomEvent::UserHold => {
                self.hold_count += 1;
                insert_sorted(&mut self.hold_times, at);
            }
            ZoomEvent::UserUnhold => insert_sorted(&mut self.unhold_times, at),
            ZoomEvent::UserMuted => self.mute_count += 1,
            ZoomEvent::UserUnmuted => self.unmute_count += 1,
            // The digits themselves stay in the raw event only: they may be card numbers.
            ZoomEvent::UserDtmfSent => self.dtmf_count += 1,
            ZoomEvent::WrapUpStarted => earliest(&mut self.wrap_up_started_at, at),
            ZoomEvent::WrapUpEnded => latest(&mut self.wrap_up_ended_at, at),
            ZoomEvent::NoteAdded => self.note_from(e, stamp, at),
            ZoomEvent::DispositionAdded => {
                set_latest(
                    s,
                    "disposition_id",
                    stamp,
                    &mut self.disposition_id,
                    e.field("disposition_id"),
                );
                set_latest(
                    s,
                    "disposition_name",
                    stamp,
                    &mut self.disposition_name,
                    e.field("disposition_name"),
                );
            }
            ZoomEvent::TransferInitiated => self.transfer_attempts += 1,
            ZoomEvent::TransferAccepted => {
                self.agent_from(
                    e,
                    stamp,
                    "transfer_to_user_id",
                    "transfer_to_user_display_name",
                );
                self.transfer_leg(e, at);
            }
            ZoomEvent::TransferCompleted => {
                self.transfer_count += 1;
                self.transfer_leg(e, at);
            }
            ZoomEvent::ConferenceStarted => self.conference_count += 1,
            ZoomEvent::ConferenceParticipantJoined => {
                let who = [
                    "participant_user_id",
                    "participant_id",
                    "participant_number",
                    "user_id",
                ]
                .iter()
                .find_map(|f| e.field(f));
                self.conference_participants.extend(who);
            }
            ZoomEvent::MonitorStarted => {
                self.monitor_count += 1;
                self.monitors.extend(e.field("user_id"));
            }
            ZoomEvent::TakeoverStarted => self.takeover_count += 1,
            ZoomEvent::Other => self.unmodelled_event_count += 1,
            _ => {}
        }
    }

    fn agent_from(&mut self, e: &AuthenticEvent, stamp: &str, id_field: &str, name_field: &str) {
        let s = &mut self.stamps;
        set_latest(
            s,
            "agent_user_id",
            stamp,
            &mut self.agent_user_id,
            e.field(id_field),
        );
        set_latest(
            s,
            "agent_display_name",
            stamp,
            &mut self.agent_display_name,
            e.field(name_field),
        );
    }

    fn transfer_leg(&mut self, e: &AuthenticEvent, at: Timestamp) {
        let queue = e.field("transfer_to_queue_id");
        let queue_name = e.field("transfer_to_queue_name");
        self.leg(
            e,
            at,
            queue,
            queue_name,
            "transfer_to_user_id",
            "transfer_to_user_display_name",
        );
    }

    fn leg(
        &mut self,
        e: &AuthenticEvent,
        at: Timestamp,
        queue_id: Option<String>,
        queue_name: Option<String>,
        user_field: &str,
        name_field: &str,
    ) {
        let leg = Leg {
            at,
            event_id: e.event_id().short().to_owned(),
            queue_id,
            queue_name,
            user_id: e.field(user_field),
            user_display_name: e.field(name_field),
        };
        if leg.queue_id.is_some() || leg.user_id.is_some() {
            insert_sorted(&mut self.legs, leg);
        }
    }

    fn note_from(&mut self, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let (Some(id), Some(text)) = (e.field("note_id"), e.field("note")) else {
            return;
        };
        // An edit keeps the note's id; its modification time orders the edits.
        let at = e
            .field("last_modified_time")
            .and_then(|t| Timestamp::parse(&t).ok())
            .unwrap_or(at);
        let order = format!("{}#{}", at.to_iso(), stamp);
        if self.notes.get(&id).is_none_or(|n| n.stamp < order) {
            self.notes.insert(
                id,
                Note {
                    note: text,
                    at,
                    stamp: order,
                },
            );
        }
    }

    fn apply_flow(&mut self, flow: FlowEvent, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let s = &mut self.stamps;
        set_stable(&mut self.consumer_number, e.field("caller_number"));
        set_latest(
            s,
            "agent_email",
            stamp,
            &mut self.agent_email,
            e.field("agent_email"),
        );
        set_latest(
            s,
            "queue_name",
            stamp,
            &mut self.queue_name,
            e.field("queue_name"),
        );
        if flow == FlowEvent::DispositionSaved {
            set_latest(
                s,
                "disposition_name",
                stamp,
                &mut self.disposition_name,
                e.field("disposition"),
            );
        }
        if flow == FlowEvent::EngagementAccepted {
            earliest(&mut self.accepted_at, at);
        }
        let variables = e
            .fields()
            .get("variables")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .chain(
                e.fields()
                    .iter()
                    .filter(|(k, _)| !FLOW_ENVELOPE.contains(&k.as_str())),
            );
        for (name, value) in variables {
            if crate::merge::newer(s, &format!("var:{name}"), stamp) {
                self.flow_variables.insert(name.clone(), value.clone());
            }
        }
    }

    /// Figures computed from what has arrived, never from the order it arrived in.
    fn derive(&mut self) {
        self.queue_chain = chain(self.legs.iter().filter_map(|l| l.queue_id.clone()));
        self.agent_chain = chain(self.legs.iter().filter_map(|l| l.user_id.clone()));
        let held = self.open_hold().is_some();
        self.status = if self.ended_at.is_some() {
            EngagementStatus::Ended
        } else if self.wrap_up_started_at.is_some() {
            EngagementStatus::WrapUp
        } else if held {
            EngagementStatus::Held
        } else if self.answered_at.is_some() || self.accepted_at.is_some() {
            EngagementStatus::Answered
        } else {
            EngagementStatus::Started
        };
        self.day = self.first_event_at.map(Timestamp::day);
        self.total_hold_ms = self.hold_intervals().map(|(from, to)| to - from).sum();
        let answered = self.answered_at.or(self.accepted_at);
        self.time_to_answer_ms = self
            .started_at
            .zip(answered)
            .map(|(s, a)| (a.unix_millis() - s.unix_millis()).max(0));
        let talk_end = self.wrap_up_started_at.or(self.ended_at);
        self.talk_ms = answered
            .zip(talk_end)
            .map(|(a, e)| (e.unix_millis() - a.unix_millis() - self.total_hold_ms).max(0));
        self.wrap_up_ms = self
            .wrap_up_started_at
            .zip(self.wrap_up_ended_at.or(self.ended_at))
            .map(|(s, e)| (e.unix_millis() - s.unix_millis()).max(0));
    }

    /// Holds paired with the next unhold after them; a hold still open at the end of the
    /// engagement counts until the end.
    fn hold_intervals(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        let mut intervals = Vec::new();
        let mut open: Option<Timestamp> = None;
        let mut holds = self.hold_times.iter().peekable();
        let mut unholds = self.unhold_times.iter().peekable();
        loop {
            // At equal times an unhold sorts first: hold, unhold, hold at one instant is held.
            let next_is_hold = match (holds.peek(), unholds.peek()) {
                (Some(h), Some(u)) => h < u,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if next_is_hold {
                let h = *holds.next().expect("peeked");
                open.get_or_insert(h);
            } else {
                let u = *unholds.next().expect("peeked");
                if let Some(h) = open.take() {
                    intervals.push((h.unix_millis(), u.unix_millis()));
                }
            }
        }
        if let (Some(h), Some(end)) = (open, self.ended_at) {
            intervals.push((h.unix_millis(), end.unix_millis().max(h.unix_millis())));
        }
        intervals.into_iter()
    }

    fn open_hold(&self) -> Option<Timestamp> {
        let last_hold = self.hold_times.last()?;
        match self.unhold_times.last() {
            Some(unhold) if unhold >= last_hold => None,
            _ => Some(*last_hold),
        }
    }
}

/// The values in order with consecutive repeats merged: A, A, B, A → A, B, A.
fn chain(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if out.last() != Some(&value) {
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::testing::{flow, webhook};

    fn zoom(event: &str, at: &str, extra: &str) -> AuthenticEvent {
        webhook(&format!(
            r#"{{"event":"contact_center.{event}","event_ts":1,"payload":{{"account_id":"acc","object":{{"engagement_id":"e1","date_time_ms":"{at}"{extra}}}}}}}"#
        ))
    }

    fn merged(events: &[AuthenticEvent]) -> EngagementState {
        let mut state = EngagementState::new("e1");
        for e in events {
            state.apply(e);
        }
        state
    }

    fn call() -> Vec<AuthenticEvent> {
        vec![
            zoom(
                "engagement_started",
                "2023-05-01T09:00:00.000Z",
                r#","channel":"voice","engagement_direction":"inbound""#,
            ),
            zoom(
                "engagement_user_answered",
                "2023-05-01T09:00:10.000Z",
                r#","user_id":"u1","user_display_name":"Ana","cc_queue_id":"q1","queue_name":"Sales""#,
            ),
            zoom("engagement_user_hold", "2023-05-01T09:01:00.000Z", ""),
            zoom("engagement_user_unhold", "2023-05-01T09:01:30.000Z", ""),
            zoom(
                "engagement_note_added",
                "2023-05-01T09:02:00.000Z",
                r#","note_id":"n1","note":"asked for refund""#,
            ),
            zoom(
                "engagement_disposition_added",
                "2023-05-01T09:03:00.000Z",
                r#","disposition_id":"d1","disposition_name":"Resolved""#,
            ),
            zoom("engagement_ended", "2023-05-01T09:04:00.000Z", ""),
            flow(
                r#"{"event":"engagement_accepted","engagement_id":"e1","occurred_at":"2023-05-01T09:00:11Z","agent_email":"ana@example.com","caller_number":"+15550100","queue_name":"Sales","variables":{"order":"42"}}"#,
            ),
        ]
    }

    #[test]
    fn a_call_merges_into_one_state() {
        let s = merged(&call());
        assert_eq!(s.status, EngagementStatus::Ended);
        assert_eq!(s.started_at.unwrap().to_iso(), "2023-05-01T09:00:00.000Z");
        assert_eq!(s.answered_at.unwrap().to_iso(), "2023-05-01T09:00:10.000Z");
        assert_eq!(s.ended_at.unwrap().to_iso(), "2023-05-01T09:04:00.000Z");
        assert_eq!(s.hold_count, 1);
        assert_eq!(s.total_hold_ms, 30_000);
        assert_eq!(s.time_to_answer_ms, Some(10_000));
        assert_eq!(s.talk_ms, Some(240_000 - 10_000 - 30_000));
        assert_eq!(s.agent_user_id.as_deref(), Some("u1"));
        assert_eq!(s.agent_email.as_deref(), Some("ana@example.com"));
        assert_eq!(s.consumer_number.as_deref(), Some("+15550100"));
        assert_eq!(s.disposition_name.as_deref(), Some("Resolved"));
        assert_eq!(s.notes["n1"].note, "asked for refund");
        assert_eq!(s.flow_variables["order"], "42");
        assert_eq!(s.event_count, 8);
        assert_eq!(
            s.last_event.as_deref(),
            Some("contact_center.engagement_ended")
        );
        assert_eq!(s.sources, BTreeSet::from(["flow".into(), "webhook".into()]));
        assert_eq!(s.day.as_deref(), Some("2023-05-01"));
    }

    #[test]
    fn reversed_order_gives_the_same_state() {
        let mut events = call();
        let forward = merged(&events);
        events.reverse();
        assert_eq!(merged(&events), forward);
    }

    #[test]
    fn status_follows_what_arrived() {
        let events = call();
        assert_eq!(merged(&events[..1]).status, EngagementStatus::Started);
        assert_eq!(merged(&events[..2]).status, EngagementStatus::Answered);
        assert_eq!(merged(&events[..3]).status, EngagementStatus::Held);
        assert_eq!(merged(&events[..4]).status, EngagementStatus::Answered);
        // The end arriving before the start still ends it.
        assert_eq!(merged(&[events[6].clone()]).status, EngagementStatus::Ended);
    }

    #[test]
    fn a_note_edit_replaces_it_whatever_the_order() {
        let first = zoom(
            "engagement_note_added",
            "2023-05-01T09:02:00.000Z",
            r#","note_id":"n1","note":"draft","last_modified_time":"2023-05-01T09:02:00Z""#,
        );
        let edit = zoom(
            "engagement_note_added",
            "2023-05-01T09:02:30.000Z",
            r#","note_id":"n1","note":"final","last_modified_time":"2023-05-01T09:02:30Z""#,
        );
        assert_eq!(
            merged(&[first.clone(), edit.clone()]).notes["n1"].note,
            "final"
        );
        assert_eq!(merged(&[edit, first]).notes["n1"].note, "final");
    }

    #[test]
    fn a_transfer_moves_the_final_queue_and_agent() {
        let mut events = call();
        events.push(zoom(
            "engagement_transfer_initiated",
            "2023-05-01T09:02:10.000Z",
            r#","transfer_type":"warm","transfer_level":"queue","transfer_to_queue_id":"q2""#,
        ));
        events.push(zoom("engagement_transfer_accepted", "2023-05-01T09:02:20.000Z",
            r#","transfer_to_queue_id":"q2","transfer_to_queue_name":"Billing","transfer_to_user_id":"u2","transfer_to_user_display_name":"Bo""#));
        events.push(zoom(
            "engagement_transfer_completed",
            "2023-05-01T09:02:21.000Z",
            r#","transfer_to_queue_id":"q2","transfer_to_user_id":"u2""#,
        ));
        events.push(zoom(
            "engagement_user_answered",
            "2023-05-01T09:02:22.000Z",
            r#","user_id":"u2","user_display_name":"Bo","cc_queue_id":"q2","queue_name":"Billing""#,
        ));
        let s = merged(&events);
        assert_eq!(s.transfer_count, 1);
        assert_eq!(s.transfer_attempts, 1);
        assert_eq!(s.queue_chain, ["q1", "q2"]);
        assert_eq!(s.agent_chain, ["u1", "u2"]);
        assert_eq!(s.agent_user_id.as_deref(), Some("u2"));
        assert_eq!(s.queue_id.as_deref(), Some("q2"));
        events.reverse();
        assert_eq!(merged(&events), s);
    }

    #[test]
    fn untimed_flow_events_are_remembered() {
        let e = flow(r#"{"event":"engagement_accepted","engagement_id":"e1"}"#);
        let mut s = EngagementState::new("e1");
        assert!(!s.has_seen(&e));
        s.apply(&e);
        assert!(s.has_seen(&e));
        assert_eq!(s.status, EngagementStatus::Answered);
    }
}
