//! The function's handler as Lambda calls it, against dynoxide (in-process, over HTTP through
//! the SDK) and the test kit's Zoom API stand-in: the scheduler's input names the window, the
//! credentials come from the secret's JSON, a failed run is an error that says what to do,
//! and nothing is written when it fails.

use std::time::Duration;

use aws_sdk_secretsmanager::Client as SecretsManager;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use zcc_domain::ids::EngagementId;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::edge::secrets::Secret;
use zcc_shared::store::RecordReader;
use zcc_testkit::zoom_api::{ACCOUNT_ID, APP_ID, CLIENT_ID};

use crate::common::{CLIENT_SECRET, LOST_END, NO_WEBHOOKS, Scenario, scenario, secret_json, table};
use reconcile::{Reconcile, RunError};

/// The function reading `secret_text` as the secret's value, Zoom at `api`/`oauth`.
fn function(store: DynamoStore, secret_text: &str, api: &str, oauth: &str) -> Reconcile {
    Reconcile::with_secret(store, Secret::fixed(secret_text.to_owned()))
        .with_endpoints(Some(api.to_owned()), Some(oauth.to_owned()))
}

#[tokio::test]
async fn the_placeholder_secret_is_an_error_naming_the_key_and_nothing_is_written() {
    let table = table().await;
    // What the template creates the secret with, until the operator puts the real value.
    let placeholder = r#"{"account_id": "", "client_id": "", "client_secret": "", "app_id": ""}"#;
    // Nothing listens there: the run must stop before it would ask Zoom anything.
    let app = function(
        table.store.clone(),
        placeholder,
        "http://127.0.0.1:9/v2",
        "http://127.0.0.1:9/oauth/token",
    );
    let err = app
        .handle(json!({"window": "hourly"}), Timestamp::now())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Credentials(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("account_id"), "{message}");
    assert!(message.contains("put-secret-value"), "{message}");
    assert!(message.contains("ZOOM_API_SECRET_ARN"), "{message}");

    let not_json = function(
        table.store.clone(),
        CLIENT_SECRET,
        "http://127.0.0.1:9/v2",
        "http://127.0.0.1:9/oauth/token",
    );
    let err = not_json
        .handle(json!({"window": "hourly"}), Timestamp::now())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Credentials(_)), "{err:?}");
    assert!(
        !err.to_string().contains(CLIENT_SECRET),
        "the secret's text reached the error: {err}"
    );
    assert_eq!(table.items().await, 0);
}

#[tokio::test]
async fn bad_input_is_an_error_before_anything_is_read() {
    let table = table().await;
    // An unreadable secret: were it read, the error would be the secret's, not the input's.
    let app = Reconcile::with_secret(
        table.store.clone(),
        Secret::in_secrets_manager(
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:never-read",
            None,
            std::time::Duration::from_secs(300),
            |text| Ok(text.to_owned()),
        ),
    );
    for input in [
        json!({"window": "weekly"}),
        json!({"from": "2026-12-01"}),
        json!({"window": "hourly", "to": "2026-12-01"}),
        json!({"from": "2026-12-02", "to": "2026-12-01"}),
        json!({"window": "hourly", "dryrun": true}),
        json!([1, 2]),
    ] {
        let err = app
            .handle(input.clone(), Timestamp::now())
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::Window(_)), "{input}: {err:?}");
    }
    assert_eq!(table.items().await, 0);
}

impl Scenario {
    fn function(&self) -> Reconcile {
        function(
            self.table.store.clone(),
            &secret_json(),
            &self.zoom.api_url(),
            &self.zoom.oauth_url(),
        )
    }

    async fn record(&self, id: &str) -> Option<zcc_domain::engagement::EngagementState> {
        let id = EngagementId::parse(id).unwrap();
        self.table
            .store
            .engagement(&id)
            .await
            .unwrap()
            .map(|r| r.state)
    }
}

