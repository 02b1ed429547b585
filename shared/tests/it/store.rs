//! The DynamoDB store against real DynamoDB implementations over HTTP through the SDK:
//! dynoxide in-process always, and moto too when `ZCC_MOTO_ENDPOINT` names a moto server.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use zcc_domain::event::AuthenticEvent;
use zcc_domain::ledger::RECENT;
use zcc_domain::samples::{agent_webhook, engagement_webhook, flow_post};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::{EmbeddedDynamo, client_for};
use zcc_shared::dynamodb::schema;
use zcc_shared::store::{EventStore, Recorded};
use zcc_testkit::authentic;

struct Backend {
    name: &'static str,
    /// moto's threaded server does not isolate concurrent conditional writes: two of them can
    /// both pass their condition (see docs/src/developing/development.md on moto).
    isolates_writes: bool,
    client: Client,
    _server: Option<EmbeddedDynamo>,
}

static TABLES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

async fn backends() -> Vec<Backend> {
    let dynoxide = EmbeddedDynamo::memory().await.expect("dynoxide starts");
    let mut all = vec![Backend {
        name: "dynoxide",
        isolates_writes: true,
        client: dynoxide.client(),
        _server: Some(dynoxide),
    }];
    if let Ok(endpoint) = std::env::var("ZCC_MOTO_ENDPOINT") {
        all.push(Backend {
            name: "moto",
            isolates_writes: false,
            client: client_for(&endpoint),
            _server: None,
        });
    }
    all
}

/// A fresh table per test, so tests share a moto server without seeing each other.
async fn store(backend: &Backend, retention: Option<u32>) -> DynamoStore {
    let n = TABLES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("store-test-{}-{n}", std::process::id());
    assert!(
        schema::create(&backend.client, &name)
            .await
            .expect("table created")
    );
    DynamoStore::new(backend.client.clone(), name, retention)
}

fn t(iso: &str) -> Timestamp {
    Timestamp::parse(iso).unwrap()
}

fn webhook(body: &str) -> AuthenticEvent {
    authentic::webhook(body)
}

fn flow(body: &Value) -> AuthenticEvent {
    authentic::flow(&body.to_string())
}

fn zoom(event: &str, id: &str, at: &str, extra: Value) -> AuthenticEvent {
    webhook(&engagement_webhook(event, id, t(at), extra).to_string())
}

async fn state(store: &DynamoStore, pk: &str) -> Value {
    let item = store
        .current_state(pk)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no state item for {pk}"));
    Value::Object(zcc_shared::dynamodb::attributes::from_item(&item))
}

async fn events(store: &DynamoStore, pk: &str) -> Vec<Value> {
    store
        .event_items(pk)
        .await
        .unwrap()
        .iter()
        .map(|i| Value::Object(zcc_shared::dynamodb::attributes::from_item(i)))
        .collect()
}

#[tokio::test]
async fn a_call_lands_as_one_state_item_and_its_raw_events() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "VrFJ9xUGT0G1jqJfyL8yCQ";
        for e in [
            zoom(
                "engagement_started",
                id,
                "2026-12-01T09:00:00.000Z",
                json!({}),
            ),
            zoom(
                "engagement_user_answered",
                id,
                "2026-12-01T09:00:07.250Z",
                json!({"user_id": "u1", "user_display_name": "Ana", "cc_queue_id": "q1", "queue_name": "Sales"}),
            ),
            zoom(
                "engagement_ended",
                id,
                "2026-12-01T09:05:00.000Z",
                json!({}),
            ),
        ] {
            assert_eq!(
                store.record(&e).await.unwrap().outcome,
                Recorded::Applied,
                "{}",
                backend.name
            );
        }
        let s = state(&store, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(s["status"], "ended", "{}", backend.name);
        assert_eq!(s["started_at"], "2026-12-01T09:00:00.000Z");
        assert_eq!(s["answered_at"], "2026-12-01T09:00:07.250Z");
        assert_eq!(s["ended_at"], "2026-12-01T09:05:00.000Z");
        assert_eq!(s["agent_user_id"], "u1");
        assert_eq!(s["queue_id"], "q1");
        assert_eq!(s["day"], "2026-12-01");
        assert_eq!(s["event_count"], 3);
        assert_eq!(s["version"], 3);
        assert_eq!(s["sources"], json!(["webhook"]));
        let raw = events(&store, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(raw.len(), 3);
        assert!(
            raw[0]["sk"]
                .as_str()
                .unwrap()
                .starts_with("EVENT#2026-12-01T09:00:00.000Z#")
        );
        assert!(raw.iter().all(|e| e.get("expires_at").is_none()));
    }
}

#[tokio::test]
async fn a_duplicate_changes_nothing_even_reserialised() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let body = engagement_webhook(
            "engagement_user_hold",
            "e-dup",
            t("2026-12-01T09:01:00Z"),
            json!({}),
        );
        let first = webhook(&body.to_string());
        assert_eq!(
            store.record(&first).await.unwrap().outcome,
            Recorded::Applied
        );
        let before = state(&store, "ENGAGEMENT#e-dup").await;
        assert_eq!(
            store.record(&first).await.unwrap().outcome,
            Recorded::Duplicate,
            "{}",
            backend.name
        );
        let pretty = webhook(&serde_json::to_string_pretty(&body).unwrap());
        assert_eq!(
            store.record(&pretty).await.unwrap().outcome,
            Recorded::Duplicate
        );
        assert_eq!(state(&store, "ENGAGEMENT#e-dup").await, before);
        assert_eq!(events(&store, "ENGAGEMENT#e-dup").await.len(), 1);
        // The exact first body is what is kept.
        assert_eq!(
            events(&store, "ENGAGEMENT#e-dup").await[0]["body"],
            body.to_string()
        );
    }
}

