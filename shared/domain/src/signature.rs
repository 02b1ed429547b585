//! Zoom's webhook signature: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>`
//! over the exact bytes received, with a replay window in both directions.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::timestamp::Timestamp;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-zm-signature";
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// One secret token. Its `Debug` never shows the value, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        let value = value.trim();
        (!value.is_empty()).then(|| Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn hmac_hex(&self, message: &[&[u8]]) -> String {
        hex::encode(self.mac(message).finalize().into_bytes())
    }

    fn mac(&self, message: &[&[u8]]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(self.0.as_bytes()).expect("HMAC takes keys of any length");
        for part in message {
            mac.update(part);
        }
        mac
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The tokens that are valid now: one normally, two (or more) during a rotation.
#[derive(Debug, Clone)]
pub struct SecretTokens(Vec<SecretToken>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("no secret token is configured (an empty or all-blank comma-separated list)")]
pub struct NoTokens;

impl SecretTokens {
    /// Parses a comma-separated list; blanks are ignored, at least one token is required.
    pub fn from_list(list: &str) -> Result<Self, NoTokens> {
        let tokens: Vec<_> = list.split(',').filter_map(SecretToken::new).collect();
        if tokens.is_empty() {
            Err(NoTokens)
        } else {
            Ok(Self(tokens))
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &SecretToken> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a request is not authentic. Messages are safe to return to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the x-zm-signature header is missing")]
    MissingSignature,
    #[error("the x-zm-request-timestamp header is missing")]
    MissingTimestamp,
    #[error("the x-zm-request-timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the request timestamp is {0} s away from our clock, outside the replay window")]
    OutsideWindow(i64),
    #[error("the x-zm-signature header is not of the form v0=<64 hex digits>")]
    MalformedSignature,
    #[error("the signature does not match the body for any configured secret token")]
    Mismatch,
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingTimestamp => "missing_timestamp",
            Self::BadTimestamp => "bad_timestamp",
            Self::OutsideWindow(_) => "stale_timestamp",
            Self::MalformedSignature => "malformed_signature",
            Self::Mismatch => "signature_mismatch",
        }
    }
}

/// A body that carried a valid signature. Only [`SignatureVerifier::verify`] makes one, so
/// holding one is proof: code that stores events takes this type, never bare bytes.
#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    body: Vec<u8>,
    signed_at: Timestamp,
    token: SecretToken,
}

impl VerifiedWebhook {
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn signed_at(&self) -> Timestamp {
        self.signed_at
    }

    /// The token that verified the signature; the challenge must be answered with it.
    pub fn token(&self) -> &SecretToken {
        &self.token
    }
}

/// A webhook body that carries no signature of its own but is authentic by provenance: Zoom
/// itself handed it back, as the `request_body` of a failed delivery in the app's webhook
/// logs (`GET /marketplace/apps/{appId}/webhook_logs`), fetched over TLS from Zoom's API
/// with the account's own Server-to-Server OAuth token. Whoever can make Zoom's API answer
/// that request can already read every engagement, so this proves as much as a signature.
///
/// It is a separate type from [`VerifiedWebhook`] on purpose: it holds no secret token, so it
/// can never answer Zoom's URL challenge, and nothing that arrives over HTTP at our endpoints
/// can become one. Only [`FetchedWebhook::fetched_from_zoom_api`] makes one, and only
/// `zcc reconcile` calls it.
#[derive(Debug, Clone)]
pub struct FetchedWebhook {
    body: Vec<u8>,
}

impl FetchedWebhook {
    /// `body`: a `request_body` from Zoom's webhook logs, exactly as Zoom's API returned it.
    pub fn fetched_from_zoom_api(body: impl Into<Vec<u8>>) -> Self {
        Self { body: body.into() }
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

#[derive(Debug, Clone)]
pub struct SignatureVerifier {
    tokens: SecretTokens,
    tolerance_secs: u64,
}

impl SignatureVerifier {
    pub fn new(tokens: SecretTokens, tolerance_secs: u64) -> Self {
        Self {
            tokens,
            tolerance_secs,
        }
    }

    /// Verifies `body` (the exact bytes received) against the two header values.
    pub fn verify(
        &self,
        timestamp_header: Option<&str>,
        signature_header: Option<&str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<VerifiedWebhook, SignatureError> {
        let signature = signature_header.ok_or(SignatureError::MissingSignature)?;
        let timestamp = timestamp_header
            .ok_or(SignatureError::MissingTimestamp)?
            .trim();
        let seconds: i64 = timestamp
            .parse()
            .ok()
            .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(SignatureError::BadTimestamp)?;
        let skew = now.unix_seconds().saturating_sub(seconds);
        if skew.unsigned_abs() > self.tolerance_secs {
            return Err(SignatureError::OutsideWindow(skew));
        }
        let expected = parse_signature(signature)?;
        // Every token is tried, whichever matches, so timing does not reveal which one did.
        let mut verified = None;
        for token in self.tokens.iter() {
            let mac = token.mac(&[b"v0:", timestamp.as_bytes(), b":", body]);
            if mac.verify_slice(&expected).is_ok() && verified.is_none() {
                verified = Some(token.clone());
            }
        }
        let token = verified.ok_or(SignatureError::Mismatch)?;
        Ok(VerifiedWebhook {
            body: body.to_vec(),
            signed_at: Timestamp::from_unix_millis(seconds.saturating_mul(1000)),
            token,
        })
    }
}

fn parse_signature(header: &str) -> Result<[u8; 32], SignatureError> {
    let hex_part = header
        .trim()
        .strip_prefix("v0=")
        .ok_or(SignatureError::MalformedSignature)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| SignatureError::MalformedSignature)?;
    Ok(out)
}

/// Signs a body as Zoom does: for `zcc send`, tests and examples.
pub fn sign(token: &SecretToken, timestamp_secs: i64, body: &[u8]) -> String {
    let ts = timestamp_secs.to_string();
    format!(
        "v0={}",
        token.hmac_hex(&[b"v0:", ts.as_bytes(), b":", body])
    )
}

/// The headers Zoom sends with a webhook `body` signed with `token` at `timestamp_secs`
/// (Unix seconds): how `zcc send` and the tests sign exactly as Zoom does.
pub fn zoom_headers(
    token: &SecretToken,
    timestamp_secs: i64,
    body: &[u8],
) -> [(&'static str, String); 4] {
    [
        ("content-type", "application/json; charset=utf-8".to_owned()),
        ("user-agent", "Zoom Marketplace/1.0a".to_owned()),
        (TIMESTAMP_HEADER, timestamp_secs.to_string()),
        (SIGNATURE_HEADER, sign(token, timestamp_secs, body)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    // A vector captured from real Zoom traffic (docs/src/connecting-zoom/marketplace-app.md).
    const SECRET: &str = "4fv1RkqGQUq5sWbEz6hA5A";
    const TS: &str = "1720705455";
    const BODY: &str = r#"{"payload":{"plainToken":"xys8n8PGS7mAU0m5-YJjRA"},"event_ts":1720705455858,"event":"endpoint.url_validation"}"#;
    const SIGNATURE: &str = "v0=93a1a675965ceb9c5a50c5dfb31f20e50f763be37a54ef74cd2d16a1a8e5c0d6";

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(secs * 1000)
    }

    fn verifier(list: &str) -> SignatureVerifier {
        SignatureVerifier::new(SecretTokens::from_list(list).unwrap(), 300)
    }

    #[test]
    fn zoom_vector_verifies() {
        let v = verifier(SECRET)
            .verify(Some(TS), Some(SIGNATURE), BODY.as_bytes(), at(1720705455))
            .unwrap();
        assert_eq!(v.body(), BODY.as_bytes());
        assert_eq!(v.token().expose(), SECRET);
        assert_eq!(v.signed_at().unix_seconds(), 1720705455);
    }

    #[test]
    fn sign_reproduces_zoom_vector() {
        let token = SecretToken::new(SECRET).unwrap();
        assert_eq!(sign(&token, 1720705455, BODY.as_bytes()), SIGNATURE);
    }

    #[test]
    fn any_byte_change_breaks_it() {
        let reserialized = BODY.replace("\"event_ts\":", "\"event_ts\": ");
        let err = verifier(SECRET)
            .verify(
                Some(TS),
                Some(SIGNATURE),
                reserialized.as_bytes(),
                at(1720705455),
            )
            .unwrap_err();
        assert_eq!(err, SignatureError::Mismatch);
        let err = verifier("other-secret")
            .verify(Some(TS), Some(SIGNATURE), BODY.as_bytes(), at(1720705455))
            .unwrap_err();
        assert_eq!(err, SignatureError::Mismatch);
    }

    #[test]
    fn window_applies_in_both_directions() {
        let v = verifier(SECRET);
        let check = |now| v.verify(Some(TS), Some(SIGNATURE), BODY.as_bytes(), at(now));
        assert!(check(1720705455 + 300).is_ok());
        assert!(check(1720705455 - 300).is_ok());
        assert_eq!(
            check(1720705455 + 301).unwrap_err(),
            SignatureError::OutsideWindow(301)
        );
        assert_eq!(
            check(1720705455 - 301).unwrap_err(),
            SignatureError::OutsideWindow(-301)
        );
    }

    #[test]
    fn any_token_of_a_rotation_verifies_and_is_reported() {
        let v = verifier(&format!("new-token, {SECRET}"));
        let ok = v
            .verify(Some(TS), Some(SIGNATURE), BODY.as_bytes(), at(1720705455))
            .unwrap();
        assert_eq!(ok.token().expose(), SECRET);
    }

    #[test]
    fn malformed_headers_are_named() {
        let v = verifier(SECRET);
        let now = at(1720705455);
        let body = BODY.as_bytes();
        assert_eq!(
            v.verify(Some(TS), None, body, now).unwrap_err(),
            SignatureError::MissingSignature
        );
        assert_eq!(
            v.verify(None, Some(SIGNATURE), body, now).unwrap_err(),
            SignatureError::MissingTimestamp
        );
        assert_eq!(
            v.verify(Some("1720705455858x"), Some(SIGNATURE), body, now)
                .unwrap_err(),
            SignatureError::BadTimestamp
        );
        assert_eq!(
            v.verify(Some("+1720705455"), Some(SIGNATURE), body, now)
                .unwrap_err(),
            SignatureError::BadTimestamp
        );
        assert_eq!(
            v.verify(Some(TS), Some("93a1a675"), body, now).unwrap_err(),
            SignatureError::MalformedSignature
        );
        assert_eq!(
            v.verify(Some(TS), Some("v0=zz"), body, now).unwrap_err(),
            SignatureError::MalformedSignature
        );
    }

    #[test]
    fn token_lists_ignore_blanks_and_require_one() {
        assert_eq!(SecretTokens::from_list(" a , ,b").unwrap().len(), 2);
        assert_eq!(SecretTokens::from_list(" , ").unwrap_err(), NoTokens);
        assert_eq!(
            format!("{:?}", SecretToken::new("hunter2").unwrap()),
            "SecretToken(<redacted>)"
        );
    }
}
