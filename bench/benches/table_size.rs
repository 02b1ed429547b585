//! Events per second by table size on the embedded store: distinct engagements of 3 signed
//! webhooks each (started, answered, ended), sent by 8 concurrent clients through the release
//! `zcc local`, for as long as it takes the table to hold 100,000 engagements; printed for
//! each 1,000 engagements ending at 1,000, 10,000, 50,000 and 100,000. Twice: the default
//! file store with the notifier on (its notifications to /dev/null), then `--memory`.
//!
//!     cargo build --release -p zcc-cli
//!     cargo bench -p zcc-bench --bench table_size
//!     ZCC_TABLE_SIZE_ENGAGEMENTS=10000 ZCC_TABLE_SIZE_MODES=memory cargo bench -p zcc-bench --bench table_size
//!
//! The target is a flat store: the last slice within 25 % of the first. Writes
//! `target/bench/table_size.json`. Nothing here asserts a rate (the machine is shared and
//! noisy); a request answered other than 200 makes it exit non-zero.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use zcc_domain::signature::{SecretToken, sign};

mod bench_support;
use bench_support::{bin_dir, out_dir, setting};

const SECRET: &str = "table-size-secret";
/// The slice every rate is measured over, in engagements.
const SLICE: usize = 1_000;
const CHECKPOINTS: [usize; 4] = [1_000, 10_000, 50_000, 100_000];

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// The release `zcc local`, its notifications (stdout) thrown away.
fn start(data_dir: Option<&Path>, addr: SocketAddr) -> Child {
    let zcc = bin_dir().join("zcc");
    let mut command = Command::new(&zcc);
    command
        .arg("local")
        .arg("--addr")
        .arg(addr.to_string())
        .arg("--dynamodb-addr")
        .arg(free_addr().to_string());
    match data_dir {
        Some(dir) => command.arg("--data-dir").arg(dir),
        None => command.arg("--memory"),
    };
    let child = command
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}): cargo build --release -p zcc-cli",
                zcc.display()
            )
        });
    let began = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "zcc local did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The three webhooks of engagement `i`, a second apart, as Zoom sends them.
fn engagement(run: u64, i: usize) -> [String; 3] {
    let id = format!("Size{run}-{i:07}");
    let at_ms = 1_764_579_600_000 + i as i64 * 1_000; // 2025-12-01T09:00:00Z on
    let event = |name: &str, offset_ms: i64, extra: &str| {
        let ms = at_ms + offset_ms;
        let iso = zcc_domain::timestamp::Timestamp::from_unix_millis(ms).to_iso();
        format!(
            concat!(
                r#"{{"event":"contact_center.{name}","event_ts":{ts},"payload":{{"account_id":"D8cJuqWVQ623CI4Q8yQK0Q","object":{{"#,
                r#""engagement_id":"{id}","engagement_direction":"inbound","channel":"voice","date_time_ms":"{iso}","#,
                r#""flow_id":"FkGXpgpWQIi0qkCvxLvw5Q","flow_name":"Main line","consumer_number":"+14155550123"{extra}}}}}}}"#
            ),
            name = name,
            ts = ms + 137,
            id = id,
            iso = iso,
            extra = extra,
        )
    };
    let agent = r#","user_id":"IGTRVt3gQ2i-WjoUIjeZxw","user_display_name":"Ana Agent","cc_queue_id":"q-sales","queue_name":"Sales""#;
    [
        event("engagement_started", 0, ""),
        event("engagement_user_answered", 8_000, agent),
        event("engagement_ended", 331_000, ""),
    ]
}