#[tokio::test]
async fn flow_merges_into_the_same_engagement_whichever_comes_first() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let accepted = flow(&flow_post(
            "engagement_accepted",
            "e-flow",
            Some(t("2026-12-01T09:00:08Z")),
            json!({"variables": {"account_tier": "gold"}}),
        ));
        store.record(&accepted).await.unwrap();
        store
            .record(&zoom(
                "engagement_started",
                "e-flow",
                "2026-12-01T09:00:00Z",
                json!({}),
            ))
            .await
            .unwrap();
        let s = state(&store, "ENGAGEMENT#e-flow").await;
        assert_eq!(s["agent_email"], "ana@example.com");
        assert_eq!(s["consumer_number"], "+14155550123");
        assert_eq!(s["queue_name"], "Sales");
        assert_eq!(s["flow_variables"]["account_tier"], "gold");
        assert_eq!(s["status"], "answered");
        assert_eq!(s["sources"], json!(["flow", "webhook"]));
    }
}

#[tokio::test]
async fn an_untimed_flow_retry_is_a_duplicate() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let body = flow_post("engagement_accepted", "e-untimed", None, json!({}));
        assert_eq!(
            store.record(&flow(&body)).await.unwrap().outcome,
            Recorded::Applied
        );
        // A retry arrives later, so its received time (and key) differ; its content does not.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(
            store.record(&flow(&body)).await.unwrap().outcome,
            Recorded::Duplicate,
            "{}",
            backend.name
        );
        assert_eq!(events(&store, "ENGAGEMENT#e-untimed").await.len(), 1);
    }
}

#[tokio::test]
async fn concurrent_writers_each_apply_once() {
    for backend in backends().await {
        if !backend.isolates_writes {
            continue;
        }
        let store = store(&backend, None).await;
        let id = "e-race";
        let distinct: Vec<AuthenticEvent> = (0..12)
            .map(|i| {
                zoom(
                    "engagement_user_muted",
                    id,
                    &format!("2026-12-01T09:00:{i:02}.000Z"),
                    json!({}),
                )
            })
            .collect();
        // Every event twice, all at once: several clients racing on the server.
        let mut tasks = Vec::new();
        for e in [distinct.clone(), distinct].concat() {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // A writer that loses too many races within Zoom's 3 s answers 503, and Zoom
                // delivers the event again: on a loaded machine that happens here too.
                for _ in 0..10 {
                    match store.record(&e).await {
                        Ok(receipt) => return receipt.outcome,
                        Err(zcc_shared::store::StoreError::Contended(_)) => continue,
                        Err(other) => panic!("{other}"),
                    }
                }
                panic!("still contended after 10 deliveries")
            }));
        }
        let mut applied = 0;
        for task in tasks {
            if task.await.unwrap() == Recorded::Applied {
                applied += 1;
            }
        }
        assert_eq!(applied, 12, "{}", backend.name);
        let s = state(&store, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(s["mute_count"], 12);
        assert_eq!(s["event_count"], 12);
        assert_eq!(events(&store, &format!("ENGAGEMENT#{id}")).await.len(), 12);
    }
}

#[tokio::test]
async fn presence_goes_to_the_agent_item() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        for (event, at, extra) in [
            ("user_login", "2026-12-01T08:00:00Z", json!({})),
            (
                "user_opt_in",
                "2026-12-01T08:00:01Z",
                json!({"cc_queue_id": "q1", "queue_name": "Sales"}),
            ),
            (
                "user_opt_in",
                "2026-12-01T08:00:02Z",
                json!({"cc_queue_id": "q2", "queue_name": "Support"}),
            ),
            (
                "user_opt_out",
                "2026-12-01T08:30:00Z",
                json!({"cc_queue_id": "q2"}),
            ),
            (
                "user_status_changed",
                "2026-12-01T08:00:03Z",
                json!({"current_status_name": "Not Ready", "current_sub_status_name": "Break"}),
            ),
        ] {
            let e = webhook(&agent_webhook(event, "u1", t(at), extra).to_string());
            assert_eq!(store.record(&e).await.unwrap().outcome, Recorded::Applied);
        }
        let s = state(&store, "AGENT#u1").await;
        assert_eq!(s["logged_in"], true, "{}", backend.name);
        assert_eq!(s["status"], "Not Ready");
        assert_eq!(s["sub_status"], "Break");
        assert_eq!(s["status_since"], "2026-12-01T08:00:03.000Z");
        assert_eq!(s["queues"], json!(["q1"]));
        assert_eq!(s["email"], "ana@example.com");
        assert_eq!(events(&store, "AGENT#u1").await.len(), 5);
    }
}

