//! The url-validation handler fed function-URL events.

use serde_json::{Value, json};
use url_validation::UrlValidation;
use zcc_domain::samples::url_validation;
use zcc_domain::signature::{SecretTokens, SignatureVerifier};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::function_url::{function_url_event, lambda_request};
use zcc_testkit::signed_webhook_event;

const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";

fn app() -> UrlValidation {
    url_validation::with_verifier(SignatureVerifier::new(
        SecretTokens::from_list(&format!("{SECRET},rotated-token")).unwrap(),
        300,
    ))
}

fn request(body: &str, signing: Option<&str>, base64: bool) -> lambda_http::Request {
    let ts = Timestamp::now().unix_seconds();
    lambda_request(&match signing {
        Some(secret) => signed_webhook_event(secret, ts, body, base64),
        None => function_url_event(
            "POST",
            "/",
            &[
                ("content-type", "application/json"),
                ("x-zm-request-timestamp", &ts.to_string()),
            ],
            body.as_bytes(),
            base64,
        ),
    })
}

async fn send(r: lambda_http::Request) -> (u16, Value) {
    let response = app().handle(r).await.unwrap();
    (
        response.status().as_u16(),
        serde_json::from_slice(response.body().as_ref()).unwrap(),
    )
}

#[tokio::test]
async fn a_signed_challenge_is_answered_plain_or_base64() {
    let body = url_validation("xys8n8PGS7mAU0m5-YJjRA", Timestamp::now()).to_string();
    for base64 in [false, true] {
        let (status, answer) = send(request(&body, Some(SECRET), base64)).await;
        assert_eq!(status, 200);
        assert_eq!(
            answer["encryptedToken"],
            "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
        );
    }
    // During a rotation the answer uses the token Zoom signed with.
    let (status, answer) = send(request(&body, Some("rotated-token"), false)).await;
    assert_eq!(status, 200);
    assert_ne!(
        answer["encryptedToken"],
        "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
    );
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_challenges_are_401() {
    let body = url_validation("abc", Timestamp::now()).to_string();
    let (status, answer) = send(request(&body, None, false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("missing_signature"))
    );
    let (status, answer) = send(request(&body, Some("guess"), false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("signature_mismatch"))
    );
}

#[tokio::test]
async fn what_is_not_a_challenge_is_400() {
    let body = json!({"event": "contact_center.engagement_started", "payload": {}}).to_string();
    let (status, answer) = send(request(&body, Some(SECRET), false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("not_a_challenge"))
    );
}
