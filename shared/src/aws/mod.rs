//! The one place AWS clients are built: the SDK configuration of a Lambda function (from
//! Lambda's environment alone) or of a tool (the standard chain), and each service's client
//! from it, pointed at a local endpoint when `AWS_ENDPOINT_URL[_<SERVICE>]` says so.

pub mod connect_on_first_use;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::SharedCredentialsProvider;

use crate::settings;

/// Zoom gives up on an answer after 3 s, so a call that cannot finish well inside that is
/// cut short and answered 503, which Zoom retries, rather than timing out the function.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(2000))
        .build()
}

/// The SDK configuration from the standard chain (region, credentials from the environment,
/// profiles, SSO, web identity, the container or IMDS, and `AWS_ENDPOINT_URL_<SERVICE>` for
/// local endpoints), for the `zcc` tool and anything else that is not a Lambda function.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Some(http_client) = connect_on_first_use::https_client() {
        loader = loader.http_client(http_client);
    }
    loader.load().await
}

/// The DynamoDB client of a tool: for `endpoint` when one is given (`local`: one that needs
/// no AWS account, as `zcc local`'s), else AWS's by the standard chain ([`sdk_config`]).
pub async fn tool_dynamodb(endpoint: Option<&str>, local: bool) -> aws_sdk_dynamodb::Client {
    match endpoint {
        Some(endpoint) if local => local_dynamodb(endpoint),
        Some(endpoint) => aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
                .endpoint_url(endpoint)
                .build(),
        ),
        None => aws_sdk_dynamodb::Client::new(&sdk_config().await),
    }
}

/// The DynamoDB Streams client of a tool, as [`tool_dynamodb`] chooses.
#[cfg(feature = "streams")]
pub async fn tool_dynamodb_streams(
    endpoint: Option<&str>,
    local: bool,
) -> aws_sdk_dynamodbstreams::Client {
    match endpoint {
        Some(endpoint) if local => local_dynamodb_streams(endpoint),
        Some(endpoint) => aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(&sdk_config().await)
                .endpoint_url(endpoint)
                .build(),
        ),
        None => dynamodb_streams(&sdk_config().await),
    }
}

/// Static credentials and a region for an endpoint that needs no AWS account (dynoxide,
/// moto): they only have to be well formed.
fn local_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "zcc-local"),
        ))
        .build()
}

/// A DynamoDB client for a local endpoint that needs no AWS account (dynoxide, moto).
pub fn local_dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&local_config(endpoint))
}

/// A DynamoDB Streams client for a local endpoint (`zcc local`'s notifier, `zcc watch`).
#[cfg(feature = "streams")]
pub fn local_dynamodb_streams(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&local_config(endpoint))
}

/// The EventBridge client of a Lambda function (the notifier), from [`lambda_sdk_config`].
#[cfg(feature = "eventbridge")]
pub fn eventbridge(config: &aws_config::SdkConfig) -> aws_sdk_eventbridge::Client {
    let mut builder = aws_sdk_eventbridge::config::Builder::from(config);
    if let Some(url) = endpoint_url("EVENTBRIDGE") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_eventbridge::Client::from_conf(builder.build())
}

/// The SDK configuration of a Lambda function, from what Lambda puts in its environment and
/// nothing else: the region (`AWS_REGION`) and the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, read when a request
/// is signed). Build it once, at cold start, and every client of the function from it
/// (with [`endpoint_url`] for a local endpoint).
///
/// Building it costs microseconds and touches no file, network or certificate: the HTTPS
/// client reads the trusted roots when the first request needs them
/// ([`connect_on_first_use`]), which a URL challenge never does. Unlike [`sdk_config`] it
/// does not build (nor link) aws-config's chains of credential and region providers, an STS
/// client among them: building them, and the certificates their clients read, was most of a
/// cold start of zoom-webhook, and their code about a seventh of its binary (docs,
/// "Performance").
pub fn lambda_sdk_config() -> aws_config::SdkConfig {
    let region = settings::region(&settings::ProcessEnv).map(aws_config::Region::new);
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard());
    if let Some(http_client) = connect_on_first_use::https_client() {
        builder = builder.http_client(http_client);
    }
    builder.build()
}

/// A service's endpoint from the environment, as the SDK's own loader reads it (the names
/// are in [`crate::settings`]). Unset in Lambda; the tests and local runs point the
/// functions at dynoxide or moto with it.
pub fn endpoint_url(service: &str) -> Option<String> {
    settings::endpoint_url(&settings::ProcessEnv, service)
}

/// The DynamoDB client of a Lambda function, from [`lambda_sdk_config`].
pub fn dynamodb(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(config);
    if let Some(url) = endpoint_url("DYNAMODB") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

/// The Secrets Manager client of a Lambda function, from [`lambda_sdk_config`].
pub fn secrets_manager(config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    let mut builder = aws_sdk_secretsmanager::config::Builder::from(config);
    if let Some(url) = endpoint_url("SECRETS_MANAGER") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_secretsmanager::Client::from_conf(builder.build())
}

/// The DynamoDB Streams client of the local notifier, from [`sdk_config`].
#[cfg(feature = "streams")]
pub fn dynamodb_streams(config: &aws_config::SdkConfig) -> aws_sdk_dynamodbstreams::Client {
    let mut builder = aws_sdk_dynamodbstreams::config::Builder::from(config);
    if let Some(url) = endpoint_url("DYNAMODB") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_dynamodbstreams::Client::from_conf(builder.build())
}
