//! The shipped `zcc` binary: `zcc local` comes up with one ready line, serves the functions
//! and DynamoDB, keeps data in its data directory across restarts, and exits cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    ready: String,
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zcc"))
        .arg("local")
        .args(["--addr", "127.0.0.1:0", "--dynamodb-addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("TABLE_NAME")
        .env_remove("ZOOM_WEBHOOK_SECRET_TOKEN")
        .env_remove("FLOW_AUTH_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zcc starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert!(ready.starts_with("zcc local ready:"), "got {ready:?}");
    Running {
        child,
        stdout,
        ready,
    }
}

impl Running {
    fn url(&self, marker: &str) -> String {
        let after = self
            .ready
            .split(marker)
            .nth(1)
            .expect("marker in ready line");
        after.split_whitespace().next().unwrap().to_owned()
    }

    fn interrupt(self) -> (bool, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        drop(self.stdout);
        let output = self.child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

fn signed_challenge(url: &str) -> (u16, serde_json::Value) {
    let body = r#"{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}"#;
    let ts = zcc_domain::timestamp::Timestamp::now().unix_seconds();
    let token = zcc_domain::signature::SecretToken::new("dev-webhook-secret").unwrap();
    let sig = zcc_domain::signature::sign(&token, ts, body.as_bytes());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let r = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-zm-request-timestamp", ts.to_string())
            .header("x-zm-signature", sig)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

#[test]
fn zcc_local_serves_with_printed_defaults_and_stops_on_ctrl_c() {
    let running = start(&["--memory"]);
    assert!(running.ready.contains("data in memory"));
    let (status, answer) = signed_challenge(&running.url("webhooks "));
    assert_eq!(status, 200);
    assert_eq!(answer["plainToken"], "abc");
    let (clean, stderr) = running.interrupt();
    assert!(clean, "exit status after Ctrl-C; stderr: {stderr}");
    assert!(stderr.contains(
        "ZOOM_WEBHOOK_SECRET_TOKEN is not set; using the development default `dev-webhook-secret`"
    ));
    assert!(stderr.contains("stopped"));
}

#[test]
fn zcc_local_keeps_its_table_in_the_data_dir() {
    let dir = std::env::temp_dir().join(format!("zcc-local-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = dir.to_string_lossy().into_owned();
    let first = start(&["--data-dir", &data_dir]);
    assert!(dir.join("dynamodb.sqlite").exists());
    assert!(first.interrupt().0);
    // A second start finds the table already there and comes up all the same.
    let second = start(&["--data-dir", &data_dir]);
    assert!(second.ready.contains("dynamodb.sqlite"));
    assert!(second.interrupt().0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends a realistic engagement, shuffled with duplicates, through the zoom-webhook URL.
fn send_call(webhook_url: &str, engagement_id: &str) {
    use zcc_domain::published;
    use zcc_domain::timestamp::Timestamp;
    let at = |s: &str| Timestamp::parse(s).unwrap();
    let mut bodies: Vec<String> = [
        ("engagement_ended", "2026-12-01T10:05:00.000Z"),
        ("engagement_user_answered", "2026-12-01T10:00:09.000Z"),
        ("engagement_started", "2026-12-01T10:00:00.000Z"),
        ("engagement_transfer_accepted", "2026-12-01T10:02:00.000Z"),
        ("engagement_transfer_completed", "2026-12-01T10:02:01.000Z"),
    ]
    .iter()
    .map(|(name, t)| {
        published::body(name, engagement_id, at(t))
            .unwrap()
            .to_string()
    })
    .collect();
    bodies.push(bodies[1].clone());
    let token = zcc_domain::signature::SecretToken::new("dev-webhook-secret").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for body in bodies {
            let ts = Timestamp::now().unix_seconds();
            let headers = zcc_domain::signature::zoom_headers(&token, ts, body.as_bytes());
            let mut request = reqwest::Client::new().post(webhook_url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let status = request.send().await.unwrap().status();
            assert!(status.is_success(), "{status}");
        }
        // And the Flow script's POST, as the agent accepts: it adds nothing to notify.
        let flow_url = webhook_url.replace("/zoom-webhook/", "/flow-events/");
        let body = serde_json::json!({"event": "engagement_accepted", "engagement_id": engagement_id,
            "occurred_at": "2026-12-01T10:00:10.000Z", "agent_email": "ana@example.com"});
        let status = reqwest::Client::new()
            .post(flow_url)
            .header("authorization", "Bearer dev-flow-token")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    });
}

#[test]
fn zcc_local_posts_each_notification_to_the_notify_url_once() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = runtime.block_on(async {
        let received = received.clone();
        let app = axum::Router::new().route(
            "/crm",
            axum::routing::post(move |axum::Json(event): axum::Json<serde_json::Value>| {
                let received = received.clone();
                async move {
                    received.lock().unwrap().push(event);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let running = start(&["--memory", "--notify-url", &format!("http://{addr}/crm")]);
    send_call(&running.url("webhooks "), "NotifyUrlEngagement01");
    let mut kinds = Vec::new();
    for _ in 0..100 {
        kinds = received
            .lock()
            .unwrap()
            .iter()
            .map(|e| e["detail-type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        if kinds.len() >= 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let events = received.lock().unwrap().clone();
    let mut facts: Vec<&str> = events
        .iter()
        .filter(|e| e["detail-type"] != "Engagement Updated")
        .map(|e| e["detail-type"].as_str().unwrap())
        .collect();
    facts.sort();
    assert_eq!(
        facts,
        [
            "Engagement Answered",
            "Engagement Ended",
            "Engagement Started",
            "Engagement Transferred"
        ],
        "{kinds:?}"
    );
    assert!(events.iter().all(|e| e["source"] == "zcc-events"));
    let answered = events
        .iter()
        .find(|e| e["detail-type"] == "Engagement Answered")
        .unwrap();
    assert_eq!(
        answered["detail"]["engagement"]["consumer_number"],
        "+14155550123"
    );
    assert!(running.interrupt().0);
}

#[test]
fn zcc_local_prints_notifications_as_json_lines() {
    let mut running = start(&["--memory"]);
    send_call(&running.url("webhooks "), "StdoutEngagement00001");
    let mut line = String::new();
    running.stdout.read_line(&mut line).unwrap();
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["source"], "zcc-events");
    assert!(event["detail"]["notification_id"].is_string());
    assert!(running.interrupt().0);
}
