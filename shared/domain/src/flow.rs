//! What our Flow event scripts POST (docs, "Flow JSON"), and their bearer token.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ids::EngagementId;
use crate::signature::SecretTokens;
use crate::zoom::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowEvent {
    EngagementAccepted,
    DispositionSaved,
    Other,
}

impl FlowEvent {
    pub fn from_name(name: &str) -> Self {
        match name {
            "engagement_accepted" => Self::EngagementAccepted,
            "disposition_saved" => Self::DispositionSaved,
            _ => Self::Other,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlowAuthError {
    #[error("the Authorization header is missing; send `Authorization: Bearer <FLOW_AUTH_TOKEN>`")]
    Missing,
    #[error("the Authorization header is not of the form `Bearer <token>`")]
    NotBearer,
    #[error("the bearer token is not one of the configured FLOW_AUTH_TOKEN values")]
    WrongToken,
}

impl FlowAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_authorization",
            Self::NotBearer => "malformed_authorization",
            Self::WrongToken => "wrong_token",
        }
    }
}

/// A Flow POST body whose bearer token checked out. Only [`FlowAuthorizer::authorize`] makes one.
#[derive(Debug, Clone)]
pub struct AuthorizedFlowPost {
    body: Vec<u8>,
}

impl AuthorizedFlowPost {
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

#[derive(Debug, Clone)]
pub struct FlowAuthorizer {
    // Digests, so that comparing takes the same time whatever the token's length.
    digests: Vec<[u8; 32]>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FlowAuthorizer {
    pub fn new(tokens: &SecretTokens) -> Self {
        Self {
            digests: tokens.iter().map(|t| digest(t.expose())).collect(),
        }
    }

    pub fn authorize(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<AuthorizedFlowPost, FlowAuthError> {
        let header = authorization.ok_or(FlowAuthError::Missing)?.trim();
        let (scheme, token) = header.split_once(' ').ok_or(FlowAuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(FlowAuthError::NotBearer);
        }
        let offered = digest(token.trim());
        let matched = self
            .digests
            .iter()
            .fold(false, |found, d| found | same(d, &offered));
        if !matched {
            return Err(FlowAuthError::WrongToken);
        }
        Ok(AuthorizedFlowPost {
            body: body.to_vec(),
        })
    }
}

/// The routing fields of a Flow body; the rest is kept as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowPost {
    pub event: String,
    pub engagement_id: EngagementId,
    pub occurred_at: Option<String>,
    pub fields: Map<String, Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlowPostError {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the body has no `event` string (e.g. \"engagement_accepted\")")]
    MissingEvent,
    #[error("the body has no `engagement_id`; set it from global_system.Engagement.engagementId")]
    MissingEngagementId,
    #[error("`engagement_id` is not usable: {0}")]
    BadEngagementId(crate::ids::IdError),
}

impl FlowPostError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject => "malformed_body",
            Self::MissingEvent => "missing_event",
            Self::MissingEngagementId => "missing_engagement_id",
            Self::BadEngagementId(_) => "bad_engagement_id",
        }
    }
}

impl FlowPost {
    pub fn from_value(value: &Value) -> Result<Self, FlowPostError> {
        let fields = value.as_object().ok_or(FlowPostError::NotAnObject)?;
        let event = fields
            .get("event")
            .and_then(Value::as_str)
            .filter(|e| !e.trim().is_empty())
            .ok_or(FlowPostError::MissingEvent)?
            .to_owned();
        let engagement_id =
            text(fields, "engagement_id").ok_or(FlowPostError::MissingEngagementId)?;
        let engagement_id =
            EngagementId::parse(engagement_id).map_err(FlowPostError::BadEngagementId)?;
        Ok(Self {
            event,
            engagement_id,
            occurred_at: text(fields, "occurred_at"),
            fields: fields.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer() -> FlowAuthorizer {
        FlowAuthorizer::new(&SecretTokens::from_list("flow-secret,next-secret").unwrap())
    }

    #[test]
    fn bearer_tokens_of_a_rotation_pass() {
        assert!(
            authorizer()
                .authorize(Some("Bearer flow-secret"), b"{}")
                .is_ok()
        );
        assert!(
            authorizer()
                .authorize(Some("bearer  next-secret "), b"{}")
                .is_ok()
        );
    }

    #[test]
    fn other_headers_are_refused_with_a_reason() {
        let a = authorizer();
        assert_eq!(a.authorize(None, b"").unwrap_err(), FlowAuthError::Missing);
        assert_eq!(
            a.authorize(Some("flow-secret"), b"").unwrap_err(),
            FlowAuthError::NotBearer
        );
        assert_eq!(
            a.authorize(Some("Basic flow-secret"), b"").unwrap_err(),
            FlowAuthError::NotBearer
        );
        assert_eq!(
            a.authorize(Some("Bearer flow-secre"), b"").unwrap_err(),
            FlowAuthError::WrongToken
        );
    }

    #[test]
    fn flow_post_requires_event_and_engagement() {
        let ok = FlowPost::from_value(&serde_json::json!({
            "event":"engagement_accepted","engagement_id":"e1","agent_email":"a@b.c"
        }))
        .unwrap();
        assert_eq!(ok.engagement_id.as_str(), "e1");
        assert_eq!(ok.fields["agent_email"], "a@b.c");
        assert_eq!(
            FlowPost::from_value(&serde_json::json!({"engagement_id":"e1"})),
            Err(FlowPostError::MissingEvent)
        );
        assert_eq!(
            FlowPost::from_value(&serde_json::json!({"event":"engagement_accepted"})),
            Err(FlowPostError::MissingEngagementId)
        );
        assert_eq!(
            FlowPost::from_value(&serde_json::json!("x")),
            Err(FlowPostError::NotAnObject)
        );
    }
}