/// Sends `engagements` engagements from `clients` clients; returns the instant each
/// `SLICE` of engagements was complete, and how many answers were not 200.
async fn drive(url: &str, engagements: usize, clients: usize) -> (Vec<Instant>, usize) {
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let marks = Arc::new(Mutex::new(vec![Instant::now()]));
    let failures = Arc::new(AtomicUsize::new(0));
    let secret = SecretToken::new(SECRET).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, done, marks, failures) =
            (next.clone(), done.clone(), marks.clone(), failures.clone());
        let (url, secret) = (url.to_owned(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= engagements {
                    break;
                }
                for body in engagement(run, i) {
                    // Signed as it is sent: a long run outlasts the 300 s replay window.
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs() as i64;
                    let status = http
                        .post(&url)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-zm-request-timestamp", now.to_string())
                        .header("x-zm-signature", sign(&secret, now, body.as_bytes()))
                        .body(body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    if status != 200 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished % SLICE == 0 {
                    let mut marks = marks.lock().unwrap();
                    marks.push(Instant::now());
                    if finished % 10_000 == 0 {
                        // As it goes, so that a run cut short still tells its story.
                        let n = marks.len();
                        let seconds = marks[n - 1].duration_since(marks[n - 2]).as_secs_f64();
                        eprintln!(
                            "table_size: {finished} engagements, {:.0} events/s over the last {SLICE}",
                            (3 * SLICE) as f64 / seconds
                        );
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let marks = marks.lock().unwrap().clone();
    (marks, failures.load(Ordering::Relaxed))
}

async fn measure(mode: &str, engagements: usize, clients: usize) -> (Value, usize) {
    let dir = std::env::temp_dir().join(format!("zcc-table-size-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let addr = free_addr();
    let mut zcc = start((mode == "file").then_some(dir.as_path()), addr);
    let url = format!("http://{addr}/lambda-url/zoom-webhook/");
    let (marks, failures) = drive(&url, engagements, clients).await;
    let _ = zcc.kill();
    let _ = zcc.wait();
    let _ = std::fs::remove_dir_all(&dir);

    // Events per second over the slice that ends at each checkpoint.
    let rate = |end: usize| {
        let slice = end / SLICE;
        let seconds = marks[slice].duration_since(marks[slice - 1]).as_secs_f64();
        (3 * SLICE) as f64 / seconds
    };
    let mut slices = Vec::new();
    for at in CHECKPOINTS.into_iter().filter(|&at| at <= engagements) {
        slices.push(json!({"engagements": at, "events_per_s": rate(at)}));
    }
    let last = (engagements / SLICE) * SLICE;
    if !CHECKPOINTS.contains(&last) {
        slices.push(json!({"engagements": last, "events_per_s": rate(last)}));
    }
    let (first, last_rate) = (rate(SLICE), rate(last));
    let total = marks[marks.len() - 1]
        .duration_since(marks[0])
        .as_secs_f64();
    println!(
        "{mode}: {}",
        slices
            .iter()
            .map(|s| format!(
                "{:.0} events/s at {}",
                s["events_per_s"].as_f64().unwrap_or(0.0),
                s["engagements"]
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "{mode}: the slice ending at {last} runs at {:.0} % of the first; {engagements} engagements in {total:.0} s; answers other than 200: {failures}",
        100.0 * last_rate / first
    );
    let result = json!({
        "engagements": engagements,
        "clients": clients,
        "slice": SLICE,
        "slices": slices,
        "last_over_first": last_rate / first,
        "seconds": total,
        "failures": failures,
    });
    (result, failures)
}

#[tokio::main]
async fn main() {
    let engagements = setting("ZCC_TABLE_SIZE_ENGAGEMENTS", 100_000).max(SLICE) / SLICE * SLICE;
    let clients = setting("ZCC_TABLE_SIZE_CLIENTS", 8);
    let modes = std::env::var("ZCC_TABLE_SIZE_MODES").unwrap_or_else(|_| "file memory".into());
    let mut results = serde_json::Map::new();
    let mut failed = 0;
    for mode in modes.split_whitespace() {
        assert!(
            mode == "file" || mode == "memory",
            "ZCC_TABLE_SIZE_MODES: file and/or memory, not {mode}"
        );
        println!(
            "table_size: {mode} store{}: {engagements} engagements of 3 webhooks from {clients} clients",
            if mode == "file" {
                " with the notifier on"
            } else {
                " (--memory, the notifier on)"
            }
        );
        let (result, failures) = measure(mode, engagements, clients).await;
        failed += failures;
        results.insert(mode.to_owned(), result);
    }
    let path = out_dir().join("table_size.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap() + "\n",
    )
    .unwrap();
    println!("written to {}", path.display());
    if failed > 0 {
        std::process::exit(1);
    }
}
