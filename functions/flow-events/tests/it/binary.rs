//! The shipped flow-events binary, run as Lambda runs it, storing into dynoxide.

use std::time::Duration;

use serde_json::json;
use zcc_domain::samples::flow_post;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::edge::function_url::function_url_event;
use zcc_testkit::runtime_api::{Bootstrap, FakeRuntimeApi, emf_lines};

const TOKEN: &str = "binary-flow-token-0f3a";

#[tokio::test]
async fn the_bootstrap_serves_flow_posts_like_lambda() {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "binary-flow").await.unwrap();
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let endpoint = db.endpoint();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_flow-events"),
        &runtime,
        "flow-events",
        &[
            ("TABLE_NAME", "binary-flow"),
            ("FLOW_AUTH_TOKEN", TOKEN),
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
        ],
    )
    .unwrap();
    let marker = "caller-variable-that-must-not-be-logged";
    let body = flow_post(
        "engagement_accepted",
        "bin-flow-1",
        Some(Timestamp::now()),
        json!({"variables": {"note": marker}}),
    )
    .to_string();
    let bearer = format!("Bearer {TOKEN}");
    let event = function_url_event(
        "POST",
        "/",
        &[
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        body.as_bytes(),
        false,
    );
    let answer = runtime
        .invoke(&event, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let unauthorized = function_url_event(
        "POST",
        "/",
        &[("content-type", "application/json")],
        body.as_bytes(),
        false,
    );
    assert_eq!(
        runtime
            .invoke(&unauthorized, Duration::from_secs(20))
            .await
            .unwrap()["statusCode"],
        401
    );

    let (out, err) = bootstrap.stop().await;
    let logs = format!("{out}\n{err}");
    assert!(
        !logs.contains(TOKEN) && !logs.contains(marker),
        "a secret or a body reached the logs"
    );
    let emf = emf_lines(&out);
    for metric in ["ColdStarts", "EventsAccepted", "SignatureFailures"] {
        assert!(
            emf.iter()
                .any(|d| d.get(metric).is_some() && d["Function"] == "flow-events"),
            "{metric}: {emf:?}"
        );
    }
    runtime.stop().await;
}

#[tokio::test]
async fn without_its_settings_the_bootstrap_fails_at_init_and_says_why() {
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_flow-events"),
        &runtime,
        "flow-events",
        &[],
    )
    .unwrap();
    let (success, out, err) = bootstrap
        .exited(Duration::from_secs(20))
        .await
        .expect("it exits at once");
    assert!(!success);
    assert!(
        format!("{out}{err}").contains("TABLE_NAME"),
        "the missing variable is named: {out}{err}"
    );
    runtime.stop().await;
}
