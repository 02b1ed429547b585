//! Cold start of each function: from spawning its release binary, with the environment
//! Lambda gives it, to its first poll of the Runtime API (`GET .../invocation/next`), which is
//! where Lambda's init phase ends. Each binary runs `ZCC_COLD_START_RUNS` times (default 30),
//! the four taking turns so that the machine's noise falls on all of them alike.
//!
//!     cargo build --release -p zoom-webhook -p flow-events -p url-validation -p notify
//!     cargo bench -p zcc-bench --bench cold_start
//!
//! Prints the median and p90 of each and writes them to `target/bench/cold_start.json`.
//! The binaries are looked for beside this bench's own release directory, or in
//! `ZCC_BENCH_BIN_DIR`. Nothing here asserts a time: the machine is shared and noisy.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

mod bench_support;
use bench_support::{bin_dir, out_dir, percentile, setting};

/// What each function needs to start (in Lambda: the template's environment).
const FUNCTIONS: [(&str, &[(&str, &str)]); 4] = [
    (
        "zoom-webhook",
        &[
            ("TABLE_NAME", "zcc-cold-start"),
            ("ZOOM_WEBHOOK_SECRET_TOKEN", "cold-start-secret"),
        ],
    ),
    (
        "flow-events",
        &[
            ("TABLE_NAME", "zcc-cold-start"),
            ("FLOW_AUTH_TOKEN", "cold-start-token"),
        ],
    ),
    (
        "url-validation",
        &[("ZOOM_WEBHOOK_SECRET_TOKEN", "cold-start-secret")],
    ),
    (
        "notify",
        &[
            ("TABLE_NAME", "zcc-cold-start"),
            ("EVENT_BUS_NAME", "zcc-cold-start"),
        ],
    ),
];

struct Function {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

/// Lambda's environment for a function whose Runtime API is `runtime_api`. The credentials
/// are what Lambda puts in the environment; the endpoints lead nowhere (nothing may be
/// called before the first invocation).
fn environment(runtime_api: &str, function: &str) -> Vec<(String, String)> {
    let mut env = zcc_testkit::runtime_api::lambda_environment(runtime_api, function);
    for (k, v) in [
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_SESSION_TOKEN", "local"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:9"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("_HANDLER", "bootstrap"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    env
}

/// The first request line of every connection to the stand-in Runtime API, and when it
/// arrived.
fn serve(listener: TcpListener, arrivals: mpsc::Sender<(Instant, String)>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let line = first_line(&mut stream);
        let at = Instant::now();
        if arrivals.send((at, line)).is_err() {
            return;
        }
        // Dropping the connection leaves the function waiting or failing: it is killed next.
    }
}

fn first_line(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !seen.windows(2).any(|w| w == b"\r\n") && seen.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    text.lines().next().unwrap_or_default().to_owned()
}

/// One cold start: spawn → the first `GET /2018-06-01/runtime/invocation/next`.
fn cold_start(
    binary: &PathBuf,
    env: &[(String, String)],
    arrivals: &mpsc::Receiver<(Instant, String)>,
) -> Result<Duration, String> {
    while arrivals.try_recv().is_ok() {}
    let spawned = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let outcome = match arrivals.recv_timeout(Duration::from_secs(10)) {
        Ok((at, line)) if line.starts_with("GET /2018-06-01/runtime/invocation/next") => {
            Ok(at.duration_since(spawned))
        }
        Ok((_, line)) => Err(format!("the first request was {line:?}, not the poll")),
        Err(_) => Err("no poll of the Runtime API within 10 s".to_owned()),
    };
    let _ = child.kill();
    let output = child.wait_with_output();
    outcome.map_err(|e| {
        let stderr = output
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        format!("{}: {e}; stderr: {}", binary.display(), stderr.trim())
    })
}

fn main() {
    let runs = setting("ZCC_COLD_START_RUNS", 30);
    let bins = bin_dir();
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let runtime_api = listener.local_addr().unwrap().to_string();
    let (tx, arrivals) = mpsc::channel();
    std::thread::spawn(move || serve(listener, tx));

    let functions: Vec<Function> = FUNCTIONS
        .iter()
        .map(|(name, extra)| {
            let mut env = environment(&runtime_api, name);
            env.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            Function {
                name,
                binary: bins.join(name),
                env,
            }
        })
        .collect();
    for Function { name, binary, .. } in &functions {
        if !binary.is_file() {
            eprintln!(
                "cold_start: {} is missing: build it first (cargo build --release -p {name})",
                binary.display()
            );
            std::process::exit(2);
        }
    }

    // One run each first, not counted: the binaries into the page cache.
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); functions.len()];
    for round in 0..=runs {
        for (i, f) in functions.iter().enumerate() {
            match cold_start(&f.binary, &f.env, &arrivals) {
                Ok(t) if round > 0 => times[i].push(t),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("cold_start: {e}");
                    std::process::exit(1);
                }
            }
        }
    }

    println!("cold start, spawn to the first Runtime API poll ({runs} runs each, release build):");
    let mut report = serde_json::Map::new();
    for (Function { name, binary, .. }, mut t) in functions.iter().zip(times) {
        t.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (median, p90, min) = (ms(percentile(&t, 0.5)), ms(percentile(&t, 0.9)), ms(t[0]));
        println!("  {name:15} median {median:6.2} ms   p90 {p90:6.2} ms   min {min:6.2} ms");
        report.insert(
            (*name).to_owned(),
            json!({"median_ms": median, "p90_ms": p90, "min_ms": min, "runs": t.len(),
                   "binary": binary.display().to_string()}),
        );
    }
    let path = out_dir().join("cold_start.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("written to {}", path.display());
}
