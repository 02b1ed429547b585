//! The three steps, end to end: what a run writes, reports, and what a rerun costs.

use serde_json::json;
use zcc_domain::engagement::EngagementStatus;
use zcc_reconcile::{Options, ReconcileError, ZoomCredentials};
use zcc_testkit::zoom_api::{self, Call, Endpoint};

use crate::support::{Rig, call_webhooks};

const ID: &str = "Wq3xVbT9RkyN2cJ8pL5sAg";

/// The call Zoom reports for `call_webhooks(rig, id, 30_000, 150_000)`.
fn zoom_call(rig: &Rig, id: &str) -> Call {
    Call::answered(id, rig.base, 30, 120, 0)
}

#[tokio::test]
async fn a_lost_engagement_ended_is_recovered() {
    let rig = Rig::new().await;
    let bodies = call_webhooks(&rig, ID, 30_000, 150_000);
    for body in &bodies[..3] {
        rig.deliver(body).await;
    }
    // engagement_ended was answered 401 (a Secret Token rotation half done): never retried.
    let ended = &bodies[3];
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        ended,
        rig.at(150),
        401,
        0,
        "req-1",
    ));
    // A delivery that failed once and then arrived: its replay is a duplicate.
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        &bodies[2],
        rig.at(31),
        500,
        0,
        "req-2",
    ));
    rig.zoom.add_call(zoom_call(&rig, ID));
    let before = rig.state(ID).await.unwrap();
    assert_eq!(before.status, EngagementStatus::Answered);

    let report = rig.run(Options::default()).await;
    assert_eq!(report.failed_deliveries, 2);
    assert_eq!(report.recovered_events, 1, "{report:?}");
    assert_eq!(report.duplicate_events, 1);
    assert_eq!(report.backfilled_engagements, 0, "the table has it");
    assert_eq!(
        report.recovered_records,
        [format!("engagement {ID}")].into(),
        "what the operator looks at"
    );
    assert!(report.backfilled_ids.is_empty());
    assert_eq!(
        rig.zoom.requests(Endpoint::Engagement),
        0,
        "no detail needed"
    );
    let after = rig.state(ID).await.unwrap();
    assert_eq!(after.status, EngagementStatus::Ended);
    assert_eq!(
        after.ended_at,
        Some(rig.base.saturating_add_millis(150_000))
    );
    assert_eq!(after.sources, ["webhook".to_owned()].into());
    assert_eq!((report.checked, report.matched), (1, 1), "{report:?}");
    assert!(report.mismatches.is_empty());
}

#[tokio::test]
async fn an_engagement_with_no_webhooks_is_backfilled() {
    let rig = Rig::new().await;
    let mut call = zoom_call(&rig, ID);
    call.transfer_count = 1;
    call.wrap_up_s = 25;
    call.handling_s = 145;
    rig.zoom.add_call(call);
    let report = rig.run(Options::default()).await;
    assert_eq!(report.listed_engagements, 1);
    assert_eq!(report.backfilled_engagements, 1, "{report:?}");
    assert_eq!(report.backfilled_ids, [ID.to_owned()].into());
    assert!(report.recovered_records.is_empty());
    assert!(report.write_units > 0.0);
    let state = rig.state(ID).await.expect("a record from Zoom's facts");
    assert!(state.sources.contains("zoom_api"), "{:?}", state.sources);
    assert_eq!(state.started_at, Some(rig.base));
    assert_eq!(state.ended_at, Some(rig.at(150)));
    assert_eq!(state.first_event_at, Some(rig.base));
    assert_eq!(state.day, Some(rig.base.day()), "in the day index");
    assert_eq!(state.status, EngagementStatus::Ended);
    assert_eq!(state.agent_user_id.as_deref(), Some("u-ana"));
    assert_eq!(state.queue_id.as_deref(), Some("q-sales"));
    assert_eq!(state.account_id.as_deref(), Some(zoom_api::ACCOUNT_ID));
    assert_eq!(state.talk_ms, Some(120_000));
    assert_eq!(state.wrap_up_ms, Some(25_000));
    assert_eq!(state.handle_ms, Some(145_000));
    assert_eq!(state.queue_wait_ms, Some(30_000));
    assert_eq!(state.transfer_count, 1);
    assert_eq!(state.abandoned, Some(false));
    assert_eq!(state.disposition_name.as_deref(), Some("Resolved"));
    assert_eq!(state.event_count, 0, "no webhook or Flow event merged");
    assert_eq!((report.checked, report.matched), (1, 1), "{report:?}");
}