#[tokio::test]
async fn unmodelled_events_are_kept_raw_and_retention_sets_expiry() {
    for backend in backends().await {
        let store = store(&backend, Some(30)).await;
        let other = webhook(
            r#"{"event":"contact_center.task_created","event_ts":1764579600000,"payload":{"account_id":"a","object":{"task_id":"t1"}}}"#,
        );
        assert_eq!(
            store.record(&other).await.unwrap().outcome,
            Recorded::Applied
        );
        assert_eq!(
            store.record(&other).await.unwrap().outcome,
            Recorded::Duplicate,
            "{}",
            backend.name
        );
        let raw = events(&store, "UNROUTED#2025-12-01").await;
        assert_eq!(raw.len(), 1);
        let expires: i64 = raw[0]["expires_at"].as_i64().unwrap();
        assert_eq!(expires, other.received_at().unix_seconds() + 30 * 86_400);
        // An unmodelled engagement event still counts on its engagement.
        let survey = zoom(
            "engagement_survey_status",
            "e-other",
            "2026-12-01T09:00:00Z",
            json!({}),
        );
        store.record(&survey).await.unwrap();
        let s = state(&store, "ENGAGEMENT#e-other").await;
        assert_eq!(s["event_count"], 1);
        assert_eq!(s["status"], "started");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_says_so() {
    // Nothing listens on this port: the error must be Unavailable, never a panic.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = DynamoStore::new(client_for(&endpoint), "nowhere", None);
    let e = zoom(
        "engagement_started",
        "e-down",
        "2026-12-01T09:00:00Z",
        json!({}),
    );
    let err = store.record(&e).await.unwrap_err();
    assert_eq!(err.code(), "storage_unavailable");
}

#[tokio::test]
async fn any_json_a_flow_script_sends_can_be_stored() {
    // Authentic bodies must never be refused by DynamoDB (that would be a 503 forever):
    // empty names, empty strings, empty collections, nulls, deep nesting, big numbers.
    for backend in backends().await {
        let store = store(&backend, None).await;
        let body = json!({"event": "engagement_accepted", "engagement_id": "e-odd",
            "": "empty name", "blank": "", "nothing": null, "list": [], "map": {},
            "variables": {"": 1, "nested": {"": {"deeper": [null, {}, [], ""]}}, "big": 1e300,
                "huge_int": 18446744073709551615u64, "neg": -0.000001}});
        let recorded = store.record(&flow(&body)).await;
        assert!(recorded.is_ok(), "{}: {recorded:?}", backend.name);
        let s = state(&store, "ENGAGEMENT#e-odd").await;
        assert_eq!(
            s["flow_variables"]["huge_int"], 18446744073709551615u64,
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn an_event_whose_merge_dynamodb_refuses_is_kept_raw_not_lost() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        // Two Flow posts of ~150 KB of variables each: the merged state would pass 400 KB.
        let big = |n: u32| {
            flow(&flow_post(
                "engagement_accepted",
                "e-big",
                Some(t(&format!("2026-12-01T09:00:0{n}Z"))),
                json!({"variables": {format!("blob{n}"): "x".repeat(150 * 1024), format!("more{n}"): "y".repeat(60 * 1024)}}),
            ))
        };
        assert_eq!(
            store.record(&big(1)).await.unwrap().outcome,
            Recorded::Applied,
            "{}",
            backend.name
        );
        let second = big(2);
        let outcome = store.record(&second).await.unwrap().outcome;
        assert_eq!(outcome, Recorded::StoredUnmerged, "{}", backend.name);
        assert_eq!(
            store.record(&second).await.unwrap().outcome,
            Recorded::Duplicate
        );
        let raw = events(&store, "ENGAGEMENT#e-big").await;
        assert_eq!(raw.len(), 2, "both events are kept");
        assert!(
            raw[1]["merge_error"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(state(&store, "ENGAGEMENT#e-big").await["event_count"], 1);
    }
}

#[tokio::test]
async fn a_warm_store_writes_each_event_in_two_requests_and_a_duplicate_in_none() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-warm";
        let hold = zoom(
            "engagement_user_hold",
            id,
            "2026-12-01T09:01:00Z",
            json!({}),
        );
        for (event, outcome, requests) in [
            (
                zoom("engagement_started", id, "2026-12-01T09:00:00Z", json!({})),
                Recorded::Applied,
                2,
            ),
            (
                zoom(
                    "engagement_user_answered",
                    id,
                    "2026-12-01T09:00:05Z",
                    json!({}),
                ),
                Recorded::Applied,
                2,
            ),
            (hold.clone(), Recorded::Applied, 2),
            (hold, Recorded::Duplicate, 0),
        ] {
            let receipt = store.record(&event).await.unwrap();
            assert_eq!(receipt.outcome, outcome, "{}", backend.name);
            // The opening event is written as the item's first; later ones merge into the
            // item this store wrote last: the raw event item, then the state item. None is
            // read first, and the duplicate is known from the state this store wrote.
            assert_eq!(
                (receipt.requests, receipt.read_units),
                (requests, 0.0),
                "{}: {}",
                backend.name,
                event.name()
            );
            if outcome == Recorded::Duplicate {
                assert_eq!(receipt.write_units, 0.0, "a duplicate costs no writes");
            }
        }
        let s = state(&store, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(s["status"], "held");
        assert_eq!(s["event_count"], 3);
    }
}

/// The two writes of an event, cut after the first: the raw event item is stored, its merge
/// never landed. Zoom's retry merges it, once.
#[tokio::test]
async fn a_crash_between_the_two_writes_is_merged_once_on_the_retry() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-crash";
        let pk = format!("ENGAGEMENT#{id}");
        let started = zoom("engagement_started", id, "2026-12-01T09:00:00Z", json!({}));
        let hold = zoom(
            "engagement_user_hold",
            id,
            "2026-12-01T09:01:00Z",
            json!({}),
        );
        assert_eq!(
            store.record(&started).await.unwrap().outcome,
            Recorded::Applied
        );
        // The first write lands, then the process dies.
        assert!(store.store_raw(&hold).await.unwrap());
        assert_eq!(state(&store, &pk).await["event_count"], 1);
        // The retry reaches another instance, which knows nothing of the engagement.
        let other = DynamoStore::new(backend.client.clone(), store.table(), None);
        let receipt = other.record(&hold).await.unwrap();
        assert_eq!(receipt.outcome, Recorded::Applied, "{}", backend.name);
        let s = state(&store, &pk).await;
        assert_eq!(
            (s["event_count"].clone(), s["hold_count"].clone()),
            (json!(2), json!(1))
        );
        // Later retries, to either instance, are duplicates.
        for instance in [&store, &other] {
            assert_eq!(
                instance.record(&hold).await.unwrap().outcome,
                Recorded::Duplicate
            );
        }
        assert_eq!(state(&store, &pk).await["event_count"], 2);
        assert_eq!(events(&store, &pk).await.len(), 2);
    }
}

/// A record written before records kept their events' keys (nor a ledger): there, a stored
/// raw event item means the event was merged (the two were written in one transaction then).
#[tokio::test]
async fn a_record_from_before_event_keys_treats_a_stored_event_as_merged() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-legacy";
        let pk = format!("ENGAGEMENT#{id}");
        let started = zoom("engagement_started", id, "2026-12-01T09:00:00Z", json!({}));
        assert_eq!(
            store.record(&started).await.unwrap().outcome,
            Recorded::Applied
        );
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S("STATE".into()))
            .update_expression("REMOVE recent_events, merged_digest, recent_since")
            .send()
            .await
            .unwrap();
        let fresh = DynamoStore::new(backend.client.clone(), store.table(), None);
        assert_eq!(
            fresh.record(&started).await.unwrap().outcome,
            Recorded::Duplicate
        );
        let hold = zoom(
            "engagement_user_hold",
            id,
            "2026-12-01T09:01:00Z",
            json!({}),
        );
        assert_eq!(
            fresh.record(&hold).await.unwrap().outcome,
            Recorded::Applied
        );
        assert_eq!(
            state(&store, &pk).await["event_count"],
            2,
            "{}",
            backend.name
        );
    }
}

