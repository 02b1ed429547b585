//! A standalone responder to Zoom's `endpoint.url_validation` challenge: validates an
//! endpoint before events are wanted, and checks that a deployed secret matches Zoom's.
//! The zoom-webhook function answers challenges itself through the same shared code.

use lambda_http::{Body, Error, Request, Response};
use zcc_domain::signature::SignatureVerifier;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::config::{self, ConfigError, Lookup};
use zcc_shared::edge::http::{
    challenge_response, error_response, preflight, rejected, unauthorized, verify_zoom,
};
use zcc_shared::edge::metrics::{Metric, Metrics};
use zcc_shared::edge::pipeline::Refusal;
use zcc_shared::edge::secrets::Secret;

pub const FUNCTION: &str = "url-validation";

pub struct UrlValidation {
    secret: Secret<SignatureVerifier>,
    metrics: Metrics,
}

impl UrlValidation {
    pub fn new(verifier: SignatureVerifier) -> Self {
        Self::with_secret(Secret::fixed(verifier))
    }

    /// Checks against the token list of a secret (in Secrets Manager: read on first use).
    pub fn with_secret(secret: Secret<SignatureVerifier>) -> Self {
        Self {
            secret,
            metrics: Metrics::off(),
        }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::with_secret(config::webhook_secret(env)?))
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()).await)
    }

    pub async fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => {
                rejected(&self.metrics, Metric::Rejected, refused.code());
                return refused.into_response();
            }
        };
        let verifier = match self.secret.get().await {
            Ok(verifier) => verifier,
            Err(err) => {
                let refusal = Refusal::secret_unavailable(&err);
                rejected(&self.metrics, refusal.metric, refusal.code);
                return error_response(refusal.status, refusal.code, refusal.message);
            }
        };
        let verified = match verify_zoom(&verifier, request, body, now) {
            Err(_) if self.secret.reloaded().await => match self.secret.current() {
                Some(verifier) => verify_zoom(&verifier, request, body, now),
                None => verify_zoom(&verifier, request, body, now),
            },
            verified => verified,
        };
        match verified {
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
