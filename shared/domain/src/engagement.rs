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

/// A supervisor who monitored the engagement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Supervisor {
    pub display_name: Option<String>,
    /// Zoom's `action_type`s seen (`listen`, `whisper`, `barge`...).
    pub action_types: BTreeSet<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// A transfer that reached its target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Transfer {
    pub at: Timestamp,
    /// `<task_id>><transfer_to_task_id>`: one transfer, whichever of its events arrive.
    pub key: String,
    pub from_queue_id: Option<String>,
    pub from_user_id: Option<String>,
    pub to_queue_id: Option<String>,
    pub to_queue_name: Option<String>,
    pub to_user_id: Option<String>,
    pub to_user_display_name: Option<String>,
    pub transfer_type: Option<String>,
    pub transfer_level: Option<String>,
    /// The stamp of the event this entry was taken from: of a transfer's events, the earliest.
    pub stamp: String,
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
    /// Transfers the target accepted or completed, each counted once (by its task ids);
    /// `transfer_attempts` counts every one initiated.
    pub transfer_count: u32,
    pub transfer_attempts: u32,
    /// Supervisors who monitored (listened, whispered, barged), by user id.
    pub supervisors: BTreeMap<String, Supervisor>,
    pub monitor_count: u32,
    pub takeover_count: u32,
    /// Transfers that reached their target (accepted or completed), by task ids, in time order.
    pub transfers: Vec<Transfer>,
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
        // The queue moves on transfer: the latest event that names the engagement's queue is
        // the final queue. A transfer event's `cc_queue_id` is the queue it leaves; where it
        // goes counts only once the target accepts (below).
        if !zoom.is_transfer() {
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
        }

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
            // The target took it: the transfer happened, whichever of the two arrives.
            // Canceled, rejected and timed-out transfers change neither queue nor agent.
            ZoomEvent::TransferAccepted | ZoomEvent::TransferCompleted => {
                self.transfer_from(e, stamp, at)
            }
            ZoomEvent::MonitorStarted | ZoomEvent::MonitorEnded => {
                if zoom == ZoomEvent::MonitorStarted {
                    self.monitor_count += 1;
                }
                if let Some(id) = e.field("monitoring_user_id") {
                    let supervisor = self.supervisors.entry(id).or_default();
                    set_stable(
                        &mut supervisor.display_name,
                        e.field("monitoring_user_display_name"),
                    );
                    supervisor.action_types.extend(e.field("action_type"));
                    if zoom == ZoomEvent::MonitorStarted {
                        earliest(&mut supervisor.started_at, at);
                    } else {
                        latest(&mut supervisor.ended_at, at);
                    }
                }
            }
            ZoomEvent::TakeoverStarted => {
                self.takeover_count += 1;
                self.agent_from(e, stamp, "takeover_user_id", "takeover_user_display_name");
                self.leg(
                    e,
                    at,
                    e.field("cc_queue_id"),
                    e.field("queue_name"),
                    "takeover_user_id",
                    "takeover_user_display_name",
                );
            }
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

    /// A transfer the target accepted or completed: it moves the final queue and agent (as
    /// of its time), adds a leg, and is counted once by its task ids.
    fn transfer_from(&mut self, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let s = &mut self.stamps;
        let to_queue = e.field("transfer_to_cc_queue_id");
        let to_queue_name = e.field("transfer_to_queue_name");
        set_latest(s, "queue_id", stamp, &mut self.queue_id, to_queue.clone());
        set_latest(
            s,
            "queue_name",
            stamp,
            &mut self.queue_name,
            to_queue_name.clone(),
        );
        self.agent_from(
            e,
            stamp,
            "transfer_to_user_id",
            "transfer_to_user_display_name",
        );
        self.leg(
            e,
            at,
            to_queue.clone(),
            to_queue_name.clone(),
            "transfer_to_user_id",
            "transfer_to_user_display_name",
        );
        let key = match (e.field("task_id"), e.field("transfer_to_task_id")) {
            (Some(from), Some(to)) => format!("{from}>{to}"),
            // Without task ids each event is its own transfer: counted, never merged wrongly.
            _ => format!("event:{}", e.event_id()),
        };
        let transfer = Transfer {
            at,
            key: key.clone(),
            from_queue_id: e.field("cc_queue_id"),
            from_user_id: e.field("user_id"),
            to_queue_id: to_queue,
            to_queue_name,
            to_user_id: e.field("transfer_to_user_id"),
            to_user_display_name: e.field("transfer_to_user_display_name"),
            transfer_type: e.field("transfer_type"),
            transfer_level: e.field("transfer_level"),
            stamp: stamp.to_owned(),
        };
        match self.transfers.iter().position(|t| t.key == key) {
            Some(i) if self.transfers[i].stamp <= transfer.stamp => {}
            Some(i) => {
                self.transfers.remove(i);
                insert_sorted(&mut self.transfers, transfer);
            }
            None => insert_sorted(&mut self.transfers, transfer),
        }
        self.transfer_count = self.transfers.len() as u32;
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

    /// A fixture in Zoom's published shape (`shared/fixtures/zoom/<name>.json`).
    fn fixture(name: &str) -> AuthenticEvent {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/zoom");
        let text = std::fs::read_to_string(format!("{dir}/{name}.json"))
            .or_else(|_| std::fs::read_to_string(format!("{dir}/inferred/{name}.json")))
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
        webhook(&text)
    }

    fn fixtures(names: &[&str]) -> Vec<AuthenticEvent> {
        names.iter().map(|n| fixture(n)).collect()
    }

    /// The state is the same in every order tried, and with every event delivered twice (the
    /// store drops a timed duplicate by its event item: the state sees each event once).
    fn merged_in_any_order(events: &[AuthenticEvent]) -> EngagementState {
        let forward = merged(events);
        let mut reversed = events.to_vec();
        reversed.reverse();
        assert_eq!(merged(&reversed), forward, "reversed");
        for shift in 1..events.len() {
            let mut rotated = events.to_vec();
            rotated.rotate_left(shift);
            assert_eq!(merged(&rotated), forward, "rotated by {shift}");
        }
        forward
    }

    const ANA: &str = "IGTRVt3gQ2i-WjoUIjeZxw";
    const BO: &str = "u2Bo5xTransferTarget1";
    const SAM: &str = "supV1sorUserId000001";

    #[test]
    fn a_cold_transfer_without_completed_counts_once_and_moves_queue_and_agent() {
        // Seen on real traffic: initiated, queued, reserved, accepted, and no _completed.
        let s = merged_in_any_order(&fixtures(&[
            "engagement_started",
            "engagement_user_answered",
            "engagement_transfer_initiated",
            "engagement_transfer_queued",
            "engagement_transfer_reserved",
            "engagement_transfer_accepted",
            "engagement_ended",
        ]));
        assert_eq!(s.transfer_count, 1);
        assert_eq!(s.transfer_attempts, 1);
        assert_eq!(s.queue_id.as_deref(), Some("q-billing"));
        assert_eq!(s.queue_name.as_deref(), Some("Billing"));
        assert_eq!(s.agent_user_id.as_deref(), Some(BO));
        assert_eq!(s.queue_chain, ["q-sales", "q-billing"]);
        assert_eq!(s.agent_chain, [ANA, BO]);
        let t = &s.transfers[0];
        assert_eq!(t.key, "task-1>task-2");
        assert_eq!(
            (t.from_queue_id.as_deref(), t.from_user_id.as_deref()),
            (Some("q-sales"), Some(ANA))
        );
        assert_eq!(
            (t.to_queue_id.as_deref(), t.to_user_id.as_deref()),
            (Some("q-billing"), Some(BO))
        );
    }

    #[test]
    fn a_warm_transfer_accepted_and_completed_counts_once() {
        let s = merged_in_any_order(&fixtures(&[
            "engagement_started",
            "engagement_user_answered",
            "engagement_transfer_initiated",
            "engagement_transfer_accepted",
            "engagement_transfer_completed",
            "engagement_ended",
        ]));
        assert_eq!(s.transfer_count, 1);
        assert_eq!(s.transfers.len(), 1);
        assert_eq!(s.transfers[0].transfer_type.as_deref(), Some("warm"));
        assert_eq!(s.queue_id.as_deref(), Some("q-billing"));
        assert_eq!(s.agent_user_id.as_deref(), Some(BO));
    }

    #[test]
    fn canceled_rejected_or_timed_out_transfers_change_neither_queue_nor_agent() {
        for outcome in [
            "engagement_transfer_canceled",
            "engagement_transfer_rejected",
            "engagement_transfer_timeout",
        ] {
            let s = merged_in_any_order(&fixtures(&[
                "engagement_started",
                "engagement_user_answered",
                "engagement_transfer_initiated",
                "engagement_transfer_queued",
                outcome,
                "engagement_ended",
            ]));
            assert_eq!(s.transfer_count, 0, "{outcome}");
            assert_eq!(s.transfer_attempts, 1, "{outcome}");
            assert_eq!(s.queue_id.as_deref(), Some("q-sales"), "{outcome}");
            assert_eq!(s.agent_user_id.as_deref(), Some(ANA), "{outcome}");
            assert_eq!(s.queue_chain, ["q-sales"], "{outcome}");
        }
    }

    #[test]
    fn a_barge_records_the_supervisor_not_the_agent() {
        let s = merged_in_any_order(&fixtures(&[
            "engagement_started",
            "engagement_user_answered",
            "engagement_monitor_started",
            "engagement_monitor_ended",
            "engagement_ended",
        ]));
        assert_eq!(s.monitor_count, 1);
        let sam = &s.supervisors[SAM];
        assert_eq!(sam.display_name.as_deref(), Some("Sam Supervisor"));
        assert!(sam.action_types.contains("barge"));
        assert!(sam.started_at.is_some() && sam.ended_at.is_some());
        assert!(sam.started_at < sam.ended_at);
        assert!(
            !s.supervisors.contains_key(ANA),
            "the monitored agent is no supervisor"
        );
        assert_eq!(s.agent_user_id.as_deref(), Some(ANA));
    }

    #[test]
    fn a_takeover_makes_the_supervisor_the_agent() {
        let s = merged_in_any_order(&fixtures(&[
            "engagement_started",
            "engagement_user_answered",
            "engagement_transfer_accepted",
            "engagement_takeover_started",
            "engagement_ended",
        ]));
        assert_eq!(s.takeover_count, 1);
        assert_eq!(s.agent_user_id.as_deref(), Some(SAM));
        assert_eq!(s.agent_display_name.as_deref(), Some("Sam Supervisor"));
        assert_eq!(s.agent_chain, [ANA, BO, SAM]);
        assert_eq!(s.transfer_count, 1);
    }

    #[test]
    fn conference_events_are_counted_and_not_read() {
        let s = merged_in_any_order(&fixtures(&[
            "engagement_started",
            "engagement_user_answered",
            "engagement_conference_participant_invited",
            "engagement_conference_participant_joined",
        ]));
        assert_eq!(s.unmodelled_event_count, 2);
        assert_eq!(s.agent_user_id.as_deref(), Some(ANA));
        assert_eq!(s.event_count, 4);
    }

    /// Every published body is an authentic event about its engagement or its agent.
    #[test]
    fn every_fixture_is_routed_to_its_engagement_or_agent() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/zoom");
        let mut seen = 0;
        for sub in ["", "/inferred"] {
            for entry in std::fs::read_dir(format!("{dir}{sub}")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let e = webhook(&std::fs::read_to_string(&path).unwrap());
                let name = path.display().to_string();
                match e.subject() {
                    crate::event::Subject::Engagement(id) => {
                        assert_eq!(id.as_str(), "Qk9PTGVhbmdhZ2VtZW50MQ", "{name}")
                    }
                    crate::event::Subject::Agent(id) => assert!(!id.as_str().is_empty()),
                    crate::event::Subject::Unrouted => {}
                }
                seen += 1;
            }
        }
        assert!(seen >= 90, "only {seen} fixtures");
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
