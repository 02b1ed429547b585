//! What changed, as domain events: each change of an engagement or agent record (its image
//! before and after) becomes the notifications a customer's systems subscribe to (screen
//! pops, CRM logging). Each fires once per fact: decided from the two images, never from the
//! order events arrived in, and with an id that is the same whenever the same fact is
//! reported again, so that a consumer can drop a redelivery.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use crate::agent::AgentState;
use crate::engagement::{EngagementState, Transfer};

/// The `source` of every notification.
pub const SOURCE: &str = "zcc-events";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DetailType {
    #[serde(rename = "Engagement Started")]
    EngagementStarted,
    #[serde(rename = "Engagement Answered")]
    EngagementAnswered,
    #[serde(rename = "Engagement Transferred")]
    EngagementTransferred,
    #[serde(rename = "Engagement Ended")]
    EngagementEnded,
    #[serde(rename = "Engagement Updated")]
    EngagementUpdated,
    #[serde(rename = "Agent Status Changed")]
    AgentStatusChanged,
    #[serde(rename = "Agent Logged In")]
    AgentLoggedIn,
    #[serde(rename = "Agent Logged Out")]
    AgentLoggedOut,
    #[serde(rename = "Agent Queues Changed")]
    AgentQueuesChanged,
}

impl DetailType {
    pub const ALL: [DetailType; 9] = [
        Self::EngagementStarted,
        Self::EngagementAnswered,
        Self::EngagementTransferred,
        Self::EngagementEnded,
        Self::EngagementUpdated,
        Self::AgentStatusChanged,
        Self::AgentLoggedIn,
        Self::AgentLoggedOut,
        Self::AgentQueuesChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EngagementStarted => "Engagement Started",
            Self::EngagementAnswered => "Engagement Answered",
            Self::EngagementTransferred => "Engagement Transferred",
            Self::EngagementEnded => "Engagement Ended",
            Self::EngagementUpdated => "Engagement Updated",
            Self::AgentStatusChanged => "Agent Status Changed",
            Self::AgentLoggedIn => "Agent Logged In",
            Self::AgentLoggedOut => "Agent Logged Out",
            Self::AgentQueuesChanged => "Agent Queues Changed",
        }
    }
}

/// One notification: what EventBridge carries as `detail-type` and `detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub detail_type: DetailType,
    /// The same for every report of the same fact: `<kind>/<id>/<fact>`.
    pub id: String,
    /// The record's version after the change: notifications of one record go out in this order.
    pub version: u64,
    pub detail: Value,
}

impl Notification {
    fn new(detail_type: DetailType, id: String, version: u64, mut detail: Value) -> Self {
        if let Some(object) = detail.as_object_mut() {
            object.insert("notification_id".into(), Value::from(id.clone()));
            object.insert("version".into(), Value::from(version));
        }
        Self {
            detail_type,
            id,
            version,
            detail,
        }
    }
}

/// What a screen pop or a CRM log needs of an engagement, as of this change.
fn engagement_summary(s: &EngagementState) -> Value {
    json!({
        "engagement_id": s.engagement_id,
        "account_id": s.account_id,
        "status": s.status,
        "channel": s.channel,
        "direction": s.direction,
        "queue_id": s.queue_id,
        "queue_name": s.queue_name,
        "agent_user_id": s.agent_user_id,
        "agent_display_name": s.agent_display_name,
        "agent_email": s.agent_email,
        "consumer_number": s.consumer_number,
        "consumer_display_name": s.consumer_display_name,
        "started_at": s.started_at,
        "answered_at": s.answered_at,
        "ended_at": s.ended_at,
        "disposition_name": s.disposition_name,
        "transfer_count": s.transfer_count,
    })
}