#[tokio::test]
async fn a_late_webhook_after_a_backfill_wins() {
    let rig = Rig::new().await;
    rig.zoom.add_call(zoom_call(&rig, ID));
    rig.run(Options::default()).await;
    let backfilled = rig.state(ID).await.unwrap();
    assert_eq!(backfilled.ended_at, Some(rig.at(150)));

    // The webhooks arrive after all (say Zoom's last retry), with milliseconds and a
    // different end than Zoom's whole seconds.
    let bodies = call_webhooks(&rig, ID, 30_250, 151_750);
    for body in &bodies {
        rig.deliver(body).await;
    }
    let merged = rig.state(ID).await.unwrap();
    assert_eq!(
        merged.ended_at,
        Some(rig.base.saturating_add_millis(151_750))
    );
    assert_eq!(
        merged.answered_at,
        Some(rig.base.saturating_add_millis(30_250))
    );
    assert_eq!(merged.talk_ms, Some(121_500), "from the webhooks' times");
    assert!(
        merged.filled_from_zoom_api.is_empty(),
        "{:?}",
        merged.filled_from_zoom_api
    );

    // The same as a record that only ever got the webhooks, apart from sources and Zoom's
    // figures.
    let only = Rig::new().await;
    for body in &bodies {
        only.deliver(body).await;
    }
    let mut expected = only.state(ID).await.unwrap();
    expected.sources.insert("zoom_api".into());
    expected.zoom_api = merged.zoom_api.clone();
    assert_eq!(merged, expected);
}

#[tokio::test]
async fn a_difference_is_reported_not_failed() {
    let rig = Rig::new().await;
    for body in call_webhooks(&rig, ID, 30_000, 150_000) {
        rig.deliver(&body).await;
    }
    let mut call = zoom_call(&rig, ID);
    call.talk_s = 118;
    call.handling_s = 118;
    call.agents = vec![("u-bo".into(), "Bo Agent".into())];
    call.transfer_count = 1;
    rig.zoom.add_call(call);
    let report = rig.run(Options::default()).await;
    assert_eq!((report.checked, report.matched), (1, 0));
    let figures: Vec<(&str, String, String)> = report
        .mismatches
        .iter()
        .map(|m| (m.figure.as_str(), m.ours.to_string(), m.zoom.to_string()))
        .collect();
    assert_eq!(
        figures,
        [
            ("talk_s", "120.0".into(), "118".into()),
            ("handle_s", "120.0".into(), "118".into()),
            ("transfer_count", "0".into(), "1".into()),
            ("final_agent", "\"u-ana\"".into(), "\"u-bo\"".into()),
        ]
    );
    assert!(report.mismatches.iter().all(|m| m.engagement_id == ID));
    // Within a second is no difference: 120.0 s of ours against Zoom's 120 s matched above.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["mismatches"][0]["figure"], "talk_s");
    for key in [
        "checked",
        "matched",
        "recovered_events",
        "backfilled_engagements",
        "mismatches",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[tokio::test]
async fn a_rerun_changes_nothing_and_costs_no_writes() {
    let rig = Rig::new().await;
    let bodies = call_webhooks(&rig, ID, 30_000, 150_000);
    for body in &bodies[..3] {
        rig.deliver(body).await;
    }
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        &bodies[3],
        rig.at(150),
        401,
        0,
        "r1",
    ));
    rig.zoom.add_call(zoom_call(&rig, ID));
    rig.zoom.add_call(zoom_call(&rig, "only-in-zoom-1"));
    let first = rig.run(Options::default()).await;
    assert_eq!(
        (first.recovered_events, first.backfilled_engagements),
        (1, 1)
    );
    let items = rig.items().await;

    let second = rig.run(Options::default()).await;
    assert_eq!(second.recovered_events, 0);
    assert_eq!(second.duplicate_events, 1);
    assert_eq!(second.backfilled_engagements, 0);
    assert_eq!(second.write_units, 0.0, "{second:?}");
    assert_eq!(
        rig.items().await,
        items,
        "every item, versions included, unchanged"
    );
    assert_eq!((second.checked, second.matched), (2, 2), "{second:?}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_it_would_do() {
    let rig = Rig::new().await;
    let bodies = call_webhooks(&rig, ID, 30_000, 150_000);
    for body in &bodies[..3] {
        rig.deliver(body).await;
    }
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        &bodies[3],
        rig.at(150),
        401,
        0,
        "r1",
    ));
    rig.zoom.add_call(zoom_call(&rig, "only-in-zoom-1"));
    let items = rig.items().await;
    let report = rig
        .run(Options {
            dry_run: true,
            progress: false,
        })
        .await;
    assert!(report.dry_run);
    assert_eq!(report.recovered_events, 1);
    assert_eq!(report.backfilled_engagements, 1);
    assert_eq!(report.write_units, 0.0);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("nothing was written"))
    );
    assert_eq!(rig.items().await, items);
}

