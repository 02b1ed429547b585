//! The notifier fed real DynamoDB stream events: the table's stream on dynoxide, read through
//! the SDK's Streams client and delivered as Lambda delivers it, and the failure paths
//! (refused entries, a poison record) through the handler.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use notify::{Entry, Notifier, PublishError, Publisher};
use serde_json::{Value, json};
use zcc_domain::published;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::dynamodb::stream::StreamReader;
use zcc_shared::store::EventStore;
use zcc_testkit::authentic;

/// A publisher that keeps what it is given, and refuses what it is told to.
#[derive(Default)]
struct Recording {
    accepted: Mutex<Vec<Entry>>,
    /// Refuse entries whose detail type is this, this many times.
    refuse: Mutex<Option<(&'static str, u32)>>,
    calls: Mutex<u32>,
}

impl Publisher for Recording {
    async fn publish(&self, entries: &[Entry]) -> Result<Vec<Option<String>>, PublishError> {
        *self.calls.lock().unwrap() += 1;
        assert!(entries.len() <= notify::MAX_ENTRIES);
        let mut refuse = self.refuse.lock().unwrap();
        let mut out = Vec::new();
        for e in entries {
            match refuse.as_mut() {
                Some((kind, n)) if *kind == e.detail_type && *n > 0 => {
                    *n -= 1;
                    out.push(Some("ThrottlingException: slow down".to_owned()));
                }
                _ => {
                    self.accepted.lock().unwrap().push(e.clone());
                    out.push(None);
                }
            }
        }
        Ok(out)
    }
}

impl Recording {
    fn kinds(&self) -> Vec<String> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.detail_type.to_owned())
            .collect()
    }
}

const ID: &str = "StreamEngagement00001";

fn call() -> Vec<Value> {
    let at = |s: &str| Timestamp::parse(s).unwrap();
    [
        ("engagement_started", "2026-12-01T10:00:00.000Z"),
        ("engagement_user_answered", "2026-12-01T10:00:09.000Z"),
        ("engagement_transfer_accepted", "2026-12-01T10:02:00.000Z"),
        ("engagement_transfer_completed", "2026-12-01T10:02:01.000Z"),
        ("engagement_ended", "2026-12-01T10:05:00.000Z"),
        ("engagement_disposition_added", "2026-12-01T10:05:30.000Z"),
    ]
    .iter()
    .map(|(name, t)| published::body(name, ID, at(t)).unwrap())
    .collect()
}

/// Stores `bodies` in the given order (with a duplicate), and returns the stream records
/// the table wrote, as a Lambda event.
async fn stream_event(bodies: &[Value]) -> (Value, EmbeddedDynamo) {
    let db = EmbeddedDynamo::memory().await.unwrap();
    schema::create(&db.client(), "notify").await.unwrap();
    let store = DynamoStore::new(db.client(), "notify", None);
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(
        aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .endpoint_url(db.endpoint())
            .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
                "local", "local", None, None, "test",
            ))
            .build(),
    );
    let mut reader = StreamReader::open(streams, "notify", true).await.unwrap();
    for body in bodies.iter().chain(bodies.first()) {
        store
            .record(&authentic::webhook(&body.to_string()))
            .await
            .unwrap();
    }
    let mut records = Vec::new();
    for _ in 0..20 {
        records.extend(reader.poll().await.unwrap());
        if records.len() >= bodies.len() * 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (json!({ "Records": records }), db)
}

#[tokio::test]
async fn a_call_on_the_stream_notifies_each_fact_once_in_version_order() {
    let (event, _db) = stream_event(&call()).await;
    let records = event["Records"].as_array().unwrap();
    // Every change of the state item, and the raw event items: the notifier skips those.
    assert!(records.len() >= 12, "{} records", records.len());
    assert!(
        records
            .iter()
            .any(|r| r["dynamodb"]["OldImage"].is_object())
    );
    let notifier = Notifier::new(Recording::default());
    let response = notifier.handle(event.clone()).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    let publisher = notifier.publisher();
    assert_eq!(
        publisher.kinds(),
        [
            "Engagement Started",
            "Engagement Answered",
            "Engagement Transferred",
            "Engagement Ended",
            "Engagement Updated"
        ]
    );
    let accepted = publisher.accepted.lock().unwrap().clone();
    let versions: Vec<u64> = accepted
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.detail).unwrap()["version"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    let answered: Value = serde_json::from_str(&accepted[1].detail).unwrap();
    assert_eq!(
        answered["engagement"]["agent_user_id"],
        "IGTRVt3gQ2i-WjoUIjeZxw"
    );
    assert_eq!(answered["engagement"]["consumer_number"], "+14155550123");
    assert_eq!(
        answered["notification_id"],
        format!("engagement/{ID}/answered")
    );

    // Lambda redelivers the batch: the same notifications, with the same ids.
    let again = Notifier::new(Recording::default());
    again.handle(event).await;
    let ids = |r: &Recording| {
        r.accepted
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(again.publisher()), ids(publisher));
}

