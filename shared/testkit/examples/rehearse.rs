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
//! "challenge" | "raw", "secret" (webhook, challenge), "token" (flow), "events" (raw: the
//! invocation events, each answered {"batchItemFailures": []}), "logs" (a file for the
//! function's stdout and stderr)}. Exits 1 when any answer was not the expected one, 2 on a
//! bad spec.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use zcc_domain::samples::{agent_webhook, flow_post, realistic_call, url_validation};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::function_url::function_url_event;
use zcc_testkit::runtime_api::{FakeRuntimeApi, lambda_environment};
use zcc_testkit::signed_webhook_event;

/// Generous: the first call of each function reads its secret and connects, through a
/// recording proxy, to moto (slow next to AWS).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

struct Invocation {
    label: String,
    event: Value,
    /// The status code the answer must carry (function URL traffic), or None for a stream
    /// batch, whose answer must name no failed record.
    status: Option<u64>,
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
                        status: Some(200),
                    });
                }
            }
            let login = agent_webhook("user_login", "RehearsalAgent01", start, json!({}));
            out.push(Invocation {
                label: "webhook contact_center.user_login (an agent)".into(),
                event: signed(&secret, &login),
                status: Some(200),
            });
            // Zoom delivers again after a slow answer: a duplicate is accepted, not re-merged.
            let (_, first) = realistic_call(&engagement, start).remove(0);
            out.push(Invocation {
                label: "webhook delivered again (duplicate)".into(),
                event: signed(&secret, &first),
                status: Some(200),
            });
            out.push(Invocation {
                label: "challenge endpoint.url_validation".into(),
                event: signed(&secret, &url_validation("rehearsal-plain-token", now)),
                status: Some(200),
            });
            let mut forged = signed(&secret, &first);
            forged["headers"]["x-zm-signature"] = json!(format!("v0={}", "ab".repeat(32)));
            out.push(Invocation {
                label: "webhook with a forged signature".into(),
                event: forged,
                status: Some(401),
            });
        }
        "challenge" => {
            let secret = text(spec, "secret")?;
            out.push(Invocation {
                label: "challenge endpoint.url_validation".into(),
                event: signed(&secret, &url_validation("rehearsal-plain-token", now)),
                status: Some(200),
            });
            let mut forged = signed(&secret, &url_validation("rehearsal-forged", now));
            forged["headers"]["x-zm-signature"] = json!(format!("v0={}", "cd".repeat(32)));
            out.push(Invocation {
                label: "challenge with a forged signature".into(),
                event: forged,
                status: Some(401),
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
            let first = flows
                .first()
                .cloned()
                .ok_or("no Flow post in the sample call")?;
            for body in &flows {
                out.push(Invocation {
                    label: format!("flow {}", body["event"].as_str().unwrap_or("?")),
                    event: post(body, Some(&bearer)),
                    status: Some(200),
                });
            }
            out.push(Invocation {
                label: "flow post delivered again (duplicate)".into(),
                event: post(&first, Some(&bearer)),
                status: Some(200),
            });
            out.push(Invocation {
                label: "flow post without the bearer token".into(),
                event: post(&first, None),
                status: Some(401),
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
                    status: None,
                });
            }
        }
        other => return Err(format!("unknown traffic \"{other}\"")),
    }
    Ok(out)
}

fn judge(invocation: &Invocation, answer: &Result<Value, String>) -> bool {
    let Ok(answer) = answer else { return false };
    match invocation.status {
        Some(status) => answer["statusCode"].as_u64() == Some(status),
        None => answer["batchItemFailures"]
            .as_array()
            .is_some_and(Vec::is_empty),
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
    let invocations = traffic(&spec)?;
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
                "expected": invocation.status.map_or(json!("no batchItemFailures"), |s| json!(s)),
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
