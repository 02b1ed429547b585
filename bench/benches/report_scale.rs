//! `zcc report` at a month's scale: a generated day of many engagements, each merged in memory
//! (the same merge the functions run), its final state items written into a dynoxide data
//! file as `zcc local --data-dir` keeps them (BatchWriteItem, several batches in flight);
//! then the release `zcc report` timed against it, its total checked against the figures
//! the day was planned with.
//!
//!     cargo build --release -p zcc-cli
//!     cargo bench -p zcc-bench --bench report_scale                  # 10,000 and 100,000
//!     ZCC_REPORT_SCALE=25000 cargo bench -p zcc-bench --bench report_scale
//!
//! Prints the load and report times of each size and writes `target/bench/report_scale.json`.
//! With a directory and a size it only loads, to time the real thing by hand (docs,
//! "Reporting"):
//!
//!     cargo bench -p zcc-bench --bench report_scale -- DIR 50000
//!     zcc local --data-dir DIR &
//!     /usr/bin/time -v zcc report --from 2026-11-30 --to 2026-11-30 \
//!         --endpoint-url http://127.0.0.1:8000 --table zcc-events

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use zcc_domain::engagement::EngagementState;
use zcc_domain::merge::State;
use zcc_shared::dynamodb::attributes::to_item;
use zcc_shared::dynamodb::embedded::{EmbeddedDynamo, Storage};
use zcc_shared::dynamodb::schema::{self, ENTITY, PK, SETS, SK, STATE_SK, VERSION};
use zcc_testkit::authentic;
use zcc_testkit::day::{GeneratedDay, generate};

mod bench_support;
use bench_support::{bin_dir, out_dir, setting};

const DAY: &str = "2026-11-30";
const TABLE: &str = "zcc-events";
/// BatchWriteItem calls in flight at once while loading.
const WRITES_IN_FLIGHT: usize = 4;

/// Generates `n` engagements of a day, merges them and writes their state items to the
/// data file in `dir`. Returns the day and the seconds it took to write them.
async fn load(dir: &std::path::Path, n: usize) -> (GeneratedDay, f64) {
    let began = Instant::now();
    let day = generate(DAY, n, 42);
    let mut states: BTreeMap<String, EngagementState> = BTreeMap::new();
    for body in &day.webhooks {
        let event = authentic::webhook(body);
        if let zcc_domain::event::Subject::Engagement(id) = event.subject() {
            let state = states
                .entry(id.to_string())
                .or_insert_with(|| EngagementState::fresh(id.as_str()));
            if !state.has_seen(&event) {
                state.apply(&event);
            }
        }
    }
    println!(
        "{n} engagements merged from {} webhooks in {:.1} s",
        day.webhooks.len(),
        began.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(dir).unwrap();
    let dynamo = EmbeddedDynamo::start(
        &Storage::File(dir.join("dynamodb.sqlite")),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let client = dynamo.client();
    schema::create(&client, TABLE).await.unwrap();
    let began = Instant::now();
    let items: Vec<_> = states
        .values()
        .map(|state| {
            let serde_json::Value::Object(fields) = serde_json::to_value(state).unwrap() else {
                unreachable!("a state is an object")
            };
            let mut item = to_item(fields, SETS);
            item.insert(
                PK.into(),
                AttributeValue::S(schema::engagement_pk(&state.engagement_id)),
            );
            item.insert(SK.into(), AttributeValue::S(STATE_SK.into()));
            item.insert(ENTITY.into(), AttributeValue::S("engagement".into()));
            item.insert(
                VERSION.into(),
                AttributeValue::N(state.event_count.to_string()),
            );
            item
        })
        .collect();
    let mut batches = items.chunks(25).map(|chunk| {
        chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect::<Vec<_>>()
    });
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < WRITES_IN_FLIGHT {
            let Some(mut requests) = batches.next() else {
                break;
            };
            let client = client.clone();
            running.spawn(async move {
                while !requests.is_empty() {
                    let output = client
                        .batch_write_item()
                        .request_items(TABLE, requests.clone())
                        .send()
                        .await
                        .unwrap();
                    requests = output
                        .unprocessed_items()
                        .and_then(|u| u.get(TABLE))
                        .cloned()
                        .unwrap_or_default();
                }
            });
        }
        if running.join_next().await.is_none() {
            break;
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    println!(
        "{} state items written to {} in {seconds:.1} s",
        items.len(),
        dir.display(),
    );
    dynamo.stop().await;
    (day, seconds)
}

/// Times the release `zcc report` of the day against the data file in `dir` (served as
/// `zcc local` serves it), `runs` times; checks its total against the planned figures.
async fn time_report(dir: &std::path::Path, day: &GeneratedDay, runs: usize) -> Vec<f64> {
    let dynamo = EmbeddedDynamo::start(
        &Storage::File(dir.join("dynamodb.sqlite")),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let zcc = bin_dir().join("zcc");
    let mut seconds = Vec::new();
    for _ in 0..runs {
        let began = Instant::now();
        let output = tokio::process::Command::new(&zcc)
            .args([
                "report", "--from", DAY, "--to", DAY, "--json", "--table", TABLE,
            ])
            .arg("--endpoint-url")
            .arg(dynamo.endpoint())
            .output()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): cargo build --release -p zcc-cli",
                    zcc.display()
                )
            });
        seconds.push(began.elapsed().as_secs_f64());
        assert!(
            output.status.success(),
            "zcc report failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let expected = serde_json::to_value(day.expected_total(20)).unwrap();
        if report["total"] != expected {
            eprintln!(
                "zcc report's total differs from the planned day:\n  reported {}\n  planned  {expected}",
                report["total"]
            );
            std::process::exit(1);
        }
    }
    dynamo.stop().await;
    seconds
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(dir) = args.first() {
        let n: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(50_000);
        load(std::path::Path::new(dir), n).await;
        return;
    }
    let sizes: Vec<usize> = std::env::var("ZCC_REPORT_SCALE")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let runs = setting("ZCC_REPORT_SCALE_RUNS", 3).max(1);
    let mut results = serde_json::Map::new();
    for n in sizes {
        let dir = std::env::temp_dir().join(format!("zcc-report-scale-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (day, load_s) = load(&dir, n).await;
        let mut seconds = time_report(&dir, &day, runs).await;
        seconds.sort_by(f64::total_cmp);
        let median = seconds[seconds.len() / 2];
        println!(
            "zcc report of {n} engagements: median {median:.2} s of {runs} runs ({}); loaded in {load_s:.1} s",
            seconds
                .iter()
                .map(|s| format!("{s:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        results.insert(
            n.to_string(),
            serde_json::json!({"report_s": median, "runs_s": seconds, "load_s": load_s}),
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let path = out_dir().join("report_scale.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::Value::Object(results)).unwrap() + "\n",
    )
    .unwrap();
    println!("written to {}", path.display());
}