/// The facts an engagement's change reports. `old` is `None` for a record just created.
pub fn engagement_changes(
    old: Option<&EngagementState>,
    new: &EngagementState,
    version: u64,
) -> Vec<Notification> {
    let id = &new.engagement_id;
    let fact = |name: &str| format!("engagement/{id}/{name}");
    let was = |f: fn(&EngagementState) -> bool| old.is_some_and(f);
    let mut out = Vec::new();
    let summary = || json!({ "engagement": engagement_summary(new) });

    if new.started_at.is_some() && !was(|o| o.started_at.is_some()) {
        out.push(Notification::new(
            DetailType::EngagementStarted,
            fact("started"),
            version,
            summary(),
        ));
    }
    if new.answered_at.is_some() && !was(|o| o.answered_at.is_some()) {
        out.push(Notification::new(
            DetailType::EngagementAnswered,
            fact("answered"),
            version,
            summary(),
        ));
    }
    let known: BTreeSet<&str> = old
        .map(|o| o.transfers.iter().map(|t| t.key.as_str()).collect())
        .unwrap_or_default();
    for transfer in new
        .transfers
        .iter()
        .filter(|t| !known.contains(t.key.as_str()))
    {
        let mut detail = summary();
        detail["transfer"] = transfer_detail(transfer);
        out.push(Notification::new(
            DetailType::EngagementTransferred,
            fact(&format!("transferred/{}", transfer.key)),
            version,
            detail,
        ));
    }
    let ended_before = was(|o| o.ended_at.is_some());
    if new.ended_at.is_some() && !ended_before {
        let mut detail = summary();
        detail["figures"] = json!({
            "talk_ms": new.talk_ms, "total_hold_ms": new.total_hold_ms, "hold_count": new.hold_count,
            "wrap_up_ms": new.wrap_up_ms, "handle_ms": new.handle_ms, "queue_wait_ms": new.queue_wait_ms,
            "abandoned": new.abandoned, "time_to_answer_ms": new.time_to_answer_ms,
        });
        // The row reports are computed from (Firehose takes it from here at scale).
        detail["record"] =
            serde_json::to_value(crate::report::Row::of(new, version)).unwrap_or(Value::Null);
        out.push(Notification::new(
            DetailType::EngagementEnded,
            fact("ended"),
            version,
            detail,
        ));
    } else if ended_before {
        // Anything that arrives after the end (a late disposition, a note): one per change.
        out.push(Notification::new(
            DetailType::EngagementUpdated,
            fact(&format!("updated/{version}")),
            version,
            json!({
                "engagement": engagement_summary(new),
                "last_event": new.last_event,
                "last_event_at": new.last_event_at,
                "record": crate::report::Row::of(new, version),
            }),
        ));
    }
    out
}

fn transfer_detail(t: &Transfer) -> Value {
    json!({
        "at": t.at, "from_queue_id": t.from_queue_id, "from_user_id": t.from_user_id,
        "to_queue_id": t.to_queue_id, "to_queue_name": t.to_queue_name, "to_user_id": t.to_user_id,
        "to_user_display_name": t.to_user_display_name, "transfer_type": t.transfer_type,
        "transfer_level": t.transfer_level,
    })
}

fn agent_summary(a: &AgentState) -> Value {
    json!({
        "user_id": a.user_id,
        "account_id": a.account_id,
        "email": a.email,
        "display_name": a.display_name,
        "logged_in": a.logged_in,
        "status": a.status,
        "status_id": a.status_id,
        "sub_status": a.sub_status,
        "sub_status_id": a.sub_status_id,
        "status_since": a.status_since,
        "queues": a.queues,
    })
}

