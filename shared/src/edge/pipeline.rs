//! The path of every event through a function: preflight (method, size), proof of origin,
//! parse, store exactly once, answer. What differs between functions is the [`Gate`]: how a
//! request proves where it comes from, and what its proven body is.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use zcc_domain::event::AuthenticEvent;
use zcc_domain::timestamp::Timestamp;

use super::http::{error_response, preflight, rejected, store_and_answer};
use super::metrics::{Metric, Metrics};
use super::secrets::SecretError;
use crate::store::{EventStore, Receipt, StoreError};

/// What a gate lets through.
pub enum Admitted {
    /// An authentic event, to store.
    Event(AuthenticEvent),
    /// A request the gate answers itself (Zoom's URL challenge), with the metric it counts.
    Answered(Response<Body>, Metric),
}

/// Why a gate refused a request: the answer's status and code, a sentence a person can act
/// on (never content or secrets), and the metric it counts under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub metric: Metric,
}

impl Refusal {
    /// A request without valid proof of origin.
    pub fn unauthorized(code: &'static str, message: impl ToString) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code,
            message: message.to_string(),
            metric: Metric::SignatureFailures,
        }
    }

    /// The secret to check requests against could not be read: 503, so that Zoom retries.
    pub fn secret_unavailable(err: &SecretError) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "secret_unavailable",
            message: format!("{err}; the request was not checked and may be sent again"),
            metric: Metric::SecretErrors,
        }
    }

    /// An authentic request whose body is not what this endpoint takes.
    pub fn bad_request(code: &'static str, message: impl ToString) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.to_string(),
            metric: Metric::Rejected,
        }
    }
}

impl From<SecretError> for Refusal {
    fn from(err: SecretError) -> Self {
        Self::secret_unavailable(&err)
    }
}

/// The store of a function that stores nothing (url-validation): its gate admits no event,
/// so this is never asked to record one.
pub struct NoStore;

impl EventStore for NoStore {
    async fn record(&self, _: &AuthenticEvent) -> Result<Receipt, StoreError> {
        Err(StoreError::Refused(
            "this function stores no events".to_owned(),
        ))
    }
}

/// What is particular to one function.
pub trait Gate: Send + Sync {
    /// Makes sure what [`admit`](Self::admit) checks against is at hand (a secret kept in
    /// Secrets Manager is read on first use); a refusal when it cannot be.
    fn ready(&self) -> impl Future<Output = Result<(), Refusal>> + Send {
        async { Ok(()) }
    }
    /// After `admit` refused a request as unauthorized: whether what it checks against was
    /// read again and changed (a rotated secret), so that the request is worth another check.
    fn reloaded(&self) -> impl Future<Output = bool> + Send {
        async { false }
    }
    /// Checks the request's proof of origin over the decoded body, then parses it.
    fn admit(&self, request: &Request, body: &[u8], now: Timestamp) -> Result<Admitted, Refusal>;
}

/// A function: its gate, the store behind it, and its metrics.
pub struct Pipeline<G, S> {
    gate: G,
    store: S,
    metrics: Metrics,
}

impl<G: Gate, S: EventStore> Pipeline<G, S> {
    pub fn new(gate: G, store: S) -> Self {
        Self {
            gate,
            store,
            metrics: Metrics::off(),
        }
    }

    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The Lambda entry point: never `Err`, so every failure is a JSON answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
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
        if let Err(refusal) = self.gate.ready().await {
            rejected(&self.metrics, refusal.metric, refusal.code);
            return error_response(refusal.status, refusal.code, refusal.message);
        }
        let admitted = match self.gate.admit(request, body, now) {
            Err(refusal)
                if refusal.status == StatusCode::UNAUTHORIZED && self.gate.reloaded().await =>
            {
                self.gate.admit(request, body, now)
            }
            admitted => admitted,
        };
        match admitted {
            Ok(Admitted::Event(event)) => {
                store_and_answer(&self.store, &event, &self.metrics, started).await
            }
            Ok(Admitted::Answered(response, metric)) => {
                self.metrics.emit(&[(metric, 1.0)]);
                response
            }
            Err(refusal) => {
                rejected(&self.metrics, refusal.metric, refusal.code);
                error_response(refusal.status, refusal.code, refusal.message)
            }
        }
    }
}
