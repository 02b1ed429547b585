//! `zcc get`: one engagement and its timeline, read through the store's port as the
//! customer's systems read it.

use std::process::ExitCode;

use zcc_domain::ids::EngagementId;
use zcc_shared::store::{EngagementRecord, RecordReader};

use super::show::{seconds, text, time, who};
use super::terminal;
use super::{CliError, TableArgs, text_table};

/// Show one engagement and its timeline.
#[derive(clap::Args, Debug)]
pub struct Args {
    engagement_id: String,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let store = args.table.store().await;
    let found = engagement(&store, &args.table.table, &args.engagement_id).await?;
    args.table.print(&found, render_engagement);
    Ok(ExitCode::SUCCESS)
}

/// The engagement's state and its timeline of raw events (bodies left out).
pub async fn engagement(
    store: &impl RecordReader,
    table: &str,
    id: &str,
) -> Result<EngagementRecord, CliError> {
    let id = EngagementId::parse(id).map_err(|e| CliError::Usage(e.to_string()))?;
    store.engagement(&id).await?.ok_or_else(|| {
        CliError::NotFound(format!(
            "no engagement `{id}` in table {table} (if its events are stored but its state item \
             is gone, `zcc rebuild {id}` derives it again)"
        ))
    })
}

/// The engagement as a person reads it.
pub fn render_engagement(found: &EngagementRecord) -> String {
    let s = &found.state;
    let rows = vec![
        vec!["engagement".into(), s.engagement_id.clone()],
        vec![
            "status".into(),
            serde_json::to_value(s.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ],
        vec![
            "channel".into(),
            format!("{} {}", text(&s.channel), text(&s.direction)),
        ],
        vec!["queue".into(), who(&s.queue_id, &s.queue_name)],
        vec![
            "agent".into(),
            format!(
                "{} {}",
                who(&s.agent_user_id, &s.agent_display_name),
                text(&s.agent_email)
            ),
        ],
        vec!["consumer".into(), text(&s.consumer_number)],
        vec!["started".into(), time(&s.started_at)],
        vec!["answered".into(), time(&s.answered_at)],
        vec!["ended".into(), time(&s.ended_at)],
        vec!["time to answer".into(), seconds(s.time_to_answer_ms)],
        vec!["talk".into(), seconds(s.talk_ms)],
        vec![
            "holds".into(),
            format!("{} ({})", s.hold_count, seconds(Some(s.total_hold_ms))),
        ],
        vec!["longest hold".into(), seconds(s.longest_hold_ms)],
        vec!["wrap-up".into(), seconds(s.wrap_up_ms)],
        vec!["handle".into(), seconds(s.handle_ms)],
        vec!["queue wait".into(), seconds(s.queue_wait_ms)],
        vec!["abandoned".into(), text(&s.abandoned)],
        vec![
            "offers".into(),
            format!(
                "{} ({} rejected, {} timed out)",
                s.offer_count, s.offers_rejected, s.offers_timed_out
            ),
        ],
        vec!["mutes".into(), s.mute_count.to_string()],
        vec![
            "transfers".into(),
            format!(
                "{} (of {} initiated)",
                s.transfer_count, s.transfer_attempts
            ),
        ],
        vec![
            "supervisors".into(),
            s.supervisors
                .iter()
                .map(|(id, sup)| {
                    let actions: Vec<&str> = sup.action_types.iter().map(String::as_str).collect();
                    format!(
                        "{} [{}]",
                        who(&Some(id.clone()), &sup.display_name),
                        actions.join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ],
        vec!["disposition".into(), text(&s.disposition_name)],
        vec![
            "sources".into(),
            s.sources.iter().cloned().collect::<Vec<_>>().join(", "),
        ],
        vec!["events".into(), s.event_count.to_string()],
    ];
    let mut out = text_table(&["FIELD", "VALUE"], &rows);
    if !s.notes.is_empty() {
        out.push_str("\nnotes\n");
        for (id, note) in &s.notes {
            out.push_str(&format!(
                "  {}: {}\n",
                terminal::cell(id),
                terminal::cell(&note.note)
            ));
        }
    }
    if !s.transfers.is_empty() {
        out.push_str("\ntransfers\n");
        let rows: Vec<Vec<String>> = s
            .transfers
            .iter()
            .map(|t| {
                vec![
                    t.at.to_iso(),
                    format!("{} / {}", text(&t.from_queue_id), text(&t.from_user_id)),
                    format!(
                        "{} / {}",
                        text(&t.to_queue_id),
                        who(&t.to_user_id, &t.to_user_display_name)
                    ),
                    format!("{} {}", text(&t.transfer_type), text(&t.transfer_level)),
                ]
            })
            .collect();
        out.push_str(&text_table(&["AT", "FROM", "TO", "TYPE"], &rows));
    }
    let timeline: Vec<Vec<String>> = found
        .timeline
        .iter()
        .map(|e| {
            let mut event = e.event.clone();
            if e.merge_error.is_some() {
                event.push_str("  (kept raw, not merged: merge_error)");
            }
            vec![e.occurred_at.to_iso(), e.source.clone(), event]
        })
        .collect();
    out.push_str("\ntimeline\n");
    out.push_str(&text_table(&["OCCURRED_AT", "SOURCE", "EVENT"], &timeline));
    if found.timeline.iter().any(|e| e.merge_error.is_some()) {
        out.push_str(
            "\nSome events are not in the state: once their cause is dealt with, \
             `zcc rebuild <engagement id>` merges them.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use zcc_domain::engagement::EngagementState;
    use zcc_domain::timestamp::Timestamp;
    use zcc_shared::store::TimelineEntry;

    fn entry(at: &str, source: &str, event: &str, merge_error: Option<&str>) -> TimelineEntry {
        TimelineEntry {
            occurred_at: Timestamp::parse(at).unwrap(),
            received_at: Timestamp::parse(at).unwrap(),
            event: event.into(),
            source: source.into(),
            event_id: "0123456789abcdef0123456789abcdef".into(),
            merge_error: merge_error.map(str::to_owned),
        }
    }

    #[test]
    fn events_kept_raw_are_marked_with_what_to_do() {
        let mut state = EngagementState::new("e1");
        state.event_count = 1;
        let found = EngagementRecord {
            state,
            timeline: vec![
                entry(
                    "2026-12-01T09:00:00.000Z",
                    "webhook",
                    "contact_center.engagement_started",
                    None,
                ),
                entry(
                    "2026-12-01T09:00:09.000Z",
                    "flow",
                    "engagement_accepted",
                    Some("Item size has exceeded the maximum allowed size"),
                ),
            ],
        };
        let shown = render_engagement(&found);
        assert!(shown.contains("engagement_accepted  (kept raw, not merged: merge_error)"));
        assert!(!shown.contains("engagement_started  (kept raw"));
        assert!(shown.contains("zcc rebuild"));
        let clean = EngagementRecord {
            state: found.state.clone(),
            timeline: vec![found.timeline[0].clone()],
        };
        assert!(!render_engagement(&clean).contains("zcc rebuild"));
    }

    #[test]
    fn the_contact_trace_is_shown() {
        use zcc_domain::engagement::Transfer;
        let mut state = EngagementState::new("e1");
        state.transfer_count = 1;
        state.transfer_attempts = 2;
        state.queue_wait_ms = Some(8_000);
        state.abandoned = Some(false);
        state.transfers.push(Transfer {
            at: Timestamp::parse("2026-12-01T09:04:00.000Z").unwrap(),
            key: "t1>t2".into(),
            from_queue_id: Some("q-sales".into()),
            from_user_id: Some("u-ana".into()),
            to_queue_id: Some("q-billing".into()),
            to_queue_name: Some("Billing".into()),
            to_user_id: Some("u-bo".into()),
            to_user_display_name: Some("Bo".into()),
            transfer_type: Some("warm".into()),
            transfer_level: Some("queue".into()),
            stamp: String::new(),
        });
        let shown = render_engagement(&EngagementRecord {
            state,
            timeline: vec![],
        });
        assert!(shown.contains("1 (of 2 initiated)"), "{shown}");
        assert!(shown.contains("queue wait      8.0 s"), "{shown}");
        assert!(
            shown.contains("q-sales / u-ana  q-billing / Bo (u-bo)  warm queue"),
            "{shown}"
        );
    }
}
