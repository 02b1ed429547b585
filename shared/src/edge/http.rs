//! What the three handlers share: JSON responses, the error body, request preflight, and the
//! challenge answer (so zoom-webhook and url-validation answer it through one piece of code).

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::json;

use crate::edge::metrics::{Metric, Metrics};
use crate::store::{EventStore, Recorded};
use zcc_domain::challenge::{self, ChallengeError};
use zcc_domain::event::{AuthenticEvent, Subject};
use zcc_domain::signature::{
    SIGNATURE_HEADER, SignatureError, SignatureVerifier, TIMESTAMP_HEADER, VerifiedWebhook,
};
use zcc_domain::timestamp::Timestamp;

/// Zoom's bodies are a few KB; DynamoDB items stop at 400 KB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("status and header are valid")
}

/// `{"error":{"code":"<snake_case>","message":"<one sentence>"}}`.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

pub fn accepted() -> Response<Body> {
    json_response(StatusCode::OK, &json!({"status": "accepted"}))
}

pub fn header_str<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A request refused before its content is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Preflight {
    #[error("only POST is accepted here")]
    NotPost,
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is empty; send a JSON object")]
    Empty,
}

impl Preflight {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotPost => "method_not_allowed",
            Self::TooLarge => "body_too_large",
            Self::Empty => "empty_body",
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = match self {
            Self::NotPost => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Empty => StatusCode::BAD_REQUEST,
        };
        let mut response = error_response(status, self.code(), self.to_string());
        if self == Self::NotPost {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        response
    }
}

/// The decoded body of a POST within the size limit (lambda_http has already undone any
/// base64 encoding by the function URL).
pub fn preflight(request: &Request) -> Result<&[u8], Preflight> {
    if request.method() != Method::POST {
        return Err(Preflight::NotPost);
    }
    let body = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Preflight::TooLarge);
    }
    if body.is_empty() {
        return Err(Preflight::Empty);
    }
    Ok(body)
}

/// Verifies a Zoom request's signature over the decoded body.
pub fn verify_zoom(
    verifier: &SignatureVerifier,
    request: &Request,
    body: &[u8],
    now: Timestamp,
) -> Result<VerifiedWebhook, SignatureError> {
    verifier
        .verify(
            header_str(request, TIMESTAMP_HEADER),
            header_str(request, SIGNATURE_HEADER),
            body,
            now,
        )
        .inspect_err(|err| {
            tracing::warn!(
                outcome = "rejected",
                reason = err.code(),
                "signature check failed"
            );
        })
}

/// 401 with the reason a signature failed (never the expected value).
pub fn unauthorized(err: &SignatureError) -> Response<Body> {
    error_response(StatusCode::UNAUTHORIZED, err.code(), err.to_string())
}

/// Answers a verified `endpoint.url_validation` challenge, or says why it is not one.
pub fn challenge_response(webhook: &VerifiedWebhook) -> Response<Body> {
    match challenge::answer(webhook) {
        Ok(answer) => {
            tracing::info!(
                event = challenge::URL_VALIDATION_EVENT,
                outcome = "answered"
            );
            json_response(StatusCode::OK, &answer)
        }
        Err(err) => {
            let message = match &err {
                ChallengeError::NotAChallenge => {
                    "this URL answers only endpoint.url_validation challenges; send events to the zoom-webhook URL".to_owned()
                }
                ref other => other.to_string(),
            };
            error_response(StatusCode::BAD_REQUEST, err.code(), message)
        }
    }
}

/// Stores an authentic event and answers: 200 whether new or a duplicate, 503 when storage
/// failed (so the sender retries). Logs and counts the outcome, never the body.
pub async fn store_and_answer<S: EventStore>(
    store: &S,
    event: &AuthenticEvent,
    metrics: &Metrics,
    started: std::time::Instant,
) -> Response<Body> {
    // An agent's events are about the agent: its id goes in `user_id`, never in
    // `engagement_id`, so a search by either field finds exactly its own events.
    let (engagement_id, user_id) = match event.subject() {
        Subject::Engagement(id) => (Some(id.as_str()), None),
        Subject::Agent(id) => (None, Some(id.as_str())),
        Subject::Unrouted => (None, None),
    };
    let result = store.record(event).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(receipt) => {
            tracing::info!(
                engagement_id,
                user_id,
                event = event.name(),
                event_id = event.event_id().as_str(),
                outcome = receipt.outcome.as_str(),
                attempts = receipt.attempts,
                requests = receipt.requests,
                read_units = receipt.read_units,
                write_units = receipt.write_units,
                latency_ms,
            );
            let counter = match receipt.outcome {
                Recorded::Applied => Metric::EventsAccepted,
                Recorded::Duplicate => Metric::Duplicates,
                Recorded::StoredUnmerged => {
                    tracing::error!(
                        engagement_id,
                        user_id,
                        event_id = event.event_id().as_str(),
                        "the state item was refused; the event is kept raw with merge_error"
                    );
                    Metric::StoreErrors
                }
            };
            metrics.emit(&[
                (counter, 1.0),
                (Metric::WriteUnits, receipt.write_units),
                (Metric::LatencyMs, latency_ms as f64),
            ]);
            accepted()
        }
        Err(err) => {
            tracing::error!(
                engagement_id,
                user_id,
                event = event.name(),
                outcome = "store_error",
                reason = err.code(),
                error = %err,
                latency_ms,
            );
            metrics.emit(&[
                (Metric::StoreErrors, 1.0),
                (Metric::LatencyMs, latency_ms as f64),
            ]);
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                err.code(),
                "the event could not be stored right now; it is safe to send it again",
            )
        }
    }
}

/// Logs and counts a refused request; the reason is a code, never content.
pub fn rejected(metrics: &Metrics, metric: Metric, reason: &str) {
    tracing::warn!(outcome = "rejected", reason);
    metrics.emit(&[(metric, 1.0)]);
}
