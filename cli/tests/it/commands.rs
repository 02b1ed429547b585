//! Every `zcc` operator command, run as the shipped binary against a local stack.

use serde_json::Value;
use zcc_cli::catalog;
use zcc_cli::stack::Stack;

use crate::helpers::{self, Run, json, scratch_dir};

const SECRET: &str = "commands-test-secret";
const FLOW: &str = "commands-test-flow";
const TABLE: &str = "zcc-commands";

async fn stack() -> Stack {
    helpers::stack(TABLE, SECRET, FLOW).await
}

/// `zcc` signing webhooks with `secret`.
async fn zcc(args: &[&str], secret: &str) -> Run {
    let env = [
        ("ZOOM_WEBHOOK_SECRET_TOKEN", secret),
        ("FLOW_AUTH_TOKEN", FLOW),
    ];
    helpers::zcc(TABLE, &env, None, args).await
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

/// `zcc` run in `dir` (where the default checkpoint goes), with its exit code.
async fn zcc_in(dir: &std::path::Path, args: &[&str]) -> (Run, i32) {
    let run = helpers::zcc(TABLE, &[], Some(dir), args).await;
    let code = run.code;
    (run, code)
}

/// Three engagements (each answered and transferred) and one agent, sent as Zoom sends them.
async fn three_transferred_calls(stack: &Stack) {
    for id in ["all-1", "all-2", "all-3"] {
        for example in [
            "engagement_started",
            "engagement_user_answered",
            "engagement_transfer_completed",
        ] {
            let reply = json(
                &zcc(
                    &[
                        "send",
                        "--url",
                        &stack.url("zoom-webhook"),
                        "--example",
                        example,
                        "--engagement-id",
                        id,
                        "--json",
                    ],
                    SECRET,
                )
                .await,
            );
            assert_eq!(reply["status"], 200, "{example}: {reply}");
        }
    }
    let url = stack.url("zoom-webhook");
    let login = zcc(&["send", "--url", &url, "--example", "user_login"], SECRET).await;
    assert!(login.ok, "{}{}", login.stdout, login.stderr);
}

/// Writes over an engagement's state item as an older model would have: no transfer, the
/// queue before it; the version stays.
async fn write_old_model(stack: &Stack, engagement_id: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    use zcc_shared::dynamodb::schema::{PK, SK, STATE_SK, engagement_pk};
    stack
        .dynamodb_client()
        .update_item()
        .table_name(TABLE)
        .key(PK, AttributeValue::S(engagement_pk(engagement_id)))
        .key(SK, AttributeValue::S(STATE_SK.into()))
        .update_expression("SET transfer_count = :zero, queue_id = :old")
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":old", AttributeValue::S("q-old-model".into()))
        .send()
        .await
        .unwrap();
}

async fn engagement_state(endpoint: &str, id: &str) -> Value {
    json(&zcc(&["get", id, "--endpoint-url", endpoint, "--json"], SECRET).await)["state"].clone()
}

