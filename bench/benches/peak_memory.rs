//! Peak memory of each function: its release binary run as Lambda runs it (against the
//! stand-in Runtime API, storing into dynoxide over loopback), fed `ZCC_MEMORY_EVENTS`
//! events (default 10,000) one invocation at a time, then its peak resident set (`VmHWM` in
//! `/proc/<pid>/status`) read before it is stopped.
//!
//!     cargo build --release -p zoom-webhook -p flow-events -p url-validation -p notify
//!     cargo bench -p zcc-bench --bench peak_memory
//!
//! - zoom-webhook: the webhooks of realistic calls (eleven each), signed as Zoom signs them;
//! - flow-events: the Flow scripts' two POSTs for as many engagements;
//! - url-validation: signed challenges;
//! - notify: state items' stream records, in batches of 100 (the template's batch size) as
//!   Lambda's filter hands them over, publishing to a stand-in EventBridge. The records are
//!   those of 100 realistic calls, copied under other engagement ids up to the count.
//!
//! dynoxide slows down as a table's stream grows (each write costs more, ~20 ms per write at
//! 10,000 records here), so the table the writers fill has its stream turned off, and the
//! notifier's records come from a small table of their own.
//!
//! Prints the figures and writes them to `target/bench/peak_memory.json`. It asserts no size:
//! a function answering anything but success makes it exit non-zero.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::StreamSpecification;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use zcc_domain::samples::{flow_post, realistic_call, url_validation};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::dynamodb::embedded::EmbeddedDynamo;
use zcc_shared::dynamodb::schema;
use zcc_shared::dynamodb::stream::StreamReader;
use zcc_shared::edge::function_url::function_url_event;
use zcc_shared::store::EventStore;
use zcc_testkit::runtime_api::{FakeRuntimeApi, lambda_environment};
use zcc_testkit::{authentic, signed_webhook_event};

mod bench_support;
use bench_support::{bin_dir, out_dir, setting};

const TABLE: &str = "zcc-peak-memory";
const SECRET: &str = "peak-memory-secret";
const FLOW_TOKEN: &str = "peak-memory-flow-token";
const BATCH: usize = 100;

struct Measured {
    events: usize,
    invocations: usize,
    failures: usize,
    seconds: f64,
    peak_kib: u64,
    rss_kib: u64,
}

