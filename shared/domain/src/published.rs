//! Zoom's webhook bodies in the shapes Zoom publishes (`shared/fixtures/zoom/`, one file per
//! event; `SOURCES.md` there says where each field set comes from). The values are ours. These
//! are the test fixtures and what `zcc send --example` sends.

use serde_json::Value;

use crate::timestamp::Timestamp;

/// One published body.
pub struct Published {
    /// The event without the `contact_center.` prefix.
    pub name: &'static str,
    /// True when part of the field set had to be inferred from a related event because the
    /// published example could not be read whole (see SOURCES.md).
    pub inferred: bool,
    pub body: &'static str,
}

pub const PUBLISHED: &[Published] = &[
    Published {
        name: "call_control_answer_call_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_answer_call_executed.json"),
    },
    Published {
        name: "call_control_conference_warm_invite_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_conference_warm_invite_executed.json"),
    },
    Published {
        name: "call_control_end_call_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_end_call_executed.json"),
    },
    Published {
        name: "call_control_hold_call_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_hold_call_executed.json"),
    },
    Published {
        name: "call_control_make_call_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_make_call_executed.json"),
    },
    Published {
        name: "call_control_unhold_call_executed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/call_control_unhold_call_executed.json"),
    },
    Published {
        name: "cx_engagement_end_data_ready",
        inferred: false,
        body: include_str!("../../fixtures/zoom/cx_engagement_end_data_ready.json"),
    },
    Published {
        name: "engagement_conference_canceled",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_canceled.json"),
    },
    Published {
        name: "engagement_conference_participant_canceled",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_canceled.json"),
    },
    Published {
        name: "engagement_conference_participant_invited",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_invited.json"),
    },
    Published {
        name: "engagement_conference_participant_joined",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_joined.json"),
    },
    Published {
        name: "engagement_conference_participant_left",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_left.json"),
    },
    Published {
        name: "engagement_conference_participant_rejected",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_rejected.json"),
    },
    Published {
        name: "engagement_conference_participant_timeout",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_conference_participant_timeout.json"),
    },
    Published {
        name: "engagement_consumer_answered",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_consumer_answered.json"),
    },
    Published {
        name: "engagement_consumer_notified",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_consumer_notified.json"),
    },
    Published {
        name: "engagement_consumer_sent_file",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_consumer_sent_file.json"),
    },
    Published {
        name: "engagement_email_transcript_completed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_email_transcript_completed.json"),
    },
    Published {
        name: "engagement_ended",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_ended.json"),
    },
    Published {
        name: "engagement_follow_up_task_created",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_follow_up_task_created.json"),
    },
    Published {
        name: "engagement_follow_up_task_updated",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_follow_up_task_updated.json"),
    },
    Published {
        name: "engagement_monitor_started",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_monitor_started.json"),
    },
    Published {
        name: "engagement_note_added",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_note_added.json"),
    },
    Published {
        name: "engagement_started",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_started.json"),
    },
    Published {
        name: "engagement_survey_status",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_survey_status.json"),
    },
    Published {
        name: "engagement_takeover_started",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_takeover_started.json"),
    },
    Published {
        name: "engagement_transfer_completed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_completed.json"),
    },
    Published {
        name: "engagement_transfer_initiated",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_initiated.json"),
    },
    Published {
        name: "engagement_transfer_queued",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_queued.json"),
    },
    Published {
        name: "engagement_transfer_rejected",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_rejected.json"),
    },
    Published {
        name: "engagement_transfer_reserved",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_reserved.json"),
    },
    Published {
        name: "engagement_transfer_timeout",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_transfer_timeout.json"),
    },
    Published {
        name: "engagement_upgrade_initiated",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_upgrade_initiated.json"),
    },
    Published {
        name: "engagement_user_answered",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_answered.json"),
    },
    Published {
        name: "engagement_user_dtmf_sent",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_dtmf_sent.json"),
    },
    Published {
        name: "engagement_user_ended",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_ended.json"),
    },
    Published {
        name: "engagement_user_sent_message",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_sent_message.json"),
    },
    Published {
        name: "engagement_user_unhold",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_unhold.json"),
    },
    Published {
        name: "engagement_user_unmuted",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_user_unmuted.json"),
    },
    Published {
        name: "engagement_wrap_up_ended",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_wrap_up_ended.json"),
    },
    Published {
        name: "engagement_wrap_up_started",
        inferred: false,
        body: include_str!("../../fixtures/zoom/engagement_wrap_up_started.json"),
    },
    Published {
        name: "inbox_message_received",
        inferred: false,
        body: include_str!("../../fixtures/zoom/inbox_message_received.json"),
    },
    Published {
        name: "inbox_message_reopened",
        inferred: false,
        body: include_str!("../../fixtures/zoom/inbox_message_reopened.json"),
    },
    Published {
        name: "legacy_engagement_end_data_ready",
        inferred: false,
        body: include_str!("../../fixtures/zoom/legacy_engagement_end_data_ready.json"),
    },
    Published {
        name: "outbound_campaign_dialer_status",
        inferred: false,
        body: include_str!("../../fixtures/zoom/outbound_campaign_dialer_status.json"),
    },
    Published {
        name: "queue_agent_assigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/queue_agent_assigned.json"),
    },
    Published {
        name: "queue_agent_unassigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/queue_agent_unassigned.json"),
    },
    Published {
        name: "queue_supervisor_assigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/queue_supervisor_assigned.json"),
    },
    Published {
        name: "queue_supervisor_unassigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/queue_supervisor_unassigned.json"),
    },
    Published {
        name: "recording_completed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/recording_completed.json"),
    },
    Published {
        name: "recording_deleted",
        inferred: false,
        body: include_str!("../../fixtures/zoom/recording_deleted.json"),
    },
    Published {
        name: "recording_permanently_deleted",
        inferred: false,
        body: include_str!("../../fixtures/zoom/recording_permanently_deleted.json"),
    },
    Published {
        name: "recording_started",
        inferred: false,
        body: include_str!("../../fixtures/zoom/recording_started.json"),
    },
    Published {
        name: "task_canceled",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_canceled.json"),
    },
    Published {
        name: "task_created",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_created.json"),
    },
    Published {
        name: "task_deleted",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_deleted.json"),
    },
    Published {
        name: "task_exited_queue",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_exited_queue.json"),
    },
    Published {
        name: "task_reservation_rejected",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_reservation_rejected.json"),
    },
    Published {
        name: "task_reservation_timeout",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_reservation_timeout.json"),
    },
    Published {
        name: "task_updated",
        inferred: false,
        body: include_str!("../../fixtures/zoom/task_updated.json"),
    },
    Published {
        name: "user_created",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_created.json"),
    },
    Published {
        name: "user_deleted",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_deleted.json"),
    },
    Published {
        name: "user_login",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_login.json"),
    },
    Published {
        name: "user_logout",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_logout.json"),
    },
    Published {
        name: "user_opt_in",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_opt_in.json"),
    },
    Published {
        name: "user_opt_out",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_opt_out.json"),
    },
    Published {
        name: "user_phone_numbers_assigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_phone_numbers_assigned.json"),
    },
    Published {
        name: "user_phone_numbers_unassigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_phone_numbers_unassigned.json"),
    },
    Published {
        name: "user_skills_assigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_skills_assigned.json"),
    },
    Published {
        name: "user_skills_unassigned",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_skills_unassigned.json"),
    },
    Published {
        name: "user_updated",
        inferred: false,
        body: include_str!("../../fixtures/zoom/user_updated.json"),
    },
    Published {
        name: "voicemail_transcript_completed",
        inferred: false,
        body: include_str!("../../fixtures/zoom/voicemail_transcript_completed.json"),
    },
    Published {
        name: "engagement_consumer_ended",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_consumer_ended.json"),
    },
    Published {
        name: "engagement_consumer_sent_message",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_consumer_sent_message.json"),
    },
    Published {
        name: "engagement_disposition_added",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_disposition_added.json"),
    },
    Published {
        name: "engagement_messaging_transcript_completed",
        inferred: true,
        body: include_str!(
            "../../fixtures/zoom/inferred/engagement_messaging_transcript_completed.json"
        ),
    },
    Published {
        name: "engagement_monitor_ended",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_monitor_ended.json"),
    },
    Published {
        name: "engagement_transfer_accepted",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_transfer_accepted.json"),
    },
    Published {
        name: "engagement_transfer_canceled",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_transfer_canceled.json"),
    },
    Published {
        name: "engagement_upgrade_completed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_upgrade_completed.json"),
    },
    Published {
        name: "engagement_upgrade_expired",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_upgrade_expired.json"),
    },
    Published {
        name: "engagement_user_hold",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_user_hold.json"),
    },
    Published {
        name: "engagement_user_muted",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_user_muted.json"),
    },
    Published {
        name: "engagement_user_sent_file",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/engagement_user_sent_file.json"),
    },
    Published {
        name: "inbox_message_assigned",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/inbox_message_assigned.json"),
    },
    Published {
        name: "inbox_message_deleted",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/inbox_message_deleted.json"),
    },
    Published {
        name: "inbox_message_downloaded",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/inbox_message_downloaded.json"),
    },
    Published {
        name: "inbox_message_opened",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/inbox_message_opened.json"),
    },
    Published {
        name: "inbox_message_resolved",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/inbox_message_resolved.json"),
    },
    Published {
        name: "recording_paused",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/recording_paused.json"),
    },
    Published {
        name: "recording_resumed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/recording_resumed.json"),
    },
    Published {
        name: "recording_stopped",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/recording_stopped.json"),
    },
    Published {
        name: "recording_transcript_completed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/recording_transcript_completed.json"),
    },
    Published {
        name: "task_completed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_completed.json"),
    },
    Published {
        name: "task_entered_queue",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_entered_queue.json"),
    },
    Published {
        name: "task_reservation_accepted",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_reservation_accepted.json"),
    },
    Published {
        name: "task_reservation_canceled",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_reservation_canceled.json"),
    },
    Published {
        name: "task_reservation_completed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_reservation_completed.json"),
    },
    Published {
        name: "task_reservation_created",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/task_reservation_created.json"),
    },
    Published {
        name: "user_status_changed",
        inferred: true,
        body: include_str!("../../fixtures/zoom/inferred/user_status_changed.json"),
    },
];

