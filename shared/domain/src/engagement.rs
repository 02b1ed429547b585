//! The engagement state item: what screen pops, CRM logging and reports read. It is a pure
//! merge of the distinct events that arrived, so any order of them gives the same item.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{AuthenticEvent, EventKind, Source};
use crate::flow::FlowEvent;
use crate::ledger::{Ledger, Stored};
use crate::merge::{Stamps, State, earliest, insert_sorted, latest, set_latest, set_stable};
use crate::timestamp::Timestamp;
use crate::zoom::{ZoomApiEngagement, ZoomEvent};

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

/// An offer of the engagement to one agent (a task reservation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Offer {
    pub user_id: Option<String>,
    pub queue_id: Option<String>,
    pub offered_at: Option<Timestamp>,
    /// What became of it: `accepted`, `rejected`, `timeout`, `canceled`, `completed`.
    pub outcomes: BTreeSet<String>,
}

/// A file sent during a messaging engagement: its description, never its content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SentFile {
    pub at: Timestamp,
    /// `agent` or `consumer`.
    pub by: String,
    pub file_id: Option<String>,
    pub file_name: Option<String>,
    pub file_type: Option<String>,
    pub file_size: Option<i64>,
}

/// A channel upgrade (say, from chat to video).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Upgrade {
    pub at: Timestamp,
    /// `initiated`, `completed` or `expired`.
    pub status: String,
    pub to_channel: Option<String>,
    pub to_channel_source: Option<String>,
    /// Ties between upgrades of one instant break the same way everywhere.
    pub event_id: String,
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
    #[serde(skip_serializing_if = "is_zero")]
    pub unmute_count: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub dtmf_count: u32,
    /// Transfers the target accepted or completed, each counted once (by its task ids);
    /// `transfer_attempts` counts every one initiated.
    pub transfer_count: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub transfer_attempts: u32,
    /// Supervisors who monitored (listened, whispered, barged), by user id.
    pub supervisors: BTreeMap<String, Supervisor>,
    #[serde(skip_serializing_if = "is_zero")]
    pub monitor_count: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub takeover_count: u32,
    /// Transfers that reached their target (accepted or completed), by task ids, in time order.
    pub transfers: Vec<Transfer>,
    /// Time waiting in queues: from entering one (`task_entered_queue`) to an agent's answer,
    /// summed over the queues of its transfers. Absent without routing events.
    pub queue_wait_ms: Option<i64>,
    /// True when the engagement ended and no agent answered; false once one answered.
    pub abandoned: Option<bool>,
    /// Offers to agents (`task_reservation_*`), by reservation id.
    pub offers: BTreeMap<String, Offer>,
    #[serde(skip_serializing_if = "is_zero")]
    pub offer_count: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub offers_rejected: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub offers_timed_out: u32,
    pub offered_agents: BTreeSet<String>,
    /// The longest single hold.
    pub longest_hold_ms: Option<i64>,
    /// From the answer to the end of wrap-up (or the end): talk + hold + wrap-up.
    pub handle_ms: Option<i64>,
    #[serde(skip_serializing_if = "is_zero")]
    pub agent_message_count: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub consumer_message_count: u32,
    pub files: Vec<SentFile>,
    /// The channel the engagement began on; `channel` is the one it was upgraded to.
    pub original_channel: Option<String>,
    pub original_channel_source: Option<String>,
    pub upgrades: Vec<Upgrade>,
    pub survey_status: Option<String>,
    pub survey_id: Option<String>,
    pub survey_trigger_from: Option<String>,
    pub recording_ids: BTreeSet<String>,
    pub transcript_urls: BTreeSet<String>,
    /// When Zoom said the engagement's end data is ready (`cx_engagement_end_data_ready`).
    pub end_data_ready_at: Option<Timestamp>,
    /// The queues the engagement passed through, in time order (consecutive repeats merged).
    pub queue_chain: Vec<String>,
    /// The agents who handled it, in time order (consecutive repeats merged).
    pub agent_chain: Vec<String>,
    /// Events stored and counted that the state model does not interpret.
    #[serde(skip_serializing_if = "is_zero")]
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
    /// When the engagement entered a queue, and when an agent took it (answered, or accepted
    /// a transfer): the queue waits are derived from both.
    pub queue_entries: Vec<Timestamp>,
    /// The latest queue any event named, for when no routing event has.
    pub seen_queue_id: Option<String>,
    pub seen_queue_name: Option<String>,
    pub agent_answers: Vec<Timestamp>,
    pub legs: Vec<Leg>,
    pub stamps: Stamps,
    /// What the record keeps to merge each event exactly once, in a bounded size ([`Ledger`]).
    #[serde(flatten)]
    pub ledger: Ledger,
    /// Records written before the [`Ledger`] kept the key of every event merged here. Read,
    /// never written: the next merge turns them into a ledger.
    #[serde(default, skip_serializing)]
    pub merged_events: BTreeSet<String>,

    /// What Zoom's REST API said of the engagement (`zcc reconcile`): kept for the
    /// cross-check, and the source of what no webhook said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoom_api: Option<ZoomApiFigures>,
    /// The fields whose value came from [`zoom_api`](Self::zoom_api), not from a webhook or
    /// Flow event: each merge starts from the events' own values and fills these again, so
    /// a webhook arriving later replaces what Zoom's API said, whatever the order.
    pub filled_from_zoom_api: BTreeSet<String>,
}