#[tokio::test]
async fn shuffled_delivery_notifies_the_same_facts() {
    let mut bodies = call();
    bodies.reverse();
    let (event, _db) = stream_event(&bodies).await;
    let notifier = Notifier::new(Recording::default());
    notifier.handle(event).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for kind in notifier.publisher().kinds() {
        *counts.entry(kind).or_default() += 1;
    }
    for fact in [
        "Engagement Started",
        "Engagement Answered",
        "Engagement Transferred",
        "Engagement Ended",
    ] {
        assert_eq!(counts.get(fact), Some(&1), "{fact}: {counts:?}");
    }
}

#[tokio::test]
async fn refused_entries_are_retried_and_then_the_record_goes_back() {
    let (event, _db) = stream_event(&call()).await;
    // Refused twice, accepted the third time: all published, nothing handed back.
    let recording = Recording::default();
    *recording.refuse.lock().unwrap() = Some(("Engagement Answered", 2));
    let notifier = Notifier::new(recording).with_backoff(Duration::from_millis(1));
    assert_eq!(
        notifier.handle(event.clone()).await,
        json!({"batchItemFailures": []})
    );
    assert_eq!(notifier.publisher().kinds().len(), 5);

    // Refused every time: the record that made it goes back to Lambda, nothing after it
    // is published, and what came before stays published.
    let recording = Recording::default();
    *recording.refuse.lock().unwrap() = Some(("Engagement Answered", u32::MAX));
    let notifier = Notifier::new(recording).with_backoff(Duration::from_millis(1));
    let outcome = notifier.process(event["Records"].as_array().unwrap()).await;
    let failed = outcome.failed_at.clone().expect("a record handed back");
    let answered_record = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dynamodb"]["SequenceNumber"] == failed)
        .unwrap();
    assert!(answered_record["dynamodb"]["NewImage"]["answered_at"].is_object());
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap()
            .contains("ThrottlingException")
    );
    assert_eq!(
        outcome.response(),
        json!({"batchItemFailures": [{"itemIdentifier": failed}]})
    );
    let kinds = notifier.publisher().kinds();
    assert!(kinds.contains(&"Engagement Started".to_owned()));
}

#[tokio::test]
async fn a_poison_record_is_handed_back_and_what_came_before_is_published() {
    let (event, _db) = stream_event(&call()).await;
    let mut records = event["Records"].as_array().unwrap().clone();
    let state_changes: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r["dynamodb"]["Keys"]["sk"]["S"] == "STATE")
        .map(|(i, _)| i)
        .collect();
    // The third change of the state item loses its version: it can never be read.
    let poisoned = state_changes[2];
    records[poisoned]["dynamodb"]["NewImage"]
        .as_object_mut()
        .unwrap()
        .remove("version");
    let seq = records[poisoned]["dynamodb"]["SequenceNumber"].clone();
    let notifier = Notifier::new(Recording::default());
    let response = notifier.handle(json!({ "Records": records })).await;
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": seq}]})
    );
    assert_eq!(
        notifier.publisher().kinds(),
        ["Engagement Started", "Engagement Answered"]
    );
}

#[tokio::test]
async fn an_event_without_records_and_records_of_other_items_notify_nothing() {
    let notifier = Notifier::new(Recording::default());
    assert_eq!(
        notifier.handle(json!({})).await,
        json!({"batchItemFailures": []})
    );
    assert_eq!(*notifier.publisher().calls.lock().unwrap(), 0);
}

/// Engagement events carry no email; the agent's record does, and the notification gets it.
#[tokio::test]
async fn notifications_carry_the_agent_email_from_the_agent_record() {
    let login = published::body(
        "user_logout",
        "-",
        Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap(),
    )
    .unwrap();
    let mut bodies = vec![login];
    bodies.extend(call());
    let (event, db) = stream_event(&bodies).await;
    let directory = DynamoStore::new(db.client(), "notify", None);
    let notifier = Notifier::new(Recording::default()).with_directory(directory);
    notifier.handle(event).await;
    let accepted = notifier.publisher().accepted.lock().unwrap().clone();
    let answered = accepted
        .iter()
        .find(|e| e.detail_type == "Engagement Answered")
        .expect("answered");
    let detail: Value = serde_json::from_str(&answered.detail).unwrap();
    assert_eq!(detail["engagement"]["agent_email"], "ana@example.com");
    let agent = accepted
        .iter()
        .find(|e| e.detail_type.starts_with("Agent"))
        .expect("an agent notification");
    let detail: Value = serde_json::from_str(&agent.detail).unwrap();
    assert!(detail.get("engagement").is_none());
}
