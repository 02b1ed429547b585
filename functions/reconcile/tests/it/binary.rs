//! The shipped binary, run as Lambda runs it: against a stand-in Runtime API, with the
//! environment Lambda provides and the template sets, storing into dynoxide. A failed run is
//! an invocation error (so Lambda retries it and counts it in Errors); what it logs holds no
//! credential; its metrics are EMF.

use std::time::Duration;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_testkit::runtime_api::{Bootstrap, FakeRuntimeApi, emf_lines};
use zcc_testkit::zoom_api::{ACCOUNT_ID, APP_ID, CLIENT_ID, CLIENT_SECRET as ZOOM_CLIENT_SECRET};

use crate::common::{Scenario, TABLE, scenario, secret_json};

const CLIENT_SECRET: &str = "binary-client-secret-7Hq2zX";

/// Runs the binary with `env` (besides the table and the stand-in's URLs) over the scenario's
/// hour, and checks what Lambda and CloudWatch would see: the report as the answer, the
/// reconcile figures as EMF, the report as a log line, no credential anywhere in the output.
async fn scheduled_run(s: &Scenario, env: &[(&str, &str)]) {
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let endpoint = s.table.db.endpoint();
    let api = s.zoom.api_url();
    let oauth = s.zoom.oauth_url();
    let mut all = vec![
        ("TABLE_NAME", TABLE),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("METRICS_STACK", "zcc-binary-test"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("ZOOM_API_URL", api.as_str()),
        ("ZOOM_OAUTH_URL", oauth.as_str()),
    ];
    all.extend_from_slice(env);
    let bootstrap =
        Bootstrap::spawn(env!("CARGO_BIN_EXE_reconcile"), &runtime, "reconcile", &all).unwrap();
    let report = runtime
        .invoke(&json!({"window": "hourly"}), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(report["from"], s.window.from.to_iso(), "{report}");
    assert_eq!(report["recovered_events"], 1, "{report}");
    assert_eq!(report["backfilled_engagements"], 1, "{report}");
    let mismatches = report["mismatches"].as_array().unwrap().len() as f64;

    let (out, err) = bootstrap.stop().await;
    let logs = format!("{out}\n{err}");
    assert!(
        !logs.contains(ZOOM_CLIENT_SECRET),
        "the client secret reached the logs"
    );
    let emf = emf_lines(&out);
    let figures = emf
        .iter()
        .find(|d| d.get("RecoveredEvents").is_some())
        .unwrap_or_else(|| panic!("no reconcile figures among {emf:?}"));
    assert_eq!(figures["Function"], "reconcile");
    assert_eq!(figures["Stack"], "zcc-binary-test");
    assert_eq!(figures["RecoveredEvents"], 1.0);
    assert_eq!(figures["BackfilledEngagements"], 1.0);
    assert_eq!(figures["FigureMismatches"], mismatches);
    let line: Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l.to_string().contains("reconcile finished"))
        .unwrap_or_else(|| panic!("no report line in {logs}"));
    // The log line carries the whole report, as the invocation answered it.
    let logged: Value = serde_json::from_str(line["fields"]["report"].as_str().unwrap()).unwrap();
    assert_eq!(logged, report);
    assert_eq!(line["fields"]["backfilled_engagements"], 1, "{line}");
    runtime.stop().await;
}

#[tokio::test]
async fn a_scheduled_run_answers_the_report_emits_the_figures_and_logs_no_credential() {
    let s = scenario().await;
    // Outside AWS, without ZOOM_API_SECRET_ARN: the variables zcc reconcile reads.
    scheduled_run(
        &s,
        &[
            ("ZOOM_ACCOUNT_ID", ACCOUNT_ID),
            ("ZOOM_CLIENT_ID", CLIENT_ID),
            ("ZOOM_CLIENT_SECRET", ZOOM_CLIENT_SECRET),
            ("ZOOM_APP_ID", APP_ID),
        ],
    )
    .await;
}

#[tokio::test]
async fn deployed_the_binary_reads_its_credentials_from_the_secret() {
    let Ok(moto) = std::env::var("ZCC_MOTO_ENDPOINT") else {
        eprintln!(
            "ZCC_MOTO_ENDPOINT is not set: run through scripts/test to check Secrets Manager"
        );
        return;
    };
    let client = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&moto)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "test"))
            .build(),
    );
    let name = format!(
        "zcc-test-reconcile-binary-{}-{}",
        std::process::id(),
        zcc_domain::timestamp::Timestamp::now().unix_millis()
    );
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(secret_json())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let s = scenario().await;
    // As the template sets it: the secret's ARN, no credential in the environment.
    scheduled_run(
        &s,
        &[
            ("ZOOM_API_SECRET_ARN", arn.as_str()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.as_str()),
        ],
    )
    .await;
}

#[tokio::test]
async fn without_its_table_the_binary_stops_at_start_naming_it() {
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_reconcile"),
        &runtime,
        "reconcile",
        &[(
            "ZOOM_API_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:x",
        )],
    )
    .unwrap();
    let (ok, out, err) = bootstrap
        .exited(Duration::from_secs(20))
        .await
        .expect("the binary exits by itself");
    assert!(!ok);
    assert!(format!("{out}{err}").contains("TABLE_NAME"), "{out}\n{err}");
    runtime.stop().await;
}

#[tokio::test]
async fn a_bad_input_is_an_invocation_error_and_logs_no_credential() {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "binary-reconcile")
        .await
        .unwrap();
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let endpoint = db.endpoint();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_reconcile"),
        &runtime,
        "reconcile",
        &[
            ("TABLE_NAME", "binary-reconcile"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
            ("METRICS_STACK", "zcc-binary-test"),
            // Outside AWS, without ZOOM_API_SECRET_ARN: the variables zcc reconcile reads.
            ("ZOOM_ACCOUNT_ID", "acct-1"),
            ("ZOOM_CLIENT_ID", "client-1"),
            ("ZOOM_CLIENT_SECRET", CLIENT_SECRET),
            ("ZOOM_API_URL", "http://127.0.0.1:9/v2"),
            ("ZOOM_OAUTH_URL", "http://127.0.0.1:9/oauth/token"),
        ],
    )
    .unwrap();
    let error = runtime
        .invoke(&json!({"window": "weekly"}), Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(error.contains("weekly"), "{error}");
    let (out, err) = bootstrap.stop().await;
    let logs = format!("{out}\n{err}");
    assert!(
        !logs.contains(CLIENT_SECRET),
        "the client secret reached the logs"
    );
    let emf = emf_lines(&out);
    assert!(
        emf.iter()
            .any(|d| d["Function"] == "reconcile" && d["ColdStarts"] == 1.0),
        "EMF lines: {emf:?}"
    );
    // A failed run emits no reconcile figures.
    assert!(
        emf.iter().all(|d| d.get("RecoveredEvents").is_none()),
        "EMF lines: {emf:?}"
    );
    runtime.stop().await;
}