/// An agent's record lives as long as the agent: it keeps the keys of its latest events
/// only ([`zcc_domain::ledger::RECENT`]), and a retry after a crash of an older one is
/// settled from the raw items: merged once.
#[tokio::test]
async fn an_agent_record_keeps_its_latest_keys_only() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let user = "agent-recent";
        let pk = format!("AGENT#{user}");
        let at = |minute: usize| {
            webhook(
                &agent_webhook(
                    "user_status_changed",
                    user,
                    Timestamp::from_unix_millis(
                        t("2026-12-01T08:00:00Z").unix_millis() + 60_000 * minute as i64,
                    ),
                    json!({"current_status_name": format!("Ready {minute}")}),
                )
                .to_string(),
            )
        };
        let events: Vec<_> = (0..RECENT + 20).map(at).collect();
        // Event 5 is cut short between its two writes; the rest are merged.
        for (i, e) in events.iter().enumerate() {
            if i == 5 {
                assert!(store.store_raw(e).await.unwrap());
            } else {
                assert_eq!(store.record(e).await.unwrap().outcome, Recorded::Applied);
            }
        }
        let fresh = DynamoStore::new(backend.client.clone(), store.table(), None);
        assert_eq!(
            fresh.record(&events[5]).await.unwrap().outcome,
            Recorded::Applied,
            "{}: the crashed event is merged on its retry",
            backend.name
        );
        for i in [0, 5, 6, RECENT + 19] {
            assert_eq!(
                fresh.record(&events[i]).await.unwrap().outcome,
                Recorded::Duplicate,
                "{}: event {i}",
                backend.name
            );
        }
        let s = state(&store, &pk).await;
        assert_eq!(s["event_count"], RECENT + 20, "{}", backend.name);
        assert_eq!(s["recent_events"].as_array().unwrap().len(), RECENT);
    }
}

#[tokio::test]
async fn stores_that_saw_old_versions_still_merge_everything_once() {
    for backend in backends().await {
        // Three Lambda instances: each knows only what it wrote itself.
        let a = store(&backend, None).await;
        let b = DynamoStore::new(backend.client.clone(), a.table(), None);
        let c = DynamoStore::new(backend.client.clone(), a.table(), None);
        let id = "e-stale";
        let answered = zoom(
            "engagement_user_answered",
            id,
            "2026-12-01T09:00:05Z",
            json!({}),
        );
        let untimed = flow(&flow_post("engagement_accepted", id, None, json!({})));

        assert_eq!(
            a.record(&answered).await.unwrap().requests,
            3,
            "a read, the raw event, the state"
        );
        assert_eq!(b.record(&untimed).await.unwrap().outcome, Recorded::Applied);
        // `a` remembers version 1; the item is at 2. The refused write hands back the item,
        // and the retry merges into that without reading it.
        let hold = zoom(
            "engagement_user_hold",
            id,
            "2026-12-01T09:01:00Z",
            json!({}),
        );
        let receipt = a.record(&hold).await.unwrap();
        assert_eq!(receipt.outcome, Recorded::Applied, "{}", backend.name);
        assert_eq!(
            (receipt.attempts, receipt.requests, receipt.read_units),
            (2, 3, 0.0),
            "{}",
            backend.name
        );
        // The untimed Flow retry reaches `a`, whose memory predates it: a duplicate, not a
        // second application.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(
            a.record(&untimed).await.unwrap().outcome,
            Recorded::Duplicate
        );
        // `c` has seen nothing and guesses that the opening event is the first: wrong here.
        let started = zoom("engagement_started", id, "2026-12-01T09:00:00Z", json!({}));
        let receipt = c.record(&started).await.unwrap();
        assert_eq!((receipt.outcome, receipt.attempts), (Recorded::Applied, 2));
        assert_eq!(b.record(&hold).await.unwrap().outcome, Recorded::Duplicate);

        let s = state(&a, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(s["event_count"], 4, "{}", backend.name);
        assert_eq!(s["hold_count"], 1);
        assert_eq!(s["status"], "held");
        assert_eq!(s["started_at"], "2026-12-01T09:00:00.000Z");
        assert_eq!(s["agent_email"], "ana@example.com");
        assert_eq!(events(&a, &format!("ENGAGEMENT#{id}")).await.len(), 4);
    }
}