#[tokio::test]
async fn a_missing_credential_is_an_error_naming_the_variable_and_nothing_is_written() {
    let rig = Rig::new().await;
    let env = |name: &str| match name {
        "ZOOM_ACCOUNT_ID" => Some(zoom_api::ACCOUNT_ID.to_owned()),
        "ZOOM_CLIENT_SECRET" => Some(zoom_api::CLIENT_SECRET.to_owned()),
        _ => None,
    };
    let err = ZoomCredentials::from_lookup(env).unwrap_err();
    assert!(matches!(
        err,
        ReconcileError::MissingCredential("ZOOM_CLIENT_ID")
    ));
    assert!(err.to_string().contains("ZOOM_CLIENT_ID"), "{err}");
    // Wrong credentials: Zoom refuses the token, and the run stops before any write.
    rig.zoom.add_call(zoom_call(&rig, ID));
    let wrong = ZoomCredentials::new(
        zoom_api::ACCOUNT_ID,
        zoom_api::CLIENT_ID,
        "not-the-secret",
        None,
        Some(rig.zoom.api_url()),
        Some(rig.zoom.oauth_url()),
    );
    let err = zcc_reconcile::Reconciler::new(wrong, rig.store())
        .run(rig.window(), Options::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ReconcileError::OAuth { status: 400, .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-secret"));
    assert!(rig.items().await.is_empty());
}

#[tokio::test]
async fn without_an_app_id_recover_is_skipped_with_a_note() {
    let rig = Rig::new().await;
    rig.zoom.add_call(zoom_call(&rig, ID));
    let report = zcc_reconcile::Reconciler::new(rig.credentials(false), rig.store())
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    assert!(
        report.notes.iter().any(|n| n.contains("ZOOM_APP_ID")),
        "{report:?}"
    );
    assert_eq!(rig.zoom.requests(Endpoint::WebhookLogs), 0);
    assert_eq!(report.backfilled_engagements, 1);
}

#[tokio::test]
async fn an_empty_detail_is_skipped_with_a_note_and_written_by_a_later_run() {
    let rig = Rig::new().await;
    rig.zoom.add_call(zoom_call(&rig, ID));
    rig.zoom.empty_detail(ID, 1);
    let report = rig.run(Options::default()).await;
    assert_eq!(report.skipped_engagements, 1);
    assert_eq!(report.backfilled_engagements, 0);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains(ID) && n.contains("empty")),
        "{report:?}"
    );
    assert!(rig.items().await.is_empty());
    let later = rig.run(Options::default()).await;
    assert_eq!(later.backfilled_engagements, 1);
}

#[tokio::test]
async fn engagements_are_paged_and_sliced_by_day() {
    let rig = Rig::new().await;
    for n in 0..230 {
        let mut call = zoom_call(&rig, &format!("e{n:04}"));
        call.start = rig.at(n);
        call.end = rig.at(n + 150);
        rig.zoom.add_call(call);
    }
    // Two days earlier, in a window of three days: another slice.
    let mut old = zoom_call(&rig, "old-one");
    old.start = rig.at(-2 * 86_400);
    old.end = rig.at(-2 * 86_400 + 150);
    rig.zoom.add_call(old);
    let window = zcc_reconcile::Window::new(rig.at(-2 * 86_400 - 60), rig.at(3600)).unwrap();
    let report = rig
        .reconciler()
        .run(window, Options::default())
        .await
        .unwrap();
    assert_eq!(report.listed_engagements, 231);
    assert_eq!(report.backfilled_engagements, 231);
    // Three slices of at most a day: the old one's (one page), an empty one (one page), and
    // the 230's (three pages of 100).
    assert_eq!(rig.zoom.requests(Endpoint::Engagements), 1 + 1 + 3);
    assert_eq!(rig.zoom.requests(Endpoint::Engagement), 231);
}

