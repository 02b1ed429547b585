//! `zcc reconcile`, the shipped binary, against the Zoom API stand-in and dynoxide: the JSON
//! object, the summary, a dry run, and its exit codes (0 done, 1 could not be done, 2 usage).

use serde_json::Value;
use zcc_domain::samples::engagement_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::{DynamoStore, schema};
use zcc_shared::store::EventStore;
use zcc_testkit::authentic;
use zcc_testkit::zoom_api::{self, Call, Endpoint, Fault, ZoomApiStandIn};

struct Setup {
    zoom: ZoomApiStandIn,
    dynamo: EmbeddedDynamo,
    table: String,
    base: Timestamp,
}

async fn setup(name: &str) -> Setup {
    let zoom = ZoomApiStandIn::start().await.unwrap();
    let dynamo = EmbeddedDynamo::memory().await.unwrap();
    let table = format!("reconcile-cli-{name}");
    schema::create(&dynamo.client(), &table).await.unwrap();
    let base = Timestamp::from_unix_millis((Timestamp::now().unix_seconds() - 3 * 3600) * 1000);
    // One engagement whose engagement_ended Zoom gave up on, one no webhook told us of.
    let store = DynamoStore::new(dynamo.client(), table.clone(), None);
    let body = |event: &str, ms: i64| {
        engagement_webhook(
            event,
            "lost-end-1",
            base.saturating_add_millis(ms),
            serde_json::json!({}),
        )
        .to_string()
    };
    store
        .record(&authentic::webhook(&body("engagement_started", 0)))
        .await
        .unwrap();
    zoom.add_webhook_log(zoom_api::failed_delivery(
        &body("engagement_ended", 90_000),
        base.saturating_add_millis(90_000),
        401,
        0,
        "r1",
    ));
    zoom.add_call(Call::answered("only-in-zoom-1", base, 20, 100, 10));
    Setup {
        zoom,
        dynamo,
        table,
        base,
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn zcc(setup: &Setup, env: &[(&str, String)], extra: &[&str]) -> Run {
    let from = setup.base.saturating_add_millis(-3_600_000).to_iso();
    let to = setup.base.saturating_add_millis(3_600_000).to_iso();
    let endpoint = setup.dynamo.endpoint();
    let mut args = vec![
        "reconcile",
        "--from",
        &from,
        "--to",
        &to,
        "--endpoint-url",
        &endpoint,
        "--table",
        &setup.table,
    ];
    args.extend_from_slice(extra);
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
        .args(&args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn credentials(setup: &Setup) -> Vec<(&'static str, String)> {
    vec![
        ("ZOOM_ACCOUNT_ID", zoom_api::ACCOUNT_ID.into()),
        ("ZOOM_CLIENT_ID", zoom_api::CLIENT_ID.into()),
        ("ZOOM_CLIENT_SECRET", zoom_api::CLIENT_SECRET.into()),
        ("ZOOM_APP_ID", zoom_api::APP_ID.into()),
        ("ZOOM_API_URL", setup.zoom.api_url()),
        ("ZOOM_OAUTH_URL", setup.zoom.oauth_url()),
    ]
}

async fn item_count(setup: &Setup) -> usize {
    let out = setup
        .dynamo
        .client()
        .scan()
        .table_name(&setup.table)
        .send()
        .await
        .unwrap();
    out.items().len()
}

#[tokio::test]
async fn reconcile_recovers_backfills_and_reports_as_json() {
    let setup = setup("json").await;
    let env = credentials(&setup);

    let dry = zcc(&setup, &env, &["--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let report: Value = serde_json::from_str(dry.stdout.trim()).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["recovered_events"], 1);
    assert_eq!(report["backfilled_engagements"], 1);
    assert_eq!(item_count(&setup).await, 2, "the dry run wrote nothing");

    let run = zcc(&setup, &env, &["--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    for key in [
        "checked",
        "matched",
        "recovered_events",
        "backfilled_engagements",
        "mismatches",
    ] {
        assert!(report.get(key).is_some(), "{key}: {report}");
    }
    assert_eq!(report["recovered_events"], 1);
    assert_eq!(report["backfilled_engagements"], 1);
    assert_eq!(report["checked"], 1, "only-in-zoom-1, now in both");
    assert!(item_count(&setup).await > 2);

    let human = zcc(&setup, &env, &[]).await;
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("engagements backfilled"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("events already merged"));
}

#[tokio::test]
async fn reconcile_exits_1_when_it_cannot_and_2_for_usage() {
    let setup = setup("fail").await;
    let before = item_count(&setup).await;
    let mut env = credentials(&setup);
    env.retain(|(k, _)| *k != "ZOOM_CLIENT_SECRET");
    let missing = zcc(&setup, &env, &["--json"]).await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    let error: Value = serde_json::from_str(missing.stderr.trim()).unwrap();
    assert_eq!(error["error"]["code"], "missing_credential");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ZOOM_CLIENT_SECRET")
    );
    assert_eq!(item_count(&setup).await, before, "nothing written");
    assert_eq!(
        setup.zoom.requests(Endpoint::OAuth),
        0,
        "nothing asked of Zoom"
    );

    let env = credentials(&setup);
    setup.zoom.inject(Endpoint::Engagements, Fault::Html);
    let html = zcc(&setup, &env, &[]).await;
    assert_eq!(html.code, 1);
    assert!(
        html.stderr.contains("GET /contact_center/engagements") && html.stderr.contains("HTML"),
        "{}",
        html.stderr
    );
    assert_eq!(item_count(&setup).await, before, "nothing written");

    let usage = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
        .args([
            "reconcile",
            "--from",
            "yesterday",
            "--to",
            "2026-12-01",
            "--table",
            "t",
        ])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let backwards = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
        .args([
            "reconcile",
            "--from",
            "2026-12-02",
            "--to",
            "2026-12-01",
            "--table",
            "t",
        ])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(backwards.status.code(), Some(2));
}
