//! What the end-to-end tests do as Zoom and as a Flow script would: sign and POST over HTTP.

use serde_json::Value;
use zcc_shared::signature::{SecretToken, sign};
use zcc_shared::timestamp::Timestamp;

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// POSTs `body` signed as Zoom signs it, with the given header timestamp (Unix seconds).
pub async fn post_signed(url: &str, secret: &str, body: &str, timestamp: i64) -> Reply {
    let signature = sign(
        &SecretToken::new(secret).unwrap(),
        timestamp,
        body.as_bytes(),
    );
    let request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "Zoom Marketplace/1.0a")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .header("x-zm-signature", signature)
        .body(body.to_owned());
    reply(request).await
}

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
