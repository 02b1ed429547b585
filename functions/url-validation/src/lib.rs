//! A standalone responder to Zoom's `endpoint.url_validation` challenge: validates an
//! endpoint before events are wanted, and checks that a deployed secret matches Zoom's.
//! The zoom-webhook function answers challenges itself through the same shared code.

use lambda_http::{Body, Error, Request, Response};
use zcc_domain::signature::SignatureVerifier;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::config::{self, ConfigError, Lookup};
use zcc_shared::edge::http::{challenge_response, preflight, rejected, unauthorized, verify_zoom};
use zcc_shared::edge::metrics::{Metric, Metrics};

pub const FUNCTION: &str = "url-validation";

pub struct UrlValidation {
    verifier: SignatureVerifier,
    metrics: Metrics,
}

impl UrlValidation {
    pub fn new(verifier: SignatureVerifier) -> Self {
        Self {
            verifier,
            metrics: Metrics::off(),
        }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::new(config::webhook_verifier(env)?))
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()))
    }

    pub fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => {
                rejected(&self.metrics, Metric::Rejected, refused.code());
                return refused.into_response();
            }
        };
        match verify_zoom(&self.verifier, request, body, now) {
            Ok(verified) => {
                let response = challenge_response(&verified);
                let metric = if response.status().is_success() {
                    Metric::ChallengesAnswered
                } else {
                    Metric::Rejected
                };
                self.metrics.emit(&[(metric, 1.0)]);
                response
            }
            Err(err) => {
                rejected(&self.metrics, Metric::SignatureFailures, err.code());
                unauthorized(&err)
            }
        }
    }
}