pub fn find(name: &str) -> Option<&'static Published> {
    let name = name.strip_prefix("contact_center.").unwrap_or(name);
    PUBLISHED.iter().find(|p| p.name == name)
}

/// The published body of `name`, about `engagement_id` (where it names an engagement) and
/// happening at `at` (its `date_time_ms`, and Zoom's `event_ts` a little later).
pub fn body(name: &str, engagement_id: &str, at: Timestamp) -> Option<Value> {
    let mut value: Value = serde_json::from_str(find(name)?.body).ok()?;
    value["event_ts"] = Value::from(at.unix_millis() + 137);
    if let Some(object) = value
        .pointer_mut("/payload/object")
        .and_then(Value::as_object_mut)
    {
        if object.contains_key("engagement_id") {
            object.insert("engagement_id".into(), Value::from(engagement_id));
        }
        if object.contains_key("date_time_ms") {
            object.insert("date_time_ms".into(), Value::from(at.to_iso()));
        }
    }
    Some(value)
}

/// A published body about engagement `id` at `at`, with `values` for the fields it has (a
/// value for a field the event does not have is left out: the field set stays Zoom's). The
/// routing events' own times (`last_modified_time_ms`, `created_time_ms`) become `at` too.
pub fn shaped(name: &str, id: &str, at: Timestamp, values: Value) -> Value {
    let mut body = body(name, id, at).unwrap_or_else(|| panic!("no published body for {name}"));
    if let Some(object) = body["payload"]["object"].as_object_mut() {
        for time in ["last_modified_time_ms", "created_time_ms"] {
            if object.contains_key(time) {
                object.insert(time.into(), at.to_iso().into());
            }
        }
        for (field, value) in values.as_object().into_iter().flatten() {
            if object.contains_key(field) {
                object.insert(field.clone(), value.clone());
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list is the directory: a fixture added or removed there must be here too.
    #[test]
    fn every_fixture_file_is_listed_and_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/zoom");
        let mut on_disk = Vec::new();
        for sub in ["", "/inferred"] {
            for entry in std::fs::read_dir(format!("{dir}{sub}")).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".json") {
                    on_disk.push(stem.to_owned());
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = PUBLISHED.iter().map(|p| p.name.to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
        for p in PUBLISHED {
            let v: Value = serde_json::from_str(p.body).expect(p.name);
            assert_eq!(v["event"], format!("contact_center.{}", p.name));
        }
    }

    #[test]
    fn a_body_is_readdressed_and_keeps_its_field_set() {
        let at = Timestamp::parse("2026-12-01T10:00:00.000Z").unwrap();
        let v = body("engagement_user_answered", "NewId", at).unwrap();
        let o = &v["payload"]["object"];
        assert_eq!(o["engagement_id"], "NewId");
        assert_eq!(o["date_time_ms"], "2026-12-01T10:00:00.000Z");
        let original: Value =
            serde_json::from_str(find("engagement_user_answered").unwrap().body).unwrap();
        let keys = |v: &Value| {
            v["payload"]["object"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&v), keys(&original));
    }
}