#[tokio::test]
async fn json_report_has_the_documented_keys() {
    let rig = Rig::new().await;
    let report = rig.run(Options::default()).await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checked"], 0);
    assert_eq!(json["mismatches"], json!([]));
}

#[tokio::test]
async fn a_backfilled_record_rebuilds_from_its_events_to_the_same_record() {
    let rig = Rig::new().await;
    rig.zoom.add_call(zoom_call(&rig, ID));
    rig.run(Options::default()).await;
    // One late webhook: the record is part facts, part webhook.
    rig.deliver(&call_webhooks(&rig, ID, 30_250, 151_750)[2])
        .await;
    let target = zcc_shared::dynamodb::RebuildTarget::Engagement(
        zcc_domain::ids::EngagementId::parse(ID).unwrap(),
    );
    let rebuilt = rig.store().rebuild(&target, true).await.unwrap();
    assert_eq!(rebuilt.events, 2, "the facts and the webhook, read back");
    assert!(rebuilt.changed.is_empty(), "{:?}", rebuilt.changed);
}

#[tokio::test]
async fn failed_agent_events_and_others_are_replayed_as_the_live_path_takes_them() {
    use zcc_shared::store::RecordReader;
    let rig = Rig::new().await;
    let status = zcc_domain::samples::agent_webhook(
        "user_status_changed",
        "u-ana",
        rig.at(10),
        json!({"current_status_id": "2", "current_status_name": "Not Ready"}),
    )
    .to_string();
    rig.zoom
        .add_webhook_log(zoom_api::failed_delivery(&status, rig.at(10), 401, 0, "a1"));
    // Zoom's URL challenge is answered, never stored; a body that is not an event is
    // refused, as the endpoint refused it.
    let challenge =
        zcc_domain::samples::url_validation("xys8n8PGS7mAU0m5-YJjRA", rig.at(20)).to_string();
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        &challenge,
        rig.at(20),
        401,
        0,
        "c1",
    ));
    rig.zoom.add_webhook_log(zoom_api::failed_delivery(
        "{\"no\":",
        rig.at(30),
        400,
        0,
        "x1",
    ));
    let report = rig.run(Options::default()).await;
    assert_eq!(report.failed_deliveries, 3);
    assert_eq!(report.recovered_events, 1, "{report:?}");
    assert!(report.notes.iter().any(|n| n.contains("not an event body")));
    let agent = rig
        .store()
        .agent(&zcc_domain::ids::UserId::parse("u-ana").unwrap())
        .await
        .unwrap()
        .expect("the agent's record");
    assert_eq!(agent.status.as_deref(), Some("Not Ready"));
    // The raw event and the agent's state; nothing for the challenge or the broken body.
    assert_eq!(rig.items().await.len(), 2, "{:?}", rig.items().await);
}

#[tokio::test]
async fn logs_zoom_refuses_to_show_skip_recovery_with_a_note_and_the_rest_runs() {
    let rig = Rig::new().await;
    rig.zoom.add_call(zoom_call(&rig, ID));
    let other_app = ZoomCredentials::new(
        zoom_api::ACCOUNT_ID,
        zoom_api::CLIENT_ID,
        zoom_api::CLIENT_SECRET,
        Some("not-our-app".into()),
        Some(rig.zoom.api_url()),
        Some(rig.zoom.oauth_url()),
    );
    let report = zcc_reconcile::Reconciler::new(other_app, rig.store())
        .run(rig.window(), Options::default())
        .await
        .unwrap();
    let note = report
        .notes
        .iter()
        .find(|n| n.starts_with("recover skipped"))
        .expect("a note");
    assert!(
        note.contains("1401") && note.contains("ZOOM_APP_ID"),
        "{note}"
    );
    assert_eq!(report.backfilled_engagements, 1);
    assert_eq!((report.checked, report.matched), (1, 1));
}