async fn delete_state(store: &DynamoStore, pk: &str) {
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap();
}

fn without_version(mut state: Value) -> Value {
    state.as_object_mut().unwrap().remove("version");
    state
}

#[tokio::test]
async fn a_state_item_rebuilt_from_its_events_is_the_one_delivery_made() {
    use zcc_domain::ids::{EngagementId, UserId};
    use zcc_shared::dynamodb::RebuildTarget;
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-rebuild";
        let pk = format!("ENGAGEMENT#{id}");
        for e in [
            zoom("engagement_started", id, "2026-12-01T09:00:00Z", json!({})),
            zoom(
                "engagement_user_hold",
                id,
                "2026-12-01T09:01:00Z",
                json!({}),
            ),
            zoom(
                "engagement_user_unhold",
                id,
                "2026-12-01T09:01:30Z",
                json!({}),
            ),
            flow(&flow_post("engagement_accepted", id, None, json!({}))),
        ] {
            store.record(&e).await.unwrap();
        }
        let delivered = without_version(state(&store, &pk).await);
        let target = RebuildTarget::Engagement(EngagementId::parse(id).unwrap());

        let unchanged = store.rebuild(&target, false).await.unwrap();
        assert_eq!(
            (unchanged.events, unchanged.changed.len(), unchanged.written),
            (4, 0, false),
            "{}: {unchanged:?}",
            backend.name
        );

        // The state item is lost (say, deleted by hand): the events bring it back.
        delete_state(&store, &pk).await;
        let dry = store.rebuild(&target, true).await.unwrap();
        assert!(!dry.written && dry.changed.contains(&"hold_count".to_owned()));
        assert_eq!(
            store.current_state(&pk).await.unwrap(),
            None,
            "a dry run writes nothing"
        );
        let rebuilt = store.rebuild(&target, false).await.unwrap();
        assert!(rebuilt.written, "{rebuilt:?}");
        assert_eq!(
            without_version(state(&store, &pk).await),
            delivered,
            "{}",
            backend.name
        );

        // Live delivery goes on from the rebuilt item, exactly once.
        let end = zoom("engagement_ended", id, "2026-12-01T09:04:00Z", json!({}));
        assert_eq!(store.record(&end).await.unwrap().outcome, Recorded::Applied);
        assert_eq!(
            store.record(&end).await.unwrap().outcome,
            Recorded::Duplicate
        );
        assert_eq!(state(&store, &pk).await["event_count"], 5);

        // Agents too.
        let login = webhook(
            &agent_webhook(
                "user_login",
                "u-rebuild",
                t("2026-12-01T08:00:00Z"),
                json!({}),
            )
            .to_string(),
        );
        store.record(&login).await.unwrap();
        delete_state(&store, "AGENT#u-rebuild").await;
        let agent = RebuildTarget::Agent(UserId::parse("u-rebuild").unwrap());
        assert!(store.rebuild(&agent, false).await.unwrap().written);
        assert_eq!(state(&store, "AGENT#u-rebuild").await["logged_in"], true);
    }
}

#[tokio::test]
async fn a_rebuild_merges_events_kept_raw_and_refuses_altered_ones() {
    use zcc_domain::ids::EngagementId;
    use zcc_shared::dynamodb::RebuildTarget;
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-remerge";
        let pk = format!("ENGAGEMENT#{id}");
        store
            .record(&zoom(
                "engagement_started",
                id,
                "2026-12-01T09:00:00Z",
                json!({}),
            ))
            .await
            .unwrap();
        // An event kept raw with merge_error, as the store does when DynamoDB refused the
        // merged state (and whatever caused that has since been dealt with).
        let kept = zoom(
            "engagement_user_hold",
            id,
            "2026-12-01T09:01:00Z",
            json!({}),
        );
        let sk = format!("EVENT#{}#{}", kept.occurred_at().to_iso(), kept.event_id());
        let attribute = |v: &str| AttributeValue::S(v.to_owned());
        store
            .client()
            .put_item()
            .table_name(store.table())
            .item("pk", attribute(&pk))
            .item("sk", attribute(&sk))
            .item("entity", attribute("event"))
            .item("event_id", attribute(kept.event_id().as_str()))
            .item("event", attribute(kept.name()))
            .item("source", attribute("webhook"))
            .item("occurred_at", attribute(&kept.occurred_at().to_iso()))
            .item("received_at", attribute(&kept.received_at().to_iso()))
            .item("body", attribute(kept.body()))
            .item("engagement_id", attribute(id))
            .item(
                "merge_error",
                attribute("Item size has exceeded the maximum allowed size"),
            )
            .send()
            .await
            .unwrap();
        let target = RebuildTarget::Engagement(EngagementId::parse(id).unwrap());
        let rebuilt = store.rebuild(&target, false).await.unwrap();
        assert_eq!(
            (rebuilt.previously_unmerged, rebuilt.written),
            (1, true),
            "{}",
            backend.name
        );
        let s = state(&store, &pk).await;
        assert_eq!(
            (s["hold_count"].as_u64(), s["status"].as_str()),
            (Some(1), Some("held"))
        );
        let raw = events(&store, &pk).await;
        assert!(
            raw.iter().all(|e| e.get("merge_error").is_none()),
            "cleared: {raw:?}"
        );
        // Zoom's retry of that event is still a duplicate.
        assert_eq!(
            store.record(&kept).await.unwrap().outcome,
            Recorded::Duplicate
        );

        // A body altered in the table no longer matches its id: refused, nothing written.
        let before = state(&store, &pk).await;
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("pk", attribute(&pk))
            .key("sk", attribute(&sk))
            .update_expression("SET body = :b")
            .expression_attribute_values(
                ":b",
                attribute(&kept.body().replace("09:01:00", "09:02:00")),
            )
            .send()
            .await
            .unwrap();
        let err = store.rebuild(&target, false).await.unwrap_err();
        assert_eq!(err.code(), "storage_corrupt", "{err}");
        assert_eq!(state(&store, &pk).await, before);
    }
}

