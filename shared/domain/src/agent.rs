//! The agent state item: presence (login, status, queues) from Zoom's `user_*` events.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::event::{AuthenticEvent, EventKind, Source};
use crate::ledger::{Ledger, Stored};
use crate::merge::{Stamps, State, newer, set_latest, set_stable};
use crate::timestamp::Timestamp;
use crate::zoom::ZoomEvent;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentState {
    pub user_id: String,
    pub account_id: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub logged_in: Option<bool>,
    pub logged_in_since: Option<Timestamp>,
    pub status: Option<String>,
    pub status_id: Option<String>,
    pub sub_status: Option<String>,
    pub sub_status_id: Option<String>,
    pub status_since: Option<Timestamp>,
    /// The queues the agent is opted into now.
    pub queues: BTreeSet<String>,
    /// The queues an admin has assigned the agent to (`queue_agent_assigned`/`_unassigned`),
    /// whether or not the agent is opted in.
    pub assigned_queues: BTreeSet<String>,
    pub queue_names: BTreeMap<String, String>,
    pub event_count: u32,
    pub last_event: Option<String>,
    pub last_event_at: Option<Timestamp>,

    // Merge bookkeeping: per queue, the stamp and direction of the latest opt-in/out.
    pub queue_membership: BTreeMap<String, String>,
    /// Per queue, the stamp and direction of the latest assignment change.
    pub queue_assignment: BTreeMap<String, String>,
    pub stamps: Stamps,
    /// What the record keeps to merge each event exactly once, in a bounded size: an agent's
    /// record lives as long as the agent ([`Ledger`]).
    #[serde(flatten)]
    pub ledger: Ledger,
}

/// How long an agent's record kept the keys of the events it merged before the [`Ledger`]:
/// its events earlier than that before its latest are let go of.
const LEGACY_WINDOW_MS: i64 = 6 * 3_600_000;

impl State for AgentState {
    const ENTITY: &'static str = "agent";
    fn fresh(id: &str) -> Self {
        Self::new(id)
    }
    fn has_seen(&self, event: &AuthenticEvent) -> bool {
        self.ledger.has_seen(event)
    }
    fn stored_verdict(&self, event: &AuthenticEvent) -> Stored {
        self.ledger_now().verdict(event)
    }
    fn settle(&self, event: &AuthenticEvent, raw: &[(u64, Source)]) -> Option<bool> {
        let keys: Vec<u64> = raw.iter().map(|(key, _)| *key).collect();
        self.ledger_now().settle(event, &keys, self.event_count)
    }
    fn apply(&mut self, event: &AuthenticEvent) {
        AgentState::apply(self, event)
    }
    fn usually_first(_: &AuthenticEvent) -> bool {
        // An agent's item lives for as long as the agent: no event opens it.
        false
    }
}

