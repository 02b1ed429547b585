//! A standalone responder to Zoom's `endpoint.url_validation` challenge: validates an
//! endpoint before events are wanted, and checks that a deployed secret matches Zoom's.
//! It is a [`Gate`] on the pipeline every function shares (preflight, the secret, a second
//! check after a rotation), that answers challenges and admits no event: the zoom-webhook
//! function answers challenges itself through the same shared code.

use lambda_http::Request;
use zcc_domain::signature::SignatureVerifier;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::http::{challenge_response, verify_zoom};
use zcc_shared::edge::metrics::Metric;
use zcc_shared::edge::pipeline::{Admitted, Gate, NoStore, Pipeline, Refusal};
use zcc_shared::edge::secrets::{Secret, webhook_secret};
use zcc_shared::settings::{ConfigError, Lookup};

pub const FUNCTION: &str = "url-validation";

/// The function: Zoom's signature in front of the shared pipeline, with nothing to store.
pub type UrlValidation = Pipeline<ZoomChallenge, NoStore>;

/// The function checking against `verifier`.
pub fn with_verifier(verifier: SignatureVerifier) -> UrlValidation {
    Pipeline::new(ZoomChallenge::with_secret(Secret::fixed(verifier)), NoStore)
}

/// The function as its environment configures it (the Secret Token, or its secret's ARN).
pub fn from_env(env: &impl Lookup) -> Result<UrlValidation, ConfigError> {
    Ok(Pipeline::new(
        ZoomChallenge::with_secret(webhook_secret(env)?),
        NoStore,
    ))
}

/// Answers a challenge signed with the app's Secret Token; refuses anything else.
pub struct ZoomChallenge {
    secret: Secret<SignatureVerifier>,
}

impl ZoomChallenge {
    /// Checks against the token list of a secret (in Secrets Manager: read on first use).
    pub fn with_secret(secret: Secret<SignatureVerifier>) -> Self {
        Self { secret }
    }
}

impl Gate for ZoomChallenge {
    async fn ready(&self) -> Result<(), Refusal> {
        Ok(self.secret.ready().await?)
    }

    async fn reloaded(&self) -> bool {
        self.secret.reloaded().await
    }

    fn admit(&self, request: &Request, body: &[u8], now: Timestamp) -> Result<Admitted, Refusal> {
        let verifier = self.secret.held()?;
        let verified = verify_zoom(&verifier, request, body, now)
            .map_err(|err| Refusal::unauthorized(err.code(), &err))?;
        // What is not a challenge is answered 400 here: this function stores nothing.
        let response = challenge_response(&verified);
        let metric = if response.status().is_success() {
            Metric::ChallengesAnswered
        } else {
            Metric::Rejected
        };
        Ok(Admitted::Answered(response, metric))
    }
}
