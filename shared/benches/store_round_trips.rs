//! What the state cache saves per event through the SDK: one agent's status changes recorded
//! into dynoxide by a warm store (it merges into the item it wrote last: one TransactWriteItems)
//! and by a store without a cache (a consistent GetItem first, then the same write).
//!
//!     cargo bench -p zcc-shared --features local --bench store_round_trips
//!
//! dynoxide runs in this process over loopback HTTP, so its round trip is far shorter than
//! DynamoDB's (single-digit ms in-region): read the ratio, not the absolute times, and
//! compare within one run (these machines are shared and noisy).

use std::sync::atomic::{AtomicI64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use zcc_domain::samples::agent_webhook;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::store::{EventStore, Recorded};
use zcc_testkit::authentic;

/// Every call a new, distinct status change a millisecond after the last one. The agent item
/// does not grow with events, so every iteration writes the same amount.
fn next_status_change(clock: &AtomicI64) -> zcc_domain::event::AuthenticEvent {
    let at = Timestamp::from_unix_millis(clock.fetch_add(1, Ordering::SeqCst));
    let body = agent_webhook(
        "user_status_changed",
        "BenchAgent000000000001",
        at,
        json!({"previous_status_name": "Not Ready", "current_status_name": "Ready"}),
    );
    authentic::webhook(&body.to_string())
}

fn round_trips(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(EmbeddedDynamo::memory()).unwrap();
    let client = server.client();
    runtime.block_on(schema::create(&client, "bench")).unwrap();
    let clock = AtomicI64::new(
        Timestamp::parse("2026-12-01T09:00:00Z")
            .unwrap()
            .unix_millis(),
    );

    let mut group = c.benchmark_group("record one status change");
    for (name, store) in [
        (
            "warm cache (1 request)",
            DynamoStore::new(client.clone(), "bench", None),
        ),
        (
            "no cache (2 requests)",
            DynamoStore::new(client.clone(), "bench", None).with_cache_capacity(0),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let event = next_status_change(&clock);
                let receipt = runtime.block_on(store.record(&event)).unwrap();
                assert_eq!(receipt.outcome, Recorded::Applied);
                receipt
            })
        });
    }
    group.finish();
    runtime.block_on(server.stop());
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
