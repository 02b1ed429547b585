//! The Marketplace webhook endpoint: verify the signature over the raw body, answer the URL
//! challenge, store every other authentic event exactly once.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use zcc_shared::challenge::is_challenge;
use zcc_shared::config::{self, ConfigError, Lookup};
use zcc_shared::event::{AuthenticEvent, Subject};
use zcc_shared::http::{
    accepted, challenge_response, error_response, preflight, unauthorized, verify_zoom,
};
use zcc_shared::signature::SignatureVerifier;
use zcc_shared::store::EventStore;
use zcc_shared::timestamp::Timestamp;

pub struct ZoomWebhook<S> {
    verifier: SignatureVerifier,
    store: S,
}

impl<S: EventStore> ZoomWebhook<S> {
    pub fn new(verifier: SignatureVerifier, store: S) -> Self {
        Self { verifier, store }
    }

    pub fn from_env(env: &impl Lookup, store: S) -> Result<Self, ConfigError> {
        Ok(Self::new(config::webhook_verifier(env)?, store))
    }

    /// The Lambda entry point: never `Err`, so every failure is a JSON answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()).await)
    }

    pub async fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let started = Instant::now();
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => return refused.into_response(),
        };
        let verified = match verify_zoom(&self.verifier, request, body, now) {
            Ok(verified) => verified,
            Err(err) => return unauthorized(&err),
        };
        let event = match AuthenticEvent::from_webhook(&verified, now) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(
                    outcome = "rejected",
                    reason = err.code(),
                    "malformed webhook"
                );
                return error_response(StatusCode::BAD_REQUEST, err.code(), err.to_string());
            }
        };
        // Zoom sends the challenge to the events URL: answer it here, with the shared code.
        if is_challenge(event.name()) {
            return challenge_response(&verified);
        }
        let subject = match event.subject() {
            Subject::Engagement(id) => id.as_str(),
            Subject::Agent(id) => id.as_str(),
            Subject::Unrouted => "",
        };
        match self.store.record(&event).await {
            Ok(receipt) => {
                tracing::info!(
                    engagement_id = subject,
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
                    engagement_id = subject,
                    event = event.name(),
                    outcome = "store_error",
                    reason = err.code(),
                    error = %err,
                    latency_ms = started.elapsed().as_millis() as u64,
                );
                error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    err.code(),
                    "the event could not be stored right now; Zoom will retry it",
                )
            }
        }
    }
}
