//! The Flow-script endpoint: check the bearer token, store the custom JSON exactly once.

use lambda_http::Request;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::http::header_str;
use zcc_shared::edge::pipeline::{Admitted, Gate, Pipeline, Refusal};
use zcc_shared::edge::secrets::{Secret, flow_secret};
use zcc_shared::settings::{ConfigError, Lookup};

pub const FUNCTION: &str = "flow-events";

/// The function: the Flow scripts' bearer token in front of the shared pipeline.
pub type FlowEvents<S> = Pipeline<FlowToken, S>;

/// Admits requests that carry one of the configured bearer tokens.
pub struct FlowToken {
    secret: Secret<FlowAuthorizer>,
}

impl FlowToken {
    pub fn new(authorizer: FlowAuthorizer) -> Self {
        Self::with_secret(Secret::fixed(authorizer))
    }

    /// Checks against the token list of a secret (in Secrets Manager: read on first use).
    pub fn with_secret(secret: Secret<FlowAuthorizer>) -> Self {
        Self { secret }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::with_secret(flow_secret(env)?))
    }
}

impl Gate for FlowToken {
    async fn ready(&self) -> Result<(), Refusal> {
        Ok(self.secret.ready().await?)
    }

    async fn reloaded(&self) -> bool {
        self.secret.reloaded().await
    }

    fn admit(&self, request: &Request, body: &[u8], now: Timestamp) -> Result<Admitted, Refusal> {
        let authorizer = self.secret.held()?;
        let post = authorizer
            .authorize(header_str(request, "authorization"), body)
            .map_err(|err| Refusal::unauthorized(err.code(), &err))?;
        let event = AuthenticEvent::from_flow(&post, now)
            .map_err(|err| Refusal::bad_request(err.code(), &err))?;
        Ok(Admitted::Event(event))
    }
}
