//! The shipped url-validation binary, run as Lambda runs it.

use std::time::Duration;

use serde_json::Value;
use zcc_domain::samples::url_validation;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::function_url::function_url_event;
use zcc_testkit::runtime_api::{Bootstrap, FakeRuntimeApi, emf_lines};
use zcc_testkit::signed_webhook_event;

const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";

#[tokio::test]
async fn the_bootstrap_answers_the_challenge_like_lambda() {
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_url-validation"),
        &runtime,
        "url-validation",
        &[("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)],
    )
    .unwrap();
    let body = url_validation("xys8n8PGS7mAU0m5-YJjRA", Timestamp::now()).to_string();
    let event = signed_webhook_event(SECRET, Timestamp::now().unix_seconds(), &body, true);
    let answer = runtime
        .invoke(&event, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let challenge: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        challenge["encryptedToken"],
        "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
    );
    let unsigned = function_url_event(
        "POST",
        "/",
        &[("content-type", "application/json")],
        body.as_bytes(),
        false,
    );
    assert_eq!(
        runtime
            .invoke(&unsigned, Duration::from_secs(20))
            .await
            .unwrap()["statusCode"],
        401
    );
    let (out, err) = bootstrap.stop().await;
    assert!(!format!("{out}{err}").contains(SECRET));
    let emf = emf_lines(&out);
    assert!(emf.iter().any(|d| d.get("ChallengesAnswered").is_some()));
    assert!(emf.iter().any(|d| d.get("SignatureFailures").is_some()));
    runtime.stop().await;
}