fn count(report: &Value, name: &str) -> u64 {
    report[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

#[tokio::test]
async fn an_hourly_run_recovers_the_lost_event_backfills_the_unknown_engagement_and_reports() {
    let s = scenario().await;
    assert!(s.record(LOST_END).await.unwrap().ended_at.is_none());
    assert!(s.record(NO_WEBHOOKS).await.is_none());

    let report = s
        .function()
        .handle(json!({"window": "hourly"}), s.now)
        .await
        .unwrap();
    assert_eq!(report["from"], s.window.from.to_iso(), "{report}");
    assert_eq!(report["to"], s.window.to.to_iso(), "{report}");
    assert_eq!(report["dry_run"], false);
    assert_eq!(count(&report, "recovered_events"), 1, "{report}");
    assert_eq!(count(&report, "backfilled_engagements"), 1, "{report}");
    assert_eq!(count(&report, "checked"), 2, "{report}");

    // The lost end, merged as the webhook would have been: to the millisecond.
    let lost = s.record(LOST_END).await.unwrap();
    let end = s.window.from.saturating_add_millis(10 * 60_000 + 130_000);
    assert_eq!(lost.ended_at, Some(end));
    // The engagement no webhook told us about, from Zoom's facts.
    let backfilled = s.record(NO_WEBHOOKS).await.unwrap();
    assert!(
        backfilled.sources.contains("zoom_api"),
        "{:?}",
        backfilled.sources
    );
    assert_eq!(backfilled.agent_user_id.as_deref(), Some("u-ana"));
    // Written from Zoom's own figures, it agrees with them.
    let mismatches = report["mismatches"].as_array().unwrap();
    assert!(
        mismatches.iter().all(|m| m["engagement_id"] != NO_WEBHOOKS),
        "{report}"
    );

    // The next hourly run over the same hour (a retry of the invocation): nothing to do,
    // and no write.
    let again = s
        .function()
        .handle(json!({"window": "hourly"}), s.now)
        .await
        .unwrap();
    assert_eq!(count(&again, "recovered_events"), 0, "{again}");
    assert_eq!(count(&again, "backfilled_engagements"), 0, "{again}");
    assert_eq!(again["write_units"], 0.0, "{again}");
    assert_eq!(again["mismatches"], report["mismatches"]);
}

#[tokio::test]
async fn a_dry_run_says_what_it_would_do_and_writes_nothing() {
    let s = scenario().await;
    let before = s.table.items().await;
    let report = s
        .function()
        .handle(json!({"window": "hourly", "dry_run": true}), s.now)
        .await
        .unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(count(&report, "recovered_events"), 1, "{report}");
    assert_eq!(count(&report, "backfilled_engagements"), 1, "{report}");
    assert_eq!(s.table.items().await, before);
    assert!(s.record(NO_WEBHOOKS).await.is_none());
}

#[tokio::test]
async fn a_run_zoom_fails_is_an_error_and_writes_nothing() {
    let s = scenario().await;
    let before = s.table.items().await;
    // Credentials Zoom refuses (the secret holds another app's).
    let wrong = json!({"account_id": ACCOUNT_ID, "client_id": CLIENT_ID,
        "client_secret": "not-the-apps-secret", "app_id": APP_ID})
    .to_string();
    let app = function(
        s.table.store.clone(),
        &wrong,
        &s.zoom.api_url(),
        &s.zoom.oauth_url(),
    );
    let err = app
        .handle(json!({"window": "hourly"}), s.now)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Reconcile(_)), "{err:?}");
    assert!(!err.to_string().contains("not-the-apps-secret"), "{err}");
    assert_eq!(s.table.items().await, before);
}

/// moto's Secrets Manager, when `ZCC_MOTO_ENDPOINT` names a moto server (scripts/test
/// starts one).
fn moto() -> Option<SecretsManager> {
    let Ok(endpoint) = std::env::var("ZCC_MOTO_ENDPOINT") else {
        eprintln!(
            "ZCC_MOTO_ENDPOINT is not set: run through scripts/test to check Secrets Manager"
        );
        return None;
    };
    Some(SecretsManager::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "test"))
            .build(),
    ))
}

#[tokio::test]
async fn the_credentials_put_in_the_secret_are_taken_up_without_a_redeploy() {
    let Some(client) = moto() else { return };
    let s = scenario().await;
    let name = format!(
        "zcc-test-reconcile-{}-{}",
        std::process::id(),
        Timestamp::now().unix_millis()
    );
    // As the template creates it: the placeholder.
    client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"account_id": "", "client_id": "", "client_secret": "", "app_id": ""}"#)
        .send()
        .await
        .unwrap();
    let secret = Secret::in_secrets_manager(&name, Some(client.clone()), Duration::ZERO, |text| {
        Ok(text.to_owned())
    });
    let app = Reconcile::with_secret(s.table.store.clone(), secret)
        .with_endpoints(Some(s.zoom.api_url()), Some(s.zoom.oauth_url()));
    let err = app
        .handle(json!({"window": "hourly"}), s.now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("account_id"), "{err}");

    // The operator puts the real value; the same function (no redeploy) uses it.
    client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(secret_json())
        .send()
        .await
        .unwrap();
    let report = app
        .handle(json!({"window": "hourly"}), s.now)
        .await
        .unwrap();
    assert_eq!(count(&report, "backfilled_engagements"), 1, "{report}");
}