/// `VmHWM` and `VmRSS` of a process, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// Runs `binary` and feeds it `invocations` one by one, each made into its Lambda event by
/// `event` just before it is sent (so that signatures are fresh) and carrying
/// `per_invocation` events; `ok` says whether an answer is a success.
async fn run(
    binary: &Path,
    function: &str,
    env: &[(&str, &str)],
    invocations: Vec<Value>,
    event: impl Fn(&Value) -> Value,
    per_invocation: impl Fn(&Value) -> usize,
    ok: impl Fn(&Value) -> bool,
) -> Result<Measured, String> {
    let runtime = FakeRuntimeApi::start().await.map_err(|e| e.to_string())?;
    // Its output to a file: a pipe nobody reads would stop it once full.
    let log_path = out_dir()
        .join("logs")
        .join(format!("peak_memory-{function}.log"));
    std::fs::create_dir_all(log_path.parent().unwrap()).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(lambda_environment(&runtime.address(), function))
        .envs(env.iter().copied())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let pid = child.id().ok_or("the function exited at once")?;
    let began = Instant::now();
    let (mut events, mut failures) = (0, 0);
    for invocation in &invocations {
        let answer = runtime
            .invoke(&event(invocation), Duration::from_secs(20))
            .await
            .map_err(|e| format!("{function}: {e} (its output: {})", log_path.display()))?;
        events += per_invocation(invocation);
        if !ok(&answer) {
            failures += 1;
            if failures <= 3 {
                eprintln!("{function}: unexpected answer {answer}");
            }
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let (peak_kib, rss_kib) = memory_kib(pid).ok_or("no /proc status for the function")?;
    let _ = child.kill().await;
    runtime.stop().await;
    Ok(Measured {
        events,
        invocations: invocations.len(),
        failures,
        seconds,
        peak_kib,
        rss_kib,
    })
}

fn answered_200(answer: &Value) -> bool {
    answer["statusCode"] == 200
}

/// A stand-in EventBridge: every PutEvents entry accepted.
async fn put_events(
    State(count): State<Arc<AtomicUsize>>,
    body: Bytes,
) -> impl axum::response::IntoResponse {
    let entries = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["Entries"].as_array().map(Vec::len))
        .unwrap_or(0);
    let first = count.fetch_add(entries, Ordering::Relaxed);
    let ids: Vec<Value> = (first..first + entries)
        .map(|n| json!({"EventId": format!("event-{n}")}))
        .collect();
    (
        [("content-type", "application/x-amz-json-1.1")],
        json!({"FailedEntryCount": 0, "Entries": ids}).to_string(),
    )
}

/// `count` stream records of state items, as Lambda's filter hands them to the notifier:
/// those of 100 realistic calls stored into a table of their own, then copied under other
/// engagement ids until there are enough.
async fn stream_records(db: &EmbeddedDynamo, start: Timestamp, count: usize) -> Vec<Value> {
    let table = "zcc-peak-memory-stream";
    schema::create(&db.client(), table)
        .await
        .expect("the table is created");
    let store = DynamoStore::new(db.client(), table, None);
    for i in 0..100 {
        let id = format!("StreamEngagement{i:06}");
        for (from_zoom, body) in realistic_call(&id, start.saturating_add_millis(i * 1000)) {
            let event = if from_zoom {
                authentic::webhook(&body.to_string())
            } else {
                authentic::flow(&body.to_string())
            };
            store.record(&event).await.expect("the event is stored");
        }
    }
    let mut reader = StreamReader::open(
        zcc_cli::notifier::streams_client(&db.endpoint()),
        table,
        true,
    )
    .await
    .expect("the table's stream");
    let mut records = Vec::new();
    loop {
        let page = reader.poll().await.expect("the table's stream");
        if page.is_empty() {
            break;
        }
        records.extend(
            page.into_iter()
                .filter(|r| r["dynamodb"]["Keys"]["sk"]["S"] == "STATE"),
        );
    }
    assert!(!records.is_empty(), "the calls left no stream records");
    let text = Value::Array(records).to_string();
    let mut out: Vec<Value> = Vec::with_capacity(count);
    for copy in 0.. {
        let renamed = text.replace("StreamEngagement", &format!("StreamCopy{copy:04}x"));
        let Value::Array(copied) = serde_json::from_str(&renamed).expect("the same JSON") else {
            unreachable!()
        };
        out.extend(copied.into_iter().take(count - out.len()));
        if out.len() == count {
            break;
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let events = setting("ZCC_MEMORY_EVENTS", 10_000);
    let bins = bin_dir();
    for name in ["zoom-webhook", "flow-events", "url-validation", "notify"] {
        if !bins.join(name).is_file() {
            eprintln!(
                "peak_memory: {} is missing: build it first (cargo build --release -p {name})",
                bins.join(name).display()
            );
            std::process::exit(2);
        }
    }
    let db = EmbeddedDynamo::memory().await.expect("dynoxide starts");
    schema::create(&db.client(), TABLE)
        .await
        .expect("the table is created");
    db.client()
        .update_table()
        .table_name(TABLE)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .expect("a stream specification"),
        )
        .send()
        .await
        .expect("the table's stream is turned off");
    let endpoint = db.endpoint();
    let start = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();

    let calls = events.div_ceil(11);
    let webhooks: Vec<Value> = (0..calls)
        .flat_map(|i| {
            realistic_call(
                &format!("MemoryEngagement{i:06}"),
                start.saturating_add_millis(i as i64 * 1000),
            )
        })
        .filter(|(from_zoom, _)| *from_zoom)
        .take(events)
        .map(|(_, body)| Value::String(body.to_string()))
        .collect();
    let bearer = format!("Bearer {FLOW_TOKEN}");
    let flow_headers = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
    ];
    let flows: Vec<Value> = (0..events)
        .map(|n| {
            let (i, kind) = (n / 2, n % 2);
            let at = start.saturating_add_millis(i as i64 * 1000 + 9_000 + kind as i64 * 300_000);
            let body = if kind == 0 {
                flow_post(
                    "engagement_accepted",
                    &format!("MemoryEngagement{i:06}"),
                    Some(at),
                    json!({"variables": {"order_id": format!("A-{i}")}}),
                )
            } else {
                flow_post(
                    "disposition_saved",
                    &format!("MemoryEngagement{i:06}"),
                    Some(at),
                    json!({"disposition": "Refund issued"}),
                )
            };
            function_url_event(
                "POST",
                "/",
                &flow_headers,
                body.to_string().as_bytes(),
                false,
            )
        })
        .collect();
    let challenges: Vec<Value> = (0..events)
        .map(|n| {
            Value::String(url_validation(&format!("plain-token-{n}"), Timestamp::now()).to_string())
        })
        .collect();
    // A webhook body, signed as Zoom signs it, now.
    let signed = |body: &Value| {
        signed_webhook_event(
            SECRET,
            Timestamp::now().unix_seconds(),
            body.as_str().unwrap_or_default(),
            false,
        )
    };

    let store_env = [
        ("TABLE_NAME", TABLE),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
    ];
    let mut results: Vec<(&str, Measured)> = Vec::new();
    let fail = |e: String| -> ! {
        eprintln!("peak_memory: {e}");
        std::process::exit(1);
    };

    let webhook_env = [
        store_env.as_slice(),
        &[("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)],
    ]
    .concat();
    let measured = run(
        &bins.join("zoom-webhook"),
        "zoom-webhook",
        &webhook_env,
        webhooks,
        signed,
        |_| 1,
        answered_200,
    )
    .await
    .unwrap_or_else(|e| fail(e));
    results.push(("zoom-webhook", measured));

    let flow_env = [store_env.as_slice(), &[("FLOW_AUTH_TOKEN", FLOW_TOKEN)]].concat();
    let measured = run(
        &bins.join("flow-events"),
        "flow-events",
        &flow_env,
        flows,
        Value::clone,
        |_| 1,
        answered_200,
    )
    .await
    .unwrap_or_else(|e| fail(e));
    results.push(("flow-events", measured));

    let measured = run(
        &bins.join("url-validation"),
        "url-validation",
        &[("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)],
        challenges,
        signed,
        |_| 1,
        answered_200,
    )
    .await
    .unwrap_or_else(|e| fail(e));
    results.push(("url-validation", measured));

    let records = stream_records(&db, start, events).await;
    let batches: Vec<Value> = records
        .chunks(BATCH)
        .map(|c| json!({"Records": c}))
        .collect();
    if let Some(first) = batches.first() {
        println!(
            "  (a batch of {} records for notify: {} KB of JSON)",
            first["Records"].as_array().map_or(0, Vec::len),
            first.to_string().len() / 1024
        );
    }
    let published = Arc::new(AtomicUsize::new(0));
    let bus = Router::new()
        .route("/", post(put_events))
        .with_state(published.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bus_endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, bus).await;
    });
    let notify_env = [
        store_env.as_slice(),
        &[
            ("EVENT_BUS_NAME", "zcc-peak-memory"),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", bus_endpoint.as_str()),
        ],
    ]
    .concat();
    let measured = run(
        &bins.join("notify"),
        "notify",
        &notify_env,
        batches,
        Value::clone,
        |b| b["Records"].as_array().map_or(0, Vec::len),
        |answer| {
            answer["batchItemFailures"]
                .as_array()
                .is_some_and(Vec::is_empty)
        },
    )
    .await
    .unwrap_or_else(|e| fail(e));
    results.push(("notify", measured));

    println!(
        "peak memory (VmHWM) after feeding each function its events one invocation at a time:"
    );
    let mut report = serde_json::Map::new();
    let mut failures = 0;
    for (name, m) in &results {
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "  {name:15} {:6} events in {:5} invocations, {:6.1} s: peak {:5.1} MiB, at the end {:5.1} MiB{}",
            m.events,
            m.invocations,
            m.seconds,
            mib(m.peak_kib),
            mib(m.rss_kib),
            if m.failures > 0 {
                format!(", {} failed", m.failures)
            } else {
                String::new()
            }
        );
        failures += m.failures;
        report.insert(
            (*name).to_owned(),
            json!({"events": m.events, "invocations": m.invocations, "failures": m.failures,
                   "seconds": m.seconds, "peak_rss_mib": mib(m.peak_kib), "rss_mib": mib(m.rss_kib)}),
        );
    }
    println!(
        "  (notify published {} notifications)",
        published.load(Ordering::Relaxed)
    );
    let path = out_dir().join("peak_memory.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("written to {}", path.display());
    db.stop().await;
    if failures > 0 {
        std::process::exit(1);
    }
}
