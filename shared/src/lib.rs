//! The common model of zcc-events: Zoom and Flow types, signature verification, the URL
//! challenge, the engagement and agent state, and the DynamoDB store behind a port.
//!
//! Layers: `timestamp`, `ids`, `signature`, `challenge`, `zoom`, `flow`, `event`, `merge`,
//! `engagement` and `agent` are the domain and know nothing of Lambda or DynamoDB; `store`
//! is the port and its DynamoDB adapter; `http` and `config` serve the Lambda entry points.

pub mod agent;
pub mod challenge;
pub mod config;
pub mod engagement;
pub mod event;
pub mod examples;
pub mod flow;
pub mod http;
pub mod ids;
#[cfg(feature = "local")]
pub mod lambda_runtime_api;
#[cfg(feature = "local")]
pub mod local;
pub mod merge;
pub mod metrics;
pub mod signature;
pub mod store;
pub mod timestamp;
pub mod zoom;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

/// The DynamoDB client from the standard chain (region, credentials, and
/// `AWS_ENDPOINT_URL_DYNAMODB` for a local store). Build it once, at cold start.
///
/// Zoom gives up on an answer after 3 s, so a call that cannot finish well inside that is
/// cut short and answered 503, which Zoom retries, rather than timing out the function.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(2000))
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
