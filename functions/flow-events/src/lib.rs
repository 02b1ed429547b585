//! The Flow-script endpoint: check the bearer token, store the custom JSON exactly once.

use lambda_http::Request;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::config::{self, ConfigError, Lookup};
use zcc_shared::edge::http::header_str;
use zcc_shared::edge::pipeline::{Admitted, Gate, Pipeline, Refusal};

pub const FUNCTION: &str = "flow-events";

/// The function: the Flow scripts' bearer token in front of the shared pipeline.
pub type FlowEvents<S> = Pipeline<FlowToken, S>;

/// Admits requests that carry one of the configured bearer tokens.
pub struct FlowToken {
    authorizer: FlowAuthorizer,
}

impl FlowToken {
    pub fn new(authorizer: FlowAuthorizer) -> Self {
        Self { authorizer }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::new(config::flow_authorizer(env)?))
    }
}

impl Gate for FlowToken {
    fn admit(&self, request: &Request, body: &[u8], now: Timestamp) -> Result<Admitted, Refusal> {
        let post = self
            .authorizer
            .authorize(header_str(request, "authorization"), body)
            .map_err(|err| Refusal::unauthorized(err.code(), &err))?;
        let event = AuthenticEvent::from_flow(&post, now)
            .map_err(|err| Refusal::bad_request(err.code(), &err))?;
        Ok(Admitted::Event(event))
    }
}
