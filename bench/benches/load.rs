//! A load test of the local stack over HTTP: many engagements at once, their events out of
//! order and partly duplicated, sent by concurrent senders as fast as the stack answers.
//! It prints throughput and latency, then checks every engagement against an in-order,
//! duplicate-free delivery of the same events: nothing lost, nothing applied twice.
//!
//!     cargo bench -p zcc-bench --bench load
//!     ZCC_LOAD_ENGAGEMENTS=500 ZCC_LOAD_CONCURRENCY=32 cargo bench -p zcc-bench --bench load
//!
//! Everything runs on this machine (dynoxide in-process, the handlers behind axum), so the
//! numbers say what the code and the embedded store sustain here, not what DynamoDB would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use zcc_cli::stack::{Stack, StackOptions};
use zcc_domain::samples::realistic_call;
use zcc_domain::signature::{SecretToken, sign};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::attributes::from_item;
use zcc_shared::dynamodb::schema;
use zcc_shared::store::EventStore;
use zcc_testkit::authentic;

const SECRET: &str = "load-test-secret";
const FLOW_TOKEN: &str = "load-test-flow";
const TABLE: &str = "zcc-load";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator: the same run every time, no extra dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Delivery {
    /// When it is sent, relative to the others (event time plus network jitter and retries).
    send_key: i64,
    from_zoom: bool,
    body: String,
}

/// Engagements starting a second apart (so a few hundred are in progress at once), each
/// event delivered up to 3 s early or late, one in ten delivered a second time up to 10 s on.
fn deliveries(engagements: usize, start: Timestamp) -> (Vec<Vec<(bool, Value)>>, Vec<Delivery>) {
    let mut random = Lcg(0x5eed);
    let calls: Vec<Vec<(bool, Value)>> = (0..engagements)
        .map(|i| {
            realistic_call(
                &format!("LoadEngagement{i:08}"),
                start.saturating_add_millis(i as i64 * 1000),
            )
        })
        .collect();
    let mut out = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        for (n, (from_zoom, body)) in call.iter().enumerate() {
            let happens = i as i64 * 1000 + n as i64 * 25_000;
            let key = happens + random.below(6000) as i64 - 3000;
            out.push(Delivery {
                send_key: key,
                from_zoom: *from_zoom,
                body: body.to_string(),
            });
            if random.below(10) == 0 {
                out.push(Delivery {
                    send_key: key + random.below(10_000) as i64,
                    from_zoom: *from_zoom,
                    body: body.to_string(),
                });
            }
        }
    }
    out.sort_by_key(|d| d.send_key);
    (calls, out)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn state_without_version(store: &DynamoStore, id: &str) -> Option<Value> {
    let item = store
        .current_state(&format!("ENGAGEMENT#{id}"))
        .await
        .ok()??;
    let mut state = from_item(&item);
    state.remove("version");
    Some(Value::Object(state))
}

#[tokio::main]
async fn main() {
    let engagements = setting("ZCC_LOAD_ENGAGEMENTS", 200);
    let concurrency = setting("ZCC_LOAD_CONCURRENCY", 16);
    let env = |name: &str| match name {
        "TABLE_NAME" => Some(TABLE.to_owned()),
        "ZOOM_WEBHOOK_SECRET_TOKEN" => Some(SECRET.to_owned()),
        "FLOW_AUTH_TOKEN" => Some(FLOW_TOKEN.to_owned()),
        _ => None,
    };
    let stack = Stack::start(&StackOptions::ephemeral(), &env)
        .await
        .expect("the local stack starts");
    let start = Timestamp::parse("2026-12-01T09:00:00Z").unwrap();
    let (calls, deliveries) = deliveries(engagements, start);
    let total = deliveries.len();
    let distinct: usize = calls.iter().map(Vec::len).sum();
    println!(
        "load: {engagements} engagements, {distinct} distinct events, {} duplicates: {total} deliveries from {concurrency} concurrent senders",
        total - distinct
    );

    let queue = Arc::new(Mutex::new(VecDeque::from(deliveries)));
    let webhook_url = stack.url("zoom-webhook");
    let flow_url = stack.url("flow-events");
    let secret = SecretToken::new(SECRET).unwrap();
    let began = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..concurrency {
        let queue = queue.clone();
        let (webhook_url, flow_url, secret) =
            (webhook_url.clone(), flow_url.clone(), secret.clone());
        senders.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let Some(delivery) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let request = if delivery.from_zoom {
                    let now = Timestamp::now().unix_seconds();
                    http.post(&webhook_url)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-zm-request-timestamp", now.to_string())
                        .header(
                            "x-zm-signature",
                            sign(&secret, now, delivery.body.as_bytes()),
                        )
                } else {
                    http.post(&flow_url)
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {FLOW_TOKEN}"))
                };
                let sent = Instant::now();
                let status = request
                    .body(delivery.body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                latencies.push(sent.elapsed());
                if status != 200 {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for sender in senders {
        let (mine, failed) = sender.await.unwrap();
        latencies.extend(mine);
        failures += failed;
    }
    let elapsed = began.elapsed();
    latencies.sort();
    println!(
        "throughput: {:.0} deliveries/s ({total} in {:.2} s)",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    println!("answers other than 200: {failures}");

    // The same events, in order and once each, into a table of their own: what every
    // engagement must look like.
    let client = stack.dynamodb_client();
    schema::create(&client, "zcc-load-reference").await.unwrap();
    let reference = DynamoStore::new(client.clone(), "zcc-load-reference", None);
    let loaded = DynamoStore::new(client, TABLE, None);
    let (mut matching, mut stored_events) = (0, 0);
    for (i, call) in calls.iter().enumerate() {
        let id = format!("LoadEngagement{i:08}");
        for (from_zoom, body) in call {
            let event = if *from_zoom {
                authentic::webhook(&body.to_string())
            } else {
                authentic::flow(&body.to_string())
            };
            reference.record(&event).await.unwrap();
        }
        let expected = state_without_version(&reference, &id).await;
        if expected.is_some() && state_without_version(&loaded, &id).await == expected {
            matching += 1;
        } else {
            eprintln!("{id}: the stored state differs from the in-order delivery");
        }
        stored_events += loaded
            .event_items(&format!("ENGAGEMENT#{id}"))
            .await
            .map_or(0, |items| items.len());
    }
    println!(
        "exactly once: {matching}/{engagements} engagements equal their in-order delivery; {stored_events} event items for {distinct} distinct events"
    );
    stack.stop().await;
    if failures > 0 || matching != engagements || stored_events != distinct {
        std::process::exit(1);
    }
}
