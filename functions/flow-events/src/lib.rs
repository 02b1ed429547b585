//! The Flow-script endpoint: check the bearer token, store the custom JSON exactly once.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use zcc_shared::config::{self, ConfigError, Lookup};
use zcc_shared::event::AuthenticEvent;
use zcc_shared::flow::FlowAuthorizer;
use zcc_shared::http::{error_response, header_str, preflight, rejected, store_and_answer};
use zcc_shared::metrics::{Metric, Metrics};
use zcc_shared::store::EventStore;
use zcc_shared::timestamp::Timestamp;

pub const FUNCTION: &str = "flow-events";

pub struct FlowEvents<S> {
    authorizer: FlowAuthorizer,
    store: S,
    metrics: Metrics,
}

impl<S: EventStore> FlowEvents<S> {
    pub fn new(authorizer: FlowAuthorizer, store: S) -> Self {
        Self {
            authorizer,
            store,
            metrics: Metrics::off(),
        }
    }

    pub fn from_env(env: &impl Lookup, store: S) -> Result<Self, ConfigError> {
        Ok(Self::new(config::flow_authorizer(env)?, store))
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()).await)
    }

    pub async fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let started = Instant::now();
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => {
                rejected(&self.metrics, Metric::Rejected, refused.code());
                return refused.into_response();
            }
        };
        let post = match self
            .authorizer
            .authorize(header_str(request, "authorization"), body)
        {
            Ok(post) => post,
            Err(err) => {
                rejected(&self.metrics, Metric::SignatureFailures, err.code());
                return error_response(StatusCode::UNAUTHORIZED, err.code(), err.to_string());
            }
        };
        let event = match AuthenticEvent::from_flow(&post, now) {
            Ok(event) => event,
            Err(err) => {
                rejected(&self.metrics, Metric::Rejected, err.code());
                return error_response(StatusCode::BAD_REQUEST, err.code(), err.to_string());
            }
        };
        store_and_answer(&self.store, &event, &self.metrics, started).await
    }
}