#[tokio::test]
async fn a_retried_presence_event_without_a_time_is_merged_once() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        // No date_time_ms and no event_ts: its event item is keyed by when it arrived, so a
        // retry a moment later gets another key and only the agent state can recognise it.
        let body = r#"{"event":"contact_center.user_login","payload":{"account_id":"a","object":{"user_id":"agent-untimed","user_email":"ana@example.com"}}}"#;
        let first = store.record(&webhook(body)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let retry = store.record(&webhook(body)).await.unwrap();
        assert_eq!(first.outcome, Recorded::Applied, "{}", backend.name);
        assert_eq!(retry.outcome, Recorded::Duplicate, "{}", backend.name);
        let agent = state(&store, &schema::agent_pk("agent-untimed")).await;
        assert_eq!(agent["event_count"], 1, "{}", backend.name);
        assert_eq!(agent["logged_in"], true, "{}", backend.name);
    }
}

#[tokio::test]
async fn records_read_back_through_the_port_are_typed() {
    use zcc_domain::ids::{EngagementId, UserId};
    use zcc_shared::store::{ListQuery, Listing, RecordReader};
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "ReadBackEngagement0001";
        for e in [
            zoom(
                "engagement_started",
                id,
                "2026-11-30T14:00:00.000Z",
                json!({}),
            ),
            zoom(
                "engagement_user_answered",
                id,
                "2026-11-30T14:00:09.000Z",
                json!({"user_id": "u-read", "user_display_name": "Ana", "cc_queue_id": "q-read"}),
            ),
            webhook(
                &agent_webhook(
                    "user_login",
                    "u-read",
                    t("2026-11-30T13:00:00.000Z"),
                    json!({}),
                )
                .to_string(),
            ),
        ] {
            store.record(&e).await.unwrap();
        }
        let record = store
            .engagement(&EngagementId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("the engagement");
        assert_eq!(
            record.state.agent_user_id.as_deref(),
            Some("u-read"),
            "{}",
            backend.name
        );
        assert_eq!(
            record.state.agent_email.as_deref(),
            Some("ana@example.com"),
            "the agent's email, from its presence events: {}",
            backend.name
        );
        assert_eq!(record.timeline.len(), 2, "{}", backend.name);
        assert!(record.timeline[0].occurred_at < record.timeline[1].occurred_at);
        assert!(
            store
                .engagement(&EngagementId::parse("NoSuchEngagement").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        let agent = store
            .agent(&UserId::parse("u-read").unwrap())
            .await
            .unwrap();
        assert_eq!(
            agent.and_then(|a| a.logged_in),
            Some(true),
            "{}",
            backend.name
        );
        let listed = store
            .list(&ListQuery {
                listing: Listing::Queue("q-read".into()),
                from: None,
                to: Some("2026-11-30".into()),
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{}", backend.name);
        assert_eq!(listed[0].engagement_id, id);
        assert_eq!(listed[0].status.as_deref(), Some("answered"));
    }
}

/// The state item as a model before this one wrote it: no transfer counted and the queue
/// before the transfer, at the version it had.
async fn write_old_model(store: &DynamoStore, pk: &str) {
    let mut item = store
        .current_state(pk)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no state item for {pk}"));
    assert!(matches!(
        item.get(schema::VERSION),
        Some(AttributeValue::N(_))
    ));
    item.insert("transfer_count".into(), AttributeValue::N("0".into()));
    item.insert("queue_id".into(), AttributeValue::S("q-old-model".into()));
    store
        .client()
        .put_item()
        .table_name(store.table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn rebuilding_every_partition_corrects_what_an_old_model_wrote() {
    use zcc_domain::published;
    use zcc_shared::dynamodb::rebuild::{RebuildScope, RebuildTarget};
    for backend in backends().await {
        let store = store(&backend, None).await;
        // Relative to now, so that `Since` finds some by the day index and not others.
        let now = Timestamp::now();
        let days_ago = |d: i64, s: i64| now.saturating_add_millis(-d * 86_400_000 + s * 1000);
        let engagements = [
            ("e-all-1", 2),
            ("e-all-2", 2),
            ("e-all-3", 2),
            ("e-all-old", 5),
        ];
        for (id, d) in engagements {
            for (name, s) in [
                ("engagement_started", 0),
                ("engagement_user_answered", 9),
                ("engagement_transfer_completed", 120),
                ("engagement_ended", 400),
            ] {
                let body = published::body(name, id, days_ago(d, s)).unwrap();
                assert_eq!(
                    store
                        .record(&webhook(&body.to_string()))
                        .await
                        .unwrap()
                        .outcome,
                    Recorded::Applied
                );
            }
        }
        for user in ["u-all-1", "u-all-2"] {
            let body = agent_webhook("user_login", user, days_ago(1, 0), json!({}));
            store.record(&webhook(&body.to_string())).await.unwrap();
        }
        let login = published::body("user_login", "", days_ago(1, 60)).unwrap();
        store.record(&webhook(&login.to_string())).await.unwrap();
        let unrouted = r#"{"event":"meeting.started","event_ts":1700000000123,"payload":{}}"#;
        store.record(&webhook(unrouted)).await.unwrap();

        let agents = ["u-all-1", "u-all-2", "u2Bo5xTransferTarget1"].map(schema::agent_pk);
        let engagements = engagements.map(|(id, _)| schema::engagement_pk(id));
        let mut delivered = std::collections::BTreeMap::new();
        for pk in agents.iter().chain(&engagements) {
            delivered.insert(pk.clone(), without_version(state(&store, pk).await));
        }
        let transfer = &delivered[&engagements[0]];
        assert_eq!(
            transfer["transfer_count"], 1,
            "{}: {transfer}",
            backend.name
        );
        assert_ne!(transfer["queue_id"], "q-old-model");

        // Two state items as an older model wrote them, one lost altogether.
        write_old_model(&store, &engagements[0]).await;
        write_old_model(&store, &engagements[1]).await;
        delete_state(&store, &engagements[2]).await;

        let all = store.rebuild_targets(&RebuildScope::All, 4).await.unwrap();
        let pks: Vec<String> = all.targets.iter().map(RebuildTarget::pk).collect();
        let expected: Vec<String> = agents.iter().chain(&engagements).cloned().collect();
        let mut sorted_agents = agents.to_vec();
        sorted_agents.sort();
        assert_eq!(pks[..3], sorted_agents, "{}: agents first", backend.name);
        let mut found = pks.clone();
        found.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(
            found, expected_sorted,
            "{}: each partition once",
            backend.name
        );
        assert!(all.unreadable.is_empty());

        // By the day index: the three engagements of two days ago whose state item is there,
        // and every agent; the one of five days ago is older, the lost one is not indexed.
        let since = RebuildScope::Since(days_ago(3, 0).day());
        let mut recent: Vec<String> = store
            .rebuild_targets(&since, 4)
            .await
            .unwrap()
            .targets
            .iter()
            .map(RebuildTarget::pk)
            .collect();
        recent.sort();
        let mut expected_recent: Vec<String> = agents.to_vec();
        expected_recent.extend([engagements[0].clone(), engagements[1].clone()]);
        expected_recent.sort();
        assert_eq!(recent, expected_recent, "{}", backend.name);

        // A dry run finds the three and writes nothing.
        let mut would = Vec::new();
        for target in &all.targets {
            let r = store.rebuild(target, true).await.unwrap();
            assert!(!r.written);
            if !r.changed.is_empty() {
                would.push(r.pk);
            }
        }
        assert_eq!(would, engagements[..3], "{}", backend.name);
        assert_eq!(store.current_state(&engagements[2]).await.unwrap(), None);

        let mut changed = Vec::new();
        for target in &all.targets {
            let r = store.rebuild(target, false).await.unwrap();
            assert_eq!(r.written, !r.changed.is_empty(), "{r:?}");
            assert_eq!(r.previously_unmerged, 0);
            if !r.changed.is_empty() {
                changed.push((r.pk.clone(), r.changed.clone()));
            }
        }
        assert_eq!(changed.len(), 3, "{}: {changed:?}", backend.name);
        let fixed = ["queue_id".to_owned(), "transfer_count".to_owned()];
        assert_eq!(changed[0], (engagements[0].clone(), fixed.to_vec()));
        assert_eq!(changed[1], (engagements[1].clone(), fixed.to_vec()));
        assert_eq!(changed[2].0, engagements[2]);
        for (pk, before) in &delivered {
            assert_eq!(
                &without_version(state(&store, pk).await),
                before,
                "{}: {pk}",
                backend.name
            );
        }
        // Written over the old model's item: the version goes on from it.
        assert_eq!(state(&store, &engagements[0]).await["version"], 5);
        assert_eq!(state(&store, &engagements[2]).await["version"], 1);

        // Nothing is left to change; and live delivery goes on from the rebuilt items.
        for target in &all.targets {
            let again = store.rebuild(target, false).await.unwrap();
            assert!(again.changed.is_empty() && !again.written, "{again:?}");
        }
        let late = published::body("engagement_note_added", "e-all-3", days_ago(2, 500)).unwrap();
        assert_eq!(
            store
                .record(&webhook(&late.to_string()))
                .await
                .unwrap()
                .outcome,
            Recorded::Applied
        );
        assert_eq!(state(&store, &engagements[2]).await["event_count"], 5);
    }
}

/// A chat's messages, `seconds` apart from 09:00.
fn chat_messages(id: &str, n: usize, seconds: i64) -> Vec<AuthenticEvent> {
    (0..n)
        .map(|i| {
            let at = Timestamp::from_unix_millis(
                t("2026-12-01T09:00:00Z").unix_millis() + 1_000 * seconds * i as i64,
            );
            let event = if i % 2 == 0 {
                "engagement_consumer_sent_message"
            } else {
                "engagement_user_sent_message"
            };
            webhook(
                &engagement_webhook(event, id, at, json!({"channel": "chat", "message_id": i}))
                    .to_string(),
            )
        })
        .collect()
}

/// The record keeps a bounded ledger, not every key: the 2,000th message of a chat costs
/// what the 10th did, within a write unit, and its item stays small.
#[tokio::test]
async fn a_long_chat_costs_the_same_per_message_and_stays_small() {
    // dynoxide alone: 2,000 writes through moto take minutes, and prove nothing more.
    let backend = backends().await.remove(0);
    let store = store(&backend, None).await;
    let id = "e-long-chat";
    let messages = chat_messages(id, 2_000, 5);
    let mut units = Vec::new();
    for e in &messages {
        let receipt = store.record(e).await.unwrap();
        assert_eq!(receipt.outcome, Recorded::Applied);
        units.push(receipt.write_units);
    }
    let item = store
        .current_state(&format!("ENGAGEMENT#{id}"))
        .await
        .unwrap()
        .unwrap();
    let bytes = zcc_shared::dynamodb::cache::size_of(&item);
    assert!(bytes <= 16 * 1024, "the state item is {bytes} bytes");
    assert!(
        units[1_999] <= units[9] + 1.0,
        "the 10th message cost {} units, the 2,000th {}",
        units[9],
        units[1_999]
    );
    let s = Value::Object(zcc_shared::dynamodb::attributes::from_item(&item));
    assert_eq!(s["event_count"], 2_000);
    assert_eq!(s["consumer_message_count"], 1_000);
    assert_eq!(s["recent_events"].as_array().unwrap().len(), RECENT);
}

/// Deep in a long chat, a message cut short between its two writes is merged once on its
/// retry, and a retry of an old merged message is a duplicate: what the ledger no longer
/// knows, the raw items settle.
#[tokio::test]
async fn deep_in_a_long_chat_a_crashed_message_is_merged_once_on_its_retry() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-long-crash";
        let messages = chat_messages(id, RECENT * 3, 20);
        let crashed = [3, 40, 41];
        for (i, e) in messages.iter().enumerate() {
            if crashed.contains(&i) {
                assert!(store.store_raw(e).await.unwrap());
            } else {
                assert_eq!(store.record(e).await.unwrap().outcome, Recorded::Applied);
            }
        }
        // Another Lambda instance, knowing nothing, takes Zoom's retries.
        let fresh = DynamoStore::new(backend.client.clone(), store.table(), None);
        let applied = Recorded::Applied;
        let duplicate = Recorded::Duplicate;
        for (i, expected) in [
            (2, duplicate),
            (3, applied),
            (3, duplicate),
            (40, applied),
            (4, duplicate),
            (41, applied),
            (41, duplicate),
            (90, duplicate),
        ] {
            let receipt = fresh.record(&messages[i]).await.unwrap();
            assert_eq!(receipt.outcome, expected, "{}: message {i}", backend.name);
            if expected == duplicate {
                // At most the refused write of its raw item; an old one's settling only reads.
                assert!(
                    receipt.write_units <= 1.0,
                    "{}: a duplicate of message {i} wrote {} units",
                    backend.name,
                    receipt.write_units
                );
            }
        }
        // One of the 32 latest again, from the instance that merged it: no write at all.
        let receipt = store.record(&messages[90]).await.unwrap();
        assert_eq!(receipt.outcome, duplicate);
        assert_eq!(receipt.write_units, 0.0, "{}", backend.name);
        assert_eq!(receipt.requests, 0, "{}", backend.name);
        let s = state(&store, &format!("ENGAGEMENT#{id}")).await;
        assert_eq!(
            s["event_count"],
            RECENT * 3,
            "{}: each message once",
            backend.name
        );
        assert_eq!(
            s["consumer_message_count"],
            RECENT * 3 / 2,
            "{}",
            backend.name
        );
    }
}

/// A record written when records kept the key of every event merged (`merged_events`): its
/// keys become a ledger on its next merge, and until then a stored event is settled exactly
/// from them and the raw items.
#[tokio::test]
async fn a_record_that_kept_every_key_becomes_a_ledger() {
    for backend in backends().await {
        let store = store(&backend, None).await;
        let id = "e-every-key";
        let pk = format!("ENGAGEMENT#{id}");
        let messages = chat_messages(id, 5, 30);
        for e in &messages[..3] {
            assert_eq!(store.record(e).await.unwrap().outcome, Recorded::Applied);
        }
        let keys: Vec<String> = messages[..3].iter().map(|e| e.event_id().key()).collect();
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S("STATE".into()))
            .update_expression(
                "REMOVE recent_events, merged_digest, recent_since SET merged_events = :keys",
            )
            .expression_attribute_values(":keys", AttributeValue::Ss(keys))
            .send()
            .await
            .unwrap();
        // Message 3 was cut short between its two writes when the old model was running.
        assert!(store.store_raw(&messages[3]).await.unwrap());
        let fresh = DynamoStore::new(backend.client.clone(), store.table(), None);
        for (i, expected) in [
            (0, Recorded::Duplicate),
            (3, Recorded::Applied),
            (3, Recorded::Duplicate),
            (4, Recorded::Applied),
            (1, Recorded::Duplicate),
        ] {
            assert_eq!(
                fresh.record(&messages[i]).await.unwrap().outcome,
                expected,
                "{}: message {i}",
                backend.name
            );
        }
        let s = state(&store, &pk).await;
        assert_eq!(s["event_count"], 5, "{}", backend.name);
        assert!(s.get("merged_events").is_none(), "{}", backend.name);
        assert!(s["merged_digest"].is_string(), "{}", backend.name);
    }
}
