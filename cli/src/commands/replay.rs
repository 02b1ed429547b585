//! `zcc replay`: a scenario of events for one engagement, sent in order with delays, each
//! exactly as Zoom or a Flow script sends it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::settings::ProcessEnv;

use super::send::{Signer, new_engagement_id, post, target_of};
use super::{CliError, succeeded, terminal};
use crate::catalog::{self, Target};

/// Send a scenario file: {"engagement_id": "...", "events": [{"delay_ms": 0, "example":
/// "engagement_started", "at_ms": 0} | {"delay_ms": 100, "body": {...}}, ...]}.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The zoom-webhook URL.
    #[arg(long)]
    url: String,
    /// The flow-events URL (default: beside --url on the local stack).
    #[arg(long)]
    flow_url: Option<String>,
    scenario: PathBuf,
    /// Print the answers as one JSON document.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    replay(&args.url, args.flow_url, &args.scenario, args.json)
        .await
        .map(succeeded)
}

/// The Flow URL beside a zoom-webhook URL of the local stack.
pub fn sibling_url(url: &str, function: &str) -> Option<String> {
    crate::stack::FUNCTIONS
        .iter()
        .find(|f| url.contains(&format!("/lambda-url/{f}")))
        .map(|f| {
            url.replace(
                &format!("/lambda-url/{f}"),
                &format!("/lambda-url/{function}"),
            )
        })
}

/// A scenario for `zcc replay`: events with delays, for one engagement.
#[derive(Debug, Deserialize)]
pub struct Scenario {
    #[serde(default)]
    pub engagement_id: Option<String>,
    pub events: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    /// Wait this long before sending.
    #[serde(default)]
    pub delay_ms: u64,
    /// A built-in example by name...
    #[serde(default)]
    pub example: Option<String>,
    /// ...or a literal body.
    #[serde(default)]
    pub body: Option<Value>,
    /// Offset of the event's own time from the scenario's start (examples only).
    #[serde(default)]
    pub at_ms: Option<i64>,
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Self, CliError> {
        serde_json::from_str(text)
            .map_err(|e| CliError::Usage(format!("the scenario is not valid: {e}")))
    }

    /// The bodies to send, each with its target and delay.
    pub fn bodies(
        &self,
        default_id: &str,
        start: Timestamp,
    ) -> Result<Vec<(u64, Target, Value)>, CliError> {
        let id = self.engagement_id.as_deref().unwrap_or(default_id);
        self.events
            .iter()
            .enumerate()
            .map(|(n, step)| {
                let body = match (&step.example, &step.body) {
                    (Some(name), None) => {
                        let example = catalog::find(name).ok_or_else(|| {
                            CliError::Usage(format!("step {}: no example `{name}`", n + 1))
                        })?;
                        let at = start.saturating_add_millis(step.at_ms.unwrap_or(0));
                        catalog::body(example, id, at)
                    }
                    (None, Some(body)) => body.clone(),
                    _ => {
                        return Err(CliError::Usage(format!(
                            "step {}: give either `example` or `body`",
                            n + 1
                        )));
                    }
                };
                Ok((step.delay_ms, target_of(&body), body))
            })
            .collect()
    }
}

/// `zcc replay`: a scenario of bodies, in order, with delays.
pub async fn replay(
    url: &str,
    flow_url: Option<String>,
    path: &Path,
    json: bool,
) -> Result<bool, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?;
    let scenario = Scenario::parse(&text)?;
    let id = new_engagement_id();
    let steps = scenario.bodies(&id, Timestamp::now())?;
    let flow_url = flow_url.or_else(|| sibling_url(url, flow_events::FUNCTION));
    let signer = Signer::from_env(&ProcessEnv, url);
    let mut all_ok = true;
    let mut replies = Vec::new();
    for (n, (delay, target, body)) in steps.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        let to = match target {
            Target::Webhook => url.to_owned(),
            Target::Flow => flow_url.clone().ok_or_else(|| {
                CliError::Usage(format!("step {} is a Flow POST: give --flow-url", n + 1))
            })?,
        };
        let reply = post(&to, &body.to_string(), *target, &signer).await?;
        all_ok &= reply.status < 300;
        let event = body["event"].as_str().unwrap_or("?").to_owned();
        if json {
            replies.push(json!({"event": event, "status": reply.status, "body": reply.body}));
        } else {
            let line = format!("{:>3} {:<48} {} {}", n + 1, event, reply.status, reply.body);
            println!("{}", terminal::cell(&line));
        }
    }
    if json {
        let engagement = scenario.engagement_id.unwrap_or(id);
        println!(
            "{}",
            json!({"engagement_id": engagement, "replies": replies})
        );
    }
    Ok(all_ok)
}
