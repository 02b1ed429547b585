//! What one engagement costs in DynamoDB: requests, read and write units per event.
//!
//!     cargo bench -p zcc-shared --features embedded --bench capacity
//!
//! Replays a realistic engagement of sixteen events in Zoom's published shapes (with
//! duplicates, shuffled) into
//! dynoxide, and into moto too when ZCC_MOTO_ENDPOINT is set. It prints the units each
//! emulator reports (ReturnConsumedCapacity) beside the units computed from the stored item
//! sizes by DynamoDB's documented rules, and replays into a table without indexes to show
//! what the indexes add. It replays twice: into one warm process (every event of the
//! engagement reaches the same Lambda instance, which knows the state it wrote last) and
//! with a cold process per event (each one reaches an instance that has never seen the
//! engagement). Last, a long chat: the write units of a message by its position, up to the
//! 2,000th, and the state item's size (the record keeps a bounded ledger, not every key).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use zcc_domain::event::AuthenticEvent;
use zcc_domain::samples::realistic_call;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::{EmbeddedDynamo, client_for};
use zcc_shared::dynamodb::schema;
use zcc_shared::store::{EventStore, Recorded};
use zcc_testkit::authentic::{flow, webhook};

const ID: &str = "CapacityEngagement0001";

fn engagement() -> Vec<AuthenticEvent> {
    let t0 = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();
    realistic_call(ID, t0)
        .into_iter()
        .map(|(from_zoom, body)| {
            if from_zoom {
                webhook(&body.to_string())
            } else {
                flow(&body.to_string())
            }
        })
        .collect()
}

/// Item size by DynamoDB's rules: attribute names plus values (strings in UTF-8 bytes,
/// numbers about one byte per two digits plus one, 3 bytes per list/map plus 1 per element).
fn attribute_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.trim_start_matches('-').replace('.', "").len().div_ceil(2) + 1,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(items) => items.iter().map(String::len).sum(),
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + attribute_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + attribute_size(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(k, v)| k.len() + attribute_size(v)).sum()
}

fn kb_units(bytes: usize) -> usize {
    bytes.div_ceil(1024).max(1)
}

async fn plain_table(client: &Client, name: &str) {
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .send()
        .await
        .unwrap();
}

async fn item(
    client: &Client,
    table: &str,
    sk: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("ENGAGEMENT#{ID}")))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq)]
enum Processes {
    OneWarm,
    ColdPerEvent,
}

/// What one replay measured.
struct Replayed {
    distinct: usize,
    write_units: f64,
    read_units: f64,
    index_write_units: f64,
    duplicate_write_units: f64,
    /// Write units of each distinct event, by its name.
    by_event: Vec<(String, f64)>,
}

async fn replay(name: &str, client: Client, processes: Processes) -> Replayed {
    let (indexed_table, plain_table_name) = match processes {
        Processes::OneWarm => ("warm-with-indexes", "warm-no-indexes"),
        Processes::ColdPerEvent => ("cold-with-indexes", "cold-no-indexes"),
    };
    schema::create(&client, indexed_table).await.unwrap();
    plain_table(&client, plain_table_name).await;
    let warm_indexed = DynamoStore::new(client.clone(), indexed_table, None);
    let warm_plain = DynamoStore::new(client.clone(), plain_table_name, None);
    let label = match processes {
        Processes::OneWarm => "one warm process",
        Processes::ColdPerEvent => "a cold process per event",
    };

    println!("\n## {name}: {label}\n");
    println!(
        "| # | event | outcome | requests | RCU reported | WCU reported | WCU without indexes | event item B | state item B | WCU by size rules (event+state) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let events = engagement();
    // Delivered shuffled-ish with two duplicates, as Zoom may.
    let mut deliveries: Vec<&AuthenticEvent> = events.iter().collect();
    deliveries.swap(0, 3);
    deliveries.swap(5, 9);
    deliveries.insert(6, &events[4]);
    deliveries.push(&events[11]);
    let (mut total_w, mut total_plain_w, mut total_r, mut requests) = (0.0, 0.0, 0.0, 0);
    let (mut duplicate_w, mut by_event) = (0.0, Vec::new());
    for (n, e) in deliveries.iter().enumerate() {
        let (indexed, plain) = match processes {
            Processes::OneWarm => (warm_indexed.clone(), warm_plain.clone()),
            Processes::ColdPerEvent => (
                DynamoStore::new(client.clone(), indexed_table, None),
                DynamoStore::new(client.clone(), plain_table_name, None),
            ),
        };
        let receipt = indexed.record(e).await.unwrap();
        let plain_receipt = plain.record(e).await.unwrap();
        let state = item(&client, indexed_table, "STATE").await;
        let sk = format!("EVENT#{}#{}", e.occurred_at().to_iso(), e.event_id());
        let event_item = item(&client, indexed_table, &sk).await;
        let reqs = receipt.requests;
        let by_rules = match receipt.outcome {
            Recorded::Applied => kb_units(item_size(&event_item)) + kb_units(item_size(&state)),
            Recorded::Duplicate | Recorded::StoredUnmerged => 0,
        };
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            n + 1,
            e.name().trim_start_matches("contact_center."),
            receipt.outcome.as_str(),
            reqs,
            receipt.read_units,
            receipt.write_units,
            plain_receipt.write_units,
            item_size(&event_item),
            item_size(&state),
            by_rules
        );
        match receipt.outcome {
            Recorded::Applied => by_event.push((
                e.name().trim_start_matches("contact_center.").to_owned(),
                receipt.write_units,
            )),
            _ => duplicate_w += receipt.write_units,
        }
        total_w += receipt.write_units;
        total_plain_w += plain_receipt.write_units;
        total_r += receipt.read_units;
        requests += reqs;
    }
    println!(
        "\n{name}, {label}: {} deliveries ({} distinct): {requests} requests, {total_r:.1} RCU, {total_w:.1} WCU reported ({total_plain_w:.1} without indexes: the indexes add {:.1})",
        deliveries.len(),
        events.len(),
        total_w - total_plain_w
    );
    Replayed {
        distinct: events.len(),
        write_units: total_w,
        read_units: total_r,
        index_write_units: total_w - total_plain_w,
        duplicate_write_units: duplicate_w,
        by_event,
    }
}

