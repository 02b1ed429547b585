//! How soon a notification follows the webhook that caused it, on the local stack: a few
//! hundred realistic engagements posted over HTTP (each event's 200 timed), the notifier
//! POSTing to a local receiver (each notification's arrival timed). Prints the latency from
//! the `engagement_user_answered` webhook's 200 to its `Engagement Answered` notification
//! (p50/p99), and the notifications per engagement.
//!
//!     cargo bench -p zcc-bench --bench notify          (ZCC_NOTIFY_ENGAGEMENTS=300 by default)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use zcc_cli::notifier::NotifyTarget;
use zcc_cli::stack::{Stack, StackOptions};
use zcc_domain::published;
use zcc_domain::timestamp::Timestamp;
use zcc_testkit::post_now;

const SECRET: &str = "notify-bench-secret";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let engagements: usize = std::env::var("ZCC_NOTIFY_ENGAGEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    // Arrival of each notification: (engagement id, detail type) → when.
    let arrived: Arc<Mutex<Vec<(String, String, Instant)>>> = Arc::default();
    let receiver = {
        let arrived = arrived.clone();
        axum::Router::new().route(
            "/crm",
            axum::routing::post(move |axum::Json(event): axum::Json<Value>| {
                let arrived = arrived.clone();
                async move {
                    let detail = &event["detail"];
                    let id = detail["engagement"]["engagement_id"]
                        .as_str()
                        .or(detail["agent"]["user_id"].as_str())
                        .unwrap_or("")
                        .to_owned();
                    let kind = event["detail-type"].as_str().unwrap_or("").to_owned();
                    arrived.lock().unwrap().push((id, kind, Instant::now()));
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let env = |name: &str| match name {
        "TABLE_NAME" => Some("zcc-notify-bench".to_owned()),
        "ZOOM_WEBHOOK_SECRET_TOKEN" => Some(SECRET.to_owned()),
        "FLOW_AUTH_TOKEN" => Some("unused".to_owned()),
        _ => None,
    };
    let options = StackOptions {
        notify: NotifyTarget::Url(format!("http://{addr}/crm")),
        ..StackOptions::ephemeral()
    };
    let stack = Stack::start(&options, &env).await.unwrap();
    let url = stack.url("zoom-webhook");
    let events = [
        ("engagement_started", 0),
        ("task_entered_queue", 1_000),
        ("engagement_user_answered", 9_000),
        ("engagement_user_hold", 60_000),
        ("engagement_user_unhold", 90_000),
        ("engagement_transfer_accepted", 120_000),
        ("engagement_transfer_completed", 121_000),
        ("engagement_ended", 300_000),
        ("engagement_disposition_added", 310_000),
    ];
    let start = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();
    let mut answered_ok: BTreeMap<String, Instant> = BTreeMap::new();
    let began = Instant::now();
    for n in 0..engagements {
        let id = format!("NotifyBench{n:010}");
        for (name, offset) in events {
            let body = published::body(name, &id, start.saturating_add_millis(offset))
                .unwrap()
                .to_string();
            let reply = post_now(&url, SECRET, &body).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            if name == "engagement_user_answered" {
                answered_ok.insert(id.clone(), Instant::now());
            }
        }
    }
    let sent = began.elapsed();
    // Wait for the notifier to catch up.
    let expected = engagements * 5;
    for _ in 0..600 {
        if arrived.lock().unwrap().len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let arrived = arrived.lock().unwrap().clone();
    let mut latencies: Vec<f64> = arrived
        .iter()
        .filter(|(_, kind, _)| kind == "Engagement Answered")
        .filter_map(|(id, _, at)| {
            answered_ok
                .get(id)
                .map(|ok| at.saturating_duration_since(*ok).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    for (_, kind, _) in &arrived {
        *per_kind.entry(kind.clone()).or_default() += 1;
    }
    println!(
        "{engagements} engagements, {} webhooks in {:.1} s",
        engagements * events.len(),
        sent.as_secs_f64()
    );
    println!(
        "webhook 200 → Engagement Answered notification: p50 {:.1} ms, p99 {:.1} ms (n = {})",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.len()
    );
    println!(
        "notifications: {} in all, {:.2} per engagement: {per_kind:?}",
        arrived.len(),
        arrived.len() as f64 / engagements as f64
    );
    stack.stop().await;
}
