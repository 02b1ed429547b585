//! The zoom-webhook handler fed function-URL events (plain and base64 bodies), storing into
//! dynoxide in-process through the SDK.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::Body;
use serde_json::{Value, json};
use zcc_domain::samples::{engagement_webhook, url_validation};
use zcc_domain::signature::{SecretTokens, SignatureVerifier};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::edge::function_url::{function_url_event, lambda_request};
use zcc_testkit::signed_webhook_event;
use zoom_webhook::{ZoomSignature, ZoomWebhook};

const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";

struct Harness {
    app: ZoomWebhook<DynamoStore>,
    store: DynamoStore,
    _db: EmbeddedDynamo,
}

async fn harness() -> Harness {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "events").await.unwrap();
    let store = DynamoStore::new(db.client(), "events", None);
    let verifier = SignatureVerifier::new(SecretTokens::from_list(SECRET).unwrap(), 300);
    Harness {
        app: ZoomWebhook::new(ZoomSignature::new(verifier), store.clone()),
        store,
        _db: db,
    }
}

fn signed(body: &str, ts: i64, base64: bool) -> lambda_http::Request {
    lambda_request(&signed_webhook_event(SECRET, ts, body, base64))
}

fn json_body(response: &lambda_http::Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("a JSON body")
}

async fn item_count(store: &DynamoStore) -> usize {
    store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .items()
        .len()
}

impl Harness {
    async fn post(&self, request: lambda_http::Request) -> (u16, Value) {
        let response = self.app.handle(request).await.unwrap();
        let status = response.status().as_u16();
        (status, json_body(&response))
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[tokio::test]
async fn plain_and_base64_bodies_verify_alike() {
    let h = harness().await;
    let body = engagement_webhook("engagement_started", "e1", now(), json!({})).to_string();
    let (status, answer) = h.post(signed(&body, now().unix_seconds(), false)).await;
    assert_eq!((status, answer), (200, json!({"status": "accepted"})));
    // The same event base64-encoded by the function URL: verified, and a duplicate.
    let (status, _) = h.post(signed(&body, now().unix_seconds(), true)).await;
    assert_eq!(status, 200);
    let other = engagement_webhook("engagement_ended", "e1", now(), json!({})).to_string();
    assert_eq!(
        h.post(signed(&other, now().unix_seconds(), true)).await.0,
        200
    );
    // state + two distinct events
    assert_eq!(item_count(&h.store).await, 3);
}

#[tokio::test]
async fn raw_utf8_and_escapes_are_verified_as_sent() {
    let h = harness().await;
    // Zoom mixes \uD83D\uDE92 escapes with raw UTF-8: the bytes are what is signed.
    let body = format!(
        r#"{{"payload":{{"object":{{"engagement_id":"e-utf8","note_id":"n1","note":"🚒 \uD83D\uDE92 café","date_time_ms":"{}"}},"account_id":"a"}},"event":"contact_center.engagement_note_added","event_ts":1}}"#,
        now().to_iso()
    );
    let (status, _) = h.post(signed(&body, now().unix_seconds(), false)).await;
    assert_eq!(status, 200);
    let state = h
        .store
        .client()
        .get_item()
        .table_name("events")
        .key("pk", AttributeValue::S("ENGAGEMENT#e-utf8".into()))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let notes = zcc_shared::dynamodb::attributes::from_attribute(&state["notes"]);
    assert_eq!(notes["n1"]["note"], "🚒 🚒 café");
}

#[tokio::test]
async fn the_challenge_is_answered_on_the_events_url() {
    let h = harness().await;
    let body = url_validation("xys8n8PGS7mAU0m5-YJjRA", now()).to_string();
    let (status, answer) = h.post(signed(&body, now().unix_seconds(), false)).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"plainToken": "xys8n8PGS7mAU0m5-YJjRA",
               "encryptedToken": "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"})
    );
    assert_eq!(item_count(&h.store).await, 0, "a challenge stores nothing");
}

#[tokio::test]
async fn unauthentic_requests_get_401_and_store_nothing() {
    let h = harness().await;
    let body = engagement_webhook("engagement_started", "e1", now(), json!({})).to_string();
    let ts = now().unix_seconds();
    let cases = [
        (
            "wrong signature",
            {
                let mut r = signed(&body, ts, false);
                r.headers_mut().insert(
                    "x-zm-signature",
                    format!("v0={}", "0".repeat(64)).parse().unwrap(),
                );
                r
            },
            "signature_mismatch",
        ),
        ("stale", signed(&body, ts - 301, false), "stale_timestamp"),
        ("future", signed(&body, ts + 301, false), "stale_timestamp"),
        (
            "unsigned challenge",
            lambda_request(&function_url_event(
                "POST",
                "/",
                &[("content-type", "application/json")],
                url_validation("abc", now()).to_string().as_bytes(),
                false,
            )),
            "missing_signature",
        ),
        (
            "body changed after signing",
            {
                let mut r = signed(&body, ts, false);
                *r.body_mut() = Body::Text(body.replace("e1", "e2"));
                r
            },
            "signature_mismatch",
        ),
    ];
    for (case, request, code) in cases {
        let (status, answer) = h.post(request).await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(answer["error"]["code"], code, "{case}");
        assert!(
            answer["error"]["message"].as_str().unwrap().len() > 10,
            "{case}"
        );
        assert!(!answer.to_string().contains(SECRET), "{case}");
    }
    assert_eq!(item_count(&h.store).await, 0);
}