/// The positions of a long chat's messages whose cost is reported.
const POSITIONS: [usize; 7] = [1, 10, 100, 250, 500, 1_000, 2_000];

/// Write units of each reported message of a 2,000-message chat, delivered in order into one
/// warm process (as a busy chat's messages reach one Lambda instance), and the state item's
/// size after it.
async fn long_chat(client: Client) -> (Vec<(usize, f64, usize)>, usize) {
    let table = "capacity-long-chat";
    schema::create(&client, table).await.unwrap();
    let store = DynamoStore::new(client.clone(), table, None);
    let id = "CapacityLongChat000001";
    let t0 = Timestamp::parse("2026-12-01T09:00:00.000Z")
        .unwrap()
        .unix_millis();
    let mut figures = Vec::new();
    for n in 1..=*POSITIONS.last().unwrap() {
        let at = Timestamp::from_unix_millis(t0 + 4_000 * n as i64);
        let event = if n % 2 == 0 {
            "engagement_user_sent_message"
        } else {
            "engagement_consumer_sent_message"
        };
        let body = zcc_domain::samples::engagement_webhook(
            event,
            id,
            at,
            serde_json::json!({"channel": "chat", "message_id": format!("m{n}")}),
        );
        let receipt = store.record(&webhook(&body.to_string())).await.unwrap();
        if POSITIONS.contains(&n) {
            let state = store
                .current_state(&schema::engagement_pk(id))
                .await
                .unwrap()
                .unwrap();
            figures.push((n, receipt.write_units, item_size(&state)));
        }
    }
    let last = figures.last().map_or(0, |f| f.2);
    for (n, units, bytes) in &figures {
        println!("long chat: message {n:>5}: {units:.1} WCU, state item {bytes} B");
    }
    (figures, last)
}

#[tokio::main]
async fn main() {
    let dynoxide = EmbeddedDynamo::memory().await.unwrap();
    let mut figures = Vec::new();
    for processes in [Processes::OneWarm, Processes::ColdPerEvent] {
        figures.push(replay("dynoxide", dynoxide.client(), processes).await);
        if let Ok(endpoint) = std::env::var("ZCC_MOTO_ENDPOINT") {
            replay("moto", client_for(&endpoint), processes).await;
        }
    }
    let (chat, chat_bytes) = long_chat(dynoxide.client()).await;
    dynoxide.stop().await;
    let (warm, cold) = (&figures[0], &figures[1]);
    let per = |units: f64| units / warm.distinct as f64;
    let summary = serde_json::json!({
        "engagement": "zcc_domain::samples::realistic_call: 16 distinct events, 18 deliveries",
        "write_units_per_distinct_event": per(warm.write_units),
        "index_write_units_per_distinct_event": per(warm.index_write_units),
        "read_units_per_distinct_event": per(warm.read_units),
        "read_units_per_distinct_event_cold": cold.read_units / cold.distinct as f64,
        "duplicate_write_units": warm.duplicate_write_units,
        "by_event": warm.by_event.iter().map(|(n, u)| (n.clone(), serde_json::json!(u)))
            .collect::<serde_json::Map<_, _>>(),
        "long_chat_write_units": chat.iter().map(|(n, u, _)| (n.to_string(), serde_json::json!(u)))
            .collect::<serde_json::Map<_, _>>(),
        "long_chat_state_bytes": chat.iter().map(|(n, _, b)| (n.to_string(), serde_json::json!(b)))
            .collect::<serde_json::Map<_, _>>(),
        "long_chat_final_state_bytes": chat_bytes,
    });
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/capacity.json"), format!("{summary:#}\n")).unwrap();
    println!(
        "\n{:.2} write units per distinct event (indexes {:.2}), {:.2} read units; duplicates {:.1}: {dir}/capacity.json",
        per(warm.write_units),
        per(warm.index_write_units),
        per(warm.read_units),
        warm.duplicate_write_units
    );
}
