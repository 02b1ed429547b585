//! What consumers and agents type (names, notes) reaches a person's terminal shown, not
//! obeyed, through every human-readable output, and a spreadsheet as text, not a formula;
//! `--json` keeps it exact.

use serde_json::Value;
use zcc_cli::catalog;
use zcc_domain::timestamp::Timestamp;
use zcc_testkit::post_now;

use crate::helpers::{self, Run, json};

const SECRET: &str = "safe-text-test-secret";
const TABLE: &str = "zcc-safe-text";

/// Retitles the window, then clears the screen; then reads backwards.
const EVIL_NAME: &str = "Jo\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}Caller";
const EVIL_NOTE: &str = "call back\u{1b}[2J\u{9b}31m\u{7f} soon";
const EVIL_QUEUE: &str = "=HYPERLINK(\"http://evil.example/\",\"Sales\")\u{1b}[2J";
const EVIL_AGENT: &str = "@SUM(1+1)\u{1b}]0;agent\u{7}";

/// What a terminal would obey: C0 controls but newline, DEL, C1, bidi overrides.
fn obeyed(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202A}'..='\u{202E}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect()
}

fn shown_safely(what: &str, run: &Run) {
    assert!(run.ok, "{what}: {}{}", run.stdout, run.stderr);
    assert_eq!(
        obeyed(&run.stdout),
        Vec::<char>::new(),
        "{what}: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\\u{1b}"),
        "{what} shows the escape: {}",
        run.stdout
    );
}

/// An engagement whose caller, agent, queue and note carry escape sequences, ended today.
async fn post_evil_engagement(url: &str, id: &str) {
    for (example, fields) in [
        ("engagement_started", vec![]),
        (
            "engagement_user_answered",
            vec![("user_display_name", EVIL_AGENT)],
        ),
        (
            "engagement_note_added",
            vec![
                ("consumer_display_name", EVIL_NAME),
                ("note", EVIL_NOTE),
                ("user_display_name", EVIL_AGENT),
            ],
        ),
        ("engagement_ended", vec![]),
    ] {
        let mut body = catalog::body(catalog::find(example).unwrap(), id, Timestamp::now());
        // Every event names the queue: the record keeps the latest event's name.
        body["payload"]["object"]["queue_name"] = Value::String(EVIL_QUEUE.into());
        for (field, value) in fields {
            body["payload"]["object"][field] = Value::String(value.into());
        }
        let reply = post_now(url, SECRET, &body.to_string()).await;
        assert_eq!(reply.status, 200, "{example}: {}", reply.body);
    }
}

