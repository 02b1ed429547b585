//! The deployment rehearsal's driver (scripts/rehearse): runs one shipped function binary as
//! Lambda runs it, against the test kit's stand-in Runtime API, with exactly the environment
//! it is given (the template's, resolved, plus the role's credentials and the endpoint
//! override), drives it with real traffic, and prints one JSON line per invocation: what was
//! sent, what was expected, what the function answered, and whether that was the expected
//! answer.
//!
//!   cargo run -p zcc-testkit --example rehearse -- SPEC.json
//!
//! SPEC.json: {"binary", "function", "env": {NAME: VALUE}, "traffic": "webhook" | "flow" |
//! "challenge" | "reconcile" | "raw", "secret" (webhook, challenge), "token" (flow),
//! "events" (raw: the invocation events, each answered {"batchItemFailures": []}), "logs" (a
//! file for the function's stdout and stderr)}. Reconcile runs against the test kit's Zoom API
//! stand-in (ZOOM_API_URL and ZOOM_OAUTH_URL added to its environment); `rehearse
//! --zoom-api-credentials` prints the credentials its secret must hold. Exits 1 when any
//! answer was not the expected one, 2 on a bad spec.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use zcc_domain::samples::{
    agent_webhook, engagement_webhook, flow_post, realistic_call, url_validation,
};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::function_url::function_url_event;
use zcc_testkit::runtime_api::{FakeRuntimeApi, lambda_environment};
use zcc_testkit::{signed_webhook_event, zoom_api};

/// Generous: the first call of each function reads its secret and connects, through a
/// recording proxy, to moto (slow next to AWS).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

struct Invocation {
    label: String,
    event: Value,
    expect: Expect,
}

/// Long enough that two of them outgrow DynamoDB's 400 KB item, short enough that a body
/// holding one stays under the functions' 256 KiB limit.
const LONG_TEXT: usize = 210_000;

/// Two `engagement_note_added` webhooks, each with a note of [`LONG_TEXT`] bytes, for one
/// engagement: the second merge makes a state item DynamoDB refuses.
fn outgrowing(engagement: &str, at: Timestamp) -> Vec<Value> {
    (1..=2)
        .map(|n| {
            engagement_webhook(
                "engagement_note_added",
                engagement,
                at.saturating_add_millis(n * 1000),
                json!({"note_id": format!("long-{n}"), "note": "x".repeat(LONG_TEXT)}),
            )
        })
        .collect()
}

/// What makes an answer the expected one.
#[derive(Clone, Copy)]
enum Expect {
    /// A function URL answer with this status code.
    Status(u64),
    /// A stream batch's answer naming no failed record.
    NoBatchFailures,
    /// Any answer rather than an invocation error (reconcile's report).
    Answer,
}

impl Expect {
    fn describe(self) -> Value {
        match self {
            Self::Status(s) => json!(s),
            Self::NoBatchFailures => json!("no batchItemFailures"),
            Self::Answer => json!("an answer, not an invocation error"),
        }
    }
}

fn text(spec: &Value, key: &str) -> Result<String, String> {
    spec[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the spec has no string \"{key}\""))
}

