//! Zoom's `endpoint.url_validation` challenge. Only signed challenges are answered: an
//! endpoint that answers unsigned ones is an HMAC oracle for forged events.

use serde::{Deserialize, Serialize};

use crate::signature::{SecretToken, VerifiedWebhook};

pub const URL_VALIDATION_EVENT: &str = "endpoint.url_validation";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChallengeAnswer {
    #[serde(rename = "plainToken")]
    pub plain_token: String,
    #[serde(rename = "encryptedToken")]
    pub encrypted_token: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChallengeError {
    #[error("the body is not JSON")]
    NotJson,
    #[error("the event is not endpoint.url_validation")]
    NotAChallenge,
    #[error("payload.plainToken is missing or empty")]
    MissingPlainToken,
}

impl ChallengeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson => "malformed_json",
            Self::NotAChallenge => "not_a_challenge",
            Self::MissingPlainToken => "missing_plain_token",
        }
    }
}

#[derive(Deserialize)]
struct Challenge {
    event: String,
    #[serde(default)]
    payload: Option<ChallengePayload>,
}

#[derive(Deserialize)]
struct ChallengePayload {
    #[serde(rename = "plainToken", default)]
    plain_token: Option<String>,
}

/// Whether a verified body is a challenge, without judging anything else about it.
pub fn is_challenge(event_name: &str) -> bool {
    event_name == URL_VALIDATION_EVENT
}

/// Answers a verified challenge with the token that verified it (during a rotation that is
/// the token Zoom currently holds).
pub fn answer(webhook: &VerifiedWebhook) -> Result<ChallengeAnswer, ChallengeError> {
    let challenge: Challenge =
        serde_json::from_slice(webhook.body()).map_err(|_| ChallengeError::NotJson)?;
    if !is_challenge(&challenge.event) {
        return Err(ChallengeError::NotAChallenge);
    }
    let plain_token = challenge
        .payload
        .and_then(|p| p.plain_token)
        .filter(|t| !t.is_empty())
        .ok_or(ChallengeError::MissingPlainToken)?;
    Ok(answer_with(webhook.token(), plain_token))
}

/// The answer that the holder of `token` gives to `plain_token`: what Zoom checks, and what
/// `zcc send` checks a deployed endpoint's answer against.
pub fn answer_with(token: &SecretToken, plain_token: impl Into<String>) -> ChallengeAnswer {
    let plain_token = plain_token.into();
    let encrypted_token = token.hmac_hex(&[plain_token.as_bytes()]);
    ChallengeAnswer {
        plain_token,
        encrypted_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{SecretTokens, SignatureVerifier, sign};
    use crate::timestamp::Timestamp;

    const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";

    fn verified(tokens: &str, signing: &str, body: &str) -> VerifiedWebhook {
        let token = crate::signature::SecretToken::new(signing).unwrap();
        let sig = sign(&token, 1720705455, body.as_bytes());
        SignatureVerifier::new(SecretTokens::from_list(tokens).unwrap(), 300)
            .verify(
                Some("1720705455"),
                Some(&sig),
                body.as_bytes(),
                Timestamp::from_unix_millis(1720705455000),
            )
            .unwrap()
    }

    #[test]
    fn answers_zoom_vector() {
        let body = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event_ts":1720705455858,"event":"endpoint.url_validation"}"#;
        let answer = answer(&verified(SECRET, SECRET, body)).unwrap();
        assert_eq!(answer.plain_token, "xys8n8PGS7mAU0m5-YJjRA");
        assert_eq!(
            answer.encrypted_token,
            "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
        );
    }

    #[test]
    fn answers_with_the_token_that_verified() {
        let body = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event":"endpoint.url_validation"}"#;
        let with_old = answer(&verified(&format!("rotated,{SECRET}"), SECRET, body)).unwrap();
        let with_new = answer(&verified(&format!("rotated,{SECRET}"), "rotated", body)).unwrap();
        assert_eq!(
            with_old.encrypted_token,
            "2fffc6a967dde4f68024025a5bd991c5ae1e5313b4e6365be4883e3e81d479b3"
        );
        assert_ne!(with_new.encrypted_token, with_old.encrypted_token);
    }

    #[test]
    fn refuses_what_is_not_a_challenge() {
        let not = verified(
            SECRET,
            SECRET,
            r#"{"event":"contact_center.engagement_started"}"#,
        );
        assert_eq!(answer(&not), Err(ChallengeError::NotAChallenge));
        let empty = verified(
            SECRET,
            SECRET,
            r#"{"event":"endpoint.url_validation","payload":{}}"#,
        );
        assert_eq!(answer(&empty), Err(ChallengeError::MissingPlainToken));
        let junk = verified(SECRET, SECRET, "not json");
        assert_eq!(answer(&junk), Err(ChallengeError::NotJson));
    }
}
