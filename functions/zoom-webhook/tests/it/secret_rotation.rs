//! The Secret Token kept in AWS Secrets Manager (moto's, over HTTP through the SDK, when
//! `ZCC_MOTO_ENDPOINT` names a moto server, as `scripts/test` arranges): read on the first
//! request, and a rotation is an update of the secret, taken up without a redeploy.

use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;
use zcc_domain::samples::engagement_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::edge::function_url::lambda_request;
use zcc_shared::edge::secrets::Secret;
use zcc_shared::settings::verifier_maker;
use zcc_testkit::signed_webhook_event;
use zoom_webhook::{ZoomSignature, ZoomWebhook};

fn secrets_manager(endpoint: &str) -> Client {
    Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "test"))
            .build(),
    )
}

struct Harness {
    app: ZoomWebhook<DynamoStore>,
    store: DynamoStore,
    _db: EmbeddedDynamo,
}

async fn harness(secret: Secret<zcc_domain::signature::SignatureVerifier>) -> Harness {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "events").await.unwrap();
    let store = DynamoStore::new(db.client(), "events", None);
    Harness {
        app: ZoomWebhook::new(ZoomSignature::with_secret(secret), store.clone()),
        store,
        _db: db,
    }
}

impl Harness {
    async fn post(&self, secret: &str, n: u32) -> (u16, Value) {
        let now = Timestamp::now();
        let body = engagement_webhook(
            "engagement_user_hold",
            "e-rotation",
            now.saturating_add_millis(i64::from(n)),
            serde_json::json!({}),
        )
        .to_string();
        let request = lambda_request(&signed_webhook_event(
            secret,
            now.unix_seconds(),
            &body,
            false,
        ));
        let response = self.app.handle(request).await.unwrap();
        let json = serde_json::from_slice(response.body().as_ref()).unwrap();
        (response.status().as_u16(), json)
    }

    async fn stored(&self) -> usize {
        let scan = self
            .store
            .client()
            .scan()
            .table_name("events")
            .send()
            .await
            .unwrap();
        scan.items().len()
    }
}

fn moto() -> Option<String> {
    let endpoint = std::env::var("ZCC_MOTO_ENDPOINT").ok();
    if endpoint.is_none() {
        eprintln!(
            "ZCC_MOTO_ENDPOINT is not set: run through scripts/test to check Secrets Manager"
        );
    }
    endpoint
}

async fn create(client: &Client, value: &str) -> String {
    let name = format!(
        "zcc-test-{}-{}",
        std::process::id(),
        Timestamp::now().unix_millis()
    );
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    name
}

#[tokio::test]
async fn a_rotated_secret_is_taken_up_on_its_first_request_without_a_redeploy() {
    let Some(endpoint) = moto() else { return };
    let client = secrets_manager(&endpoint);
    let id = create(&client, "old-token").await;
    let secret = Secret::in_secrets_manager(
        &id,
        Some(client.clone()),
        Duration::from_secs(300),
        verifier_maker(300),
    )
    .with_reload_gap(Duration::ZERO);
    let h = harness(secret).await;
    assert_eq!(h.post("old-token", 1).await.0, 200);

    // The admin regenerates the Secret Token in Zoom and puts it in the secret.
    client
        .put_secret_value()
        .secret_id(&id)
        .secret_string("new-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        h.post("new-token", 2).await.0,
        200,
        "read again on the mismatch"
    );
    let (status, body) = h.post("old-token", 3).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("signature_mismatch"))
    );
    assert_eq!(h.stored().await, 3, "two raw events and the state");
}

#[tokio::test]
async fn forged_requests_read_the_secret_again_at_most_once_a_gap() {
    let Some(endpoint) = moto() else { return };
    let client = secrets_manager(&endpoint);
    let id = create(&client, "old-token").await;
    // The default gap (30 s): a mismatch within it does not read the secret again.
    let secret = Secret::in_secrets_manager(
        &id,
        Some(client.clone()),
        Duration::from_secs(300),
        verifier_maker(300),
    );
    let h = harness(secret).await;
    assert_eq!(h.post("old-token", 1).await.0, 200);
    client
        .put_secret_value()
        .secret_id(&id)
        .secret_string("new-token")
        .send()
        .await
        .unwrap();
    for n in 2..20 {
        assert_eq!(h.post("new-token", n).await.0, 401);
    }
    assert_eq!(
        h.post("old-token", 30).await.0,
        200,
        "the copy held is still used"
    );
}

#[tokio::test]
async fn an_unreadable_secret_is_a_503_that_zoom_retries_and_nothing_is_stored() {
    // Nothing listens on port 9 (discard): the read fails fast.
    let secret = Secret::in_secrets_manager(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:zcc-missing",
        Some(secrets_manager("http://127.0.0.1:9")),
        Duration::from_secs(300),
        verifier_maker(300),
    );
    let h = harness(secret).await;
    let (status, body) = h.post("any-token", 1).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "secret_unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("zcc-missing") && !message.contains("any-token"),
        "{message}"
    );
    assert_eq!(h.stored().await, 0);
}