fn traffic(spec: &Value) -> Result<Vec<Invocation>, String> {
    let now = Timestamp::now();
    // A call that began ten minutes ago: its events are in the past, as Zoom's are.
    let start = now.saturating_add_millis(-600_000);
    let engagement = format!("Rehearsal{}", now.unix_millis());
    let signed = |secret: &str, body: &Value| {
        signed_webhook_event(
            secret,
            Timestamp::now().unix_seconds(),
            &body.to_string(),
            true,
        )
    };
    let mut out = Vec::new();
    match text(spec, "traffic")?.as_str() {
        "webhook" => {
            let secret = text(spec, "secret")?;
            for (webhook, body) in realistic_call(&engagement, start) {
                if webhook {
                    out.push(Invocation {
                        label: format!("webhook {}", body["event"].as_str().unwrap_or("?")),
                        event: signed(&secret, &body),
                        expect: Expect::Status(200),
                    });
                }
            }
            // Two long notes outgrow the 400 KB state item: DynamoDB refuses the merge, and the
            // raw event is marked unmerged (the path that needs dynamodb:UpdateItem).
            for (i, body) in outgrowing(&format!("{engagement}N"), start)
                .iter()
                .enumerate()
            {
                out.push(Invocation {
                    label: format!("webhook note {} of 2 (~{LONG_TEXT} bytes)", i + 1),
                    event: signed(&secret, body),
                    expect: Expect::Status(200),
                });
            }
            let login = agent_webhook("user_login", "RehearsalAgent01", start, json!({}));
            out.push(Invocation {
                label: "webhook contact_center.user_login (an agent)".into(),
                event: signed(&secret, &login),
                expect: Expect::Status(200),
            });
            // Zoom delivers again after a slow answer: a duplicate is accepted, not re-merged.
            let (_, first) = realistic_call(&engagement, start).remove(0);
            out.push(Invocation {
                label: "webhook delivered again (duplicate)".into(),
                event: signed(&secret, &first),
                expect: Expect::Status(200),
            });
            out.push(Invocation {
                label: "challenge endpoint.url_validation".into(),
                event: signed(&secret, &url_validation("rehearsal-plain-token", now)),
                expect: Expect::Status(200),
            });
            let mut forged = signed(&secret, &first);
            forged["headers"]["x-zm-signature"] = json!(format!("v0={}", "ab".repeat(32)));
            out.push(Invocation {
                label: "webhook with a forged signature".into(),
                event: forged,
                expect: Expect::Status(401),
            });
        }
        "challenge" => {
            let secret = text(spec, "secret")?;
            out.push(Invocation {
                label: "challenge endpoint.url_validation".into(),
                event: signed(&secret, &url_validation("rehearsal-plain-token", now)),
                expect: Expect::Status(200),
            });
            let mut forged = signed(&secret, &url_validation("rehearsal-forged", now));
            forged["headers"]["x-zm-signature"] = json!(format!("v0={}", "cd".repeat(32)));
            out.push(Invocation {
                label: "challenge with a forged signature".into(),
                event: forged,
                expect: Expect::Status(401),
            });
        }
        "flow" => {
            let bearer = format!("Bearer {}", text(spec, "token")?);
            let post = |body: &Value, authorization: Option<&str>| {
                let mut headers = vec![("content-type", "application/json")];
                if let Some(value) = authorization {
                    headers.push(("authorization", value));
                }
                function_url_event("POST", "/", &headers, body.to_string().as_bytes(), false)
            };
            let mut flows: Vec<Value> = realistic_call(&format!("{engagement}F"), start)
                .into_iter()
                .filter(|(webhook, _)| !webhook)
                .map(|(_, body)| body)
                .collect();
            // An engagement the Flow scripts alone report: its first event creates the record.
            let only = format!("{engagement}G");
            flows.push(flow_post(
                "engagement_accepted",
                &only,
                Some(start),
                json!({}),
            ));
            flows.push(flow_post(
                "disposition_saved",
                &only,
                Some(start.saturating_add_millis(60_000)),
                json!({"disposition": "Refund issued"}),
            ));
            // Two long Flow variables outgrow the state item, as two long notes do above.
            let long = format!("{engagement}V");
            for n in 1..=2 {
                flows.push(flow_post(
                    "engagement_accepted",
                    &long,
                    Some(start.saturating_add_millis(n * 1000)),
                    json!({"variables": {format!("long_{n}"): "x".repeat(LONG_TEXT)}}),
                ));
            }
            let first = flows
                .first()
                .cloned()
                .ok_or("no Flow post in the sample call")?;
            for body in &flows {
                out.push(Invocation {
                    label: format!("flow {}", body["event"].as_str().unwrap_or("?")),
                    event: post(body, Some(&bearer)),
                    expect: Expect::Status(200),
                });
            }
            out.push(Invocation {
                label: "flow post delivered again (duplicate)".into(),
                event: post(&first, Some(&bearer)),
                expect: Expect::Status(200),
            });
            out.push(Invocation {
                label: "flow post without the bearer token".into(),
                event: post(&first, None),
                expect: Expect::Status(401),
            });
        }
        "reconcile" => {
            // The last three hours, which hold what `zoom_api` below puts in the stand-in.
            let from = now.saturating_add_millis(-3 * 3_600_000);
            out.push(Invocation {
                label: "reconcile the last three hours".into(),
                event: json!({"from": from.to_iso(), "to": now.to_iso()}),
                expect: Expect::Answer,
            });
        }
        "raw" => {
            let events = spec["events"]
                .as_array()
                .ok_or("traffic raw needs \"events\", an array")?;
            for (i, event) in events.iter().enumerate() {
                let records = event["Records"].as_array().map_or(0, Vec::len);
                out.push(Invocation {
                    label: format!("stream batch {} ({records} records)", i + 1),
                    event: event.clone(),
                    expect: Expect::NoBatchFailures,
                });
            }
        }
        other => return Err(format!("unknown traffic \"{other}\"")),
    }
    Ok(out)
}

fn judge(invocation: &Invocation, answer: &Result<Value, String>) -> bool {
    let Ok(answer) = answer else { return false };
    match invocation.expect {
        Expect::Status(status) => answer["statusCode"].as_u64() == Some(status),
        Expect::NoBatchFailures => answer["batchItemFailures"]
            .as_array()
            .is_some_and(Vec::is_empty),
        Expect::Answer => true,
    }
}

