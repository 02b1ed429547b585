//! The shipped `zcc` binary: `zcc local` comes up with one ready line, serves the functions
//! and DynamoDB, keeps data in its data directory across restarts, and exits cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running {
    child: Child,
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
    Running { child, ready }
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
