//! A backfill of 10,000 engagements from the Zoom API stand-in into dynoxide through the SDK:
//! time, requests per second, write units per engagement; then the rerun (which only reads
//! and compares). Unpaced by default, so that it measures our side: with Zoom's pacing the
//! details alone (Light, 10/s by default) take 1,000 s.
//!
//!     cargo bench -p zcc-reconcile --bench backfill
//!
//! `ZCC_BENCH_ENGAGEMENTS` (default 10000) and `ZCC_BENCH_PACING=<light>/<medium>` (requests
//! per second, e.g. `10/5`; default unpaced) change the run.

use std::time::Instant;

use zcc_domain::timestamp::Timestamp;
use zcc_reconcile::{
    Options, Pacing, Reconciler, RetryPolicy, Window, ZoomClient, ZoomCredentials,
};
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::{DynamoStore, schema};
use zcc_testkit::zoom_api::{self, Call, Endpoint, ZoomApiStandIn};

#[tokio::main]
async fn main() {
    let count: i64 = std::env::var("ZCC_BENCH_ENGAGEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let pacing = std::env::var("ZCC_BENCH_PACING")
        .ok()
        .and_then(|v| {
            let (light, medium) = v.split_once('/')?;
            Some(Pacing {
                light_per_sec: light.parse().ok()?,
                medium_per_sec: medium.parse().ok()?,
            })
        })
        .unwrap_or_else(Pacing::unpaced);

    let zoom = ZoomApiStandIn::start().await.expect("the stand-in starts");
    let dynamo = EmbeddedDynamo::memory().await.expect("dynoxide starts");
    let table = "reconcile-bench";
    schema::create(&dynamo.client(), table)
        .await
        .expect("table created");
    // One call every 15 s, ending three hours ago: ~42 hours, three day slices.
    let now = Timestamp::now().unix_seconds();
    let first = Timestamp::from_unix_millis((now - 3 * 3600 - count * 15) * 1000);
    for n in 0..count {
        let start = first.saturating_add_millis(n * 15_000);
        let mut call = Call::answered(
            &format!("bench-{n:06}"),
            start,
            20 + n % 40,
            60 + n % 600,
            n % 45,
        );
        call.agents = vec![(format!("u-{}", n % 50), format!("Agent {}", n % 50))];
        call.queues = vec![(format!("q-{}", n % 5), format!("Queue {}", n % 5))];
        zoom.add_call(call);
    }
    let credentials = ZoomCredentials::new(
        zoom_api::ACCOUNT_ID,
        zoom_api::CLIENT_ID,
        zoom_api::CLIENT_SECRET,
        None,
        Some(zoom.api_url()),
        Some(zoom.oauth_url()),
    );
    let window = Window::new(
        first.saturating_add_millis(-60_000),
        Timestamp::from_unix_millis(now * 1000),
    )
    .unwrap();
    let reconciler = || {
        Reconciler::with_client(
            ZoomClient::with(credentials.clone(), pacing, RetryPolicy::default()),
            DynamoStore::new(dynamo.client(), table, None),
        )
    };

    println!(
        "backfill of {count} engagements from the Zoom API stand-in into dynoxide (pacing: light {}/s, medium {}/s; 0 = unpaced)",
        pacing.light_per_sec, pacing.medium_per_sec
    );
    for (label, run) in [("backfill", 1), ("rerun", 2)] {
        let started = Instant::now();
        let report = reconciler()
            .run(window, Options::default())
            .await
            .expect("the run succeeds");
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(report.listed_engagements, count as u64);
        let per = |x: f64| x / count as f64;
        println!(
            "{label:8} {secs:8.2} s  {:6} requests to Zoom ({:7.1}/s)  backfilled {:6}  checked {:6} matched {:6}  write units {:9.1} ({:.2} per engagement)  read units {:8.1} ({:.2} per engagement)  {:.2} ms per engagement",
            report.requests,
            report.requests as f64 / secs,
            report.backfilled_engagements,
            report.checked,
            report.matched,
            report.write_units,
            per(report.write_units),
            report.read_units,
            per(report.read_units),
            secs * 1000.0 / count as f64,
        );
        if run == 1 {
            assert_eq!(report.backfilled_engagements, count as u64);
        } else {
            assert_eq!(report.write_units, 0.0);
        }
    }
    println!(
        "stand-in requests: oauth {}, list {}, detail {}",
        zoom.requests(Endpoint::OAuth),
        zoom.requests(Endpoint::Engagements),
        zoom.requests(Endpoint::Engagement)
    );
}
