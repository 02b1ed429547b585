//! A standalone responder to Zoom's `endpoint.url_validation` challenge: validates an
//! endpoint before events are wanted, and checks that a deployed secret matches Zoom's.
//! The zoom-webhook function answers challenges itself through the same shared code.

use lambda_http::{Body, Error, Request, Response};
use zcc_shared::config::{self, ConfigError, Lookup};
use zcc_shared::http::{challenge_response, preflight, unauthorized, verify_zoom};
use zcc_shared::signature::SignatureVerifier;
use zcc_shared::timestamp::Timestamp;

pub struct UrlValidation {
    verifier: SignatureVerifier,
}

impl UrlValidation {
    pub fn new(verifier: SignatureVerifier) -> Self {
        Self { verifier }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::new(config::webhook_verifier(env)?))
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        Ok(self.respond(&request, Timestamp::now()))
    }

    pub fn respond(&self, request: &Request, now: Timestamp) -> Response<Body> {
        let body = match preflight(request) {
            Ok(body) => body,
            Err(refused) => return refused.into_response(),
        };
        match verify_zoom(&self.verifier, request, body, now) {
            Ok(verified) => challenge_response(&verified),
            Err(err) => unauthorized(&err),
        }
    }
}
