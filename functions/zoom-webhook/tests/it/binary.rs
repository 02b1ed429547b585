//! The shipped binary, run as Lambda runs it: against a stand-in Runtime API, with the
//! environment Lambda provides, storing into dynoxide. What it logs must hold no secret and
//! no body, and its metrics must be EMF.

use std::time::Duration;

use serde_json::{Value, json};
use zcc_domain::samples::{agent_webhook, engagement_webhook, url_validation};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_testkit::runtime_api::{Bootstrap, FakeRuntimeApi, emf_lines};
use zcc_testkit::signed_webhook_event;

const SECRET: &str = "binary-test-secret-4fv1RkqG";

fn signed_event(body: &str) -> Value {
    signed_webhook_event(SECRET, Timestamp::now().unix_seconds(), body, true)
}

#[tokio::test]
async fn the_bootstrap_serves_invocations_like_lambda() {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "binary-test").await.unwrap();
    let runtime = FakeRuntimeApi::start().await.unwrap();
    let endpoint = db.endpoint();
    let bootstrap = Bootstrap::spawn(
        env!("CARGO_BIN_EXE_zoom-webhook"),
        &runtime,
        "zoom-webhook",
        &[
            ("TABLE_NAME", "binary-test"),
            ("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET),
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
            ("METRICS_STACK", "zcc-binary-test"),
        ],
    )
    .unwrap();

    let secret_marker = "a-note-that-must-not-be-logged";
    let body = engagement_webhook(
        "engagement_note_added",
        "bin-e1",
        Timestamp::now(),
        json!({"note_id": "n1", "note": secret_marker}),
    )
    .to_string();
    let answer = runtime
        .invoke(&signed_event(&body), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["body"], r#"{"status":"accepted"}"#);

    let challenge = url_validation("plain-token-1", Timestamp::now()).to_string();
    let answer = runtime
        .invoke(&signed_event(&challenge), Duration::from_secs(20))
        .await
        .unwrap();
    let challenge_answer: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(challenge_answer["plainToken"], "plain-token-1");

    let mut forged = signed_event(&body);
    forged["headers"]["x-zm-signature"] = json!(format!("v0={}", "ab".repeat(32)));
    let answer = runtime
        .invoke(&forged, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 401);

    let presence = agent_webhook("user_login", "bin-agent-7", Timestamp::now(), json!({}));
    let answer = runtime
        .invoke(
            &signed_event(&presence.to_string()),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");

    let store = zcc_shared::dynamodb::DynamoStore::new(db.client(), "binary-test", None);
    let stored = store
        .current_state(&schema::engagement_pk("bin-e1"))
        .await
        .unwrap();
    assert!(stored.is_some(), "the binary wrote the state item");

    let (out, err) = bootstrap.stop().await;
    let logs = format!("{out}\n{err}");
    assert!(!logs.contains(SECRET), "the secret reached the logs");
    assert!(!logs.contains(secret_marker), "a body reached the logs");
    let agent_lines: Vec<&str> = logs.lines().filter(|l| l.contains("bin-agent-7")).collect();
    assert!(
        agent_lines.iter().any(|l| l.contains("user_id")),
        "the agent's event is logged under user_id: {agent_lines:?}"
    );
    assert!(
        agent_lines.iter().all(|l| !l.contains("engagement_id")),
        "an agent's id is not an engagement id: {agent_lines:?}"
    );
    let emf = emf_lines(&out);
    let has = |name: &str| {
        emf.iter()
            .any(|d| d.get(name).is_some() && d["Function"] == "zoom-webhook")
    };
    assert!(
        has("ColdStarts")
            && has("EventsAccepted")
            && has("ChallengesAnswered")
            && has("SignatureFailures"),
        "EMF lines: {emf:?}"
    );
    runtime.stop().await;
}
