//! The whole system as a newcomer runs it: `zcc local`'s stack started in-process on
//! loopback, signed webhooks and Flow POSTs sent over HTTP, the table read back through the SDK.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use zcc_cli::stack::{Stack, StackOptions};
use zcc_domain::samples::{engagement_webhook, flow_post, url_validation};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::attributes::from_item;
use zcc_testkit::{post_now, post_plain, post_signed};

const SECRET: &str = "e2e-webhook-secret";
const FLOW_TOKEN: &str = "e2e-flow-token";

async fn stack() -> Stack {
    let env = |name: &str| match name {
        "TABLE_NAME" => Some("zcc-e2e".to_owned()),
        "ZOOM_WEBHOOK_SECRET_TOKEN" => Some(format!("old-secret,{SECRET}")),
        "FLOW_AUTH_TOKEN" => Some(FLOW_TOKEN.to_owned()),
        _ => None,
    };
    Stack::start(&StackOptions::ephemeral(), &env)
        .await
        .expect("the local stack starts")
}

async fn all_items(client: &Client, table: &str) -> Vec<Value> {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|i| Value::Object(from_item(i)))
        .collect()
}

async fn state(stack: &Stack, id: &str) -> Value {
    let item = stack
        .dynamodb_client()
        .get_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(format!("ENGAGEMENT#{id}")))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("a state item");
    Value::Object(from_item(&item))
}

async fn event_items(stack: &Stack, id: &str) -> Vec<Value> {
    all_items(&stack.dynamodb_client(), stack.table())
        .await
        .into_iter()
        .filter(|i| i["pk"] == format!("ENGAGEMENT#{id}") && i["entity"] == "event")
        .collect()
}

fn at(iso: &str) -> Timestamp {
    Timestamp::parse(iso).unwrap()
}

#[tokio::test]
async fn a_call_lands_once_as_one_engagement() {
    let stack = stack().await;
    let url = stack.url("zoom-webhook");
    let id = "VrFJ9xUGT0G1jqJfyL8yCQ";
    let started = engagement_webhook(
        "engagement_started",
        id,
        at("2026-12-01T09:00:00.000Z"),
        json!({}),
    )
    .to_string();
    let answered = engagement_webhook("engagement_user_answered", id, at("2026-12-01T09:00:09.500Z"),
        json!({"user_id": "IGTRVt3gQ2i-WjoUIjeZxw", "user_display_name": "Ana Agent", "cc_queue_id": "q-sales", "queue_name": "Sales"})).to_string();
    let ended = engagement_webhook(
        "engagement_ended",
        id,
        at("2026-12-01T09:06:30.000Z"),
        json!({}),
    )
    .to_string();
    // Delivered out of order, as Zoom may.
    for body in [&ended, &started, &answered] {
        let reply = post_now(&url, SECRET, body).await;
        assert_eq!(
            (reply.status, reply.body),
            (200, json!({"status": "accepted"}))
        );
    }
    let s = state(&stack, id).await;
    assert_eq!(s["status"], "ended");
    assert_eq!(s["started_at"], "2026-12-01T09:00:00.000Z");
    assert_eq!(s["answered_at"], "2026-12-01T09:00:09.500Z");
    assert_eq!(s["ended_at"], "2026-12-01T09:06:30.000Z");
    assert_eq!(s["agent_user_id"], "IGTRVt3gQ2i-WjoUIjeZxw");
    assert_eq!(s["queue_name"], "Sales");
    assert_eq!(s["time_to_answer_ms"], 9_500);

    // The same event again, and re-serialized with other key order and whitespace.
    let reordered: Value = serde_json::from_str(&answered).unwrap();
    let pretty = format!("\n{}\n", serde_json::to_string_pretty(&json!({
        "payload": reordered["payload"], "event_ts": reordered["event_ts"], "event": reordered["event"],
    })).unwrap());
    assert_ne!(pretty, answered);
    for body in [&answered, &pretty] {
        let reply = post_now(&url, SECRET, body).await;
        assert_eq!(
            (reply.status, reply.body),
            (200, json!({"status": "accepted"}))
        );
    }
    assert_eq!(
        event_items(&stack, id).await.len(),
        3,
        "one event item per distinct event"
    );
    let again = state(&stack, id).await;
    assert_eq!(again, s, "a duplicate changes nothing");
    let states: Vec<_> = all_items(&stack.dynamodb_client(), stack.table())
        .await
        .into_iter()
        .filter(|i| i["sk"] == "STATE")
        .collect();
    assert_eq!(states.len(), 1);
    stack.stop().await;
}

