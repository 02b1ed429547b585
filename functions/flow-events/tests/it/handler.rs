//! The flow-events handler fed function-URL events, storing into dynoxide in-process.

use aws_sdk_dynamodb::types::AttributeValue;
use flow_events::{FlowEvents, FlowToken};
use serde_json::{Value, json};
use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::samples::flow_post;
use zcc_domain::signature::SecretTokens;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::{attributes, schema};
use zcc_shared::edge::function_url::{function_url_event, lambda_request};

async fn harness() -> (FlowEvents<DynamoStore>, DynamoStore, EmbeddedDynamo) {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "events").await.unwrap();
    let store = DynamoStore::new(db.client(), "events", None);
    let auth = FlowAuthorizer::new(&SecretTokens::from_list("flow-token,next-token").unwrap());
    (
        FlowEvents::new(FlowToken::new(auth), store.clone()),
        store,
        db,
    )
}

fn post(authorization: Option<&str>, body: &str, base64: bool) -> lambda_http::Request {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = authorization {
        headers.push(("authorization", a));
    }
    lambda_request(&function_url_event(
        "POST",
        "/",
        &headers,
        body.as_bytes(),
        base64,
    ))
}

async fn send(app: &FlowEvents<DynamoStore>, request: lambda_http::Request) -> (u16, Value) {
    let response = app.handle(request).await.unwrap();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap();
    (response.status().as_u16(), body)
}

async fn count(store: &DynamoStore) -> usize {
    store
        .client()
        .scan()
        .table_name("events")
        .send()
        .await
        .unwrap()
        .items()
        .len()
}

#[tokio::test]
async fn an_accepted_engagement_is_stored_plain_or_base64() {
    let (app, store, _db) = harness().await;
    let body = flow_post(
        "engagement_accepted",
        "e1",
        Some(Timestamp::now()),
        json!({}),
    )
    .to_string();
    assert_eq!(
        send(&app, post(Some("Bearer flow-token"), &body, false)).await,
        (200, json!({"status":"accepted"}))
    );
    assert_eq!(
        send(&app, post(Some("Bearer next-token"), &body, true))
            .await
            .0,
        200
    );
    assert_eq!(count(&store).await, 2, "one state item and one event item");
    let item = store
        .client()
        .get_item()
        .table_name("events")
        .key("pk", AttributeValue::S("ENGAGEMENT#e1".into()))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let state = Value::Object(attributes::from_item(&item));
    assert_eq!(state["agent_email"], "ana@example.com");
    assert_eq!(state["consumer_number"], "+14155550123");
    assert_eq!(state["sources"], json!(["flow"]));
}

#[tokio::test]
async fn without_the_bearer_token_it_is_401_and_nothing_is_stored() {
    let (app, store, _db) = harness().await;
    let body = flow_post("engagement_accepted", "e1", None, json!({})).to_string();
    for (auth, code) in [
        (None, "missing_authorization"),
        (Some("flow-token"), "malformed_authorization"),
        (Some("Bearer wrong"), "wrong_token"),
    ] {
        let (status, answer) = send(&app, post(auth, &body, false)).await;
        assert_eq!(status, 401);
        assert_eq!(answer["error"]["code"], code);
    }
    assert_eq!(count(&store).await, 0);
}

#[tokio::test]
async fn malformed_posts_are_400_with_the_fix() {
    let (app, store, _db) = harness().await;
    for (body, code) in [
        ("{", "malformed_json"),
        (r#"{"engagement_id":"e1"}"#, "missing_event"),
        (
            r#"{"event":"engagement_accepted"}"#,
            "missing_engagement_id",
        ),
        (
            r#"{"event":"engagement_accepted","engagement_id":"a#b"}"#,
            "bad_engagement_id",
        ),
    ] {
        let (status, answer) = send(&app, post(Some("Bearer flow-token"), body, false)).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let get = lambda_request(&function_url_event("PUT", "/", &[], b"{}", false));
    assert_eq!(send(&app, get).await.0, 405);
    assert_eq!(count(&store).await, 0);
}