/// The facts an agent's change reports. `old` is `None` for a record just created.
pub fn agent_changes(
    old: Option<&AgentState>,
    new: &AgentState,
    version: u64,
) -> Vec<Notification> {
    let id = &new.user_id;
    let fact = |name: String| format!("agent/{id}/{name}");
    let iso = |t: Option<crate::timestamp::Timestamp>| t.map(|t| t.to_iso()).unwrap_or_default();
    let summary = || json!({ "agent": agent_summary(new) });
    let mut out = Vec::new();
    let login = |a: &AgentState| (a.logged_in, a.logged_in_since);
    if new.logged_in.is_some() && old.map(login) != Some(login(new)) {
        let (detail_type, name) = if new.logged_in == Some(true) {
            (DetailType::AgentLoggedIn, "logged_in")
        } else {
            (DetailType::AgentLoggedOut, "logged_out")
        };
        out.push(Notification::new(
            detail_type,
            fact(format!("{name}/{}", iso(new.logged_in_since))),
            version,
            summary(),
        ));
    }
    let status = |a: &AgentState| (a.status.clone(), a.sub_status.clone(), a.status_since);
    if new.status.is_some() && old.map(status) != Some(status(new)) {
        let mut detail = summary();
        detail["previous"] = json!({
            "status": old.and_then(|o| o.status.clone()),
            "sub_status": old.and_then(|o| o.sub_status.clone()),
        });
        out.push(Notification::new(
            DetailType::AgentStatusChanged,
            fact(format!("status/{}", iso(new.status_since))),
            version,
            detail,
        ));
    }
    let queues = old.map(|o| &o.queues);
    if queues.is_some_and(|q| *q != new.queues) || (old.is_none() && !new.queues.is_empty()) {
        let before = queues.cloned().unwrap_or_default();
        let mut detail = summary();
        detail["joined"] = json!(new.queues.difference(&before).collect::<Vec<_>>());
        detail["left"] = json!(before.difference(&new.queues).collect::<Vec<_>>());
        out.push(Notification::new(
            DetailType::AgentQueuesChanged,
            fact(format!("queues/{version}")),
            version,
            detail,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AuthenticEvent;
    use crate::event::testing::webhook;
    use crate::merge::State;
    use crate::timestamp::Timestamp;

    fn shaped(name: &str, at: &str) -> AuthenticEvent {
        let at = Timestamp::parse(at).unwrap();
        webhook(&crate::published::body(name, "e1", at).unwrap().to_string())
    }

    /// Applies events one by one, as the store does, and collects what each change reports.
    fn notified(events: &[AuthenticEvent]) -> Vec<Notification> {
        let mut state: Option<EngagementState> = None;
        let mut out = Vec::new();
        for (n, e) in events.iter().enumerate() {
            let mut next = state
                .clone()
                .unwrap_or_else(|| EngagementState::fresh("e1"));
            next.apply(e);
            out.extend(engagement_changes(state.as_ref(), &next, n as u64 + 1));
            state = Some(next);
        }
        out
    }

    fn types(notes: &[Notification]) -> Vec<&'static str> {
        notes.iter().map(|n| n.detail_type.as_str()).collect()
    }

    fn call() -> Vec<AuthenticEvent> {
        vec![
            shaped("engagement_started", "2026-12-01T10:00:00.000Z"),
            shaped("engagement_user_answered", "2026-12-01T10:00:09.000Z"),
            shaped("engagement_user_hold", "2026-12-01T10:01:00.000Z"),
            shaped("engagement_transfer_accepted", "2026-12-01T10:02:00.000Z"),
            shaped("engagement_transfer_completed", "2026-12-01T10:02:01.000Z"),
            shaped("engagement_ended", "2026-12-01T10:05:00.000Z"),
            shaped("engagement_disposition_added", "2026-12-01T10:05:30.000Z"),
        ]
    }

    #[test]
    fn a_call_reports_each_fact_once() {
        let notes = notified(&call());
        assert_eq!(
            types(&notes),
            [
                "Engagement Started",
                "Engagement Answered",
                "Engagement Transferred",
                "Engagement Ended",
                "Engagement Updated"
            ]
        );
        let answered = &notes[1].detail["engagement"];
        for field in [
            "agent_user_id",
            "agent_display_name",
            "queue_id",
            "consumer_number",
            "channel",
        ] {
            assert!(
                !answered[field].is_null(),
                "the screen pop needs {field}: {answered}"
            );
        }
        assert_eq!(notes[1].detail["notification_id"], "engagement/e1/answered");
        assert_eq!(notes[1].detail["version"], 2);
        assert_eq!(notes[2].detail["transfer"]["to_queue_id"], "q-billing");
        assert!(notes[3].detail["figures"]["talk_ms"].is_number());
        assert_eq!(notes[3].detail["record"]["ended"], true);
        assert_eq!(notes[4].detail["record"]["version"], 7);
        assert_eq!(
            notes[4].detail["record"]["disposition_name"],
            "Transferred to Billing"
        );
    }

    #[test]
    fn the_same_facts_whatever_the_order_with_the_same_ids() {
        let forward: BTreeSet<String> = notified(&call()).into_iter().map(|n| n.id).collect();
        let mut reversed = call();
        reversed.reverse();
        let backward = notified(&reversed);
        let ids: BTreeSet<String> = backward.iter().map(|n| n.id.clone()).collect();
        // Reversed, everything after the first event arrives "after the end": Updated, with
        // one id per version, stands in for the facts that were already known.
        for fact in ["started", "answered", "ended"] {
            assert!(ids.contains(&format!("engagement/e1/{fact}")), "{fact}");
            assert!(forward.contains(&format!("engagement/e1/{fact}")));
        }
        assert!(ids.contains("engagement/e1/transferred/task-1>task-2"));
        let each_once = backward
            .iter()
            .filter(|n| n.detail_type != DetailType::EngagementUpdated);
        assert_eq!(each_once.clone().count(), 4, "{:?}", types(&backward));
    }

    #[test]
    fn a_redelivered_change_reports_the_same_ids_and_nothing_new_for_a_duplicate() {
        let events = call();
        let mut state = EngagementState::fresh("e1");
        state.apply(&events[0]);
        let first = engagement_changes(None, &state, 1);
        let again = engagement_changes(None, &state, 1);
        assert_eq!(first, again);
        // A change that changes nothing reported (a mute) reports nothing.
        let mut next = state.clone();
        next.apply(&shaped("engagement_user_muted", "2026-12-01T10:00:05.000Z"));
        assert!(engagement_changes(Some(&state), &next, 2).is_empty());
    }

    /// Changes replayed out of version order (a retried batch after later ones went out)
    /// report exactly the facts, and ids, they reported the first time.
    #[test]
    fn a_change_replayed_out_of_order_reports_the_same_facts() {
        let events = call();
        let mut states = vec![None];
        for e in &events {
            let mut next = states
                .last()
                .cloned()
                .flatten()
                .unwrap_or_else(|| EngagementState::fresh("e1"));
            next.apply(e);
            states.push(Some(next));
        }
        let change = |v: usize| {
            engagement_changes(
                states[v - 1].as_ref(),
                states[v].as_ref().unwrap(),
                v as u64,
            )
        };
        let first: Vec<Vec<Notification>> = (1..states.len()).map(change).collect();
        for v in (1..states.len()).rev() {
            assert_eq!(change(v), first[v - 1], "version {v}");
        }
        let ids: Vec<&str> = first.iter().flatten().map(|n| n.id.as_str()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "each fact once: {ids:?}");
    }

    #[test]
    fn agents_report_login_status_and_queues() {
        let presence = |name: &str, at: &str| {
            webhook(
                &crate::published::body(name, "-", Timestamp::parse(at).unwrap())
                    .unwrap()
                    .to_string(),
            )
        };
        let mut state: Option<AgentState> = None;
        let mut out = Vec::new();
        for (n, e) in [
            presence("user_login", "2026-12-01T08:00:00.000Z"),
            presence("user_opt_in", "2026-12-01T08:00:01.000Z"),
            presence("user_status_changed", "2026-12-01T08:00:02.000Z"),
            presence("user_logout", "2026-12-01T17:00:00.000Z"),
        ]
        .iter()
        .enumerate()
        {
            let mut next = state.clone().unwrap_or_else(|| AgentState::fresh("a1"));
            next.apply(e);
            out.extend(agent_changes(state.as_ref(), &next, n as u64 + 1));
            state = Some(next);
        }
        assert_eq!(
            types(&out),
            [
                "Agent Logged In",
                "Agent Queues Changed",
                "Agent Status Changed",
                "Agent Logged Out"
            ]
        );
        assert_eq!(out[1].detail["joined"], json!(["q-billing"]));
        assert_eq!(out[2].detail["agent"]["sub_status"], "Meal");
    }

    #[test]
    fn every_detail_type_has_its_name() {
        for t in DetailType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
