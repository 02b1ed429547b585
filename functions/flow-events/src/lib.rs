//! The Flow-script endpoint: check the bearer token, store the custom JSON exactly once.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use zcc_shared::config::{self, ConfigError, Lookup};
use zcc_shared::event::AuthenticEvent;
use zcc_shared::flow::FlowAuthorizer;
use zcc_shared::http::{accepted, error_response, header_str, preflight};
use zcc_shared::store::EventStore;
use zcc_shared::timestamp::Timestamp;

pub struct FlowEvents<S> {
    authorizer: FlowAuthorizer,
    store: S,
}

impl<S: EventStore> FlowEvents<S> {
    pub fn new(authorizer: FlowAuthorizer, store: S) -> Self {
        Self { authorizer, store }
    }

    pub fn from_env(env: &impl Lookup, store: S) -> Result<Self, ConfigError> {
        Ok(Self::new(config::flow_authorizer(env)?, store))
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()).await)
    }

    pub async fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let started = Instant::now();
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => return refused.into_response(),
        };
        let post = match self
            .authorizer
            .authorize(header_str(request, "authorization"), body)
        {
            Ok(post) => post,
            Err(err) => {
                tracing::warn!(
                    outcome = "rejected",
                    reason = err.code(),
                    "flow authorization failed"
                );
                return error_response(StatusCode::UNAUTHORIZED, err.code(), err.to_string());
            }
        };
        let event = match AuthenticEvent::from_flow(&post, now) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(
                    outcome = "rejected",
                    reason = err.code(),
                    "malformed flow post"
                );
                return error_response(StatusCode::BAD_REQUEST, err.code(), err.to_string());
            }
        };
        let engagement_id = match event.subject() {
            zcc_shared::event::Subject::Engagement(id) => id.as_str(),
            _ => "",
        };
        match self.store.record(&event).await {
            Ok(receipt) => {
                tracing::info!(
                    engagement_id,
                    event = event.name(),
                    event_id = event.event_id().as_str(),
                    outcome = receipt.outcome.as_str(),
                    attempts = receipt.attempts,
                    read_units = receipt.read_units,
                    write_units = receipt.write_units,
                    latency_ms = started.elapsed().as_millis() as u64,
                );
                accepted()
            }
            Err(err) => {
                tracing::error!(
                    engagement_id,
                    event = event.name(),
                    outcome = "store_error",
                    reason = err.code(),
                    error = %err,
                    latency_ms = started.elapsed().as_millis() as u64,
                );
                error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    err.code(),
                    "the event could not be stored right now; retry it",
                )
            }
        }
    }
}