impl AgentState {
    /// The ledger, a record from before it read as one: it kept the keys of its last six
    /// hours of events, and no digest.
    fn ledger_now(&self) -> Cow<'_, Ledger> {
        // A ledger keeps the key of every event until it lets one go (and then its mark);
        // the six-hour window of old records let go of keys without a mark.
        if self.event_count as usize > self.ledger.recent_events.len()
            && self.ledger.recent_since.is_none()
        {
            let mut ledger = self.ledger.clone();
            ledger.from_legacy_window(self.last_event_at, LEGACY_WINDOW_MS);
            Cow::Owned(ledger)
        } else {
            Cow::Borrowed(&self.ledger)
        }
    }

    pub fn new(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            ..Self::default()
        }
    }

    pub fn apply(&mut self, e: &AuthenticEvent) {
        let stamp = e.stamp();
        let at = e.occurred_at();
        self.ledger = self.ledger_now().into_owned();
        self.ledger.insert(e);
        let s = &mut self.stamps;
        self.event_count += 1;
        if newer(s, "last_event", &stamp) {
            self.last_event = Some(e.name().to_owned());
            self.last_event_at = Some(at);
        }
        set_stable(&mut self.account_id, e.account_id().map(str::to_owned));
        set_latest(s, "email", &stamp, &mut self.email, e.field("user_email"));
        let name = e
            .field("display_name")
            .or_else(|| e.field("user_display_name"));
        set_latest(s, "display_name", &stamp, &mut self.display_name, name);

        let EventKind::Zoom(zoom) = e.kind() else {
            return;
        };
        match zoom {
            // `newer` records the stamp only when the event is the latest of its kind.
            ZoomEvent::UserLogin | ZoomEvent::UserLogout if newer(s, "logged_in", &stamp) => {
                self.logged_in = Some(zoom == ZoomEvent::UserLogin);
                self.logged_in_since = Some(at);
            }
            ZoomEvent::UserStatusChanged if newer(s, "status", &stamp) => {
                self.status = e.field("current_status_name");
                self.status_id = e.field("current_status_id");
                self.sub_status = e.field("current_sub_status_name");
                self.sub_status_id = e.field("current_sub_status_id");
                self.status_since = Some(at);
            }
            // A supervisor or admin changed the agent's status: `updates` says to what. Other
            // updates (role, settings) leave the status alone.
            ZoomEvent::UserUpdated => {
                let updates = e
                    .fields()
                    .get("updates")
                    .and_then(serde_json::Value::as_object);
                if let Some(updates) = updates
                    && let Some(status) = crate::zoom::text(updates, "status_name")
                    && newer(s, "status", &stamp)
                {
                    self.status = Some(status);
                    self.status_id = crate::zoom::text(updates, "status_id");
                    self.sub_status = crate::zoom::text(updates, "sub_status_name");
                    self.sub_status_id = crate::zoom::text(updates, "sub_status_id");
                    self.status_since = Some(at);
                }
            }
            ZoomEvent::QueueAgentAssigned | ZoomEvent::QueueAgentUnassigned => {
                if let Some(queue) = e.field("cc_queue_id") {
                    let direction = if zoom == ZoomEvent::QueueAgentAssigned {
                        "in"
                    } else {
                        "out"
                    };
                    let entry = format!("{stamp}|{direction}");
                    let current = self.queue_assignment.entry(queue).or_default();
                    if *current < entry {
                        *current = entry;
                    }
                }
            }
            ZoomEvent::UserOptIn | ZoomEvent::UserOptOut => {
                if let Some(queue) = e.field("cc_queue_id") {
                    let direction = if zoom == ZoomEvent::UserOptIn {
                        "in"
                    } else {
                        "out"
                    };
                    let entry = format!("{stamp}|{direction}");
                    let current = self.queue_membership.entry(queue.clone()).or_default();
                    if *current < entry {
                        *current = entry;
                    }
                    // The name as the latest event naming the queue has it.
                    if let Some(name) = e.field("queue_name")
                        && newer(s, &format!("queue_name:{queue}"), &stamp)
                    {
                        self.queue_names.insert(queue, name);
                    }
                }
            }
            _ => {}
        }
        self.queues = members(&self.queue_membership);
        self.assigned_queues = members(&self.queue_assignment);
    }
}

