//! `zcc send`: post one event exactly as Zoom or a Flow script does; what it takes to sign,
//! authorize and post one (used by `zcc replay` too).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use zcc_domain::signature::{SecretToken, SecretTokens, zoom_headers};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::settings::{FLOW_AUTH_TOKEN, Lookup, ProcessEnv, ZOOM_WEBHOOK_SECRET_TOKEN};

use super::{CliError, is_loopback, succeeded, terminal};
use crate::catalog::{self, Example, Target};
use crate::stack::DevEnv;

/// Sign (ZOOM_WEBHOOK_SECRET_TOKEN) or authorize (FLOW_AUTH_TOKEN) one event and POST it
/// exactly as Zoom or a Flow script does.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("body").required(true))]
pub struct Args {
    /// The function URL (zoom-webhook, flow-events or url-validation).
    #[arg(long)]
    url: String,
    /// A JSON body to send as it is.
    #[arg(long, group = "body")]
    file: Option<PathBuf>,
    /// A built-in example (`zcc examples` lists them).
    #[arg(long, group = "body", value_name = "NAME", value_parser = example)]
    example: Option<&'static Example>,
    /// The engagement the example is about (default: a new id).
    #[arg(long, requires = "example")]
    engagement_id: Option<String>,
    /// Send the file as a Flow POST (bearer token) even if it looks like a webhook.
    #[arg(long, requires = "file")]
    flow: bool,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

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
        // The body is the endpoint's: shown, not obeyed.
        println!(
            "{} {}",
            reply.status,
            terminal::cell(&reply.body.to_string())
        );
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

/// `--example`: the name of a built-in example (with or without `contact_center.`).
fn example(name: &str) -> Result<&'static Example, String> {
    catalog::find(name).ok_or_else(|| "no such example; `zcc examples` lists them".to_owned())
}

/// `zcc send`: one body, from a file or a built-in example.
pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let Args {
        url,
        file,
        example,
        engagement_id,
        flow,
        json,
    } = args;
    let (body, target) = match (file, example) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::read(&path, e))?;
            let parsed: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::read(&path, format!("not JSON: {e}")))?;
            // The file's bytes are sent as they are: that is what gets signed.
            let target = if flow {
                Target::Flow
            } else {
                target_of(&parsed)
            };
            (text, target)
        }
        (None, Some(example)) => {
            let id = engagement_id.unwrap_or_else(new_engagement_id);
            (
                catalog::body(example, &id, Timestamp::now()).to_string(),
                example.target,
            )
        }
        (None, None) => return Err(CliError::Usage("give --file or --example".into())),
    };
    let signer = Signer::from_env(&ProcessEnv, &url);
    let reply = post(&url, &body, target, &signer).await?;
    let challenge = check_challenge(&body, &reply, &signer);
    print_reply(&reply, challenge.as_ref(), json);
    Ok(succeeded(
        reply.status < 300 && challenge.is_none_or(|c| c == ChallengeCheck::Matches),
    ))
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
