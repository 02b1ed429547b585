//! The Marketplace webhook endpoint: verify the signature over the raw body, answer the URL
//! challenge, store every other authentic event exactly once.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use zcc_shared::challenge::is_challenge;
use zcc_shared::config::{self, ConfigError, Lookup};
use zcc_shared::event::AuthenticEvent;
use zcc_shared::http::{
    challenge_response, error_response, preflight, rejected, store_and_answer, unauthorized,
    verify_zoom,
};
use zcc_shared::metrics::{Metric, Metrics};
use zcc_shared::signature::SignatureVerifier;
use zcc_shared::store::EventStore;
use zcc_shared::timestamp::Timestamp;

pub const FUNCTION: &str = "zoom-webhook";

pub struct ZoomWebhook<S> {
    verifier: SignatureVerifier,
    store: S,
    metrics: Metrics,
}

impl<S: EventStore> ZoomWebhook<S> {
    pub fn new(verifier: SignatureVerifier, store: S) -> Self {
        Self {
            verifier,
            store,
            metrics: Metrics::off(),
        }
    }

    pub fn from_env(env: &impl Lookup, store: S) -> Result<Self, ConfigError> {
        Ok(Self::new(config::webhook_verifier(env)?, store))
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The Lambda entry point: never `Err`, so every failure is a JSON answer.
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
        let verified = match verify_zoom(&self.verifier, request, body, now) {
            Ok(verified) => verified,
            Err(err) => {
                rejected(&self.metrics, Metric::SignatureFailures, err.code());
                return unauthorized(&err);
            }
        };
        let event = match AuthenticEvent::from_webhook(&verified, now) {
            Ok(event) => event,
            Err(err) => {
                rejected(&self.metrics, Metric::Rejected, err.code());
                return error_response(StatusCode::BAD_REQUEST, err.code(), err.to_string());
            }
        };
        // Zoom sends the challenge to the events URL: answer it here, with the shared code.
        if is_challenge(event.name()) {
            self.metrics.emit(&[(Metric::ChallengesAnswered, 1.0)]);
            return challenge_response(&verified);
        }
        store_and_answer(&self.store, &event, &self.metrics, started).await
    }
}