/// The queues whose latest change (`<stamp>|in` or `<stamp>|out`) was in.
fn members(changes: &BTreeMap<String, String>) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|(_, entry)| entry.ends_with("|in"))
        .map(|(queue, _)| queue.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::testing::webhook;

    fn presence(event: &str, at: &str, extra: &str) -> AuthenticEvent {
        webhook(&format!(
            r#"{{"event":"contact_center.{event}","event_ts":1,"payload":{{"account_id":"acc","object":{{"user_id":"u1","date_time_ms":"{at}"{extra}}}}}}}"#
        ))
    }

    fn merged(events: &[AuthenticEvent]) -> AgentState {
        let mut s = AgentState::new("u1");
        events.iter().for_each(|e| s.apply(e));
        s
    }

    #[test]
    fn presence_merges_in_any_order() {
        let events = vec![
            presence(
                "user_login",
                "2023-05-01T08:00:00Z",
                r#","user_email":"ana@example.com","display_name":"Ana""#,
            ),
            presence(
                "user_opt_in",
                "2023-05-01T08:00:01Z",
                r#","cc_queue_id":"q1","queue_name":"Sales""#,
            ),
            presence(
                "user_opt_in",
                "2023-05-01T08:00:02Z",
                r#","cc_queue_id":"q2""#,
            ),
            presence(
                "user_status_changed",
                "2023-05-01T08:00:03Z",
                r#","current_status_name":"Not Ready","current_sub_status_name":"Break""#,
            ),
            presence(
                "user_opt_out",
                "2023-05-01T09:00:00Z",
                r#","cc_queue_id":"q2""#,
            ),
        ];
        let s = merged(&events);
        assert_eq!(s.logged_in, Some(true));
        assert_eq!(s.email.as_deref(), Some("ana@example.com"));
        assert_eq!(s.status.as_deref(), Some("Not Ready"));
        assert_eq!(s.sub_status.as_deref(), Some("Break"));
        assert_eq!(s.status_since.unwrap().to_iso(), "2023-05-01T08:00:03.000Z");
        assert_eq!(s.queues, BTreeSet::from(["q1".to_owned()]));
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(merged(&reversed), s);
    }

    #[test]
    fn a_queue_s_name_is_the_latest_whatever_the_order() {
        // Found by fuzzing: the name came from whichever opt-in arrived last.
        let opt_in = |at: &str, name: &str| {
            presence(
                "user_opt_in",
                at,
                &format!(r#","cc_queue_id":"q1","queue_name":"{name}""#),
            )
        };
        let (old, new) = (
            opt_in("2023-05-01T08:00:00Z", "Sales"),
            opt_in("2023-05-01T09:00:00Z", "Sales EMEA"),
        );
        let forward = merged(&[old.clone(), new.clone()]);
        let backward = merged(&[new, old]);
        assert_eq!(forward.queue_names["q1"], "Sales EMEA");
        assert_eq!(forward.queue_names, backward.queue_names);
    }

    #[test]
    fn an_untimed_presence_event_is_recognised_when_retried() {
        // Neither date_time_ms nor event_ts: its event item key is the time it arrived.
        let body = r#"{"event":"contact_center.user_login","payload":{"object":{"user_id":"u1"}}}"#;
        let first = webhook(body);
        let retry = webhook(body);
        assert!(!first.is_timed());
        let mut s = AgentState::new("u1");
        assert!(!s.has_seen(&first));
        s.apply(&first);
        assert!(s.has_seen(&retry));
        assert_eq!(s.event_count, 1);
        let timed = presence("user_logout", "2023-05-01T08:00:00Z", "");
        assert!(!s.has_seen(&timed));
    }

    #[test]
    fn supervisor_status_changes_and_queue_assignments_reach_the_agent() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/zoom");
        let read =
            |name: &str| webhook(&std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap());
        let updated = read("user_updated");
        let unassigned = read("queue_agent_unassigned");
        let s = merged(&[updated.clone(), unassigned.clone()]);
        assert_eq!(s.status.as_deref(), Some("Not Ready"));
        assert_eq!(s.sub_status.as_deref(), Some("Meal"));
        assert_eq!(s.status_id.as_deref(), Some("2"));
        assert!(s.assigned_queues.is_empty());
        assert_eq!(s.queue_assignment.len(), 1);
        assert_eq!(merged(&[unassigned, updated]), s);
        let assigned = presence(
            "queue_agent_assigned",
            "2023-05-01T08:00:00Z",
            r#","cc_queue_id":"q9""#,
        );
        assert_eq!(
            merged(&[assigned]).assigned_queues,
            BTreeSet::from(["q9".to_owned()])
        );
    }
}
