//! Every `zcc` operator command, run as the shipped binary against a local stack.

use serde_json::Value;
use zcc_cli::catalog;
use zcc_cli::stack::{Stack, StackOptions};

const SECRET: &str = "commands-test-secret";
const FLOW: &str = "commands-test-flow";
const TABLE: &str = "zcc-commands";

async fn stack() -> Stack {
    let env = |name: &str| match name {
        "TABLE_NAME" => Some(TABLE.to_owned()),
        "ZOOM_WEBHOOK_SECRET_TOKEN" => Some(SECRET.to_owned()),
        "FLOW_AUTH_TOKEN" => Some(FLOW.to_owned()),
        _ => None,
    };
    Stack::start(&StackOptions::ephemeral(), &env)
        .await
        .unwrap()
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn zcc(args: &[&str], secret: &str) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
        .args(args)
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", secret)
        .env("FLOW_AUTH_TOKEN", FLOW)
        .env("TABLE_NAME", TABLE)
        .output()
        .await
        .unwrap();
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn json(run: &Run) -> Value {
    assert!(run.ok, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test]
async fn every_example_is_accepted_where_it_belongs() {
    let stack = stack().await;
    let listed = zcc(&["examples"], SECRET).await;
    assert!(listed.ok);
    let as_json = json(&zcc(&["examples", "--json"], SECRET).await);
    assert_eq!(as_json.as_array().unwrap().len(), catalog::all().count());
    for example in catalog::all() {
        assert!(
            listed.stdout.contains(example.name),
            "{} not listed",
            example.name
        );
        let url = match example.target {
            catalog::Target::Webhook => stack.url("zoom-webhook"),
            catalog::Target::Flow => stack.url("flow-events"),
        };
        let reply = json(
            &zcc(
                &[
                    "send",
                    "--url",
                    &url,
                    "--example",
                    example.name,
                    "--engagement-id",
                    "every-example",
                    "--json",
                ],
                SECRET,
            )
            .await,
        );
        assert_eq!(reply["status"], 200, "{}: {reply}", example.name);
        if example.name == "url_validation" {
            assert_eq!(reply["body"]["plainToken"], "zcc-send-plain-token");
            assert_eq!(reply["secret_token_matches"], true, "{reply}");
        } else {
            assert_eq!(reply["body"]["status"], "accepted", "{}", example.name);
        }
    }
    let endpoint = stack.dynamodb_endpoint();
    let got = json(
        &zcc(
            &[
                "get",
                "every-example",
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    let engagement_examples = catalog::ENGAGEMENT_EVENTS.len() + 2;
    assert_eq!(got["state"]["event_count"], engagement_examples as u64);
    assert_eq!(
        got["timeline"].as_array().unwrap().len(),
        engagement_examples
    );
    assert_eq!(got["state"]["transfer_count"], 1);
    assert_eq!(got["state"]["status"], "ended");
    stack.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_reported() {
    let stack = stack().await;
    let run = zcc(
        &[
            "send",
            "--url",
            &stack.url("zoom-webhook"),
            "--example",
            "engagement_started",
        ],
        "not-it",
    )
    .await;
    assert!(!run.ok);
    assert!(run.stdout.starts_with("401 "), "{}", run.stdout);
    assert!(run.stdout.contains("signature_mismatch"));
    stack.stop().await;
}

#[tokio::test]
async fn a_challenge_answer_is_checked_against_the_secret_token() {
    let stack = stack().await;
    for function in ["url-validation", "zoom-webhook"] {
        let url = stack.url(function);
        let args = ["send", "--url", url.as_str(), "--example", "url_validation"];
        let right = zcc(&args, SECRET).await;
        assert!(right.ok, "{}{}", right.stdout, right.stderr);
        assert!(
            right.stdout.contains("Zoom's Validate will pass"),
            "{}",
            right.stdout
        );
        let wrong = zcc(&args, "not-the-deployed-one").await;
        assert!(!wrong.ok);
        assert!(
            wrong.stderr.contains("Zoom's Validate would fail"),
            "{}",
            wrong.stderr
        );
        let as_json = zcc(&[&args[..], &["--json"]].concat(), "not-the-deployed-one").await;
        let reported: Value = serde_json::from_str(as_json.stdout.trim()).unwrap();
        assert_eq!(reported["secret_token_matches"], false, "{reported}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn files_are_sent_byte_for_byte_to_the_right_endpoint() {
    let stack = stack().await;
    let dir = std::env::temp_dir().join(format!("zcc-commands-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let webhook = dir.join("webhook.json");
    let now = zcc_domain::timestamp::Timestamp::now();
    std::fs::write(&webhook, format!(
        "{{\n  \"payload\": {{\"object\": {{\"engagement_id\": \"file-e1\", \"date_time_ms\": \"{}\", \"note\": \"caf\\u00e9 ☕\", \"note_id\": \"n\"}}}},\n  \"event\": \"contact_center.engagement_note_added\", \"event_ts\": {}\n}}\n",
        now.to_iso(), now.unix_millis())).unwrap();
    let flow = dir.join("flow.json");
    std::fs::write(&flow, r#"{"event":"engagement_accepted","engagement_id":"file-e1","agent_email":"bo@example.com"}"#).unwrap();
    let sent = json(
        &zcc(
            &[
                "send",
                "--url",
                &stack.url("zoom-webhook"),
                "--file",
                webhook.to_str().unwrap(),
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(sent["status"], 200);
    let sent = json(
        &zcc(
            &[
                "send",
                "--url",
                &stack.url("flow-events"),
                "--file",
                flow.to_str().unwrap(),
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(sent["status"], 200);
    let got = json(
        &zcc(
            &[
                "get",
                "file-e1",
                "--endpoint-url",
                &stack.dynamodb_endpoint(),
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(got["state"]["notes"]["n"]["note"], "café ☕");
    assert_eq!(got["state"]["agent_email"], "bo@example.com");
    std::fs::remove_dir_all(&dir).unwrap();
    stack.stop().await;
}

#[tokio::test]
async fn a_replayed_scenario_can_be_read_back_every_way() {
    let stack = stack().await;
    let dir = std::env::temp_dir().join(format!("zcc-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("call.json");
    std::fs::write(
        &scenario,
        r#"{"engagement_id": "replayed-1", "events": [
        {"example": "engagement_started", "at_ms": 0},
        {"delay_ms": 20, "example": "engagement_user_answered", "at_ms": 9000},
        {"delay_ms": 20, "example": "engagement_accepted", "at_ms": 9500},
        {"example": "engagement_user_hold", "at_ms": 60000},
        {"example": "engagement_user_unhold", "at_ms": 90000},
        {"example": "engagement_disposition_added", "at_ms": 200000},
        {"example": "engagement_ended", "at_ms": 210000},
        {"example": "engagement_ended", "at_ms": 210000},
        {"example": "user_login"}, {"example": "user_opt_in"}
    ]}"#,
    )
    .unwrap();
    let replayed = json(
        &zcc(
            &[
                "replay",
                "--url",
                &stack.url("zoom-webhook"),
                scenario.to_str().unwrap(),
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(replayed["engagement_id"], "replayed-1");
    assert!(
        replayed["replies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == 200),
        "{replayed}"
    );

    let endpoint = stack.dynamodb_endpoint();
    let table_view = zcc(&["get", "replayed-1", "--endpoint-url", &endpoint], SECRET).await;
    assert!(
        table_view.ok && table_view.stdout.contains("status          ended"),
        "{}",
        table_view.stdout
    );
    assert!(
        table_view
            .stdout
            .contains("contact_center.engagement_user_hold")
    );
    let got = json(
        &zcc(
            &["get", "replayed-1", "--endpoint-url", &endpoint, "--json"],
            SECRET,
        )
        .await,
    );
    let s = &got["state"];
    assert_eq!(
        (s["time_to_answer_ms"].as_i64(), s["total_hold_ms"].as_i64()),
        (Some(9000), Some(30000))
    );
    assert_eq!(s["event_count"], 7, "the duplicate end was not counted");
    let day = s["day"].as_str().unwrap().to_owned();

    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["engagement_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_agent = json(
        &zcc(
            &[
                "list",
                "--agent",
                "IGTRVt3gQ2i-WjoUIjeZxw",
                "--from",
                &day,
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(ids(by_agent), ["replayed-1"]);
    let by_queue = json(
        &zcc(
            &[
                "list",
                "--queue",
                "q-sales",
                "--from",
                &format!("{day}T00:00:00.000Z"),
                "--to",
                &format!("{day}T23:59:59.999Z"),
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(ids(by_queue), ["replayed-1"]);
    let by_day = json(
        &zcc(
            &["list", "--day", &day, "--endpoint-url", &endpoint, "--json"],
            SECRET,
        )
        .await,
    );
    assert_eq!(ids(by_day), ["replayed-1"]);
    let none = json(
        &zcc(
            &[
                "list",
                "--queue",
                "q-nobody",
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert!(none.as_array().unwrap().is_empty());
    let table_list = zcc(
        &["list", "--day", &day, "--endpoint-url", &endpoint],
        SECRET,
    )
    .await;
    assert!(
        table_list
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains("replayed-1")
    );

    let agent = json(
        &zcc(
            &[
                "agent",
                "IGTRVt3gQ2i-WjoUIjeZxw",
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(agent["logged_in"], true);
    assert_eq!(agent["queues"], serde_json::json!(["q-sales"]));

    let missing = zcc(
        &["get", "no-such-engagement", "--endpoint-url", &endpoint],
        SECRET,
    )
    .await;
    assert!(
        !missing.ok
            && missing
                .stderr
                .contains("no engagement `no-such-engagement`")
    );
    std::fs::remove_dir_all(&dir).unwrap();
    stack.stop().await;
}

#[tokio::test]
async fn rebuild_derives_a_lost_state_item_again() {
    let stack = stack().await;
    let endpoint = stack.dynamodb_endpoint();
    for example in ["engagement_started", "engagement_user_hold"] {
        let reply = json(
            &zcc(
                &[
                    "send",
                    "--url",
                    &stack.url("zoom-webhook"),
                    "--example",
                    example,
                    "--engagement-id",
                    "rebuilt-1",
                    "--json",
                ],
                SECRET,
            )
            .await,
        );
        assert_eq!(reply["status"], 200);
    }
    let up_to_date = json(
        &zcc(
            &[
                "rebuild",
                "rebuilt-1",
                "--endpoint-url",
                &endpoint,
                "--json",
            ],
            SECRET,
        )
        .await,
    );
    assert_eq!(
        (&up_to_date["events"], &up_to_date["written"]),
        (&Value::from(2), &Value::from(false))
    );
    stack
        .dynamodb_client()
        .delete_item()
        .table_name(TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("ENGAGEMENT#rebuilt-1".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("STATE".into()),
        )
        .send()
        .await
        .unwrap();
    let dry = zcc(
        &[
            "rebuild",
            "rebuilt-1",
            "--dry-run",
            "--endpoint-url",
            &endpoint,
        ],
        SECRET,
    )
    .await;
    assert!(
        dry.ok && dry.stdout.contains("would be rebuilt from 2 events"),
        "{}{}",
        dry.stdout,
        dry.stderr
    );
    let done = zcc(
        &["rebuild", "rebuilt-1", "--endpoint-url", &endpoint],
        SECRET,
    )
    .await;
    assert!(
        done.ok && done.stdout.contains("rebuilt from 2 events"),
        "{}",
        done.stdout
    );
    let got = json(
        &zcc(
            &["get", "rebuilt-1", "--endpoint-url", &endpoint, "--json"],
            SECRET,
        )
        .await,
    );
    assert_eq!(got["state"]["status"], "held");

    let nothing = zcc(
        &["rebuild", "no-such-call", "--endpoint-url", &endpoint],
        SECRET,
    )
    .await;
    assert!(
        !nothing.ok && nothing.stderr.contains("no events are stored"),
        "{}",
        nothing.stderr
    );
    let neither = zcc(&["rebuild", "--endpoint-url", &endpoint], SECRET).await;
    assert!(!neither.ok);
}