/// Zoom's REST API facts as a record keeps them. Merged like any event, but they add no
/// event to `event_count`, `merged_events` or `last_event`: a record that got every webhook
/// is the same whether reconcile ran or not, apart from `sources` and this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZoomApiFigures {
    pub facts: ZoomApiEngagement,
    /// The stamp of the event the facts came from: of several fetches, the latest wins.
    pub stamp: String,
    /// The keys of the API events merged, so that each merges once.
    pub merged: BTreeSet<String>,
}

/// Counters beyond those every reader expects (`hold_count`, `mute_count`, `transfer_count`,
/// `event_count`) are left out of the item while zero: absent reads back as 0, and each one
/// written costs item size, which DynamoDB bills by the kilobyte on every write.
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl State for EngagementState {
    const ENTITY: &'static str = "engagement";
    fn fresh(id: &str) -> Self {
        Self::new(id)
    }
    fn has_seen(&self, event: &AuthenticEvent) -> bool {
        EngagementState::has_seen(self, event)
    }
    fn stored_verdict(&self, event: &AuthenticEvent) -> Stored {
        if event.kind() == EventKind::ZoomApi {
            // `zoom_api.merged` keeps every key of them.
            return Stored::NotMerged;
        }
        self.ledger_now().verdict(event)
    }
    fn settle(&self, event: &AuthenticEvent, raw: &[(u64, Source)]) -> Option<bool> {
        let events: Vec<u64> = raw
            .iter()
            .filter(|(_, source)| *source != Source::ZoomApi)
            .map(|(key, _)| *key)
            .collect();
        self.ledger_now().settle(event, &events, self.event_count)
    }
    fn apply(&mut self, event: &AuthenticEvent) {
        EngagementState::apply(self, event)
    }
    fn usually_first(event: &AuthenticEvent) -> bool {
        // A backfill writes Zoom's facts only for engagements the table lacks.
        event.kind() == EventKind::Zoom(ZoomEvent::EngagementStarted)
            || event.kind() == EventKind::ZoomApi
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

    /// Whether this exact event has been merged already.
    pub fn has_seen(&self, event: &AuthenticEvent) -> bool {
        self.ledger.has_seen(event)
            || self.merged_events.contains(&event.event_id().key())
            || self
                .zoom_api
                .as_ref()
                .is_some_and(|z| z.merged.contains(&event.event_id().key()))
    }

    /// The ledger, a record from before it read as one.
    fn ledger_now(&self) -> Cow<'_, Ledger> {
        if self.is_from_before_the_ledger() {
            Cow::Owned(Ledger::from_legacy_keys(
                &self.merged_events,
                self.event_count,
            ))
        } else {
            Cow::Borrowed(&self.ledger)
        }
    }

    /// Written before the [`Ledger`]: with every merged key, or (older still) none.
    fn is_from_before_the_ledger(&self) -> bool {
        // A ledger keeps the key of every event until it lets one go (and then its mark).
        !self.merged_events.is_empty()
            || (self.event_count > 0
                && self.ledger.recent_events.is_empty()
                && self.ledger.recent_since.is_none())
    }

    /// Merges one distinct event. The store guarantees each event is merged once.
    pub fn apply(&mut self, event: &AuthenticEvent) {
        // Every merge starts from what the events themselves said; Zoom's API facts fill in
        // again at the end (derive).
        self.unfill_from_zoom_api();
        if event.kind() == EventKind::ZoomApi {
            self.apply_zoom_api(event);
            self.derive();
            return;
        }
        let stamp = event.stamp();
        let at = event.occurred_at();
        // Zoom's API facts keep their own keys (`zoom_api.merged`): the ledger is the events'.
        if self.is_from_before_the_ledger() {
            self.ledger = Ledger::from_legacy_keys(&self.merged_events, self.event_count);
            self.merged_events.clear();
        }
        self.ledger.insert(event);
        let s = &mut self.stamps;

        self.event_count += 1;
        self.sources.insert(event.source().as_str().to_owned());
        earliest(&mut self.first_event_at, at);
        if crate::merge::newer(s, "last_event", &stamp) {
            self.last_event = Some(event.name().to_owned());
            self.last_event_at = Some(at);
        }
        set_stable(&mut self.account_id, event.account_id().map(str::to_owned));

        match event.kind() {
            EventKind::Zoom(zoom) => self.apply_zoom(zoom, event, &stamp, at),
            EventKind::Flow(flow) => self.apply_flow(flow, event, &stamp, at),
            EventKind::ZoomApi => {}
        }
        self.derive();
    }

    fn apply_zoom_api(&mut self, event: &AuthenticEvent) {
        let Some(facts) = event.zoom_api_facts() else {
            return;
        };
        self.sources.insert(event.source().as_str().to_owned());
        let stamp = event.stamp();
        let figures = self.zoom_api.get_or_insert_with(ZoomApiFigures::default);
        figures.merged.insert(event.event_id().key());
        if figures.stamp < stamp {
            figures.stamp = stamp;
            figures.facts = facts;
        }
    }

    /// Puts back the fields [`fill_from_zoom_api`](Self::fill_from_zoom_api) filled, to what
    /// the events said (nothing), before the next event is merged.
    fn unfill_from_zoom_api(&mut self) {
        for name in std::mem::take(&mut self.filled_from_zoom_api) {
            match name.as_str() {
                "started_at" => self.started_at = None,
                "ended_at" => self.ended_at = None,
                "first_event_at" => self.first_event_at = None,
                "transfer_count" => self.transfer_count = self.transfers.len() as u32,
                other => {
                    if let Some(slot) = self.filled_text(other) {
                        *slot = None;
                    }
                }
            }
        }
    }

    /// The text fields Zoom's API may fill, by name.
    fn filled_text(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "account_id" => &mut self.account_id,
            "channel" => &mut self.channel,
            "channel_source" => &mut self.channel_source,
            "direction" => &mut self.direction,
            "flow_id" => &mut self.flow_id,
            "flow_name" => &mut self.flow_name,
            "consumer_id" => &mut self.consumer_id,
            "consumer_number" => &mut self.consumer_number,
            "consumer_display_name" => &mut self.consumer_display_name,
            "queue_id" => &mut self.queue_id,
            "queue_name" => &mut self.queue_name,
            "agent_user_id" => &mut self.agent_user_id,
            "agent_display_name" => &mut self.agent_display_name,
            "disposition_id" => &mut self.disposition_id,
            "disposition_name" => &mut self.disposition_name,
            "survey_id" => &mut self.survey_id,
            _ => return None,
        })
    }

    /// Times Zoom's API gives that no event gave: before the figures are derived, so that
    /// status, day and durations follow from them.
    fn fill_times_from_zoom_api(&mut self) {
        let Some(facts) = self.zoom_api.as_ref().map(|z| z.facts.clone()) else {
            return;
        };
        let mut fill = |slot: &mut Option<Timestamp>, value: Option<Timestamp>, name: &str| {
            if slot.is_none() && value.is_some() {
                *slot = value;
                self.filled_from_zoom_api.insert(name.to_owned());
            }
        };
        fill(&mut self.started_at, facts.start_time, "started_at");
        fill(&mut self.ended_at, facts.end_time, "ended_at");
        fill(
            &mut self.first_event_at,
            facts.start_time.or(facts.end_time),
            "first_event_at",
        );
    }

    /// What no event said, from Zoom's API: only while no webhook said how the engagement
    /// ended. Once one did, the webhooks are taken as the whole story (a differing figure is
    /// the cross-check's finding, not silently patched), so a record that got every webhook
    /// is the same whether reconcile ran before it, after it, or never.
    fn fill_rest_from_zoom_api(&mut self) {
        let Some(facts) = self.zoom_api.as_ref().map(|z| z.facts.clone()) else {
            return;
        };
        if self.ended_at.is_some() && !self.filled_from_zoom_api.contains("ended_at") {
            return;
        }
        let texts = [
            ("account_id", facts.account_id.clone()),
            ("channel", facts.channel.clone()),
            ("channel_source", facts.channel_source.clone()),
            ("direction", facts.direction.clone()),
            ("flow_id", facts.flow_id.clone()),
            ("flow_name", facts.flow_name.clone()),
            ("consumer_id", facts.consumer_id.clone()),
            ("consumer_number", facts.consumer_number.clone()),
            ("consumer_display_name", facts.consumer_display_name.clone()),
            ("queue_id", facts.queue_id.clone()),
            ("queue_name", facts.queue_name.clone()),
            ("agent_user_id", facts.agent_user_id.clone()),
            ("agent_display_name", facts.agent_display_name.clone()),
            ("disposition_id", facts.disposition_id.clone()),
            ("disposition_name", facts.disposition_name.clone()),
            ("survey_id", facts.survey_id.clone()),
        ];
        for (name, value) in texts {
            let Some(slot) = self.filled_text(name) else {
                continue;
            };
            if slot.is_none() && value.is_some() {
                *slot = value;
                self.filled_from_zoom_api.insert(name.to_owned());
            }
        }
        let seconds = |s: Option<i64>| s.filter(|s| *s > 0).map(|s| s * 1000);
        // Derived figures are computed again on every merge: filling them needs no undoing.
        if self.talk_ms.is_none() {
            self.talk_ms = seconds(facts.talk_s);
        }
        if self.wrap_up_ms.is_none() {
            self.wrap_up_ms = seconds(facts.wrap_up_s);
        }
        if self.handle_ms.is_none() {
            self.handle_ms = seconds(facts.handling_s);
        }
        if self.queue_wait_ms.is_none() {
            self.queue_wait_ms = seconds(facts.waiting_s);
        }
        if self.transfers.is_empty()
            && let Some(n) = facts.transfer_count.filter(|n| *n > 0)
        {
            self.transfer_count = n;
            self.filled_from_zoom_api
                .insert("transfer_count".to_owned());
        }
        let answered = self.answered_at.is_some()
            || self.accepted_at.is_some()
            || !self.agent_answers.is_empty();
        if !answered && self.ended_at.is_some() {
            self.abandoned = Some(facts.talk_s.unwrap_or(0) == 0 && facts.agents.is_empty());
        }
    }

    fn apply_zoom(&mut self, zoom: ZoomEvent, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let s = &mut self.stamps;
        set_stable(&mut self.original_channel, e.field("channel"));
        set_stable(&mut self.original_channel_source, e.field("channel_source"));
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
        // Where the engagement is queued is said by the events that route it (see `legs`);
        // any other event naming a queue (a transfer's is the queue it leaves) only fills in
        // while none has.
        set_latest(
            s,
            "seen_queue_id",
            stamp,
            &mut self.seen_queue_id,
            e.field("cc_queue_id"),
        );
        set_latest(
            s,
            "seen_queue_name",
            stamp,
            &mut self.seen_queue_name,
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
                insert_sorted(&mut self.agent_answers, at);
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
                if zoom == ZoomEvent::TransferAccepted {
                    insert_sorted(&mut self.agent_answers, at);
                }
                self.transfer_from(e, stamp, at)
            }
            ZoomEvent::TaskEnteredQueue => {
                insert_sorted(&mut self.queue_entries, at);
                self.leg(e, at, e.field("cc_queue_id"), e.field("queue_name"), "", "");
            }
            ZoomEvent::ReservationCreated
            | ZoomEvent::ReservationAccepted
            | ZoomEvent::ReservationRejected
            | ZoomEvent::ReservationTimeout
            | ZoomEvent::ReservationCanceled
            | ZoomEvent::ReservationCompleted => self.offer_from(zoom, e),
            // Message text is the customer's content: it stays in the raw event only.
            ZoomEvent::UserSentMessage => self.agent_message_count += 1,
            ZoomEvent::ConsumerSentMessage => self.consumer_message_count += 1,
            ZoomEvent::UserSentFile => self.files_from(e, at, "agent"),
            ZoomEvent::ConsumerSentFile => self.files_from(e, at, "consumer"),
            ZoomEvent::UpgradeInitiated
            | ZoomEvent::UpgradeCompleted
            | ZoomEvent::UpgradeExpired => {
                let status = match zoom {
                    ZoomEvent::UpgradeInitiated => "initiated",
                    ZoomEvent::UpgradeCompleted => "completed",
                    _ => "expired",
                };
                insert_sorted(
                    &mut self.upgrades,
                    Upgrade {
                        at,
                        status: status.to_owned(),
                        to_channel: e.field("upgrade_to_channel"),
                        to_channel_source: e.field("upgrade_to_channel_source"),
                        event_id: e.event_id().short().to_owned(),
                    },
                );
            }
            ZoomEvent::SurveyStatus => {
                set_latest(
                    s,
                    "survey_status",
                    stamp,
                    &mut self.survey_status,
                    e.field("survey_status"),
                );
                set_stable(&mut self.survey_id, e.field("survey_id"));
                set_stable(
                    &mut self.survey_trigger_from,
                    e.field("survey_trigger_from"),
                );
            }
            ZoomEvent::RecordingStarted
            | ZoomEvent::RecordingPaused
            | ZoomEvent::RecordingResumed
            | ZoomEvent::RecordingStopped
            | ZoomEvent::RecordingCompleted => self.recording_ids.extend(e.field("recording_id")),
            ZoomEvent::TranscriptCompleted => {
                self.recording_ids.extend(e.field("recording_id"));
                self.transcript_urls.extend(e.field("transcript_url"));
            }
            ZoomEvent::EndDataReady => earliest(&mut self.end_data_ready_at, at),
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

    fn offer_from(&mut self, zoom: ZoomEvent, e: &AuthenticEvent) {
        let Some(id) = e.field("task_reservation_id") else {
            return;
        };
        let offer = self.offers.entry(id).or_default();
        set_stable(&mut offer.user_id, e.field("assigned_user_id"));
        set_stable(&mut offer.queue_id, e.field("cc_queue_id"));
        if let Some(created) = e
            .field("created_time_ms")
            .and_then(|t| Timestamp::parse(&t).ok())
        {
            earliest(&mut offer.offered_at, created);
        }
        let outcome = match zoom {
            ZoomEvent::ReservationAccepted => "accepted",
            ZoomEvent::ReservationRejected => "rejected",
            ZoomEvent::ReservationTimeout => "timeout",
            ZoomEvent::ReservationCanceled => "canceled",
            ZoomEvent::ReservationCompleted => "completed",
            _ => return,
        };
        offer.outcomes.insert(outcome.to_owned());
    }

    fn files_from(&mut self, e: &AuthenticEvent, at: Timestamp, by: &str) {
        let files = e.fields().get("files").and_then(Value::as_array);
        for file in files.into_iter().flatten().filter_map(Value::as_object) {
            insert_sorted(
                &mut self.files,
                SentFile {
                    at,
                    by: by.to_owned(),
                    file_id: crate::zoom::text(file, "file_id"),
                    file_name: crate::zoom::text(file, "file_name"),
                    file_type: crate::zoom::text(file, "file_type"),
                    file_size: file.get("file_size").and_then(Value::as_i64),
                },
            );
        }
    }

    /// A transfer the target accepted or completed: it moves the final queue and agent (as
    /// of its time), adds a leg, and is counted once by its task ids.
    fn transfer_from(&mut self, e: &AuthenticEvent, stamp: &str, at: Timestamp) {
        let to_queue = e.field("transfer_to_cc_queue_id");
        let to_queue_name = e.field("transfer_to_queue_name");
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
        // A variable without a name or a value (null, [], {}) is none: the record could not
        // hold it (found by fuzzing).
        let has_value = |v: &Value| match v {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        };
        for (name, value) in variables.filter(|(name, value)| !name.is_empty() && has_value(value))
        {
            if crate::merge::newer(s, &format!("var:{name}"), stamp) {
                self.flow_variables.insert(name.clone(), value.clone());
            }
        }
    }

    /// Figures computed from what has arrived, never from the order it arrived in.
    fn derive(&mut self) {
        self.fill_times_from_zoom_api();
        // The final queue is the latest the engagement was routed to: answered in, entered,
        // transferred to (accepted), or taken over in.
        match self.legs.iter().rev().find(|l| l.queue_id.is_some()) {
            Some(leg) => {
                self.queue_id = leg.queue_id.clone();
                self.queue_name = leg.queue_name.clone().or_else(|| {
                    self.legs
                        .iter()
                        .rev()
                        .filter(|l| l.queue_id == leg.queue_id)
                        .find_map(|l| l.queue_name.clone())
                });
            }
            None => {
                self.queue_id = self.seen_queue_id.clone().or(self.queue_id.take());
                self.queue_name = self.seen_queue_name.clone().or(self.queue_name.take());
            }
        }
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
        self.handle_ms = self
            .talk_ms
            .map(|talk| talk + self.total_hold_ms + self.wrap_up_ms.unwrap_or(0));
        self.longest_hold_ms = self.hold_intervals().map(|(from, to)| to - from).max();
        self.abandoned = if answered.is_some() || !self.agent_answers.is_empty() {
            Some(false)
        } else if self.ended_at.is_some() {
            Some(true)
        } else {
            None
        };
        self.queue_wait_ms = self.queue_waits();
        self.offer_count = self.offers.len() as u32;
        let with = |outcome: &str| {
            self.offers
                .values()
                .filter(|o| o.outcomes.contains(outcome))
                .count() as u32
        };
        self.offers_rejected = with("rejected");
        self.offers_timed_out = with("timeout");
        self.offered_agents = self
            .offers
            .values()
            .filter_map(|o| o.user_id.clone())
            .collect();
        let upgraded = self.upgrades.iter().rev().find(|u| u.status == "completed");
        match upgraded {
            Some(u) => {
                self.channel = u.to_channel.clone().or(self.original_channel.clone());
                self.channel_source = u.to_channel_source.clone();
            }
            None if self.original_channel.is_some() || self.original_channel_source.is_some() => {
                self.channel = self.original_channel.clone();
                self.channel_source = self.original_channel_source.clone();
            }
            // A record written before the original channel was kept: left as it is.
            None => {}
        }
        self.fill_rest_from_zoom_api();
    }

    /// Each stay in a queue lasts from entering it to the first agent answer after that,
    /// or, unanswered, to the next queue or the end. Stays still open are not counted.
    fn queue_waits(&self) -> Option<i64> {
        if self.queue_entries.is_empty() {
            return None;
        }
        let mut total = 0;
        for (i, entered) in self.queue_entries.iter().enumerate() {
            let next = self.queue_entries.get(i + 1);
            let answer = self
                .agent_answers
                .iter()
                .find(|a| *a >= entered && next.is_none_or(|n| *a < n));
            let left = answer.or(next).or(self.ended_at.as_ref());
            if let Some(left) = left {
                total += (left.unix_millis() - entered.unix_millis()).max(0);
            }
        }
        Some(total)
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
        let mut empty = EngagementState::new("e1");
        empty.apply(&flow(
            r#"{"event":"engagement_accepted","engagement_id":"e1","":"x","variables":{"gone":null,"empty":[],"obj":{},"kept":0}}"#,
        ));
        assert_eq!(empty.flow_variables.keys().collect::<Vec<_>>(), ["kept"]);
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

    /// A published body about engagement `e1`, at `at`, with some values changed.
    fn shaped(name: &str, at: &str, values: serde_json::Value) -> AuthenticEvent {
        let fields = crate::published::body(name, "e1", Timestamp::parse(at).unwrap()).expect(name)
            ["payload"]["object"]
            .clone();
        for field in values.as_object().unwrap().keys() {
            assert!(fields.get(field).is_some(), "{name} has no {field}");
        }
        let body = crate::published::shaped(name, "e1", Timestamp::parse(at).unwrap(), values);
        webhook(&body.to_string())
    }

    fn offer(name: &str, at: &str, id: &str, user: &str) -> AuthenticEvent {
        shaped(
            name,
            at,
            serde_json::json!({"task_reservation_id": id, "assigned_user_id": user,
                "created_time_ms": "2026-12-01T10:00:03.000Z"}),
        )
    }

    #[test]
    fn the_contact_trace_of_an_answered_call() {
        let none = serde_json::json!({});
        let s = merged_in_any_order(&[
            shaped(
                "engagement_started",
                "2026-12-01T10:00:00.000Z",
                none.clone(),
            ),
            shaped(
                "task_entered_queue",
                "2026-12-01T10:00:02.000Z",
                none.clone(),
            ),
            offer(
                "task_reservation_created",
                "2026-12-01T10:00:03.000Z",
                "r1",
                BO,
            ),
            offer(
                "task_reservation_rejected",
                "2026-12-01T10:00:05.000Z",
                "r1",
                BO,
            ),
            offer(
                "task_reservation_created",
                "2026-12-01T10:00:06.000Z",
                "r2",
                ANA,
            ),
            offer(
                "task_reservation_accepted",
                "2026-12-01T10:00:09.000Z",
                "r2",
                ANA,
            ),
            shaped(
                "engagement_user_answered",
                "2026-12-01T10:00:10.000Z",
                none.clone(),
            ),
            shaped(
                "engagement_user_hold",
                "2026-12-01T10:01:00.000Z",
                none.clone(),
            ),
            shaped(
                "engagement_user_unhold",
                "2026-12-01T10:01:30.000Z",
                none.clone(),
            ),
            shaped(
                "engagement_user_hold",
                "2026-12-01T10:02:00.000Z",
                none.clone(),
            ),
            shaped(
                "engagement_user_unhold",
                "2026-12-01T10:02:45.000Z",
                none.clone(),
            ),
            shaped(
                "engagement_wrap_up_started",
                "2026-12-01T10:04:00.000Z",
                none.clone(),
            ),
            shaped("engagement_ended", "2026-12-01T10:04:00.500Z", none.clone()),
            shaped("engagement_wrap_up_ended", "2026-12-01T10:05:00.000Z", none),
        ]);
        assert_eq!(s.queue_wait_ms, Some(8_000));
        assert_eq!(s.abandoned, Some(false));
        assert_eq!(
            (s.offer_count, s.offers_rejected, s.offers_timed_out),
            (2, 1, 0)
        );
        assert_eq!(
            s.offered_agents,
            BTreeSet::from([ANA.to_owned(), BO.to_owned()])
        );
        assert_eq!((s.hold_count, s.total_hold_ms), (2, 75_000));
        assert_eq!(s.longest_hold_ms, Some(45_000));
        assert_eq!(s.talk_ms, Some(230_000 - 75_000));
        assert_eq!(s.wrap_up_ms, Some(60_000));
        assert_eq!(s.handle_ms, Some(290_000), "answer to the end of wrap-up");
        assert_eq!(s.time_to_answer_ms, Some(10_000));
        assert_eq!(s.status, EngagementStatus::Ended);
        assert_eq!(s.unmodelled_event_count, 0);
    }

    #[test]
    fn the_contact_trace_of_a_call_abandoned_in_the_queue() {
        let none = serde_json::json!({});
        let s = merged_in_any_order(&[
            shaped(
                "engagement_started",
                "2026-12-01T10:00:00.000Z",
                none.clone(),
            ),
            shaped(
                "task_entered_queue",
                "2026-12-01T10:00:02.000Z",
                none.clone(),
            ),
            offer(
                "task_reservation_created",
                "2026-12-01T10:00:03.000Z",
                "r1",
                ANA,
            ),
            offer(
                "task_reservation_timeout",
                "2026-12-01T10:00:23.000Z",
                "r1",
                ANA,
            ),
            shaped("engagement_ended", "2026-12-01T10:01:02.000Z", none),
        ]);
        assert_eq!(s.abandoned, Some(true));
        assert_eq!(s.queue_wait_ms, Some(60_000));
        assert_eq!(
            (s.offer_count, s.offers_rejected, s.offers_timed_out),
            (1, 0, 1)
        );
        assert_eq!(s.answered_at, None);
        assert_eq!((s.talk_ms, s.handle_ms), (None, None));
        assert_eq!(s.agent_user_id, None);
    }

    #[test]
    fn an_engagement_in_progress_is_not_yet_abandoned() {
        let s = merged(&[shaped(
            "engagement_started",
            "2026-12-01T10:00:00.000Z",
            serde_json::json!({}),
        )]);
        assert_eq!(s.abandoned, None);
        assert_eq!(s.queue_wait_ms, None, "unknown without routing events");
    }

    #[test]
    fn messaging_counts_files_and_upgrades_without_copying_content() {
        let events = fixtures(&[
            "engagement_user_sent_message",
            "engagement_consumer_sent_message",
            "engagement_user_sent_file",
            "engagement_consumer_sent_file",
            "engagement_upgrade_initiated",
            "engagement_upgrade_completed",
            "engagement_survey_status",
            "recording_started",
            "recording_completed",
            "recording_transcript_completed",
            "engagement_messaging_transcript_completed",
            "cx_engagement_end_data_ready",
        ]);
        let s = merged_in_any_order(&events);
        assert_eq!((s.agent_message_count, s.consumer_message_count), (1, 1));
        assert_eq!(s.files.len(), 2);
        assert_eq!(s.files[0].by, "agent");
        assert!(
            s.files
                .iter()
                .all(|f| f.file_name.is_some() && f.file_size.is_some())
        );
        assert_eq!(s.original_channel.as_deref(), Some("messaging"));
        assert_eq!(
            s.channel.as_deref(),
            Some("video"),
            "the channel upgraded to"
        );
        assert_eq!(s.channel_source.as_deref(), Some("web_video"));
        assert_eq!(s.upgrades.len(), 2);
        assert_eq!(s.survey_status.as_deref(), Some("completed"));
        assert_eq!(s.survey_id.as_deref(), Some("survey-csat-1"));
        assert_eq!(s.recording_ids, BTreeSet::from(["rec-1".to_owned()]));
        assert_eq!(s.transcript_urls.len(), 2);
        assert!(s.end_data_ready_at.is_some());
        let stored = serde_json::to_string(&s).unwrap();
        for e in &events {
            if let Some(text) = e.field("message_text") {
                assert!(!stored.contains(&text), "message text copied into state");
            }
        }
    }

    #[test]
    fn an_expired_upgrade_leaves_the_channel() {
        let s = merged_in_any_order(&fixtures(&[
            "engagement_user_sent_message",
            "engagement_upgrade_initiated",
            "engagement_upgrade_expired",
        ]));
        assert_eq!(s.channel.as_deref(), Some("messaging"));
        assert_eq!(s.upgrades.len(), 2);
    }

    #[test]
    fn routing_events_take_their_time_from_the_task() {
        let e = fixture("task_reservation_rejected");
        assert!(e.is_timed());
        assert_eq!(e.occurred_at().to_iso(), "2026-11-30T14:00:12.000Z");
    }

    /// What each field of each published body does to the state, one event at a time: a
    /// state field and the body field (`=name`) or the value it must hold.
    #[test]
    fn each_published_field_lands_where_it_should() {
        use serde_json::json;
        let cases: &[(&str, &[(&str, Value)])] = &[
            (
                "engagement_started",
                &[
                    ("/started_at", json!("=date_time_ms")),
                    ("/channel", json!("=channel")),
                    ("/direction", json!("=engagement_direction")),
                    ("/flow_id", json!("=flow_id")),
                    ("/flow_name", json!("=flow_name")),
                    ("/status", json!("started")),
                ],
            ),
            (
                "engagement_ended",
                &[
                    ("/ended_at", json!("=date_time_ms")),
                    ("/status", json!("ended")),
                    ("/abandoned", json!(true)),
                ],
            ),
            (
                "engagement_consumer_notified",
                &[
                    ("/consumer_notified_at", json!("=date_time_ms")),
                    ("/consumer_number", json!("=consumer_number")),
                ],
            ),
            (
                "engagement_consumer_answered",
                &[("/consumer_answered_at", json!("=date_time_ms"))],
            ),
            (
                "engagement_consumer_ended",
                &[("/consumer_ended_at", json!("=date_time_ms"))],
            ),
            (
                "engagement_user_answered",
                &[
                    ("/answered_at", json!("=date_time_ms")),
                    ("/agent_user_id", json!("=user_id")),
                    ("/agent_display_name", json!("=user_display_name")),
                    ("/queue_id", json!("=cc_queue_id")),
                    ("/queue_name", json!("=queue_name")),
                    ("/consumer_id", json!("=consumer_id")),
                    ("/consumer_display_name", json!("=consumer_display_name")),
                    ("/status", json!("answered")),
                    ("/abandoned", json!(false)),
                    ("/flow_number", json!("=flow_number")),
                ],
            ),
            (
                "engagement_user_ended",
                &[("/agent_ended_at", json!("=date_time_ms"))],
            ),
            (
                "engagement_user_hold",
                &[("/hold_count", json!(1)), ("/status", json!("held"))],
            ),
            (
                "engagement_user_unhold",
                &[("/hold_count", json!(0)), ("/status", json!("started"))],
            ),
            ("engagement_user_muted", &[("/mute_count", json!(1))]),
            ("engagement_user_unmuted", &[("/unmute_count", json!(1))]),
            ("engagement_user_dtmf_sent", &[("/dtmf_count", json!(1))]),
            (
                "engagement_wrap_up_started",
                &[
                    ("/wrap_up_started_at", json!("=date_time_ms")),
                    ("/status", json!("wrap_up")),
                ],
            ),
            (
                "engagement_wrap_up_ended",
                &[("/wrap_up_ended_at", json!("=date_time_ms"))],
            ),
            (
                "engagement_disposition_added",
                &[
                    ("/disposition_id", json!("=disposition_id")),
                    ("/disposition_name", json!("=disposition_name")),
                ],
            ),
            (
                "engagement_transfer_initiated",
                &[
                    ("/transfer_attempts", json!(1)),
                    ("/transfer_count", json!(0)),
                    ("/queue_id", json!("=cc_queue_id")),
                ],
            ),
            (
                "engagement_transfer_accepted",
                &[
                    ("/transfer_count", json!(1)),
                    ("/queue_id", json!("=transfer_to_cc_queue_id")),
                    ("/queue_name", json!("=transfer_to_queue_name")),
                    ("/agent_user_id", json!("=transfer_to_user_id")),
                    ("/transfers/0/from_queue_id", json!("=cc_queue_id")),
                    ("/transfers/0/from_user_id", json!("=user_id")),
                    ("/transfers/0/transfer_type", json!("=transfer_type")),
                    ("/transfers/0/transfer_level", json!("=transfer_level")),
                ],
            ),
            (
                "engagement_transfer_completed",
                &[
                    ("/transfer_count", json!(1)),
                    ("/queue_id", json!("=transfer_to_cc_queue_id")),
                ],
            ),
            (
                "engagement_transfer_canceled",
                &[
                    ("/transfer_count", json!(0)),
                    ("/agent_user_id", json!(null)),
                ],
            ),
            (
                "engagement_transfer_rejected",
                &[
                    ("/transfer_count", json!(0)),
                    ("/agent_user_id", json!(null)),
                ],
            ),
            (
                "engagement_transfer_timeout",
                &[
                    ("/transfer_count", json!(0)),
                    ("/agent_user_id", json!(null)),
                ],
            ),
            (
                "engagement_monitor_started",
                &[
                    ("/monitor_count", json!(1)),
                    ("/agent_user_id", json!(null)),
                    (
                        "/supervisors/supV1sorUserId000001/started_at",
                        json!("=date_time_ms"),
                    ),
                    (
                        "/supervisors/supV1sorUserId000001/display_name",
                        json!("=monitoring_user_display_name"),
                    ),
                ],
            ),
            (
                "engagement_monitor_ended",
                &[
                    ("/monitor_count", json!(0)),
                    (
                        "/supervisors/supV1sorUserId000001/ended_at",
                        json!("=date_time_ms"),
                    ),
                ],
            ),
            (
                "engagement_takeover_started",
                &[
                    ("/takeover_count", json!(1)),
                    ("/agent_user_id", json!("=takeover_user_id")),
                ],
            ),
            (
                "task_entered_queue",
                &[
                    ("/queue_id", json!("=cc_queue_id")),
                    ("/queue_chain/0", json!("=cc_queue_id")),
                ],
            ),
            (
                "task_reservation_created",
                &[
                    ("/offer_count", json!(1)),
                    ("/offers/resv-1/user_id", json!("=assigned_user_id")),
                ],
            ),
            (
                "task_reservation_rejected",
                &[("/offers_rejected", json!(1))],
            ),
            (
                "task_reservation_timeout",
                &[("/offers_timed_out", json!(1))],
            ),
            (
                "engagement_user_sent_message",
                &[("/agent_message_count", json!(1))],
            ),
            (
                "engagement_consumer_sent_message",
                &[("/consumer_message_count", json!(1))],
            ),
            (
                "engagement_user_sent_file",
                &[("/files/0/by", json!("agent"))],
            ),
            (
                "engagement_consumer_sent_file",
                &[("/files/0/by", json!("consumer"))],
            ),
            (
                "engagement_upgrade_completed",
                &[
                    ("/channel", json!("=upgrade_to_channel")),
                    ("/original_channel", json!("=channel")),
                ],
            ),
            (
                "engagement_survey_status",
                &[
                    ("/survey_status", json!("=survey_status")),
                    ("/survey_id", json!("=survey_id")),
                ],
            ),
            (
                "recording_started",
                &[("/recording_ids/0", json!("=recording_id"))],
            ),
            (
                "recording_transcript_completed",
                &[("/transcript_urls/0", json!("=transcript_url"))],
            ),
            (
                "cx_engagement_end_data_ready",
                &[("/end_data_ready_at", json!("=date_time_ms"))],
            ),
            (
                "engagement_conference_participant_joined",
                &[("/unmodelled_event_count", json!(1))],
            ),
        ];
        for (name, expectations) in cases {
            let event = fixture(name);
            let state = serde_json::to_value(merged(std::slice::from_ref(&event))).unwrap();
            assert_eq!(state["event_count"], 1, "{name}");
            for (pointer, expected) in *expectations {
                let expected = match expected.as_str().and_then(|e| e.strip_prefix('=')) {
                    Some(field) => {
                        let value = event
                            .fields()
                            .get(field)
                            .unwrap_or_else(|| panic!("{name} has no {field}"));
                        // Times are normalised to milliseconds.
                        match value.as_str().and_then(|t| Timestamp::parse(t).ok()) {
                            Some(t) if field.ends_with("time_ms") => Value::from(t.to_iso()),
                            _ => value.clone(),
                        }
                    }
                    None => expected.clone(),
                };
                // A counter at zero is left out of the item, and reads back as zero.
                let absent = if expected == 0 {
                    Value::from(0)
                } else {
                    Value::Null
                };
                let got = state.pointer(pointer).cloned().unwrap_or(absent);
                assert_eq!(got, expected, "{name}: {pointer}");
            }
        }
        assert!(cases.len() >= 35);
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
