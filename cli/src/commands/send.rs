//! `zcc send` and `zcc replay`: post events exactly as Zoom and the Flow scripts do.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use zcc_shared::config::{FLOW_AUTH_TOKEN, Lookup, ZOOM_WEBHOOK_SECRET_TOKEN};
use zcc_shared::signature::{SIGNATURE_HEADER, SecretTokens, TIMESTAMP_HEADER, sign};
use zcc_shared::timestamp::Timestamp;

use super::{CliError, is_loopback};
use crate::catalog::{self, Target};
use crate::local::LocalEnv;

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
            let local = LocalEnv::new(|name: &str| env.get(name));
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
    let mut request = client
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_owned());
    match target {
        Target::Webhook => {
            let secret = signer.webhook.as_deref().ok_or_else(|| {
                CliError::Usage(format!(
                    "set {ZOOM_WEBHOOK_SECRET_TOKEN} to the app's Secret Token to sign webhooks"
                ))
            })?;
            let token = zcc_shared::signature::SecretToken::new(secret).expect("non-empty");
            let ts = Timestamp::now().unix_seconds();
            request = request
                .header("user-agent", "Zoom Marketplace/1.0a")
                .header(TIMESTAMP_HEADER, ts.to_string())
                .header(SIGNATURE_HEADER, sign(&token, ts, body.as_bytes()));
        }
        Target::Flow => {
            let token = signer.flow.as_deref().ok_or_else(|| {
                CliError::Usage(format!(
                    "set {FLOW_AUTH_TOKEN} to the Flow scripts' bearer token"
                ))
            })?;
            request = request.header("authorization", format!("Bearer {token}"));
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
    if sent["event"] != zcc_shared::challenge::URL_VALIDATION_EVENT {
        return None;
    }
    let plain = sent["payload"]["plainToken"].as_str()?;
    let token = zcc_shared::signature::SecretToken::new(signer.webhook.clone()?)?;
    let expected = zcc_shared::challenge::answer_with(&token, plain);
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
    ["zoom-webhook", "flow-events", "url-validation"]
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
        let right = zcc_shared::challenge::answer_with(
            &zcc_shared::signature::SecretToken::new("the-token").unwrap(),
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