#[tokio::test]
async fn flow_accepted_merges_into_the_same_engagement() {
    let stack = stack().await;
    let id = "Flow2merge8yCQ";
    let started = engagement_webhook(
        "engagement_started",
        id,
        at("2026-12-01T10:00:00Z"),
        json!({"consumer_number": null}),
    )
    .to_string();
    assert_eq!(
        post_now(&stack.url("zoom-webhook"), SECRET, &started)
            .await
            .status,
        200
    );
    let accepted = flow_post("engagement_accepted", id, Some(at("2026-12-01T10:00:12Z")),
        json!({"caller_number": "+14155550199", "agent_email": "ana@example.com", "variables": {"order_id": "A-1001"}})).to_string();
    let reply = post_plain(
        &stack.url("flow-events"),
        &[("authorization", &format!("Bearer {FLOW_TOKEN}"))],
        &accepted,
    )
    .await;
    assert_eq!(
        (reply.status, reply.body),
        (200, json!({"status": "accepted"}))
    );
    let s = state(&stack, id).await;
    assert_eq!(s["agent_email"], "ana@example.com");
    assert_eq!(s["consumer_number"], "+14155550199");
    assert_eq!(s["flow_variables"]["order_id"], "A-1001");
    assert_eq!(s["sources"], json!(["flow", "webhook"]));
    assert_eq!(s["status"], "answered");
    stack.stop().await;
}

#[tokio::test]
async fn unauthentic_requests_get_401_and_store_nothing() {
    let stack = stack().await;
    let webhook = stack.url("zoom-webhook");
    let body = engagement_webhook(
        "engagement_started",
        "e-forged",
        Timestamp::now(),
        json!({}),
    )
    .to_string();
    let now = Timestamp::now().unix_seconds();
    let challenge = url_validation("forge-me", Timestamp::now()).to_string();
    let flow = flow_post("engagement_accepted", "e-forged", None, json!({})).to_string();
    let replies = [
        (
            "wrong signature",
            post_signed(&webhook, "not-the-secret", &body, now).await,
        ),
        (
            "stale timestamp",
            post_signed(&webhook, SECRET, &body, now - 600).await,
        ),
        (
            "future timestamp",
            post_signed(&webhook, SECRET, &body, now + 600).await,
        ),
        (
            "unsigned challenge",
            post_plain(&webhook, &[], &challenge).await,
        ),
        (
            "unsigned challenge (url-validation)",
            post_plain(&stack.url("url-validation"), &[], &challenge).await,
        ),
        (
            "flow without bearer",
            post_plain(&stack.url("flow-events"), &[], &flow).await,
        ),
        (
            "flow with a wrong bearer",
            post_plain(
                &stack.url("flow-events"),
                &[("authorization", "Bearer nope")],
                &flow,
            )
            .await,
        ),
    ];
    for (case, reply) in replies {
        assert_eq!(reply.status, 401, "{case}");
        let error = &reply.body["error"];
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{case}: {}",
            reply.body
        );
    }
    assert!(
        all_items(&stack.dynamodb_client(), stack.table())
            .await
            .is_empty()
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_challenge_is_answered_on_both_urls_with_the_token_that_signed() {
    let stack = stack().await;
    let challenge = url_validation("xys8n8PGS7mAU0m5-YJjRA", Timestamp::now()).to_string();
    let webhook = post_now(&stack.url("zoom-webhook"), SECRET, &challenge).await;
    let standalone = post_now(&stack.url("url-validation"), SECRET, &challenge).await;
    assert_eq!(webhook.status, 200);
    assert_eq!(webhook.body, standalone.body);
    assert_eq!(webhook.body["plainToken"], "xys8n8PGS7mAU0m5-YJjRA");
    let during_rotation = post_now(&stack.url("zoom-webhook"), "old-secret", &challenge).await;
    assert_eq!(during_rotation.status, 200);
    assert_ne!(
        during_rotation.body["encryptedToken"],
        webhook.body["encryptedToken"]
    );
    assert!(
        all_items(&stack.dynamodb_client(), stack.table())
            .await
            .is_empty()
    );
    stack.stop().await;
}
