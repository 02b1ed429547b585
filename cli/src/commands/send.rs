//! `zcc send` and `zcc replay`: post events exactly as Zoom and the Flow scripts do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use zcc_domain::signature::{SecretToken, SecretTokens, zoom_headers};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::config::{FLOW_AUTH_TOKEN, Lookup, ProcessEnv, ZOOM_WEBHOOK_SECRET_TOKEN};

use super::{CliError, is_loopback};
use crate::catalog::{self, Target};
use crate::stack::DevEnv;

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn to_json(&self) -> Value {
        json!({"status": self.status, "body": self.body})
    }
}

/// The tokens to sign with: from the environment, or (for a loopback URL only) the
/// development defaults `zcc local` uses.
pub struct Signer {
    webhook: Option<String>,
    flow: Option<String>,
}

fn first(list: Option<String>) -> Option<String> {
    let tokens = SecretTokens::from_list(&list?).ok()?;
    tokens.iter().next().map(|t| t.expose().to_owned())
}

impl Signer {
    pub fn from_env(env: &impl Lookup, url: &str) -> Self {
        if is_loopback(url) {
            let local = DevEnv::new(|name: &str| env.get(name));
            Self {
                webhook: first(local.get(ZOOM_WEBHOOK_SECRET_TOKEN)),
                flow: first(local.get(FLOW_AUTH_TOKEN)),
            }
        } else {
            Self {
                webhook: first(env.get(ZOOM_WEBHOOK_SECRET_TOKEN)),
                flow: first(env.get(FLOW_AUTH_TOKEN)),
            }
        }
    }
}

/// Which endpoint a body is for: Zoom's envelope has `payload`; the Flow JSON does not.
pub fn target_of(body: &Value) -> Target {
    let event = body.get("event").and_then(Value::as_str).unwrap_or("");
    if body.get("payload").is_some() || event.contains('.') {
        Target::Webhook
    } else {
        Target::Flow
    }
}

pub async fn post(
    url: &str,
    body: &str,
    target: Target,
    signer: &Signer,
) -> Result<Reply, CliError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::Http {
            url: url.into(),
            reason: e.to_string(),
        })?;
    let mut request = client.post(url).body(body.to_owned());
    match target {
        Target::Webhook => {
            let secret = signer.webhook.as_deref().ok_or_else(|| {
                CliError::Usage(format!(
                    "set {ZOOM_WEBHOOK_SECRET_TOKEN} to the app's Secret Token to sign webhooks"
                ))
            })?;
            let token = SecretToken::new(secret).expect("non-empty");
            let ts = Timestamp::now().unix_seconds();
            for (name, value) in zoom_headers(&token, ts, body.as_bytes()) {
                request = request.header(name, value);
            }
        }
        Target::Flow => {
            let token = signer.flow.as_deref().ok_or_else(|| {
                CliError::Usage(format!(
                    "set {FLOW_AUTH_TOKEN} to the Flow scripts' bearer token"
                ))
            })?;
            request = request
                .header("content-type", "application/json; charset=utf-8")
                .header("authorization", format!("Bearer {token}"));
        }
    }
    let response = request.send().await.map_err(|e| CliError::Http {
        url: url.into(),
        reason: e.to_string(),
    })?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply { status, body })
}

/// What the answer to a challenge says about the endpoint's Secret Token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeCheck {
    /// The answer is the one the token `zcc` signed with gives: the endpoint holds it.
    Matches,
    /// Anything else, and why.
    Differs(String),
}

