//! The store's DynamoDB adapter: the table's [`schema`] (the one place its names are
//! written), the item encoding ([`attributes`]), the per-process [`cache`] of state items,
//! the writer ([`store`]), the [`rebuild`] of records from their events, the readers
//! ([`read`]) and, for `zcc local` and the tests, the [`embedded`] DynamoDB.

pub mod attributes;
pub mod cache;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod encode;
pub mod read;
pub mod rebuild;
pub mod schema;
pub mod store;
pub mod stream;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

pub use rebuild::{RebuildTarget, Rebuilt};
pub use store::DynamoStore;

/// The SDK configuration from the standard chain (region, credentials, and
/// `AWS_ENDPOINT_URL_<SERVICE>` for local endpoints), loaded once at cold start and shared by
/// every client a function builds.
///
/// Zoom gives up on an answer after 3 s, so a call that cannot finish well inside that is
/// cut short and answered 503, which Zoom retries, rather than timing out the function.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(2000))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The DynamoDB client from [`sdk_config`]. Build it once, at cold start.
pub async fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}