#[tokio::test]
async fn bad_requests_get_a_clear_error() {
    let h = harness().await;
    let ts = now().unix_seconds();
    let (status, answer) = h.post(signed("not json", ts, false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, answer) = h.post(signed(r#"{"payload":{}}"#, ts, false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("missing_event"))
    );
    let big = format!(r#"{{"event":"x","pad":"{}"}}"#, "a".repeat(300 * 1024));
    let (status, answer) = h.post(signed(&big, ts, false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    // Nested deeper than any event is (the parser stops at 128 levels): refused, not a stack
    // overflow.
    let deep = format!(
        r#"{{"event":"x","payload":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (status, answer) = h.post(signed(&deep, ts, false)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert_eq!(item_count(&h.store).await, 0);
    // An engagement id that would change the item's key (`#` separates its parts) is no id: the
    // authentic event is kept raw, unrouted, and no key holds it.
    let key = json!({"event": "contact_center.engagement_started", "event_ts": now().unix_millis(),
        "payload": {"account_id": "a", "object": {"engagement_id": "e1#STATE"}}})
    .to_string();
    assert_eq!(h.post(signed(&key, ts, false)).await.0, 200);
    let scan = h
        .store
        .client()
        .scan()
        .table_name("events")
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = scan
        .items()
        .iter()
        .map(|i| i["pk"].as_s().unwrap().clone())
        .collect();
    assert!(
        keys.len() == 1 && keys[0].starts_with("UNROUTED#"),
        "{keys:?}"
    );
    h.store
        .client()
        .delete_item()
        .table_name("events")
        .key("pk", AttributeValue::S(keys[0].clone()))
        .key("sk", scan.items()[0]["sk"].clone())
        .send()
        .await
        .unwrap();
    let get = lambda_request(&function_url_event("GET", "/", &[], b"", false));
    let response = h.app.handle(get).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(item_count(&h.store).await, 0);
}

#[tokio::test]
async fn unknown_events_are_accepted_and_kept() {
    let h = harness().await;
    let body = json!({"event": "contact_center.engagement_survey_status", "event_ts": now().unix_millis(),
        "payload": {"account_id": "a", "object": {"engagement_id": "e9", "brand_new_field": [1, 2]}}}).to_string();
    let (status, _) = h.post(signed(&body, now().unix_seconds(), false)).await;
    assert_eq!(status, 200);
    assert_eq!(item_count(&h.store).await, 2);
}

#[tokio::test]
async fn storage_down_is_503_so_zoom_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = DynamoStore::new(
        zcc_shared::dynamodb::embedded::client_for(&endpoint),
        "events",
        None,
    );
    let app = ZoomWebhook::new(
        ZoomSignature::new(SignatureVerifier::new(
            SecretTokens::from_list(SECRET).unwrap(),
            300,
        )),
        store,
    );
    let body = engagement_webhook("engagement_started", "e1", now(), json!({})).to_string();
    let response = app
        .handle(signed(&body, now().unix_seconds(), false))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(json_body(&response)["error"]["code"], "storage_unavailable");
}

/// Every body Zoom publishes, in its published shape, is accepted and stored under its
/// engagement or its agent (or, about neither, raw by day), and each one's effect is in the
/// state: counted once, and the events the model reads change what they should.
#[tokio::test]
async fn every_published_body_is_accepted_and_stored_under_its_subject() {
    use zcc_domain::event::Subject;
    use zcc_domain::published::PUBLISHED;
    use zcc_testkit::authentic;

    let h = harness().await;
    let now = Timestamp::now();
    let mut engagement_events = 0;
    for published in PUBLISHED {
        let (status, body) = h
            .post(signed(published.body, now.unix_seconds(), false))
            .await;
        assert_eq!(status, 200, "{}: {body}", published.name);
        assert_eq!(body, json!({"status": "accepted"}), "{}", published.name);
        let event = authentic::webhook(published.body);
        let pk = schema::partition(event.subject(), event.occurred_at());
        let stored = h.store.event_items(&pk).await.unwrap();
        assert!(
            stored.iter().any(|item| item.get("event_id")
                == Some(&AttributeValue::S(event.event_id().to_string()))),
            "{} is not stored under {pk}",
            published.name
        );
        if matches!(event.subject(), Subject::Engagement(_)) {
            engagement_events += 1;
        }
    }
    let state = h
        .store
        .current_state(&schema::engagement_pk("Qk9PTGVhbmdhZ2VtZW50MQ"))
        .await
        .unwrap()
        .expect("the engagement's state");
    let state = Value::Object(zcc_shared::dynamodb::attributes::from_item(&state));
    assert_eq!(state["event_count"], engagement_events);
    // The whole published story: a transfer from Sales to Billing accepted by Bo, then a
    // supervisor's takeover; a barge; a rejected and a timed-out offer.
    assert_eq!(state["transfer_count"], 1);
    assert_eq!(state["queue_id"], "q-billing");
    assert_eq!(state["agent_user_id"], "supV1sorUserId000001");
    assert!(
        state["supervisors"]["supV1sorUserId000001"]["action_types"]
            .as_array()
            .unwrap()
            .contains(&json!("barge"))
    );
    assert_eq!(state["offers_rejected"], 1);
    assert_eq!(state["offers_timed_out"], 1);
    assert_eq!(state["abandoned"], false);
    // Sending them all again changes nothing: each is a duplicate.
    let before = item_count(&h.store).await;
    for published in PUBLISHED {
        let (status, _) = h
            .post(signed(published.body, now.unix_seconds(), true))
            .await;
        assert_eq!(status, 200, "{}", published.name);
    }
    assert_eq!(item_count(&h.store).await, before);
}