#[tokio::test]
async fn callers_text_is_shown_not_obeyed_and_kept_exact_in_json() {
    let stack = helpers::stack(TABLE, SECRET, "unused").await;
    post_evil_engagement(&stack.url("zoom-webhook"), "evil-1").await;
    let endpoint = stack.dynamodb_endpoint();
    let zcc = |args: Vec<&'static str>| {
        let endpoint = endpoint.clone();
        async move {
            let mut args: Vec<&str> = args;
            args.extend(["--endpoint-url", &endpoint]);
            helpers::zcc(TABLE, &[], None, &args).await
        }
    };
    let today: &'static str = Box::leak(Timestamp::now().day().into_boxed_str());

    shown_safely("get", &zcc(vec!["get", "evil-1"]).await);
    shown_safely("list", &zcc(vec!["list", "--day", today]).await);
    shown_safely("report", &zcc(vec!["report", "--by", "queue"]).await);
    shown_safely(
        "report by agent",
        &zcc(vec!["report", "--by", "agent"]).await,
    );

    // JSON is exact: what was sent is what a script reads.
    let found = json(&zcc(vec!["get", "evil-1", "--json"]).await);
    let state = &found["state"];
    assert_eq!(state["consumer_display_name"], EVIL_NAME, "{state}");
    assert_eq!(state["queue_name"], EVIL_QUEUE);
    assert_eq!(state["agent_display_name"], EVIL_AGENT);
    let notes: Vec<&Value> = state["notes"].as_object().unwrap().values().collect();
    assert_eq!(notes[0]["note"], EVIL_NOTE);
    let listed = json(&zcc(vec!["list", "--day", today, "--json"]).await);
    assert_eq!(listed[0]["queue_name"], EVIL_QUEUE);
    let report = json(&zcc(vec!["report", "--json"]).await);
    assert_eq!(report["groups"][0]["name"], EVIL_QUEUE, "{report}");

    // CSV: the queue's name is text, not a live formula; the figures stay numbers.
    let csv = zcc(vec!["report", "--csv"]).await;
    assert!(csv.ok, "{}", csv.stderr);
    let row = csv.stdout.lines().nth(1).unwrap();
    assert!(
        row.starts_with(
            "q-sales,\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"Sales\"\")\u{1b}[2J\",1,"
        ),
        "{row}"
    );
    for line in csv.stdout.lines() {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '@']), "{cell} in {line}");
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn usage_errors_are_clap_s_with_exit_2_and_what_to_give() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["report", "--by", "weekday"],
            "possible values: queue, agent, hour, day, channel",
        ),
        (&["report", "--csv", "--json"], "cannot be used with"),
        (
            &["report", "--from", "yesterday"],
            "neither a day (YYYY-MM-DD) nor an ISO-8601 time",
        ),
        (&["list", "--day", "2026-02-30"], "is not a day"),
        (
            &["list", "--agent", "a", "--queue", "q"],
            "cannot be used with",
        ),
        (
            &["list"],
            "<--agent <AGENT>|--queue <QUEUE>|--day <YYYY-MM-DD>>",
        ),
        (
            &["rebuild", "e-1", "--since", "2026-12-01"],
            "cannot be used with",
        ),
        (
            &["send", "--url", "http://127.0.0.1:1/", "--flow"],
            "required arguments were not provided",
        ),
        (
            &[
                "send",
                "--url",
                "http://127.0.0.1:1/",
                "--example",
                "no_such",
            ],
            "no such example; `zcc examples` lists them",
        ),
    ];
    for (args, says) in cases {
        let run = helpers::zcc(TABLE, &[], None, args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // A range that ends before it starts: the command's own usage error, also exit 2.
    let run = helpers::zcc(
        TABLE,
        &[],
        None,
        &["report", "--from", "2026-12-02", "--to", "2026-12-01"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("give the earlier time first"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_endpoint_that_cannot_be_reached_says_what_to_check() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let run = helpers::zcc(
        TABLE,
        &[],
        None,
        &["get", "e-1", "--endpoint-url", &endpoint],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("could not reach DynamoDB"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is `zcc local` running"),
        "{}",
        run.stderr
    );

    // With --json the error is JSON too, in the functions' error shape; the exit code the same.
    let args = ["get", "e-1", "--endpoint-url", &endpoint, "--json"];
    let run = helpers::zcc(TABLE, &[], None, &args).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error: Value = serde_json::from_str(run.stderr.trim()).expect("stderr is JSON");
    assert_eq!(error["error"]["code"], "unreachable", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is `zcc local` running"),
        "{error}"
    );
}

#[tokio::test]
async fn json_errors_keep_the_exit_code_of_their_kind() {
    let stack = helpers::stack(TABLE, SECRET, "unused").await;
    let endpoint = stack.dynamodb_endpoint();
    let args = ["get", "no-such-call", "--endpoint-url", &endpoint, "--json"];
    let run = helpers::zcc(TABLE, &[], None, &args).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let error: Value = serde_json::from_str(run.stderr.trim()).expect("stderr is JSON");
    assert_eq!(error["error"]["code"], "not_found", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("zcc rebuild no-such-call"),
        "{error}"
    );
    // Without --json, a line for a person.
    let run = helpers::zcc(TABLE, &[], None, &args[..4]).await;
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.starts_with("zcc: no engagement `no-such-call`"),
        "{}",
        run.stderr
    );
    stack.stop().await;
}