/// For a sent `endpoint.url_validation` body: whether the reply proves that the endpoint
/// answers with the Secret Token `zcc` signed with. `None` for any other body.
pub fn check_challenge(sent: &str, reply: &Reply, signer: &Signer) -> Option<ChallengeCheck> {
    let sent: Value = serde_json::from_str(sent).ok()?;
    if sent["event"] != zcc_domain::challenge::URL_VALIDATION_EVENT {
        return None;
    }
    let plain = sent["payload"]["plainToken"].as_str()?;
    let token = zcc_domain::signature::SecretToken::new(signer.webhook.clone()?)?;
    let expected = zcc_domain::challenge::answer_with(&token, plain);
    let check = if reply.status != 200 {
        ChallengeCheck::Differs(format!("the endpoint answered {}", reply.status))
    } else if reply.body["plainToken"] != plain {
        ChallengeCheck::Differs("the answer does not echo the plainToken".into())
    } else if reply.body["encryptedToken"] != expected.encrypted_token.as_str() {
        ChallengeCheck::Differs(format!(
            "the encryptedToken is not the one {ZOOM_WEBHOOK_SECRET_TOKEN} gives: the \
             endpoint answers with another Secret Token"
        ))
    } else {
        ChallengeCheck::Matches
    };
    Some(check)
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

/// A fresh engagement id in Zoom's shape (22 base64url characters).
pub fn new_engagement_id() -> String {
    use sha2::{Digest, Sha256};
    let seed = format!("{}-{}", Timestamp::now().unix_millis(), std::process::id());
    let digest = Sha256::digest(seed.as_bytes());
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    digest
        .iter()
        .take(22)
        .map(|b| ALPHABET[(*b as usize) % 64] as char)
        .collect()
}

/// Prints what came back and, for a challenge, whether the answer is right.
pub fn print_reply(reply: &Reply, challenge: Option<&ChallengeCheck>, json: bool) {
    if json {
        let mut out = reply.to_json();
        if let Some(check) = challenge {
            out["secret_token_matches"] = Value::Bool(*check == ChallengeCheck::Matches);
            if let ChallengeCheck::Differs(why) = check {
                out["secret_token_problem"] = Value::String(why.clone());
            }
        }
        println!("{out}");
    } else {
        println!("{} {}", reply.status, reply.body);
        match challenge {
            Some(ChallengeCheck::Matches) => println!(
                "The answer is the one your Secret Token gives: Zoom's Validate will pass."
            ),
            Some(ChallengeCheck::Differs(why)) => {
                eprintln!("zcc: the challenge answer is wrong: {why}. Zoom's Validate would fail.")
            }
            None => {}
        }
    }
}

/// `zcc send`: one body, from a file or a built-in example.
pub async fn send_one(
    url: &str,
    file: Option<PathBuf>,
    example: Option<String>,
    engagement_id: Option<String>,
    flow: bool,
) -> Result<(Reply, Option<ChallengeCheck>), CliError> {
    let (body, target) = match (file, example) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let parsed: Value = serde_json::from_str(&text).map_err(|e| CliError::File {
                path: path.display().to_string(),
                reason: format!("not JSON: {e}"),
            })?;
            // The file's bytes are sent as they are: that is what gets signed.
            let target = if flow {
                Target::Flow
            } else {
                target_of(&parsed)
            };
            (text, target)
        }
        (None, Some(name)) => {
            let example = catalog::find(&name).ok_or_else(|| {
                CliError::Usage(format!("no example `{name}`; `zcc examples` lists them"))
            })?;
            let id = engagement_id.unwrap_or_else(new_engagement_id);
            (
                catalog::body(example, &id, Timestamp::now()).to_string(),
                example.target,
            )
        }
        (None, None) => return Err(CliError::Usage("give --file or --example".into())),
    };
    let signer = Signer::from_env(&ProcessEnv, url);
    let reply = post(url, &body, target, &signer).await?;
    let challenge = check_challenge(&body, &reply, &signer);
    Ok((reply, challenge))
}

/// `zcc replay`: a scenario of bodies, in order, with delays.
pub async fn replay(
    url: &str,
    flow_url: Option<String>,
    path: &Path,
    json: bool,
) -> Result<bool, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
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
            println!("{:>3} {:<48} {} {}", n + 1, event, reply.status, reply.body);
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

#[cfg(test)]
mod challenge_tests {
    use super::*;

    #[test]
    fn only_the_answer_the_token_gives_matches() {
        let signer = Signer {
            webhook: Some("the-token".into()),
            flow: None,
        };
        let sent = json!({"event": "endpoint.url_validation", "event_ts": 1,
            "payload": {"plainToken": "abc"}})
        .to_string();
        let right = zcc_domain::challenge::answer_with(
            &zcc_domain::signature::SecretToken::new("the-token").unwrap(),
            "abc",
        );
        let reply = |status, body| Reply { status, body };
        let ok = reply(
            200,
            json!({"plainToken": "abc", "encryptedToken": right.encrypted_token}),
        );
        assert_eq!(
            check_challenge(&sent, &ok, &signer),
            Some(ChallengeCheck::Matches)
        );
        let other = reply(200, json!({"plainToken": "abc", "encryptedToken": "00"}));
        assert!(matches!(
            check_challenge(&sent, &other, &signer),
            Some(ChallengeCheck::Differs(why)) if why.contains("another Secret Token")
        ));
        let refused = reply(401, json!({"error": {}}));
        assert!(matches!(
            check_challenge(&sent, &refused, &signer),
            Some(ChallengeCheck::Differs(_))
        ));
        let event = json!({"event": "contact_center.engagement_started"}).to_string();
        assert_eq!(check_challenge(&event, &ok, &signer), None);
    }
}