#[tokio::test]
async fn rebuild_all_corrects_what_an_old_model_wrote_once() {
    let stack = stack().await;
    let endpoint = stack.dynamodb_endpoint();
    let dir = scratch_dir("rebuild-all");
    three_transferred_calls(&stack).await;
    let delivered = engagement_state(&endpoint, "all-2").await;
    assert_eq!(delivered["transfer_count"], 1, "{delivered}");
    write_old_model(&stack, "all-2").await;

    let all = ["rebuild", "--all", "--endpoint-url", &endpoint];
    let json_all = [&all[..], &["--json"]].concat();
    // A dry run finds it and writes nothing, not even a checkpoint.
    let (dry, code) = zcc_in(&dir, &[&json_all[..], &["--dry-run"]].concat()).await;
    let dry = json(&dry);
    assert_eq!(code, 0);
    assert_eq!(
        (&dry["dry_run"], &dry["changed"], &dry["written"]),
        (&Value::from(true), &Value::from(1), &Value::from(0)),
        "{dry}"
    );
    assert_eq!(
        engagement_state(&endpoint, "all-2").await["transfer_count"],
        0
    );
    assert!(!dir.join(".zcc").exists(), "a dry run keeps no checkpoint");

    let (run, code) = zcc_in(&dir, &json_all).await;
    assert_eq!(code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim().lines().count(), 1, "one JSON object");
    let summary = json(&run);
    eprintln!(
        "rebuild --all: {} partitions in {} s",
        summary["partitions"], summary["elapsed_seconds"]
    );
    let expected = serde_json::json!({
        "table": TABLE, "dry_run": false, "since": null,
        "partitions": 4, "skipped_already_done": 0, "rebuilt": 4,
        "changed": 1, "created": 0, "unchanged": 3, "without_events": 0, "written": 1,
        "previously_unmerged": 0, "failed": 0, "failures": [],
        "changed_attributes": {"queue_id": 1, "transfer_count": 1},
        "checkpoint": null,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&summary[key], value, "{key}: {summary}");
    }
    assert!(summary["elapsed_seconds"].as_f64().unwrap() >= 0.0);
    assert!(
        run.stderr
            .contains("rebuilding 4/4 (100%) · 1 changed · 0 failed"),
        "{}",
        run.stderr
    );
    let fixed = engagement_state(&endpoint, "all-2").await;
    assert_eq!(
        (&fixed["transfer_count"], &fixed["queue_id"]),
        (&delivered["transfer_count"], &delivered["queue_id"])
    );
    assert!(
        !dir.join(format!(".zcc/rebuild-{TABLE}.checkpoint"))
            .exists(),
        "a complete run deletes its checkpoint"
    );

    let (again, code) = zcc_in(&dir, &all).await;
    assert_eq!(code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .starts_with(&format!("rebuilt 4 of 4 partitions of {TABLE} in ")),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains(": 0 changed, 4 unchanged, 0 failed"),
        "{}",
        again.stdout
    );
    let (conflict, code) = zcc_in(&dir, &[&all[..], &["all-1"]].concat()).await;
    assert_eq!(code, 2, "{}", conflict.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
    stack.stop().await;
}

#[tokio::test]
async fn rebuild_all_resumes_from_its_checkpoint_and_keeps_it_while_some_fail() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use zcc_shared::dynamodb::DynamoStore;
    use zcc_shared::dynamodb::schema::{PK, SK, agent_pk, engagement_pk, event_attr};
    let stack = stack().await;
    let endpoint = stack.dynamodb_endpoint();
    let dir = scratch_dir("rebuild-resume");
    three_transferred_calls(&stack).await;
    write_old_model(&stack, "all-1").await;
    write_old_model(&stack, "all-3").await;

    // An earlier run got as far as all-1 (the default checkpoint, beside where zcc runs).
    std::fs::create_dir_all(dir.join(".zcc")).unwrap();
    let default = dir.join(format!(".zcc/rebuild-{TABLE}.checkpoint"));
    std::fs::write(
        &default,
        format!("# an earlier run\n{}\n", engagement_pk("all-1")),
    )
    .unwrap();
    let all = ["rebuild", "--all", "--endpoint-url", &endpoint, "--json"];
    let (run, code) = zcc_in(&dir, &all).await;
    let summary = json(&run);
    assert_eq!(code, 0);
    assert_eq!(
        (
            &summary["partitions"],
            &summary["skipped_already_done"],
            &summary["rebuilt"],
            &summary["changed"]
        ),
        (
            &Value::from(4),
            &Value::from(1),
            &Value::from(3),
            &Value::from(1)
        ),
        "{summary}"
    );
    assert_eq!(
        engagement_state(&endpoint, "all-1").await["transfer_count"],
        0
    );
    assert_eq!(
        engagement_state(&endpoint, "all-3").await["transfer_count"],
        1
    );
    assert!(!default.exists());

    // --restart ignores a checkpoint (here one of its own path) and replaces it.
    let own = dir.join("own.checkpoint");
    std::fs::write(&own, format!("{}\n", engagement_pk("all-1"))).unwrap();
    let own_flag = own.to_str().unwrap();
    let restarted = [&all[..], &["--checkpoint", own_flag, "--restart"]].concat();
    let summary = json(&zcc_in(&dir, &restarted).await.0);
    assert_eq!(
        (&summary["skipped_already_done"], &summary["changed"]),
        (&Value::from(0), &Value::from(1)),
        "{summary}"
    );
    assert_eq!(
        engagement_state(&endpoint, "all-1").await["transfer_count"],
        1
    );

    // A body altered in the table cannot be rebuilt from: that partition fails, the others
    // are done and kept in the checkpoint, and the exit code says so.
    let store = DynamoStore::new(stack.dynamodb_client(), TABLE, None);
    let broken = engagement_pk("all-2");
    let event = store.event_items(&broken).await.unwrap().remove(0);
    let AttributeValue::S(body) = &event[event_attr::BODY] else {
        panic!("a body")
    };
    stack
        .dynamodb_client()
        .update_item()
        .table_name(TABLE)
        .key(PK, event[PK].clone())
        .key(SK, event[SK].clone())
        .update_expression("SET body = :b")
        .expression_attribute_values(":b", AttributeValue::S(body.replace("all-2", "all-9")))
        .send()
        .await
        .unwrap();
    let with_own = [&all[..], &["--checkpoint", own_flag]].concat();
    let (run, code) = zcc_in(&dir, &with_own).await;
    assert_eq!(code, 1, "{}{}", run.stdout, run.stderr);
    let summary: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (
            &summary["failed"],
            &summary["rebuilt"],
            &summary["failures"][0]["pk"]
        ),
        (
            &Value::from(1),
            &Value::from(3),
            &Value::from(broken.clone())
        ),
        "{summary}"
    );
    assert!(
        summary["failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("does not belong here or its body was altered"),
        "{summary}"
    );
    assert_eq!(summary["checkpoint"], own_flag);
    let kept = std::fs::read_to_string(&own).unwrap();
    let mut done: Vec<&str> = kept.lines().filter(|l| !l.starts_with('#')).collect();
    done.sort();
    let (all_1, all_3) = (engagement_pk("all-1"), engagement_pk("all-3"));
    assert_eq!(done.len(), 3, "{kept}");
    assert!(done[0].starts_with(&agent_pk("")), "the agent: {kept}");
    assert_eq!(done[1..], [all_1.as_str(), all_3.as_str()]);

    // The rerun tries only the failed one; the human summary says so.
    let text = [&all[..4], &["--checkpoint", own_flag]].concat();
    let (run, code) = zcc_in(&dir, &text).await;
    assert_eq!(code, 1);
    assert!(
        run.stdout.contains("rebuilt 0 of 4 partitions")
            && run.stdout.contains("3 skipped as already done")
            && run.stdout.contains(&format!("failed: {broken}: "))
            && run.stdout.contains("run the same command again"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
    stack.stop().await;
}

#[tokio::test]
async fn watch_follows_records_changing_as_json_lines() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let stack = stack().await;
    let endpoint = stack.dynamodb_endpoint();
    let mut watch = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
        .args([
            "watch",
            "--json",
            "--max-changes",
            "3",
            "--endpoint-url",
            &endpoint,
            "--table",
            TABLE,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Following once it says so: only changes after that are shown.
    let mut stderr = BufReader::new(watch.stderr.take().unwrap()).lines();
    let said = stderr.next_line().await.unwrap().unwrap_or_default();
    assert!(said.contains("following table"), "{said}");
    for example in [
        "engagement_started",
        "engagement_user_answered",
        "user_login",
    ] {
        let run = zcc(
            &[
                "send",
                "--url",
                &stack.url("zoom-webhook"),
                "--example",
                example,
                "--engagement-id",
                "watched-1",
            ],
            SECRET,
        )
        .await;
        assert!(run.ok, "{}", run.stderr);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), watch.wait_with_output())
        .await
        .expect("zcc watch stops after 3 changes")
        .unwrap();
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "engagement");
    assert_eq!(lines[0]["id"], "watched-1");
    assert_eq!(
        lines[0]["notifications"],
        serde_json::json!(["Engagement Started"])
    );
    assert_eq!(
        lines[1]["notifications"],
        serde_json::json!(["Engagement Answered"])
    );
    assert_eq!(lines[1]["state"]["status"], "answered");
    assert_eq!(lines[2]["kind"], "agent");
    assert!(
        lines[2]["notifications"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("Agent Logged In"))
    );
    stack.stop().await;
}
