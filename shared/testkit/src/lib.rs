//! The test kit: what the tests need and no shipped binary may contain. Test code only: it
//! unwraps freely, and its events are signed with a fixed test secret.
//!
//! - [`authentic`]: authentic events built as the handlers build them (sign, then verify);
//! - [`runtime_api`]: a stand-in Lambda Runtime API, to run the shipped bootstrap binaries;
//! - [`fault_proxy`]: a TCP proxy between the SDK and dynoxide that refuses, drops, delays,
//!   fails, throttles or cuts requests on command;
//! - [`zoom_api`]: a stand-in for Zoom's REST API (OAuth, engagements, webhook logs) with
//!   injectable faults, for `zcc reconcile`;
//! - [`signed_webhook_event`], [`post_signed`]: requests signed exactly as Zoom signs them.

pub mod day;
pub mod fault_proxy;
pub mod runtime_api;
pub mod zoom_api;

use serde_json::Value;
use zcc_domain::signature::{SecretToken, zoom_headers};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::edge::function_url::function_url_event;

pub use zcc_domain::event::testing as authentic;

/// A function URL event carrying `body` as Zoom sends a webhook: its headers, and the body
/// signed with `secret` at `timestamp_secs`.
pub fn signed_webhook_event(secret: &str, timestamp_secs: i64, body: &str, base64: bool) -> Value {
    let headers = zoom_headers(
        &SecretToken::new(secret).expect("a non-empty secret"),
        timestamp_secs,
        body.as_bytes(),
    );
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    function_url_event("POST", "/", &headers, body.as_bytes(), base64)
}

/// An answer read back over HTTP.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// POSTs `body` signed as Zoom signs it, with the given header timestamp (Unix seconds).
pub async fn post_signed(url: &str, secret: &str, body: &str, timestamp: i64) -> Reply {
    let mut request = reqwest::Client::new().post(url).body(body.to_owned());
    let token = SecretToken::new(secret).expect("a non-empty secret");
    for (name, value) in zoom_headers(&token, timestamp, body.as_bytes()) {
        request = request.header(name, value);
    }
    reply(request).await
}

/// POSTs `body` signed as Zoom signs it now.
pub async fn post_now(url: &str, secret: &str, body: &str) -> Reply {
    post_signed(url, secret, body, Timestamp::now().unix_seconds()).await
}

/// POSTs a body with optional headers and no signature.
pub async fn post_plain(url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    reply(request).await
}

async fn reply(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the local stack answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("a JSON body, got {:?}", String::from_utf8_lossy(&bytes)));
    Reply { status, body }
}
