//! The Marketplace webhook endpoint: verify the signature over the raw body, answer the URL
//! challenge, store every other authentic event exactly once.

use lambda_http::Request;
use zcc_domain::challenge::is_challenge;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::signature::SignatureVerifier;
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::http::{challenge_response, verify_zoom};
use zcc_shared::edge::metrics::Metric;
use zcc_shared::edge::pipeline::{Admitted, Gate, Pipeline, Refusal};
use zcc_shared::edge::secrets::{Secret, webhook_secret};
use zcc_shared::settings::{ConfigError, Lookup};

pub const FUNCTION: &str = "zoom-webhook";

/// The function: Zoom's signature in front of the shared pipeline.
pub type ZoomWebhook<S> = Pipeline<ZoomSignature, S>;

/// Admits requests signed with the app's Secret Token; answers Zoom's URL challenge, which
/// Zoom sends to the events URL, with the code the url-validation function runs.
pub struct ZoomSignature {
    secret: Secret<SignatureVerifier>,
}

impl ZoomSignature {
    pub fn new(verifier: SignatureVerifier) -> Self {
        Self::with_secret(Secret::fixed(verifier))
    }

    /// Checks against the token list of a secret (in Secrets Manager: read on first use).
    pub fn with_secret(secret: Secret<SignatureVerifier>) -> Self {
        Self { secret }
    }

    pub fn from_env(env: &impl Lookup) -> Result<Self, ConfigError> {
        Ok(Self::with_secret(webhook_secret(env)?))
    }
}

impl Gate for ZoomSignature {
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
        let event = AuthenticEvent::from_webhook(&verified, now)
            .map_err(|err| Refusal::bad_request(err.code(), &err))?;
        if is_challenge(event.name()) {
            return Ok(Admitted::Answered(
                challenge_response(&verified),
                Metric::ChallengesAnswered,
            ));
        }
        Ok(Admitted::Event(event))
    }
}