async fn run(spec: Value) -> Result<bool, String> {
    let binary = text(&spec, "binary")?;
    let function = text(&spec, "function")?;
    let env: Vec<(String, String)> = spec["env"]
        .as_object()
        .ok_or("the spec has no object \"env\"")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let mut env = env;
    let invocations = traffic(&spec)?;
    // Reconcile talks to Zoom's REST API: the test kit's stand-in, holding an engagement the
    // table lacks and a failed webhook delivery, at the endpoints the code lets a run override.
    let zoom = if spec["traffic"] == "reconcile" {
        let zoom = zoom_api::ZoomApiStandIn::start()
            .await
            .map_err(|e| format!("the Zoom API stand-in did not start: {e}"))?;
        let now = Timestamp::now();
        let start = now.saturating_add_millis(-2 * 3_600_000);
        zoom.add_call(zoom_api::Call::answered(
            &format!("RehearsalBackfill{}", now.unix_millis()),
            start,
            12,
            240,
            30,
        ));
        let lost = agent_webhook("user_logout", "RehearsalAgent02", start, json!({}));
        zoom.add_webhook_log(zoom_api::failed_delivery(
            &lost.to_string(),
            start.saturating_add_millis(5_000),
            503,
            3,
            "rehearsal-lost-1",
        ));
        // Two lost deliveries whose merge outgrows the state item (UpdateItem, as above).
        for (i, body) in outgrowing(&format!("RehearsalLost{}", now.unix_millis()), start)
            .iter()
            .enumerate()
        {
            zoom.add_webhook_log(zoom_api::failed_delivery(
                &body.to_string(),
                start.saturating_add_millis(6_000 + i as i64 * 1000),
                503,
                3,
                &format!("rehearsal-lost-long-{i}"),
            ));
        }
        env.push(("ZOOM_API_URL".into(), zoom.api_url()));
        env.push(("ZOOM_OAUTH_URL".into(), zoom.oauth_url()));
        Some(zoom)
    } else {
        None
    };
    let runtime = FakeRuntimeApi::start()
        .await
        .map_err(|e| format!("the Runtime API stand-in did not start: {e}"))?;
    // Started as Bootstrap::spawn starts it (Lambda's environment plus the given one, nothing
    // else), but held here so that a binary that exits at init (a variable missing) ends the
    // run at once instead of after the answer timeout.
    let mut child = tokio::process::Command::new(&binary)
        .env_clear()
        .envs(lambda_environment(&runtime.address(), &function))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{binary} did not start: {e}"))?;
    let stdout = child.stdout.take().map(collect);
    let stderr = child.stderr.take().map(collect);
    let mut all_ok = true;
    let mut exited = None;
    for invocation in &invocations {
        let answer = tokio::select! {
            answer = runtime.invoke(&invocation.event, ANSWER_WITHIN) => answer,
            status = child.wait() => {
                exited = status.ok();
                Err(format!("the function exited ({exited:?}) before answering"))
            }
        };
        let ok = judge(invocation, &answer);
        all_ok &= ok;
        let answered = match &answer {
            Ok(v) => json!({
                "statusCode": v.get("statusCode"),
                "body": v.get("body").cloned().unwrap_or_else(|| v.clone()),
            }),
            Err(e) => json!({ "error": e }),
        };
        println!(
            "{}",
            json!({
                "function": function,
                "label": invocation.label,
                "expected": invocation.expect.describe(),
                "answer": answered,
                "ok": ok,
            })
        );
        if answer.is_err() {
            // An error ends the runtime's queue for good (init failed, or the binary died).
            break;
        }
    }
    if exited.is_none() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    runtime.stop().await;
    drop(zoom);
    let mut out = String::new();
    for task in [stdout, stderr].into_iter().flatten() {
        out.push_str(&task.await.unwrap_or_default());
        out.push('\n');
    }
    if let Some(path) = spec["logs"].as_str() {
        std::fs::write(path, out).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    Ok(all_ok)
}

/// Reads a pipe to its end in the background (a full pipe would stall the function).
fn collect(
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes).await;
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[tokio::main]
async fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: rehearse SPEC.json (see the comment at the top of this file)");
        std::process::exit(2);
    };
    if path == "--zoom-api-credentials" {
        // What the rehearsal puts in reconcile's secret: the stand-in's app.
        println!(
            "{}",
            json!({"account_id": zoom_api::ACCOUNT_ID, "client_id": zoom_api::CLIENT_ID,
                "client_secret": zoom_api::CLIENT_SECRET, "app_id": zoom_api::APP_ID})
        );
        return;
    }
    let spec: Value = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("rehearse: cannot read the spec {path}: {e}");
            std::process::exit(2);
        }
    };
    match run(spec).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("rehearse: {e}");
            std::process::exit(2);
        }
    }
}
